//! A refresh never widens a session (issue "logins and cookies", point 6): the audience, the
//! access-token lifetime and the refresh-token lifetime chosen at login carry through
//! `#[refresh]`, the token endpoint's refresh grant, `Auth::refresh_token_pair` and implicit
//! refresh, never past the session's end; only an explicit call in the handler changes them.

use std::net::SocketAddr;
use std::time::Duration;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{
    Auth, AuthError, Claims, Cookies, Grant, ImplicitRefresh, PasswordGrant, implicit_refresh,
    login, protected, refresh, token_endpoint,
};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, Reply, serve};
use serde_json::{Value, json};

use crate::SECRET;

/// What a "remember me: off" login chooses.
const SHORT_ACCESS: u64 = 60;
const SHORT_REFRESH: u64 = 3600;
/// The configured defaults.
const DEFAULT_ACCESS: i64 = 15 * 60;
const DEFAULT_REFRESH: i64 = 30 * 24 * 3600;

/// Accepts the main audience (written by default) and a partner's.
fn builder() -> jwtguard::AuthBuilder {
    Auth::builder()
        .secret(SECRET)
        .audience("main")
        .audience("partner")
}

fn auth() -> Auth {
    builder().build().expect("auth")
}

/// The login's choices: `{"username", "remember": bool, "audience": "..."}`.
fn chosen(body: &Value) -> Grant {
    let mut grant = Grant::to(body["username"].as_str().unwrap_or("ann"));
    if body["remember"] == false {
        grant = grant
            .access_ttl(Duration::from_secs(SHORT_ACCESS))
            .refresh_ttl(Duration::from_secs(SHORT_REFRESH));
    }
    if let Some(audience) = body["audience"].as_str() {
        grant = grant.audience(audience);
    }
    grant
}

#[login]
async fn log_in(Json(body): Json<Value>) -> Grant {
    chosen(&body)
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

/// A handler that builds its grant itself: what it leaves unset is still the session's.
#[refresh]
async fn renew_by_hand(claims: Claims) -> Grant {
    Grant::to(claims.sub())
}

/// Changes every term on purpose.
#[refresh]
async fn renew_differently(claims: Claims) -> Grant {
    Grant::renew(&claims)
        .access_ttl(Duration::from_secs(30))
        .refresh_ttl(Duration::from_secs(600))
        .audience("main")
}

#[token_endpoint]
async fn token(form: PasswordGrant) -> Result<Grant, AuthError> {
    if form.password != "pw" {
        return Err(AuthError::invalid_credentials());
    }
    Ok(chosen(
        &json!({"username": form.username, "remember": false, "audience": "partner"}),
    ))
}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/refresh-by-hand", post(renew_by_hand))
        .route("/refresh-differently", post(renew_differently))
        .route("/oauth/token", post(token))
        .route("/me", get(me))
        .with_state(auth)
}

/// A pair as answered.
struct Pair {
    access: String,
    refresh: String,
    expires_in: i64,
}

impl Pair {
    fn of(reply: &Reply) -> Self {
        assert_eq!(reply.status, 200, "{}", reply.text());
        let body = reply.json();
        Self {
            access: body["access_token"].as_str().expect("access").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh").to_owned(),
            expires_in: body["expires_in"].as_i64().expect("expires_in"),
        }
    }

    /// The terms both tokens carry: (access lifetime, refresh lifetime, audience), each token
    /// checked to carry the same audience.
    fn terms(&self) -> (i64, i64, Value) {
        let (access, refresh) = (claims_of(&self.access), claims_of(&self.refresh));
        assert_eq!(access["aud"], refresh["aud"], "one audience per pair");
        assert_eq!(access["fam"], refresh["fam"]);
        assert!(refresh["exp"].as_i64() <= refresh["fam_exp"].as_i64());
        assert!(access["exp"].as_i64() <= access["fam_exp"].as_i64());
        (lifetime(&access), lifetime(&refresh), access["aud"].clone())
    }
}

fn lifetime(claims: &Value) -> i64 {
    claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat")
}

async fn log_in_with(addr: SocketAddr, body: &Value) -> Pair {
    Pair::of(&Call::post("/login").json(body).send(addr).await)
}

async fn refresh_at(addr: SocketAddr, path: &str, refresh: &str) -> Pair {
    Pair::of(&Call::post(path).bearer(refresh).send(addr).await)
}

#[allow(clippy::cast_possible_wrap)]
const SHORT: (i64, i64) = (SHORT_ACCESS as i64, SHORT_REFRESH as i64);

#[tokio::test]
async fn a_refresh_keeps_the_lifetimes_and_the_audience_chosen_at_login() {
    let addr = serve(app(auth())).await;
    let login = log_in_with(
        addr,
        &json!({"username": "ann", "remember": false, "audience": "partner"}),
    )
    .await;
    assert_eq!(login.terms(), (SHORT.0, SHORT.1, json!("partner")));
    assert_eq!(claims_of(&login.refresh)["att"], SHORT_ACCESS, "recorded");

    let first = refresh_at(addr, "/refresh", &login.refresh).await;
    assert_eq!(first.terms(), (SHORT.0, SHORT.1, json!("partner")));
    assert_eq!(first.expires_in, SHORT.0);
    assert_eq!(
        claims_of(&first.refresh)["fam_exp"],
        claims_of(&login.refresh)["fam_exp"],
        "the session's end is kept"
    );
    let reply = Call::get("/me").bearer(&first.access).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // And the next generation: nothing drifts back to the defaults.
    let second = refresh_at(addr, "/refresh", &first.refresh).await;
    assert_eq!(second.terms(), (SHORT.0, SHORT.1, json!("partner")));
}

#[tokio::test]
async fn a_login_that_chose_nothing_keeps_the_defaults() {
    let addr = serve(app(auth())).await;
    let login = log_in_with(addr, &json!({"username": "bob"})).await;
    let next = refresh_at(addr, "/refresh", &login.refresh).await;
    assert_eq!(
        next.terms(),
        (DEFAULT_ACCESS, DEFAULT_REFRESH, json!("main"))
    );
}

#[tokio::test]
async fn a_handler_building_its_own_grant_still_keeps_the_sessions_terms() {
    let addr = serve(app(auth())).await;
    let login = log_in_with(
        addr,
        &json!({"username": "ann", "remember": false, "audience": "partner"}),
    )
    .await;
    let next = refresh_at(addr, "/refresh-by-hand", &login.refresh).await;
    assert_eq!(next.terms(), (SHORT.0, SHORT.1, json!("partner")));
}

#[tokio::test]
async fn an_explicit_call_in_the_handler_changes_the_terms_from_then_on() {
    let addr = serve(app(auth())).await;
    let login = log_in_with(
        addr,
        &json!({"username": "ann", "remember": false, "audience": "partner"}),
    )
    .await;
    let changed = refresh_at(addr, "/refresh-differently", &login.refresh).await;
    assert_eq!(changed.terms(), (30, 600, json!("main")));
    assert_eq!(changed.expires_in, 30);
    // The next plain refresh keeps the changed terms.
    let next = refresh_at(addr, "/refresh", &changed.refresh).await;
    assert_eq!(next.terms(), (30, 600, json!("main")));
}

#[tokio::test]
async fn the_token_endpoints_refresh_grant_keeps_them() {
    let addr = serve(app(auth())).await;
    let login = Pair::of(
        &Call::post("/oauth/token")
            .form("grant_type=password&username=ann&password=pw")
            .send(addr)
            .await,
    );
    assert_eq!(login.terms(), (SHORT.0, SHORT.1, json!("partner")));
    let next = Pair::of(
        &Call::post("/oauth/token")
            .form(&format!(
                "grant_type=refresh_token&refresh_token={}",
                login.refresh
            ))
            .send(addr)
            .await,
    );
    assert_eq!(next.terms(), (SHORT.0, SHORT.1, json!("partner")));
    assert_eq!(next.expires_in, SHORT.0);
}

#[tokio::test]
async fn refresh_token_pair_keeps_them() {
    let auth = auth();
    let addr = serve(app(auth.clone())).await;
    let login = log_in_with(
        addr,
        &json!({"username": "ann", "remember": false, "audience": "partner"}),
    )
    .await;
    let answer = auth
        .refresh_token_pair(&login.refresh)
        .await
        .expect("renewed");
    let next = Pair {
        access: answer.access_token,
        refresh: answer.refresh_token,
        expires_in: i64::try_from(answer.expires_in).expect("small"),
    };
    assert_eq!(next.terms(), (SHORT.0, SHORT.1, json!("partner")));
    assert_eq!(next.expires_in, SHORT.0);
    // Its pair is this server's: the refresh token goes on over HTTP.
    let last = refresh_at(addr, "/refresh", &next.refresh).await;
    assert_eq!(last.terms(), (SHORT.0, SHORT.1, json!("partner")));
}

#[tokio::test]
async fn no_renewed_token_outlives_the_session() {
    // The session ends 30 minutes after the login, before the login's refresh lifetime.
    let auth = builder()
        .session_ttl(Duration::from_secs(1800))
        .build()
        .expect("auth");
    let addr = serve(app(auth)).await;
    let login = log_in_with(
        addr,
        &json!({"username": "ann", "remember": false, "audience": "partner"}),
    )
    .await;
    let end = claims_of(&login.refresh)["fam_exp"]
        .as_i64()
        .expect("fam_exp");
    assert_eq!(claims_of(&login.refresh)["exp"].as_i64(), Some(end));
    let next = refresh_at(addr, "/refresh", &login.refresh).await;
    let (access, refresh) = (claims_of(&next.access), claims_of(&next.refresh));
    assert_eq!(
        refresh["exp"].as_i64(),
        Some(end),
        "cut to the session's end"
    );
    assert_eq!(lifetime(&access), SHORT.0, "the login's access lifetime");
    assert_eq!(access["aud"], "partner");
}

#[tokio::test]
async fn implicit_refresh_keeps_them() {
    let auth = builder().cookies(Cookies::default()).build().expect("auth");
    let renew = ImplicitRefresh::new(&auth, Duration::from_secs(3600))
        .expect("cookie mode")
        .excluding(["/logout"]);
    let addr = serve(app(auth).layer(from_fn_with_state(renew, implicit_refresh))).await;
    let reply = Call::post("/login")
        .json(&json!({"username": "ann", "remember": false, "audience": "partner"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (access_name, access) = cookie(&reply, "access_token_cookie");
    let (refresh_name, refresh) = cookie(&reply, "refresh_token_cookie");
    // A minute left of a one-minute token: inside the window, renewed on the next request.
    let reply = Call::get("/me")
        .header(
            "cookie",
            format!("{access_name}={access}; {refresh_name}={refresh}"),
        )
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let renewed = claims_of(&cookie(&reply, "access_token_cookie").1);
    assert_ne!(renewed["jti"], claims_of(&access)["jti"], "renewed");
    assert_eq!(
        renewed["fam"],
        claims_of(&access)["fam"],
        "the same session"
    );
    assert_eq!(lifetime(&renewed), SHORT.0);
    assert_eq!(renewed["aud"], "partner");
    let refresh = claims_of(&cookie(&reply, "refresh_token_cookie").1);
    assert_eq!(lifetime(&refresh), SHORT.1);
    assert_eq!(refresh["aud"], "partner");
    assert_eq!(refresh["att"], SHORT_ACCESS);
}

/// The name (`__Host-` prefixed or not) and value of the cookie `name` a reply sets.
fn cookie(reply: &Reply, name: &str) -> (String, String) {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|line| line.to_str().ok())
        .filter_map(|line| line.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| n.strip_prefix("__Host-").unwrap_or(n) == name)
        .map_or_else(
            || panic!("no {name} cookie set: {:?}", reply.headers),
            |(n, value)| (n.to_owned(), value.to_owned()),
        )
}
