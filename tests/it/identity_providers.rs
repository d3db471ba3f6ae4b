//! Tokens from identity providers, against an in-process provider on 127.0.0.1:0 that serves
//! OIDC discovery and a JWKS under the test's control (rotation, failures, slow and oversized
//! answers, bad keys, a lying discovery document) and counts every fetch.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use jwtguard::{Algorithm, Auth, Claims, Key, ScopeClaim, TrustedIssuer, Typing, protected};
use jwtguard_tests::{Call, serve};
use serde_json::{Value, json};

const KEY_1: &str = include_str!("../keys/server_rsa.pem");
const KEY_2: &str = include_str!("../../testdata/rsa.pem");
const ATTACKER: &str = include_str!("../keys/attacker_rsa.pem");

/// What the provider serves, changed by the tests while it runs.
struct Provider {
    /// `(kid, private PEM)` of the keys in the JWKS; the first signs.
    keys: Mutex<Vec<(String, &'static str)>>,
    /// Extra JWKS entries (keys that cannot be used).
    extra: Mutex<Vec<Value>>,
    /// The `issuer` the discovery document names (the real one when `None`).
    claimed_issuer: Mutex<Option<String>>,
    /// Answer 500 to everything while set.
    failing: std::sync::atomic::AtomicBool,
    /// Wait this long before answering the JWKS.
    delay_ms: AtomicU32,
    /// Pad the JWKS to this many bytes.
    pad: AtomicUsize,
    cache_control: Mutex<Option<&'static str>>,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
    not_modified: AtomicUsize,
    addr: Mutex<Option<SocketAddr>>,
}

impl Provider {
    fn issuer(&self) -> String {
        format!("http://{}", self.addr.lock().unwrap().unwrap())
    }

    fn jwks(&self) -> Value {
        let mut keys: Vec<Value> = self
            .keys
            .lock()
            .unwrap()
            .iter()
            .map(|(kid, pem)| {
                let auth = Auth::builder()
                    .signing_key(Key::private_pem(Algorithm::RS256, pem).with_kid(kid.clone()))
                    .build()
                    .unwrap();
                serde_json::to_value(&auth.jwks().keys[0]).unwrap()
            })
            .collect();
        keys.extend(self.extra.lock().unwrap().iter().cloned());
        json!({ "keys": keys })
    }

    /// A token signed with the current key, `claims` over the defaults.
    fn mint(&self, claims: &Value) -> String {
        let (kid, pem) = self.keys.lock().unwrap()[0].clone();
        sign(&kid, pem, &self.with_defaults(claims))
    }

    fn with_defaults(&self, claims: &Value) -> Value {
        let now = now();
        let mut all = json!({
            "iss": self.issuer(), "sub": "user-1", "aud": "orders-api",
            "iat": now, "exp": now + 300, "jti": format!("j{now}"),
            "scope": "openid reports:read",
        });
        all.as_object_mut()
            .unwrap()
            .extend(claims.as_object().unwrap().clone());
        all
    }

    fn rotate(&self, kid: &str, pem: &'static str) {
        self.keys.lock().unwrap().insert(0, (kid.to_owned(), pem));
    }
}

fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

fn sign(kid: &str, pem: &str, claims: &Value) -> String {
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn discovery(State(p): State<Arc<Provider>>) -> Response {
    p.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    if p.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let issuer = p.issuer();
    let claimed = p.claimed_issuer.lock().unwrap().clone();
    Json(json!({
        "issuer": claimed.unwrap_or_else(|| issuer.clone()),
        "jwks_uri": format!("{issuer}/jwks"),
    }))
    .into_response()
}

async fn jwks(State(p): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    p.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let delay = p.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay.into())).await;
    }
    if p.failing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let mut body = p.jwks().to_string();
    let etag = format!("\"{}\"", body.len());
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        p.not_modified.fetch_add(1, Ordering::SeqCst);
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let pad = p.pad.load(Ordering::SeqCst);
    if pad > body.len() {
        body.insert_str(1, &format!("\"padding\":\"{}\",", "x".repeat(pad)));
    }
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    response
        .headers_mut()
        .insert(header::ETAG, etag.parse().unwrap());
    if let Some(cache) = *p.cache_control.lock().unwrap() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, cache.parse().unwrap());
    }
    response
}

async fn provider() -> Arc<Provider> {
    let p = Arc::new(Provider {
        keys: Mutex::new(vec![("k1".to_owned(), KEY_1)]),
        extra: Mutex::new(Vec::new()),
        claimed_issuer: Mutex::new(None),
        failing: false.into(),
        delay_ms: AtomicU32::new(0),
        pad: AtomicUsize::new(0),
        cache_control: Mutex::new(None),
        discovery_fetches: AtomicUsize::new(0),
        jwks_fetches: AtomicUsize::new(0),
        not_modified: AtomicUsize::new(0),
        addr: Mutex::new(None),
    });
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .with_state(p.clone());
    *p.addr.lock().unwrap() = Some(serve(router).await);
    p
}

/// The issuer as the tests configure it: discovery, Keycloak's claims.
fn keycloak(p: &Provider) -> TrustedIssuer {
    TrustedIssuer::discover(&p.issuer())
        .audience("orders-api")
        .scopes_from(ScopeClaim::named("scope"))
        .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:"))
}

#[protected]
async fn me(claims: Claims) -> Json<Value> {
    Json(json!({"sub": claims.sub(), "issuer": claims.issuer(), "scopes": claims.scopes()}))
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "q3"
}

#[protected(scopes = "admin")]
async fn admin() -> &'static str {
    "admin"
}

async fn app(auth: &Auth) -> SocketAddr {
    serve(
        Router::new()
            .route("/me", get(me))
            .route("/reports", get(reports))
            .route("/admin", get(admin))
            .with_state(auth.clone()),
    )
    .await
}

async fn ready(issuer: TrustedIssuer) -> Auth {
    let auth = Auth::builder().trust(issuer).build().expect("auth");
    auth.issuers_ready(Duration::from_secs(5))
        .await
        .expect("keys loaded");
    auth
}

/// Sends until the answer is not a 503 (keys being fetched), at most 5 s.
async fn settled(call: impl Fn() -> Call, addr: SocketAddr) -> jwtguard_tests::Reply {
    let started = Instant::now();
    loop {
        let reply = call().send(addr).await;
        if reply.status != 503 || started.elapsed() > Duration::from_secs(5) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_providers_token_is_verified_and_its_claims_become_declared_scopes() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let token = p.mint(&json!({"realm_access": {"roles": ["admin", "user"]}}));

    let reply = Call::get("/me").bearer(&token).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"sub": "user-1", "issuer": p.issuer(),
               "scopes": ["openid", "reports:read", "role:admin", "role:user"]})
    );
    assert_eq!(
        Call::get("/reports").bearer(&token).send(addr).await.status,
        200
    );
    // `role:admin` is not the declared `admin`: names are never guessed.
    assert_eq!(
        Call::get("/admin").bearer(&token).send(addr).await.status,
        403
    );
    let no_scope = p.mint(&json!({"scope": "openid"}));
    assert_eq!(
        Call::get("/reports")
            .bearer(&no_scope)
            .send(addr)
            .await
            .status,
        403
    );

    // Discovery once, the JWKS once: nothing per request.
    assert_eq!(p.discovery_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(p.jwks_fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn what_an_attacker_can_change_is_refused_without_a_fetch() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let refused = |claims: Value| p.mint(&claims);
    let cases = [
        ("wrong audience", refused(json!({"aud": "another-api"}))),
        (
            "audience in a list without ours",
            refused(json!({"aud": ["a", "b"]})),
        ),
        ("expired", refused(json!({"exp": now() - 120}))),
        ("not yet valid", refused(json!({"nbf": now() + 600}))),
        ("no subject, nor a client", {
            let mut claims = p.with_defaults(&json!({}));
            claims.as_object_mut().unwrap().remove("sub");
            sign("k1", KEY_1, &claims)
        }),
        (
            "another key under the provider's kid",
            sign("k1", ATTACKER, &p.with_defaults(&json!({}))),
        ),
        (
            "an issuer nobody trusts",
            sign(
                "k1",
                KEY_1,
                &p.with_defaults(&json!({"iss": "https://evil.example"})),
            ),
        ),
        (
            "the trusted issuer with a trailing slash",
            sign(
                "k1",
                KEY_1,
                &p.with_defaults(&json!({"iss": format!("{}/", p.issuer())})),
            ),
        ),
    ];
    for (case, token) in cases {
        let reply = Call::get("/me").bearer(&token).send(addr).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text());
    }
    // alg confusion: HS256 "signed" with the provider's public key as the secret.
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("k1".into());
    let confused = jsonwebtoken::encode(
        &header,
        &p.with_defaults(&json!({})),
        &EncodingKey::from_secret(include_bytes!("../keys/server_rsa.pub.pem")),
    )
    .unwrap();
    assert_eq!(
        Call::get("/me").bearer(&confused).send(addr).await.status,
        401
    );
    assert_eq!(
        p.jwks_fetches.load(Ordering::SeqCst),
        1,
        "no fetch for any of them"
    );
}

#[tokio::test]
async fn a_clients_own_token_without_sub_names_the_client() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let mut claims = p.with_defaults(&json!({"client_id": "billing-service"}));
    claims.as_object_mut().unwrap().remove("sub");
    let reply = Call::get("/me")
        .bearer(&sign("k1", KEY_1, &claims))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["sub"], "billing-service");
}

#[tokio::test]
async fn a_rotated_key_is_followed_and_a_thousand_unknown_kids_cost_one_fetch() {
    let p = provider().await;
    let auth = ready(keycloak(&p).unknown_key_cooldown(Duration::from_secs(30))).await;
    let addr = app(&auth).await;
    let before = p.mint(&json!({}));

    // The provider rotates (keeping the old key published, as Keycloak does).
    p.rotate("k2", KEY_2);
    let after = p.mint(&json!({}));
    let first = Call::get("/me").bearer(&after).send(addr).await;
    assert_eq!(first.status, 503, "being fetched: {}", first.text());
    assert_eq!(first.header("retry-after"), "1");
    let reply = settled(|| Call::get("/me").bearer(&after), addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        Call::get("/me").bearer(&before).send(addr).await.status,
        200
    );
    assert_eq!(p.jwks_fetches.load(Ordering::SeqCst), 2);

    // 1 000 concurrent requests with made-up kids, after the cooldown has been used: no fetch.
    let claims = p.with_defaults(&json!({}));
    let mut requests = Vec::new();
    for i in 0..1000 {
        let token = sign(&format!("junk-{i}"), KEY_2, &claims);
        requests.push(tokio::spawn(async move {
            Call::get("/me").bearer(&token).send(addr).await.status
        }));
    }
    for request in requests {
        assert_eq!(request.await.unwrap(), 401);
    }
    assert_eq!(
        p.jwks_fetches.load(Ordering::SeqCst),
        2,
        "the cooldown holds"
    );
}

#[tokio::test]
async fn unknown_kids_at_once_share_one_fetch_then_are_refused() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let claims = p.with_defaults(&json!({}));
    let mut requests = Vec::new();
    for i in 0..1000 {
        let token = sign(&format!("junk-{i}"), KEY_1, &claims);
        requests.push(tokio::spawn(async move {
            Call::get("/me").bearer(&token).send(addr).await.status
        }));
    }
    for request in requests {
        let status = request.await.unwrap();
        assert!(status == 503 || status == 401, "{status}");
    }
    // The initial load and one refresh for all of them.
    assert_eq!(p.jwks_fetches.load(Ordering::SeqCst), 2);
    // Looked for and absent: refused outright from now on.
    let token = sign("junk-7", KEY_1, &claims);
    let reply = settled(|| Call::get("/me").bearer(&token), addr).await;
    assert_eq!(reply.status, 401);
    assert_eq!(p.jwks_fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_provider_down_at_startup_is_reported_then_followed_when_it_recovers() {
    let p = provider().await;
    p.failing.store(true, Ordering::SeqCst);
    let auth = Auth::builder().trust(keycloak(&p)).build().expect("auth");
    let err = auth
        .issuers_ready(Duration::from_millis(300))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&p.issuer()) && message.contains("500"),
        "{message}"
    );

    // Started anyway: its tokens are answered 503 (they may be valid), never 401 or 500.
    let addr = app(&auth).await;
    let token = p.mint(&json!({}));
    let reply = Call::get("/me").bearer(&token).send(addr).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.header("retry-after"), "1");

    p.failing.store(false, Ordering::SeqCst);
    let reply = settled(|| Call::get("/me").bearer(&token), addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn discovery_must_name_exactly_the_configured_issuer() {
    let p = provider().await;
    *p.claimed_issuer.lock().unwrap() = Some("https://evil.example".into());
    let auth = Auth::builder().trust(keycloak(&p)).build().expect("auth");
    let err = auth
        .issuers_ready(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("https://evil.example"), "{err}");
    assert_eq!(
        p.jwks_fetches.load(Ordering::SeqCst),
        0,
        "its keys are never fetched"
    );
}

#[tokio::test]
async fn slow_and_oversized_answers_are_refused() {
    let p = provider().await;
    p.delay_ms.store(2000, Ordering::SeqCst);
    let slow = keycloak(&p).fetch_timeout(Duration::from_millis(200));
    let auth = Auth::builder().trust(slow).build().unwrap();
    let err = auth
        .issuers_ready(Duration::from_millis(600))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no answer within"), "{err}");

    let p = provider().await;
    p.pad.store(600 * 1024, Ordering::SeqCst);
    let auth = Auth::builder().trust(keycloak(&p)).build().unwrap();
    let err = auth
        .issuers_ready(Duration::from_millis(800))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
}

#[tokio::test]
async fn keys_that_cannot_be_used_are_skipped_and_the_others_work() {
    let p = provider().await;
    p.extra.lock().unwrap().extend([
        json!({"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"}),
        json!({"kty": "oct", "kid": "shared", "k": "c2VjcmV0"}),
        json!({"kty": "PQC", "kid": "future"}),
    ]);
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    assert_eq!(
        Call::get("/me")
            .bearer(&p.mint(&json!({})))
            .send(addr)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn refreshes_follow_cache_control_within_bounds_and_honour_etag() {
    let p = provider().await;
    *p.cache_control.lock().unwrap() = Some("max-age=0");
    let issuer = keycloak(&p).refresh_between(Duration::from_millis(300), Duration::from_secs(60));
    let _auth = ready(issuer).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fetches = p.jwks_fetches.load(Ordering::SeqCst);
    // max-age=0 is held to the lower bound, 300 ms (±10 %): three or four refreshes.
    assert!((3..=5).contains(&fetches), "{fetches} fetches");
    assert!(
        p.not_modified.load(Ordering::SeqCst) >= 2,
        "unchanged keys are a 304"
    );
}

#[tokio::test]
async fn cognito_and_rfc_9068_issuers_with_static_keys() {
    let p = provider().await;
    let public = include_str!("../keys/server_rsa.pub.pem");
    let cognito = TrustedIssuer::with_keys(
        "https://cognito-idp.eu-west-1.amazonaws.com/pool",
        [Key::public_pem(Algorithm::RS256, public).with_kid("k1")],
    )
    .audience_claim("client_id")
    .audience("app-client")
    .scopes_from(ScopeClaim::named("cognito:groups").prefix("group:"))
    .scopes_from(ScopeClaim::named("scope"));
    let auth0 = TrustedIssuer::with_keys(
        "https://tenant.auth0.com/",
        [Key::public_pem(Algorithm::RS256, public).with_kid("k1")],
    )
    .audience("orders-api")
    .typing(Typing::RequireAtJwt)
    .scopes_from(ScopeClaim::named("permissions"));
    let auth = Auth::builder().trust(cognito).trust(auth0).build().unwrap();
    let addr = app(&auth).await;

    let cognito_token = sign(
        "k1",
        KEY_1,
        &p.with_defaults(&json!({
            "iss": "https://cognito-idp.eu-west-1.amazonaws.com/pool",
            "client_id": "app-client", "aud": null, "scope": "reports:read",
        })),
    );
    let reply = Call::get("/reports")
        .bearer(&cognito_token)
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());

    let auth0_claims = p.with_defaults(&json!({
        "iss": "https://tenant.auth0.com/", "permissions": ["reports:read"], "scope": "",
    }));
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    header.typ = Some("at+jwt".into());
    let key = EncodingKey::from_rsa_pem(KEY_1.as_bytes()).unwrap();
    let at_jwt = jsonwebtoken::encode(&header, &auth0_claims, &key).unwrap();
    assert_eq!(
        Call::get("/reports")
            .bearer(&at_jwt)
            .send(addr)
            .await
            .status,
        200
    );
    // An ID token (typ JWT) is not an access token for an RFC 9068 issuer.
    let id_token = sign("k1", KEY_1, &auth0_claims);
    assert_eq!(
        Call::get("/reports")
            .bearer(&id_token)
            .send(addr)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn own_tokens_and_providers_tokens_side_by_side_only_own_ones_renew() {
    let p = provider().await;
    let auth = Auth::builder()
        .secret(crate::SECRET)
        .trust(keycloak(&p))
        .build()
        .unwrap();
    auth.issuers_ready(Duration::from_secs(5)).await.unwrap();
    let addr = app(&auth).await;
    let own = auth
        .create_access_token(&jwtguard::Grant::to("ann").scopes([crate::REPORTS_READ]))
        .unwrap();
    assert_eq!(
        Call::get("/reports").bearer(&own).send(addr).await.status,
        200
    );
    let theirs = p.mint(&json!({}));
    assert_eq!(
        Call::get("/reports")
            .bearer(&theirs)
            .send(addr)
            .await
            .status,
        200
    );
    assert_eq!(
        auth.verify_refresh(&theirs).unwrap_err(),
        jwtguard::TokenError::NotRenewable
    );
}

#[tokio::test]
async fn configuration_mistakes_are_startup_errors() {
    let no_audience = Auth::builder()
        .trust(TrustedIssuer::discover("https://sso.example.com"))
        .build()
        .unwrap_err();
    assert!(
        no_audience.to_string().contains("audience"),
        "{no_audience}"
    );
    let plain_http = Auth::builder()
        .trust(TrustedIssuer::discover("http://sso.example.com").audience("api"))
        .build()
        .unwrap_err();
    assert!(plain_http.to_string().contains("https"), "{plain_http}");
}

/// End to end with an independent provider (npm's oauth2-mock-server, `tests/oidc`):
/// discovery, a token it minted, a rotation it performed.
#[tokio::test]
async fn an_independent_oidc_provider_end_to_end() {
    use jwtguard_tests::oidc_provider::{OidcProvider, installed};
    if !installed() {
        return;
    }
    let provider = OidcProvider::start();
    let auth = ready(
        TrustedIssuer::discover(&provider.issuer())
            .audience("jwtguard")
            .scopes_from(ScopeClaim::named("scope"))
            .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:")),
    )
    .await;
    let addr = app(&auth).await;
    let token = provider
        .mint(json!({"sub": "alice", "scope": "openid reports:read",
                     "realm_access": {"roles": ["admin"]}}))
        .await;
    let reply = Call::get("/me").bearer(&token).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["sub"], "alice");
    assert_eq!(reply.json()["issuer"], provider.issuer());
    assert_eq!(
        Call::get("/reports").bearer(&token).send(addr).await.status,
        200
    );

    // The provider rotates: its next token carries a kid never seen, fetched once.
    provider.rotate().await;
    let rotated = provider.mint(json!({"sub": "alice"})).await;
    let reply = settled(|| Call::get("/me").bearer(&rotated), addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(Call::get("/me").bearer(&token).send(addr).await.status, 200);
    let foreign = provider.mint(json!({"aud": "another-api"})).await;
    assert_eq!(
        Call::get("/me").bearer(&foreign).send(addr).await.status,
        401
    );
}

/// The head of an HTTP request, read byte by byte (nothing after it is consumed).
async fn request_head(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

/// A CONNECT proxy on loopback that counts its tunnels.
async fn connect_proxy(tunnels: Arc<AtomicUsize>) -> SocketAddr {
    use tokio::io::AsyncWriteExt as _;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let tunnels = tunnels.clone();
            tokio::spawn(async move {
                let head = request_head(&mut client).await;
                let target = head
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                    .expect("a CONNECT request")
                    .to_owned();
                let target = target.replace("provider.test", "127.0.0.1");
                let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                tunnels.fetch_add(1, Ordering::SeqCst);
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn keys_are_fetched_through_a_configured_proxy() {
    let p = provider().await;
    let tunnels = Arc::new(AtomicUsize::new(0));
    let proxy = connect_proxy(tunnels.clone()).await;
    // A name only the proxy knows (it maps `provider.test` to loopback); the discovery
    // document names that issuer and a JWKS on loopback, which is never sent to a proxy.
    let named = p.issuer().replace("127.0.0.1", "provider.test");
    *p.claimed_issuer.lock().unwrap() = Some(named.clone());
    let issuer = TrustedIssuer::discover(&named)
        .audience("orders-api")
        .allow_http()
        .proxy(format!("http://{proxy}"));
    let auth = ready(issuer).await;
    let addr = app(&auth).await;
    let token = sign("k1", KEY_1, &p.with_defaults(&json!({"iss": named})));
    assert_eq!(Call::get("/me").bearer(&token).send(addr).await.status, 200);
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        1,
        "discovery through the proxy"
    );
    assert_eq!(p.discovery_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(
        p.jwks_fetches.load(Ordering::SeqCst),
        1,
        "the JWKS on loopback, directly"
    );

    let refused = Auth::builder()
        .trust(keycloak(&p).proxy("socks5://127.0.0.1:1"))
        .build()
        .unwrap_err();
    assert!(refused.to_string().contains("proxy"), "{refused}");
}

/// A provider over TLS with a certificate of a private CA: a minimal HTTPS server that
/// answers discovery and the JWKS of `p`'s keys, on its own loopback port.
async fn tls_provider(p: Arc<Provider>, dir: &std::path::Path) -> (String, Vec<u8>) {
    use tokio::io::AsyncWriteExt as _;
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    let ca = jwtguard_tests::certificates(dir);
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(dir.join("server.crt"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let base = issuer.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, p, base) = (acceptor.clone(), p.clone(), base.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let head = request_head(&mut tls).await;
                let body = if head.starts_with("GET /jwks ") {
                    p.jwks_fetches.fetch_add(1, Ordering::SeqCst);
                    p.jwks().to_string()
                } else {
                    json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string()
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                tls.write_all(answer.as_bytes()).await.unwrap();
                let _ = tls.shutdown().await;
            });
        }
    });
    (issuer, ca)
}

#[tokio::test]
async fn keys_come_over_tls_checked_against_the_given_root_certificate() {
    let p = provider().await;
    let dir = std::env::temp_dir().join(format!("jwtguard-oidc-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (issuer, ca) = tls_provider(p.clone(), &dir).await;
    let trusted = |issuer: &str| TrustedIssuer::discover(issuer).audience("orders-api");

    // Without the private CA, the certificate is refused: no keys, a startup error.
    let auth = Auth::builder().trust(trusted(&issuer)).build().unwrap();
    let err = auth
        .issuers_ready(Duration::from_millis(500))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");

    let auth = ready(trusted(&issuer).root_certificate(ca)).await;
    let addr = app(&auth).await;
    let token = sign("k1", KEY_1, &p.with_defaults(&json!({"iss": issuer})));
    let reply = Call::get("/me").bearer(&token).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_failing_provider_keeps_the_known_keys_for_a_bounded_time() {
    let p = provider().await;
    let issuer = keycloak(&p)
        .refresh_between(Duration::from_millis(100), Duration::from_millis(100))
        .serve_stale_for(Duration::from_millis(800));
    let auth = ready(issuer).await;
    let addr = app(&auth).await;
    let token = p.mint(&json!({}));
    p.failing.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Refreshes fail: the keys already known still verify.
    assert_eq!(Call::get("/me").bearer(&token).send(addr).await.status, 200);
    // Past the bound, a token that may be valid is a 503, never a 401.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(Call::get("/me").bearer(&token).send(addr).await.status, 503);
    p.failing.store(false, Ordering::SeqCst);
    let reply = settled(|| Call::get("/me").bearer(&token), addr).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn the_same_kid_under_two_issuers_never_collides() {
    let (a, b) = (provider().await, provider().await);
    // Both publish `k1`, each with a key of its own.
    *b.keys.lock().unwrap() = vec![("k1".to_owned(), KEY_2)];
    let auth = Auth::builder()
        .trust(keycloak(&a))
        .trust(keycloak(&b))
        .build()
        .unwrap();
    auth.issuers_ready(Duration::from_secs(5)).await.unwrap();
    let addr = app(&auth).await;
    assert_eq!(
        Call::get("/me")
            .bearer(&a.mint(&json!({})))
            .send(addr)
            .await
            .status,
        200
    );
    assert_eq!(
        Call::get("/me")
            .bearer(&b.mint(&json!({})))
            .send(addr)
            .await
            .status,
        200
    );
    // b's key under a's name: refused.
    let crossed = sign("k1", KEY_2, &a.with_defaults(&json!({})));
    assert_eq!(
        Call::get("/me").bearer(&crossed).send(addr).await.status,
        401
    );
}

#[tokio::test]
async fn revoking_a_token_without_jti_ends_that_token_only() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let without_jti = |sub: &str| {
        let mut claims = p.with_defaults(&json!({ "sub": sub }));
        claims.as_object_mut().unwrap().remove("jti");
        sign("k1", KEY_1, &claims)
    };
    let (ann, bob) = (without_jti("ann"), without_jti("bob"));
    auth.revoke(&auth.verify(&ann).unwrap()).await.unwrap();
    assert_eq!(Call::get("/me").bearer(&ann).send(addr).await.status, 401);
    assert_eq!(Call::get("/me").bearer(&bob).send(addr).await.status, 200);
    // A subject's version is this application's: revoke_all never refuses the provider's
    // future tokens of that subject.
    auth.revoke_all("bob").await.unwrap();
    assert_eq!(Call::get("/me").bearer(&bob).send(addr).await.status, 200);
}

#[tokio::test]
async fn an_id_token_is_never_an_access_token() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    for marker in [
        json!({"nonce": "n-0S6"}),
        json!({"at_hash": "x"}),
        json!({"typ": "ID"}),
    ] {
        let token = p.mint(&marker);
        assert_eq!(
            Call::get("/me").bearer(&token).send(addr).await.status,
            401,
            "{marker}"
        );
    }
}

#[tokio::test]
async fn an_issuer_name_routes_to_one_issuer_only() {
    let p = provider().await;
    let twice = Auth::builder()
        .trust(keycloak(&p))
        .trust(
            TrustedIssuer::discover("https://other.example")
                .audience("a")
                .alias(p.issuer()),
        )
        .build()
        .unwrap_err();
    assert!(twice.to_string().contains("one issuer only"), "{twice}");
    let own = Auth::builder()
        .secret(crate::SECRET)
        .issuer(p.issuer())
        .trust(keycloak(&p))
        .build()
        .unwrap_err();
    assert!(own.to_string().contains("one issuer only"), "{own}");
}

#[tokio::test]
async fn a_payload_that_says_a_member_twice_is_refused() {
    let p = provider().await;
    let auth = ready(keycloak(&p)).await;
    let addr = app(&auth).await;
    let hand_signed = |payload: String| {
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("k1".to_owned());
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let key = EncodingKey::from_rsa_pem(KEY_1.as_bytes()).unwrap();
        let alg = jsonwebtoken::Algorithm::RS256;
        let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, alg).unwrap();
        format!("{signing_input}.{signature}")
    };
    let payload = p.with_defaults(&json!({})).to_string();
    let once = hand_signed(payload.clone());
    assert_eq!(Call::get("/me").bearer(&once).send(addr).await.status, 200);
    // Two readers could see two audiences: refused.
    let twice = hand_signed(payload.replacen('{', "{\"aud\":\"another-api\",", 1));
    assert_eq!(Call::get("/me").bearer(&twice).send(addr).await.status, 401);
}
