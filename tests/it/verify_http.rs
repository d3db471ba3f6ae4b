//! DESIGN §5 and §6 over HTTP: every verification rule and every row of the response table,
//! with one crafted token per attack, against the `Claims` extractor, `Option<Claims>`,
//! `#[protected]` and `#[refresh]` routes of a real server.
//!
//! Every refusal is checked in full: status, the exact `WWW-Authenticate`, the exact JSON
//! body, `Cache-Control: no-store`, and that neither body nor challenge carries a secret, a
//! signature, a token, a panic message, a source path or the word `Bearer `.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Algorithm, Auth, Claims, Grant, Key, protected, refresh};
use jwtguard_tests::{Call, Reply, forge, serve};
use serde_json::{Value, json};

use crate::{PROFILE, REPORTS_READ, SECRET, auth};

// ---- keys ----------------------------------------------------------------------------------

/// The RS256 key of the asymmetric server (throwaway, see tests/keys/README.md).
const SERVER_PEM: &str = include_str!("../keys/server_rsa.pem");
/// Its public half: what an attacker can download and try as an HMAC secret.
const SERVER_PUBLIC_PEM: &str = include_str!("../keys/server_rsa.pub.pem");
/// A key pair the attacker owns.
const ATTACKER_PEM: &str = include_str!("../keys/attacker_rsa.pem");
/// An HMAC secret the attacker owns.
const ATTACKER_SECRET: &[u8] = b"attacker-secret-that-is-long-enough-for-hs256!!";
/// The current and previous keys of the rotation server.
const NEW: &str = "new-secret-of-the-rotation-test-long-enough-0001";
const OLD: &str = "old-secret-of-the-rotation-test-long-enough-0002";

fn rs256_auth() -> Auth {
    Auth::builder()
        .signing_key(Key::private_pem(Algorithm::RS256, SERVER_PEM))
        .build()
        .expect("RS256 auth")
}

fn rotation_auth() -> Auth {
    Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS256, NEW).with_kid("new"))
        .verification_key(Key::hmac(Algorithm::HS256, OLD).with_kid("old"))
        .build()
        .expect("rotation auth")
}

// ---- routes --------------------------------------------------------------------------------

async fn whoami(claims: Claims) -> Json<Value> {
    Json(json!({ "sub": claims.sub() }))
}

async fn maybe(claims: Option<Claims>) -> Json<Value> {
    Json(json!({ "sub": claims.as_ref().map(Claims::sub) }))
}

#[protected]
async fn guarded(claims: Claims) -> String {
    claims.sub().to_owned()
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "q3"
}

#[protected(scopes = "admin")]
async fn admin() -> &'static str {
    "root"
}

#[protected(fresh)]
async fn settings() -> &'static str {
    "saved"
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

async fn twice(first: Claims, second: Claims) -> Json<Value> {
    Json(json!({
        "sub": first.sub(),
        // The same allocation: the second extractor took the first one's cached token
        // instead of verifying (and copying the payload) again.
        "same": std::ptr::eq(first.payload_json(), second.payload_json()),
    }))
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/claims", get(whoami))
        .route("/optional", get(maybe))
        .route("/protected", get(guarded))
        .route("/reports", get(reports))
        .route("/admin", get(admin))
        .route("/settings", post(settings))
        .route("/refresh", post(renew))
        .route("/twice", get(twice))
        .with_state(auth)
}

/// Every route that needs an access token; `Option<Claims>` is checked on its own.
const ACCESS_ROUTES: [(&str, &str); 5] = [
    ("GET", "/claims"),
    ("GET", "/protected"),
    ("GET", "/reports"),
    ("POST", "/settings"),
    ("GET", "/twice"),
];

/// Where an attack token is tried: the `Claims` extractor, the `#[protected]` guard, and
/// optional authentication (a bad token there is a 401, never a silent `None`).
const ATTACKED_ROUTES: [&str; 3] = ["/claims", "/protected", "/optional"];

// ---- payloads ------------------------------------------------------------------------------

/// A payload as raw JSON members in order, so a test can retype, drop or duplicate any claim.
#[derive(Clone, Debug)]
struct Payload(Vec<(&'static str, String)>);

impl Payload {
    /// A well-formed payload of `kind`: valid for ten minutes, not fresh, `reports:read`.
    fn new(kind: &str) -> Self {
        let now = forge::now();
        Self(vec![
            ("sub", r#""user1""#.to_owned()),
            ("iat", now.to_string()),
            ("nbf", now.to_string()),
            ("exp", (now + 600).to_string()),
            ("jti", format!(r#""forged-{kind}-{now}""#)),
            ("type", format!(r#""{kind}""#)),
            ("fresh", "false".to_owned()),
            ("scopes", r#"["reports:read"]"#.to_owned()),
        ])
    }

    fn access() -> Self {
        Self::new("access")
    }

    /// Replaces `name` (or appends it) with a raw JSON value.
    fn set(mut self, name: &'static str, raw: impl Into<String>) -> Self {
        let raw = raw.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(member) => member.1 = raw,
            None => self.0.push((name, raw)),
        }
        self
    }

    fn without(mut self, name: &str) -> Self {
        self.0.retain(|(n, _)| *n != name);
        self
    }

    /// Appends `name` again, after the original.
    fn duplicate(mut self, name: &'static str, raw: impl Into<String>) -> Self {
        self.0.push((name, raw.into()));
        self
    }

    fn json(&self) -> String {
        let members: Vec<String> = self
            .0
            .iter()
            .map(|(n, v)| format!(r#""{n}":{v}"#))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// Signed with the test server's secret under the header it issues itself.
    fn sign(&self) -> String {
        self.sign_as(forge::HEADER, SECRET.as_bytes())
    }

    fn sign_as(&self, header: &str, secret: &[u8]) -> String {
        forge::hs256(header, &self.json(), secret)
    }
}

/// `now + offset` as JSON.
fn at(offset: i64) -> String {
    (forge::now() + offset).to_string()
}

/// A token signed by `pem` with `algorithm` (the attacker's keys, or the server's own for
/// the control case).
fn pem_signed(algorithm: Algorithm, header: &str, payload: &str, pem: &str) -> String {
    let input = forge::unsigned(header, payload);
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA PEM");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, algorithm).expect("RSA signature");
    format!("{input}.{signature}")
}

/// A token MACed with `secret` under another HMAC algorithm than the one in `header` says.
fn mac_signed(algorithm: Algorithm, header: &str, payload: &str, secret: &[u8]) -> String {
    let input = forge::unsigned(header, payload);
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key, algorithm).expect("MAC");
    format!("{input}.{signature}")
}

fn access_token(auth: &Auth) -> String {
    auth.create_access_token(&Grant::to("user1").scopes([REPORTS_READ]))
        .expect("access token")
}

/// An access token that is not fresh (as a refresh issues it).
fn stale_token(auth: &Auth) -> String {
    auth.create_access_token(&Grant::to("user1").scopes([REPORTS_READ]).fresh(false))
        .expect("access token")
}

// ---- expected answers ----------------------------------------------------------------------

const MISSING: &str = r#"Bearer realm="api""#;

const EXPIRED: &str = "The token has expired";
const NOT_YET_VALID: &str = "The token is not valid yet";
const ISSUED_IN_FUTURE: &str = "The token was issued in the future";
const WRONG_TYPE: &str = "The token is of the wrong type for this endpoint";
const TOO_LARGE: &str = "The token is too large";
const SIGNATURE: &str = "The token signature is invalid";
const ALGORITHM: &str = "The token algorithm is not accepted";
const UNKNOWN_KEY: &str = "The token key id is unknown";
const CRITICAL: &str = "The token requires unsupported extensions";
const MISSING_CLAIM: &str = "The token lacks a required claim";
const AUDIENCE: &str = "The token is not meant for this audience";
const ISSUER: &str = "The token issuer is not accepted";
const MALFORMED: &str = "The token is malformed";

fn invalid_token(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
}

fn invalid_request(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_request", error_description="{description}""#)
}

/// The human message that goes with each machine code (the seeds' words where they have them).
fn message(code: &str) -> &'static str {
    match code {
        "missing_token" => "Missing JWT in request",
        "invalid_token" => "Invalid token",
        "token_expired" => "Token expired",
        "invalid_request" => "Malformed authentication request",
        "insufficient_scope" => "Insufficient scope",
        "fresh_token_required" => "Fresh token required",
        other => panic!("no message known for {other:?}"),
    }
}

/// The body's `reason` for each challenge description.
fn reason(description: &str) -> &'static str {
    match description {
        "The token has expired" => "expired",
        "The token is not valid yet" => "not_yet_valid",
        "The token was issued in the future" => "issued_in_future",
        "The token is of the wrong type for this endpoint" => "wrong_type",
        "The token is too large" => "too_large",
        "The token signature is invalid" => "signature",
        "The token algorithm is not accepted" => "algorithm",
        "The token key id is unknown" => "unknown_key",
        "The token requires unsupported extensions" => "critical",
        "The token lacks a required claim" => "missing_claim",
        "The token is not meant for this audience" => "audience",
        "The token issuer is not accepted" => "issuer",
        "The token is malformed" => "malformed",
        "The token was not issued here and cannot be renewed" => "not_renewable",
        "The token has been revoked" => "revoked",
        "The refresh token has already been used" => "reused",
        other => panic!("no reason known for {other:?}"),
    }
}

/// Neither body nor challenge carries key material, the token or its signature, a panic
/// message, a source path, or an echo of the `Authorization` header.
#[track_caller]
fn assert_leaks_nothing(case: &str, reply: &Reply, token: &str) {
    let body = reply.text();
    let challenge = reply.challenge();
    let mut needles = vec![
        SECRET,
        NEW,
        OLD,
        "PRIVATE KEY",
        "PUBLIC KEY",
        "panicked",
        "src/",
        "Bearer ",
    ];
    if let Some(signature) = token.rsplit('.').next().filter(|s| s.len() >= 16) {
        needles.push(signature);
    }
    if token.len() >= 16 {
        needles.push(token);
    }
    for needle in needles {
        assert!(
            !body.contains(needle),
            "{case}: the body leaks {needle:?}: {body}"
        );
        // The challenge legitimately starts with "Bearer ", but carries nothing else of these.
        if needle != "Bearer " {
            assert!(
                !challenge.contains(needle),
                "{case}: the challenge leaks {needle:?}: {challenge}"
            );
        }
    }
}

/// An error answer, checked in full.
#[track_caller]
fn assert_refused(
    case: &str,
    reply: &Reply,
    status: u16,
    challenge: &str,
    code: &str,
    token: &str,
) {
    assert_eq!(
        reply.status,
        status,
        "{case}: status (body {})",
        reply.text()
    );
    assert_eq!(reply.challenge(), challenge, "{case}: WWW-Authenticate");
    let mut body = json!({ "error": code, "message": message(code) });
    if ["invalid_token", "token_expired"].contains(&code) {
        // The body says why, as the challenge does.
        let description = challenge
            .split("error_description=\"")
            .nth(1)
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{case}: no description in {challenge}"));
        body["reason"] = reason(description).into();
    }
    assert_eq!(reply.json(), body, "{case}: body");
    assert_eq!(reply.header("content-type"), "application/json", "{case}");
    assert_eq!(reply.header("cache-control"), "no-store", "{case}");
    assert_leaks_nothing(case, reply, token);
}

#[track_caller]
fn assert_invalid_token(case: &str, reply: &Reply, description: &str, token: &str) {
    assert_refused(
        case,
        reply,
        401,
        &invalid_token(description),
        "invalid_token",
        token,
    );
}

/// Sends `token` to every attacked route and expects the same `invalid_token` refusal.
async fn assert_rejected_everywhere(addr: SocketAddr, case: &str, token: &str, description: &str) {
    for path in ATTACKED_ROUTES {
        let reply = Call::get(path).bearer(token).send(addr).await;
        assert_invalid_token(&format!("{case} on {path}"), &reply, description, token);
    }
}

async fn assert_accepted(addr: SocketAddr, case: &str, token: &str) {
    for path in ["/claims", "/protected", "/reports"] {
        let reply = Call::get(path).bearer(token).send(addr).await;
        assert_eq!(
            reply.status,
            200,
            "{case} on {path}: {} {}",
            reply.challenge(),
            reply.text()
        );
    }
    let optional = Call::get("/optional").bearer(token).send(addr).await;
    assert_eq!(
        (optional.status, optional.json()),
        (200, json!({ "sub": "user1" })),
        "{case} on /optional"
    );
}

// ---- controls: the forger itself makes tokens the server accepts -----------------------------

#[tokio::test]
async fn forged_tokens_with_the_right_key_are_accepted() {
    // Without this, every attack below could "pass" because the forger is broken.
    let addr = serve(app(auth())).await;
    assert_accepted(addr, "issued by the server", &access_token(&auth())).await;
    assert_accepted(addr, "forged with the secret", &Payload::access().sign()).await;
    // A header we never issue is parsed (not byte-compared) and still accepted.
    let minimal_header = Payload::access().sign_as(r#"{"alg":"HS256"}"#, SECRET.as_bytes());
    assert_accepted(addr, "minimal header", &minimal_header).await;
    // Undeclared extra claims are nobody's business.
    let extra = Payload::access().set("tenant", r#""acme""#).sign();
    assert_accepted(addr, "extra claim", &extra).await;
    let reply = Call::get("/protected").bearer(&extra).send(addr).await;
    assert_eq!(reply.text(), "user1");
}

// ---- §6 row 1: no token ----------------------------------------------------------------------

#[tokio::test]
async fn no_token_is_401_with_a_bare_realm_challenge() {
    let addr = serve(app(auth())).await;
    for (method, path) in ACCESS_ROUTES.into_iter().chain([("POST", "/refresh")]) {
        let reply = Call::new(method, path).send(addr).await;
        assert_refused(
            &format!("{method} {path} without a token"),
            &reply,
            401,
            MISSING,
            "missing_token",
            "",
        );
        assert_eq!(
            reply.text(),
            r#"{"error":"missing_token","message":"Missing JWT in request"}"#
        );
    }
}

#[tokio::test]
async fn another_scheme_counts_as_no_token() {
    let addr = serve(app(auth())).await;
    for value in [
        "Basic dXNlcjpwYXNzd29yZA==",
        "Digest username=\"user1\"",
        "Token abc.def.ghi",
        // No space after the scheme: `Bearerabc` is some other scheme.
        "Bearerabc.def.ghi",
    ] {
        for (method, path) in ACCESS_ROUTES {
            let reply = Call::new(method, path)
                .header("authorization", value)
                .send(addr)
                .await;
            assert_refused(
                &format!("{value:?} on {path}"),
                &reply,
                401,
                MISSING,
                "missing_token",
                value,
            );
        }
        let optional = Call::get("/optional")
            .header("authorization", value)
            .send(addr)
            .await;
        assert_eq!(
            (optional.status, optional.json()),
            (200, json!({ "sub": null })),
            "{value:?}: no bearer token is anonymous"
        );
    }
}

// ---- §6 row 3: malformed requests ------------------------------------------------------------

#[tokio::test]
async fn two_authorization_headers_are_400_invalid_request() {
    let addr = serve(app(auth())).await;
    let token = Payload::access().sign();
    let challenge = invalid_request("Send one Authorization header");
    for second in [format!("Bearer {token}"), "Basic dXNlcjpwYXNz".to_owned()] {
        for path in ATTACKED_ROUTES.into_iter().chain(["/reports"]) {
            let reply = Call::get(path)
                .bearer(&token)
                .header("authorization", &second)
                .send(addr)
                .await;
            assert_refused(
                &format!("two headers on {path}"),
                &reply,
                400,
                &challenge,
                "invalid_request",
                &token,
            );
        }
    }
}

#[tokio::test]
async fn an_empty_bearer_is_400_invalid_request() {
    let addr = serve(app(auth())).await;
    let challenge = invalid_request("The Bearer token is empty");
    for value in ["Bearer ", "Bearer", "bearer    ", "BEARER"] {
        for path in ATTACKED_ROUTES {
            let reply = Call::get(path)
                .header("authorization", value)
                .send(addr)
                .await;
            assert_refused(
                &format!("{value:?} on {path}"),
                &reply,
                400,
                &challenge,
                "invalid_request",
                "",
            );
        }
    }
    let refresh = Call::post("/refresh")
        .header("authorization", "Bearer ")
        .send(addr)
        .await;
    assert_refused(
        "empty Bearer on #[refresh]",
        &refresh,
        400,
        &challenge,
        "invalid_request",
        "",
    );
}

#[tokio::test]
async fn a_non_ascii_authorization_header_is_400_invalid_request() {
    let addr = serve(app(auth())).await;
    let value = b"Bearer \xff\xfe.token";
    for path in ATTACKED_ROUTES {
        let reply = Call::get(path)
            .header("authorization", value)
            .send(addr)
            .await;
        assert_refused(
            &format!("obs-text on {path}"),
            &reply,
            400,
            &invalid_request("The Authorization header is not ASCII"),
            "invalid_request",
            "",
        );
    }
}

// ---- §5: the algorithm comes from configuration ------------------------------------------

#[tokio::test]
async fn alg_none_is_refused_with_or_without_a_signature() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access().json();
    for header in [
        r#"{"alg":"none","typ":"JWT"}"#,
        r#"{"alg":"None","typ":"JWT"}"#,
        r#"{"alg":"NONE"}"#,
        r#"{"alg":"nOnE"}"#,
    ] {
        let unsigned = forge::unsigned(header, &payload);
        let cases = [
            ("empty signature", format!("{unsigned}.")),
            (
                "junk signature",
                format!("{unsigned}.{}", forge::b64("some signature bytes here")),
            ),
            // Even the correct HS256 MAC of the input must not rescue `none`.
            (
                "real MAC",
                forge::hs256(header, &payload, SECRET.as_bytes()),
            ),
        ];
        for (what, token) in cases {
            assert_rejected_everywhere(addr, &format!("{header} with {what}"), &token, ALGORITHM)
                .await;
        }
    }
}

#[tokio::test]
async fn another_hmac_algorithm_with_the_right_secret_is_refused() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access().json();
    for (algorithm, header) in [
        (Algorithm::HS384, r#"{"alg":"HS384","typ":"JWT"}"#),
        (Algorithm::HS512, r#"{"alg":"HS512","typ":"JWT"}"#),
    ] {
        let token = mac_signed(algorithm, header, &payload, SECRET.as_bytes());
        assert_rejected_everywhere(addr, header, &token, ALGORITHM).await;
    }
    // An algorithm name nobody knows.
    let token = Payload::access().sign_as(r#"{"alg":"HS1024"}"#, SECRET.as_bytes());
    assert_rejected_everywhere(addr, "HS1024", &token, ALGORITHM).await;
}

#[tokio::test]
async fn hs256_keyed_with_the_rsa_public_key_is_refused_by_an_rs256_server() {
    let auth = rs256_auth();
    let addr = serve(app(auth.clone())).await;
    let payload = Payload::access().json();

    // Controls: the server's own token, and one forged with its private key, pass.
    assert_accepted(addr, "RS256 issued", &access_token(&auth)).await;
    let rs_header = r#"{"alg":"RS256","typ":"JWT"}"#;
    let legit = pem_signed(Algorithm::RS256, rs_header, &payload, SERVER_PEM);
    assert_accepted(addr, "RS256 forged with the server key", &legit).await;

    // The classic confusion: the public PEM, which anyone has, used as an HMAC secret.
    for header in [r#"{"alg":"HS256","typ":"JWT"}"#, r#"{"alg":"HS256"}"#] {
        let token = forge::hs256(header, &payload, SERVER_PUBLIC_PEM.as_bytes());
        assert_rejected_everywhere(addr, header, &token, ALGORITHM).await;
        let trimmed = forge::hs256(header, &payload, SERVER_PUBLIC_PEM.trim().as_bytes());
        assert_rejected_everywhere(addr, "trimmed PEM", &trimmed, ALGORITHM).await;
    }
    // `none` against an asymmetric key too.
    let none = format!(
        "{}.",
        forge::unsigned(r#"{"alg":"none","typ":"JWT"}"#, &payload)
    );
    assert_rejected_everywhere(addr, "none on RS256", &none, ALGORITHM).await;
    // And a sibling algorithm of the same family signed with the right key.
    let ps = pem_signed(
        Algorithm::PS256,
        r#"{"alg":"PS256","typ":"JWT"}"#,
        &payload,
        SERVER_PEM,
    );
    assert_rejected_everywhere(addr, "PS256 with the RS256 key", &ps, ALGORITHM).await;
}

#[tokio::test]
async fn a_kid_naming_the_rsa_public_key_cannot_make_it_an_hmac_secret() {
    // A server that verifies both an HMAC key and an RSA public key, selected by kid: the
    // attacker names the RSA key and MACs with its public PEM.
    let auth = Auth::builder()
        .signing_key(Key::hmac(Algorithm::HS256, SECRET).with_kid("hs"))
        .verification_key(Key::public_pem(Algorithm::RS256, SERVER_PUBLIC_PEM).with_kid("rs"))
        .build()
        .expect("mixed auth");
    let addr = serve(app(auth.clone())).await;
    let payload = Payload::access().json();
    assert_accepted(addr, "HS256 issued", &access_token(&auth)).await;
    let rs = pem_signed(
        Algorithm::RS256,
        r#"{"alg":"RS256","typ":"JWT","kid":"rs"}"#,
        &payload,
        SERVER_PEM,
    );
    assert_accepted(addr, "RS256 by the kid rs", &rs).await;

    let confused = forge::hs256(
        r#"{"alg":"HS256","typ":"JWT","kid":"rs"}"#,
        &payload,
        SERVER_PUBLIC_PEM.as_bytes(),
    );
    assert_rejected_everywhere(addr, "HS256 with kid rs", &confused, ALGORITHM).await;
    let wrong_key = forge::hs256(
        r#"{"alg":"HS256","typ":"JWT","kid":"hs"}"#,
        &payload,
        SERVER_PUBLIC_PEM.as_bytes(),
    );
    assert_rejected_everywhere(addr, "HS256 with kid hs", &wrong_key, SIGNATURE).await;
}

// ---- §5: keys never come from the token ------------------------------------------------------

#[tokio::test]
async fn embedded_and_linked_keys_are_ignored_on_an_hmac_server() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access();
    let attacker_k = forge::b64(ATTACKER_SECRET);
    for header in [
        format!(r#"{{"alg":"HS256","typ":"JWT","jwk":{{"kty":"oct","k":"{attacker_k}"}}}}"#),
        r#"{"alg":"HS256","typ":"JWT","jku":"http://127.0.0.1:9/jwks.json"}"#.to_owned(),
        r#"{"alg":"HS256","typ":"JWT","x5u":"http://127.0.0.1:9/cert.pem"}"#.to_owned(),
        r#"{"alg":"HS256","typ":"JWT","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"]}"#.to_owned(),
    ] {
        let forged = payload.sign_as(&header, ATTACKER_SECRET);
        assert_rejected_everywhere(addr, &header, &forged, SIGNATURE).await;
        // Ignored, not refused: with the real key the same header is fine.
        assert_accepted(addr, &header, &payload.sign_as(&header, SECRET.as_bytes())).await;
    }
}

#[tokio::test]
async fn embedded_and_linked_keys_are_ignored_on_an_rs256_server() {
    let addr = serve(app(rs256_auth())).await;
    let payload = Payload::access().json();
    let attacker = jsonwebtoken::EncodingKey::from_rsa_pem(ATTACKER_PEM.as_bytes()).expect("key");
    let jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&attacker, Algorithm::RS256).expect("jwk");
    let jwk = serde_json::to_string(&jwk).expect("jwk json");
    for header in [
        format!(r#"{{"alg":"RS256","typ":"JWT","jwk":{jwk}}}"#),
        r#"{"alg":"RS256","typ":"JWT","jku":"http://127.0.0.1:9/jwks.json"}"#.to_owned(),
        r#"{"alg":"RS256","typ":"JWT","x5u":"http://127.0.0.1:9/cert.pem"}"#.to_owned(),
    ] {
        let forged = pem_signed(Algorithm::RS256, &header, &payload, ATTACKER_PEM);
        assert_rejected_everywhere(addr, &header, &forged, SIGNATURE).await;
    }
    // The attacker's own key, named by a kid the server does not have.
    let header = format!(r#"{{"alg":"RS256","typ":"JWT","kid":"attacker","jwk":{jwk}}}"#);
    let forged = pem_signed(Algorithm::RS256, &header, &payload, ATTACKER_PEM);
    assert_rejected_everywhere(addr, "jwk with kid", &forged, UNKNOWN_KEY).await;
}

// ---- §5: kid only selects among configured keys --------------------------------------------

#[tokio::test]
async fn a_kid_on_a_server_whose_key_has_none_is_unknown() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access();
    for header in [
        r#"{"alg":"HS256","typ":"JWT","kid":"default"}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":""}"#,
        r#"{"alg":"HS256","typ":"JWT","kid":"../../etc/passwd"}"#,
    ] {
        let token = payload.sign_as(header, SECRET.as_bytes());
        assert_rejected_everywhere(addr, header, &token, UNKNOWN_KEY).await;
    }
}

#[tokio::test]
async fn key_rotation_accepts_the_new_and_the_old_kid_and_nothing_else() {
    let auth = rotation_auth();
    let addr = serve(app(auth.clone())).await;
    let payload = Payload::access();
    let new_header = r#"{"alg":"HS256","typ":"JWT","kid":"new"}"#;
    let old_header = r#"{"alg":"HS256","typ":"JWT","kid":"old"}"#;

    let issued = access_token(&auth);
    assert_accepted(addr, "issued (kid new)", &issued).await;
    assert_accepted(
        addr,
        "kid new",
        &payload.sign_as(new_header, NEW.as_bytes()),
    )
    .await;
    assert_accepted(
        addr,
        "kid old",
        &payload.sign_as(old_header, OLD.as_bytes()),
    )
    .await;
    // Same kids, reordered header members: parsed, not byte-compared.
    let reordered = payload.sign_as(r#"{"kid":"old","alg":"HS256"}"#, OLD.as_bytes());
    assert_accepted(addr, "kid old, reordered", &reordered).await;

    let third_secret = b"a-third-secret-that-nobody-configured-0000000003";
    let third = payload.sign_as(r#"{"alg":"HS256","typ":"JWT","kid":"third"}"#, third_secret);
    assert_rejected_everywhere(addr, "kid third", &third, UNKNOWN_KEY).await;
    let third_with_new = payload.sign_as(
        r#"{"alg":"HS256","typ":"JWT","kid":"third"}"#,
        NEW.as_bytes(),
    );
    assert_rejected_everywhere(addr, "kid third, NEW secret", &third_with_new, UNKNOWN_KEY).await;
    // Every key here has a kid, so a token without one names no key.
    let no_kid = payload.sign_as(forge::HEADER, NEW.as_bytes());
    assert_rejected_everywhere(addr, "no kid", &no_kid, UNKNOWN_KEY).await;
    // A kid selects a key; it does not let another key's signature through.
    let crossed = payload.sign_as(old_header, NEW.as_bytes());
    assert_rejected_everywhere(addr, "kid old, NEW secret", &crossed, SIGNATURE).await;
    let crossed = payload.sign_as(new_header, OLD.as_bytes());
    assert_rejected_everywhere(addr, "kid new, OLD secret", &crossed, SIGNATURE).await;
}

// ---- §5: crit ----------------------------------------------------------------------------------

#[tokio::test]
async fn a_crit_header_is_refused() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access();
    for header in [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","typ":"JWT","b64":false,"crit":["b64"]}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","crit":null}"#,
    ] {
        // Correctly signed: only the extension demand is wrong.
        let token = payload.sign_as(header, SECRET.as_bytes());
        assert_rejected_everywhere(addr, header, &token, CRITICAL).await;
    }
}

// ---- §5: time claims and leeway --------------------------------------------------------------

#[tokio::test]
async fn an_expired_token_is_token_expired() {
    let addr = serve(app(auth())).await;
    for (case, payload) in [
        (
            "expired 5 s ago",
            Payload::access()
                .set("iat", at(-600))
                .set("nbf", at(-600))
                .set("exp", at(-5)),
        ),
        // With zero leeway `exp` itself is already too late (the server's clock is never
        // behind the test's).
        ("exp = now", Payload::access().set("exp", at(0))),
        (
            "exp = 0",
            Payload::access()
                .set("iat", "0")
                .set("nbf", "0")
                .set("exp", "0"),
        ),
    ] {
        let token = payload.sign();
        for path in ATTACKED_ROUTES {
            let reply = Call::get(path).bearer(&token).send(addr).await;
            assert_refused(
                &format!("{case} on {path}"),
                &reply,
                401,
                &invalid_token(EXPIRED),
                "token_expired",
                &token,
            );
            assert_eq!(reply.json()["message"], "Token expired");
        }
    }
}

#[tokio::test]
async fn nbf_and_iat_in_the_future_are_refused() {
    let addr = serve(app(auth())).await;
    let not_yet = Payload::access().set("nbf", at(60)).sign();
    assert_rejected_everywhere(addr, "nbf in 60 s", &not_yet, NOT_YET_VALID).await;
    let from_the_future = Payload::access().set("iat", at(60)).sign();
    assert_rejected_everywhere(addr, "iat in 60 s", &from_the_future, ISSUED_IN_FUTURE).await;
    // `nbf` is optional: a token without one is fine.
    assert_accepted(addr, "no nbf", &Payload::access().without("nbf").sign()).await;
}

#[tokio::test]
async fn a_token_from_an_issuer_a_few_seconds_ahead_is_accepted_by_default() {
    let addr = serve(app(auth())).await;
    let ahead = Payload::access().set("nbf", at(4)).set("iat", at(4)).sign();
    assert_accepted(addr, "nbf and iat 4 s ahead, default skew", &ahead).await;
    let strict = Auth::builder()
        .secret(SECRET)
        .clock_skew(Duration::ZERO)
        .build()
        .expect("strict auth");
    let strict = serve(app(strict)).await;
    assert_rejected_everywhere(strict, "4 s ahead, skew 0", &ahead, NOT_YET_VALID).await;
}

#[tokio::test]
async fn fractional_numeric_dates_are_accepted_and_round_towards_refusal() {
    let addr = serve(app(auth())).await;
    let now = forge::now();
    let fractional = Payload::access()
        .set("iat", format!("{now}.25"))
        .set("nbf", format!("{}.999999", now - 1))
        .set("exp", format!("{}.241967", now + 600))
        .sign();
    assert_accepted(addr, "AuthX-style fractional dates", &fractional).await;
    // `exp` rounds down: a token that expires within this second is already expired.
    let expiring = Payload::access().set("exp", format!("{now}.9")).sign();
    let reply = Call::get("/claims").bearer(&expiring).send(addr).await;
    assert_refused(
        "exp now + 0.9 s",
        &reply,
        401,
        &invalid_token(EXPIRED),
        "token_expired",
        &expiring,
    );
    // `nbf` rounds up: past the skew allowance by a fraction is not yet valid.
    let not_yet = Payload::access()
        .set("nbf", format!("{}.1", now + 5))
        .sign();
    assert_rejected_everywhere(addr, "nbf now + 5.1 s", &not_yet, NOT_YET_VALID).await;
}

#[tokio::test]
async fn leeway_tolerates_exactly_the_configured_skew() {
    let lenient = Auth::builder()
        .secret(SECRET)
        .leeway(Duration::from_secs(30))
        .build()
        .expect("lenient auth");
    let lenient = serve(app(lenient)).await;
    let strict = serve(app(auth())).await;

    let expired_5s = Payload::access()
        .set("iat", at(-600))
        .set("nbf", at(-600))
        .set("exp", at(-5))
        .sign();
    assert_accepted(lenient, "expired 5 s ago, leeway 30 s", &expired_5s).await;
    let reply = Call::get("/claims").bearer(&expired_5s).send(strict).await;
    assert_refused(
        "expired 5 s ago, default leeway",
        &reply,
        401,
        &invalid_token(EXPIRED),
        "token_expired",
        &expired_5s,
    );

    let skewed = Payload::access()
        .set("nbf", at(10))
        .set("iat", at(10))
        .sign();
    assert_accepted(lenient, "nbf and iat 10 s ahead, leeway 30 s", &skewed).await;
    assert_rejected_everywhere(
        strict,
        "nbf 10 s ahead, default leeway",
        &skewed,
        NOT_YET_VALID,
    )
    .await;

    // Beyond the leeway it is refused there too.
    let expired_31s = Payload::access()
        .set("iat", at(-600))
        .set("nbf", at(-600))
        .set("exp", at(-31))
        .sign();
    let reply = Call::get("/protected")
        .bearer(&expired_31s)
        .send(lenient)
        .await;
    assert_refused(
        "expired 31 s ago, leeway 30 s",
        &reply,
        401,
        &invalid_token(EXPIRED),
        "token_expired",
        &expired_31s,
    );
    let ahead_60s = Payload::access().set("iat", at(60)).sign();
    assert_rejected_everywhere(
        lenient,
        "iat 60 s ahead, leeway 30 s",
        &ahead_60s,
        ISSUED_IN_FUTURE,
    )
    .await;
}

// ---- §5: typed claims ------------------------------------------------------------------------

#[tokio::test]
async fn claims_of_the_wrong_type_are_malformed() {
    let addr = serve(app(auth())).await;
    let exp = forge::now() + 600;
    let cases = [
        (
            "exp as a string",
            Payload::access().set("exp", format!(r#""{exp}""#)),
        ),
        ("exp as a boolean", Payload::access().set("exp", "true")),
        (
            "exp past year 9999, in exponent notation",
            Payload::access().set("exp", "1e12"),
        ),
        (
            "exp whose exponent overflows",
            Payload::access().set("exp", "1e400"),
        ),
        ("exp negative", Payload::access().set("exp", "-1.5")),
        (
            "exp beyond i64",
            Payload::access().set("exp", "99999999999999999999"),
        ),
        ("exp null", Payload::access().set("exp", "null")),
        (
            "iat as a string",
            Payload::access().set("iat", format!(r#""{}""#, forge::now())),
        ),
        ("nbf null", Payload::access().set("nbf", "null")),
        ("sub as a number", Payload::access().set("sub", "1")),
        (
            "scopes as a string",
            Payload::access().set("scopes", r#""reports:read""#),
        ),
        ("scopes of numbers", Payload::access().set("scopes", "[1]")),
        (
            "type capitalised",
            Payload::access().set("type", r#""Access""#),
        ),
        ("type unknown", Payload::access().set("type", r#""id""#)),
        (
            "fresh as a string",
            Payload::access().set("fresh", r#""true""#),
        ),
        ("fresh as a number", Payload::access().set("fresh", "1")),
        ("aud as a number", Payload::access().set("aud", "1")),
    ];
    for (case, payload) in cases {
        assert_rejected_everywhere(addr, case, &payload.sign(), MALFORMED).await;
    }
}

#[tokio::test]
async fn a_string_true_is_not_fresh_on_a_fresh_route() {
    let addr = serve(app(auth())).await;
    let forged = Payload::access().set("fresh", r#""true""#).sign();
    let reply = Call::post("/settings").bearer(&forged).send(addr).await;
    assert_invalid_token("fresh: \"true\"", &reply, MALFORMED, &forged);
    // The control: a boolean true is fresh.
    let fresh = Payload::access().set("fresh", "true").sign();
    let reply = Call::post("/settings").bearer(&fresh).send(addr).await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "saved"));
}

#[tokio::test]
async fn a_duplicated_claim_is_refused() {
    let addr = serve(app(auth())).await;
    let cases = [
        (
            "sub twice",
            Payload::access().duplicate("sub", r#""admin""#),
        ),
        (
            "sub twice, same value",
            Payload::access().duplicate("sub", r#""user1""#),
        ),
        ("exp twice", Payload::access().duplicate("exp", at(86_400))),
        (
            "type twice",
            Payload::access().duplicate("type", r#""refresh""#),
        ),
        ("fresh twice", Payload::access().duplicate("fresh", "true")),
        (
            "scopes twice",
            Payload::access().duplicate("scopes", r#"["admin"]"#),
        ),
    ];
    for (case, payload) in cases {
        assert_rejected_everywhere(addr, case, &payload.sign(), MALFORMED).await;
    }
    // A duplicated header member too: `alg` twice.
    let header = r#"{"alg":"HS256","alg":"none","typ":"JWT"}"#;
    let token = Payload::access().sign_as(header, SECRET.as_bytes());
    assert_rejected_everywhere(addr, "alg twice", &token, MALFORMED).await;
}

#[tokio::test]
async fn each_required_claim_is_required() {
    let addr = serve(app(auth())).await;
    for claim in ["exp", "iat", "sub", "jti", "type"] {
        let token = Payload::access().without(claim).sign();
        assert_rejected_everywhere(addr, &format!("without {claim}"), &token, MISSING_CLAIM).await;
    }
}

// ---- §5: token types ---------------------------------------------------------------------------

#[tokio::test]
async fn a_refresh_token_is_never_an_access_token_nor_the_reverse() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let issued_refresh = auth
        .create_refresh_token(&Grant::to("user1").scopes([REPORTS_READ]))
        .expect("refresh token");
    let forged_refresh = Payload::new("refresh").sign();
    for (case, token) in [("issued", &issued_refresh), ("forged", &forged_refresh)] {
        assert_rejected_everywhere(addr, &format!("{case} refresh token"), token, WRONG_TYPE).await;
        for (method, path) in ACCESS_ROUTES {
            let reply = Call::new(method, path).bearer(token).send(addr).await;
            assert_invalid_token(
                &format!("{case} refresh on {path}"),
                &reply,
                WRONG_TYPE,
                token,
            );
        }
        // Control: where a refresh token belongs, it works.
        let renewed = Call::post("/refresh").bearer(token).send(addr).await;
        assert_eq!(renewed.status, 200, "{case}: {}", renewed.text());
    }

    let access = access_token(&auth);
    let reply = Call::post("/refresh").bearer(&access).send(addr).await;
    assert_invalid_token("access token on #[refresh]", &reply, WRONG_TYPE, &access);
    let reply = Call::post("/refresh")
        .json(&json!({ "refresh_token": access }))
        .send(addr)
        .await;
    assert_invalid_token(
        "access token in the refresh body",
        &reply,
        WRONG_TYPE,
        &access,
    );
}

// ---- §5: audience and issuer -------------------------------------------------------------------

#[tokio::test]
async fn an_audience_is_refused_when_none_is_configured() {
    let addr = serve(app(auth())).await;
    for aud in [r#""api""#, r#"["api"]"#, r#""""#] {
        let token = Payload::access().set("aud", aud).sign();
        assert_rejected_everywhere(addr, &format!("aud {aud}"), &token, AUDIENCE).await;
    }
}

#[tokio::test]
async fn a_configured_audience_is_required_and_must_match() {
    let auth = Auth::builder()
        .secret(SECRET)
        .audience("https://api.example")
        .audience("https://legacy.example")
        .build()
        .expect("audience auth");
    let addr = serve(app(auth.clone())).await;
    assert_accepted(addr, "issued", &access_token(&auth)).await;
    for aud in [
        r#""https://api.example""#,
        r#""https://legacy.example""#,
        r#"["https://other.example","https://api.example"]"#,
    ] {
        assert_accepted(addr, aud, &Payload::access().set("aud", aud).sign()).await;
    }
    for aud in [
        r#""https://other.example""#,
        r#""https://API.example""#,
        r#"["https://other.example"]"#,
        "[]",
    ] {
        let token = Payload::access().set("aud", aud).sign();
        assert_rejected_everywhere(addr, &format!("aud {aud}"), &token, AUDIENCE).await;
    }
    let missing = Payload::access().sign();
    assert_rejected_everywhere(addr, "no aud", &missing, MISSING_CLAIM).await;
}

#[tokio::test]
async fn a_configured_issuer_is_required_and_must_match() {
    let auth = Auth::builder()
        .secret(SECRET)
        .issuer("https://issuer.example")
        .build()
        .expect("issuer auth");
    let addr = serve(app(auth.clone())).await;
    assert_accepted(addr, "issued", &access_token(&auth)).await;
    let right = Payload::access()
        .set("iss", r#""https://issuer.example""#)
        .sign();
    assert_accepted(addr, "right iss", &right).await;
    for iss in [
        r#""https://evil.example""#,
        r#""https://issuer.example/""#,
        r#""""#,
    ] {
        let token = Payload::access().set("iss", iss).sign();
        assert_rejected_everywhere(addr, &format!("iss {iss}"), &token, ISSUER).await;
    }
    let missing = Payload::access().sign();
    assert_rejected_everywhere(addr, "no iss", &missing, MISSING_CLAIM).await;
}

// ---- §5: structure and signature ---------------------------------------------------------------

#[tokio::test]
async fn a_token_without_exactly_three_segments_is_malformed() {
    let addr = serve(app(auth())).await;
    let token = Payload::access().sign();
    let mut parts = token.split('.');
    let (header, payload, signature) = (
        parts.next().expect("header"),
        parts.next().expect("payload"),
        parts.next().expect("signature"),
    );
    for (case, bad) in [
        ("one segment", header.to_owned()),
        ("two segments", format!("{header}.{payload}")),
        ("four segments", format!("{token}.{signature}")),
        ("four segments, empty last", format!("{token}.")),
        (
            "five segments (JWE shape)",
            format!("{header}.{payload}.{signature}.{payload}.{signature}"),
        ),
        ("only dots", "..".to_owned()),
        ("empty", ".".to_owned()),
    ] {
        assert_rejected_everywhere(addr, case, &bad, MALFORMED).await;
    }
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let addr = serve(app(auth())).await;
    let payload = Payload::access();
    let token = payload.sign();
    let (input, signature) = token.rsplit_once('.').expect("three segments");

    let other_key = payload.sign_as(forge::HEADER, ATTACKER_SECRET);
    assert_rejected_everywhere(addr, "another secret", &other_key, SIGNATURE).await;

    // The payload rewritten to another subject, the original signature kept.
    let tampered = format!(
        "{}.{signature}",
        forge::unsigned(
            forge::HEADER,
            &payload.clone().set("sub", r#""admin""#).json()
        )
    );
    assert_rejected_everywhere(addr, "tampered payload", &tampered, SIGNATURE).await;

    let truncated = format!("{input}.{}", &signature[..signature.len() - 4]);
    assert_rejected_everywhere(addr, "truncated signature", &truncated, SIGNATURE).await;
    // A MAC is compared in full: its first 16 bytes, or its first byte, are not enough.
    let tag = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
        .expect("base64url signature");
    for bytes in [31, 16, 1] {
        let short = format!("{input}.{}", forge::b64(&tag[..bytes]));
        assert_rejected_everywhere(
            addr,
            &format!("MAC cut to {bytes} bytes"),
            &short,
            SIGNATURE,
        )
        .await;
    }

    // One character of the signature changed.
    let last = signature.chars().last().expect("signature");
    let flipped = if last == 'A' { 'B' } else { 'A' };
    let changed = format!("{input}.{}{flipped}", &signature[..signature.len() - 1]);
    assert_rejected_everywhere(addr, "last character changed", &changed, SIGNATURE).await;

    let empty = format!("{input}.");
    assert_rejected_everywhere(addr, "empty signature", &empty, SIGNATURE).await;

    let padded = format!("{token}=");
    assert_rejected_everywhere(addr, "padded signature", &padded, SIGNATURE).await;
}

// ---- §5: work is bounded before verifying --------------------------------------------------

#[tokio::test]
async fn a_9_kib_token_is_400_too_large() {
    let addr = serve(app(auth())).await;
    let token = Payload::access()
        .set("pad", format!(r#""{}""#, "x".repeat(6900)))
        .sign();
    assert!(token.len() >= 9 * 1024, "{}", token.len());
    let challenge = invalid_request("The Authorization header is too large");
    for path in ATTACKED_ROUTES.into_iter().chain(["/reports"]) {
        let reply = Call::get(path).bearer(&token).send(addr).await;
        assert_refused(
            &format!("9 KiB token on {path}"),
            &reply,
            400,
            &challenge,
            "invalid_request",
            &token,
        );
    }
    // In the refresh body there is no header cap; the token cap refuses it.
    let reply = Call::post("/refresh")
        .json(&json!({ "refresh_token": token }))
        .send(addr)
        .await;
    assert_invalid_token("9 KiB token in the refresh body", &reply, TOO_LARGE, &token);
}

#[tokio::test]
async fn the_authorization_cap_is_exactly_8_kib() {
    let addr = serve(app(auth())).await;
    let at_limit = format!("Bearer {}", "a".repeat(8 * 1024 - 7));
    assert_eq!(at_limit.len(), 8 * 1024);
    let reply = Call::get("/claims")
        .header("authorization", &at_limit)
        .send(addr)
        .await;
    // Read, then refused as a token: no dots.
    assert_invalid_token("8192-byte header", &reply, MALFORMED, &at_limit);

    let over = format!("{at_limit}a");
    let reply = Call::get("/claims")
        .header("authorization", &over)
        .send(addr)
        .await;
    assert_refused(
        "8193-byte header",
        &reply,
        400,
        &invalid_request("The Authorization header is too large"),
        "invalid_request",
        &over,
    );
}

#[tokio::test]
async fn an_oversized_token_header_is_refused_before_parsing() {
    let addr = serve(app(auth())).await;
    let header = format!(
        r#"{{"alg":"HS256","typ":"JWT","pad":"{}"}}"#,
        "x".repeat(2048)
    );
    let token = Payload::access().sign_as(&header, SECRET.as_bytes());
    assert!(token.len() < 8 * 1024 - 7);
    assert_rejected_everywhere(addr, "2 KiB JOSE header", &token, TOO_LARGE).await;
}

#[tokio::test]
async fn a_100_kib_authorization_header_is_a_4xx_from_jwtguard_not_hyper() {
    // hyper's HTTP/1 server buffers up to 8 KiB + 400 KiB of request head by default (431
    // beyond that), so a 100 KiB header reaches the application and jwtguard's own 8 KiB cap
    // answers: a 400 with its challenge, not a 431 and never a 5xx.
    let addr = serve(app(auth())).await;
    let huge = format!("Bearer {}", "a".repeat(100 * 1024));
    for path in ATTACKED_ROUTES.into_iter().chain(["/reports"]) {
        let reply = Call::get(path)
            .header("authorization", &huge)
            .send(addr)
            .await;
        assert_refused(
            &format!("100 KiB Authorization on {path}"),
            &reply,
            400,
            &invalid_request("The Authorization header is too large"),
            "invalid_request",
            &huge,
        );
    }
    // The same size in another header is hyper's business only: it lets it through.
    let token = Payload::access().sign();
    let reply = Call::get("/protected")
        .bearer(&token)
        .header("x-padding", "p".repeat(100 * 1024))
        .send(addr)
        .await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "user1"));
}

/// Sends a raw HTTP/1.1 request head and returns the status line of the answer. A raw socket,
/// because hyper's client gives up on the write when the server stops reading and closes.
async fn status_line_of(addr: SocketAddr, head: String) -> String {
    tokio::task::spawn_blocking(move || {
        use std::io::{Read as _, Write as _};
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        let mut writer = stream.try_clone().expect("clone");
        // The server may close before all of it is written: a broken pipe here is expected.
        let sending = std::thread::spawn(move || writer.write_all(head.as_bytes()).is_ok());
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        let _ = sending.join().expect("writer thread");
        read.expect("read the answer");
        String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    })
    .await
    .expect("raw client")
}

#[tokio::test]
async fn a_header_beyond_hypers_buffer_is_431_from_hyper() {
    // Past hyper's request-head buffer (8 KiB + 400 KiB; where exactly it trips between about
    // 408 and 500 KiB depends on how the reads fall), hyper itself answers 431 and closes:
    // still a 4xx, and jwtguard never sees the request.
    let addr = serve(app(auth())).await;
    let head = format!(
        "GET /claims HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nauthorization: Bearer {}\r\n\r\n",
        "a".repeat(1024 * 1024)
    );
    assert_eq!(
        status_line_of(addr, head).await,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    // The same raw client below the limit reaches jwtguard (a check on the helper itself).
    let head = format!(
        "GET /claims HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nauthorization: Bearer {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    assert_eq!(status_line_of(addr, head).await, "HTTP/1.1 400 Bad Request");
    // And the server lives on.
    let reply = Call::get("/claims")
        .bearer(&Payload::access().sign())
        .send(addr)
        .await;
    assert_eq!(reply.status, 200);
}

// ---- §6 rows 4 and 5: scope and freshness ------------------------------------------------------

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let profile_only = auth
        .create_access_token(&Grant::to("user1").scopes([PROFILE]))
        .expect("token");
    let reply = Call::get("/reports").bearer(&profile_only).send(addr).await;
    assert_refused(
        "profile-only token on /reports",
        &reply,
        403,
        r#"Bearer realm="api", error="insufficient_scope", scope="reports:read""#,
        "insufficient_scope",
        &profile_only,
    );
    let reader = access_token(&auth);
    let reply = Call::get("/admin").bearer(&reader).send(addr).await;
    assert_refused(
        "reports:read token on /admin",
        &reply,
        403,
        r#"Bearer realm="api", error="insufficient_scope", scope="admin""#,
        "insufficient_scope",
        &reader,
    );
    // Case matters, and a look-alike wildcard grants nothing.
    for scopes in [
        r#"["REPORTS:READ"]"#,
        r#"["reports:read "]"#,
        r#"["*"]"#,
        "[]",
    ] {
        let token = Payload::access().set("scopes", scopes).sign();
        let reply = Call::get("/reports").bearer(&token).send(addr).await;
        assert_eq!(reply.status, 403, "scopes {scopes}");
    }
    // Controls: the right scope, and the declared `reports:*` wildcard.
    for token in [
        reader,
        Payload::access().set("scopes", r#"["reports:*"]"#).sign(),
    ] {
        let reply = Call::get("/reports").bearer(&token).send(addr).await;
        assert_eq!((reply.status, reply.text().as_str()), (200, "q3"));
    }
}

#[tokio::test]
async fn a_stale_token_on_a_fresh_route_is_401_insufficient_user_authentication() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let stale = stale_token(&auth);
    let reply = Call::post("/settings").bearer(&stale).send(addr).await;
    assert_refused(
        "non-fresh token on #[protected(fresh)]",
        &reply,
        401,
        r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh token from a new login is required""#,
        "fresh_token_required",
        &stale,
    );
    let without_fresh = Payload::access().without("fresh").sign();
    let reply = Call::post("/settings")
        .bearer(&without_fresh)
        .send(addr)
        .await;
    assert_eq!(reply.status, 401, "absent fresh is not fresh");
    assert_eq!(reply.json()["error"], "fresh_token_required");

    let fresh = auth
        .create_access_token(&Grant::to("user1").fresh(true))
        .expect("fresh token");
    let reply = Call::post("/settings").bearer(&fresh).send(addr).await;
    assert_eq!((reply.status, reply.text().as_str()), (200, "saved"));
}

// ---- Option<Claims> ----------------------------------------------------------------------------

#[tokio::test]
async fn optional_claims_are_none_only_without_a_token() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let anonymous = Call::get("/optional").send(addr).await;
    assert_eq!(
        (anonymous.status, anonymous.json()),
        (200, json!({ "sub": null }))
    );

    let good = access_token(&auth);
    let reply = Call::get("/optional").bearer(&good).send(addr).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "sub": "user1" }))
    );

    let bad = Payload::access().sign_as(forge::HEADER, ATTACKER_SECRET);
    let reply = Call::get("/optional").bearer(&bad).send(addr).await;
    assert_invalid_token("bad signature", &reply, SIGNATURE, &bad);

    let garbage = "not.a.token";
    let reply = Call::get("/optional").bearer(garbage).send(addr).await;
    assert_invalid_token("garbage", &reply, MALFORMED, garbage);

    let expired = Payload::access()
        .set("exp", at(-5))
        .set("iat", at(-60))
        .set("nbf", at(-60))
        .sign();
    let reply = Call::get("/optional").bearer(&expired).send(addr).await;
    assert_refused(
        "expired",
        &reply,
        401,
        &invalid_token(EXPIRED),
        "token_expired",
        &expired,
    );
}

// ---- the error-body hook -----------------------------------------------------------------------

#[tokio::test]
async fn the_error_body_hook_replaces_only_the_body() {
    let auth = Auth::builder()
        .secret(SECRET)
        .error_body(|error| {
            // The hook's own status must not win: jwtguard sets status and challenge after it.
            (StatusCode::IM_A_TEAPOT, format!("custom {}", error.code)).into_response()
        })
        .build()
        .expect("hook auth");
    let addr = serve(app(auth.clone())).await;

    let missing = Call::get("/claims").send(addr).await;
    let expired = Payload::access().set("exp", at(0)).sign();
    let stale = stale_token(&auth);
    let profile_only = auth
        .create_access_token(&Grant::to("user1").scopes([PROFILE]))
        .expect("token");
    let cases: [(&str, Reply, u16, String, &str, &str); 6] = [
        ("no token", missing, 401, MISSING.to_owned(), "missing_token", ""),
        (
            "bad token",
            Call::get("/protected").bearer("not.a.token").send(addr).await,
            401,
            invalid_token(MALFORMED),
            "invalid_token",
            "not.a.token",
        ),
        (
            "expired",
            Call::get("/optional").bearer(&expired).send(addr).await,
            401,
            invalid_token(EXPIRED),
            "token_expired",
            &expired,
        ),
        (
            "empty bearer",
            Call::get("/claims").header("authorization", "Bearer ").send(addr).await,
            400,
            invalid_request("The Bearer token is empty"),
            "invalid_request",
            "",
        ),
        (
            "missing scope",
            Call::get("/reports").bearer(&profile_only).send(addr).await,
            403,
            r#"Bearer realm="api", error="insufficient_scope", scope="reports:read""#.to_owned(),
            "insufficient_scope",
            &profile_only,
        ),
        (
            "not fresh",
            Call::post("/settings").bearer(&stale).send(addr).await,
            401,
            r#"Bearer realm="api", error="insufficient_user_authentication", error_description="A fresh token from a new login is required""#.to_owned(),
            "fresh_token_required",
            &stale,
        ),
    ];
    for (case, reply, status, challenge, code, token) in cases {
        assert_eq!(reply.status, status, "{case}");
        assert_eq!(reply.challenge(), challenge, "{case}");
        assert_eq!(reply.text(), format!("custom {code}"), "{case}");
        assert_eq!(reply.header("cache-control"), "no-store", "{case}");
        assert_leaks_nothing(case, &reply, token);
    }
    let ok = Call::get("/claims").bearer(&stale).send(addr).await;
    assert_eq!((ok.status, ok.json()), (200, json!({ "sub": "user1" })));
}

// ---- verified once per request -----------------------------------------------------------------

#[tokio::test]
async fn a_handler_with_two_claims_extractors_works() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let token = access_token(&auth);
    let reply = Call::get("/twice").bearer(&token).send(addr).await;
    assert_eq!(
        (reply.status, reply.json()),
        (200, json!({ "sub": "user1", "same": true }))
    );
    let bad = Payload::access().sign_as(forge::HEADER, ATTACKER_SECRET);
    let reply = Call::get("/twice").bearer(&bad).send(addr).await;
    assert_invalid_token("bad token, two extractors", &reply, SIGNATURE, &bad);
}

#[tokio::test]
async fn every_refused_token_says_why_in_the_body_too() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let revoked = auth
        .create_access_token(&Grant::to("user1").scopes([REPORTS_READ]))
        .unwrap();
    auth.revoke(&auth.verify(&revoked).unwrap()).await.unwrap();
    let refresh = auth.create_refresh_token(&Grant::to("user1")).unwrap();
    let cases = [
        (
            Payload::access()
                .set("iat", at(-700))
                .set("nbf", at(-700))
                .set("exp", at(-100))
                .sign(),
            "token_expired",
            "expired",
        ),
        (
            Payload::access().sign_as(forge::HEADER, ATTACKER_SECRET),
            "invalid_token",
            "signature",
        ),
        (refresh, "invalid_token", "wrong_type"),
        (revoked, "invalid_token", "revoked"),
        (
            Payload::access().without("sub").sign(),
            "invalid_token",
            "missing_claim",
        ),
    ];
    for (token, error, reason) in cases {
        let reply = Call::get("/protected").bearer(&token).send(addr).await;
        assert_eq!(reply.status, 401, "{reason}: {}", reply.text());
        let body = reply.json();
        assert_eq!(body["error"], error, "{body}");
        assert_eq!(body["reason"], reason, "{body}");
        assert!(body["message"].is_string(), "AuthX's member stays: {body}");
    }
    let missing = Call::get("/protected").send(addr).await;
    assert_eq!(missing.json().get("reason"), None, "no token, no reason");
}
