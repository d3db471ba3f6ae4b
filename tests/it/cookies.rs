//! Cookie mode over HTTP: cookie attributes, the CSRF double submit bound to the token, token
//! locations and their order, the query opt-in, implicit refresh, refresh and logout.

use std::collections::HashMap;
use std::time::Duration;

use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{
    Auth, Claims, Cookies, Grant, ImplicitRefresh, TokenLocation, implicit_refresh, login, logout,
    protected, refresh,
};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, Reply, serve};
use serde_json::{Value, json};

use crate::{REPORTS_READ, SECRET};

#[login]
async fn log_in(Json(body): Json<Value>) -> Grant {
    Grant::to(body["username"].as_str().unwrap_or("ann")).scopes([REPORTS_READ])
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[logout]
async fn log_out() {}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

#[protected(scopes = "reports:read")]
async fn save() -> &'static str {
    "saved"
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/logout", post(log_out))
        .route("/me", get(me))
        .route("/save", post(save).put(save).get(save))
        .with_state(auth)
}

/// [`app`] renewing access cookies that expire within `window` (the logout route excluded).
fn renewing(auth: Auth, window: Duration) -> Router {
    let renew = ImplicitRefresh::new(&auth, window)
        .expect("cookie mode")
        .excluding(["/logout"]);
    app(auth).layer(from_fn_with_state(renew, implicit_refresh))
}

fn cookie_auth(cookies: Cookies) -> Auth {
    Auth::builder()
        .secret(SECRET)
        .cookies(cookies)
        .build()
        .expect("auth")
}

/// The cookies a response sets, by name: the whole `Set-Cookie` line.
fn set_cookies(reply: &Reply) -> HashMap<String, String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII").to_owned())
        .map(|line| (line.split('=').next().unwrap_or_default().to_owned(), line))
        .collect()
}

/// The value of a `Set-Cookie` line.
fn value(line: &str) -> &str {
    line.split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map_or("", |(_, v)| v)
}

/// A browser's jar after a login: the `Cookie` header and the two CSRF values.
struct Jar {
    cookie: String,
    csrf_access: String,
    csrf_refresh: String,
    access: String,
    refresh: String,
}

impl Jar {
    fn of(reply: &Reply) -> Self {
        assert_eq!(reply.status, 200, "{}", reply.text());
        let set = set_cookies(reply);
        // The name as sent: `__Host-` prefixed by default, AuthX's without the prefix.
        let named = |name: &str| {
            let prefixed = format!("__Host-{name}");
            if set.contains_key(&prefixed) {
                prefixed
            } else {
                name.to_owned()
            }
        };
        let get = |name: &str| value(&set[&named(name)]).to_owned();
        let (access, refresh) = (get("access_token_cookie"), get("refresh_token_cookie"));
        Self {
            cookie: format!(
                "{}={access}; {}={refresh}",
                named("access_token_cookie"),
                named("refresh_token_cookie")
            ),
            csrf_access: get("csrf_access_token"),
            csrf_refresh: get("csrf_refresh_token"),
            access,
            refresh,
        }
    }

    /// A request the browser sends with this jar's cookies.
    fn call(&self, method: &'static str, path: &str) -> Call {
        Call::new(method, path).header("cookie", &self.cookie)
    }
}

async fn login(addr: std::net::SocketAddr) -> Jar {
    Jar::of(
        &Call::post("/login")
            .json(&json!({"username": "ann"}))
            .send(addr)
            .await,
    )
}

#[tokio::test]
async fn login_sets_the_token_and_csrf_cookies_with_exact_attributes() {
    let addr = serve(app(cookie_auth(Cookies::default()))).await;
    let reply = Call::post("/login")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    let set = set_cookies(&reply);
    let body = reply.json();
    let (access, refresh) = (
        body["access_token"].as_str().unwrap(),
        body["refresh_token"].as_str().unwrap(),
    );
    let refresh_life =
        claims_of(refresh)["exp"].as_i64().unwrap() - claims_of(refresh)["iat"].as_i64().unwrap();
    assert_eq!(
        set["__Host-access_token_cookie"],
        format!(
            "__Host-access_token_cookie={access}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=900"
        )
    );
    assert_eq!(
        set["__Host-refresh_token_cookie"],
        format!(
            "__Host-refresh_token_cookie={refresh}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age={refresh_life}"
        )
    );
    let csrf = claims_of(access)["csrf"].as_str().unwrap().to_owned();
    assert_eq!(
        set["__Host-csrf_access_token"],
        format!("__Host-csrf_access_token={csrf}; SameSite=Lax; Secure; Path=/; Max-Age=900")
    );
    let csrf = claims_of(refresh)["csrf"].as_str().unwrap().to_owned();
    assert_eq!(
        set["__Host-csrf_refresh_token"],
        format!(
            "__Host-csrf_refresh_token={csrf}; SameSite=Lax; Secure; Path=/; Max-Age={refresh_life}"
        )
    );

    let names = |cookies: Cookies| async move {
        let addr = serve(app(cookie_auth(cookies))).await;
        let reply = Call::post("/login").json(&json!({})).send(addr).await;
        let mut names: Vec<String> = set_cookies(&reply).into_keys().collect();
        names.sort();
        names
    };
    assert_eq!(
        names(Cookies::default().without_host_prefix()).await,
        [
            "access_token_cookie",
            "csrf_access_token",
            "csrf_refresh_token",
            "refresh_token_cookie"
        ],
        "AuthX's names, opted out"
    );
    assert_eq!(
        names(Cookies::default().refresh_path("/auth/refresh")).await,
        [
            "__Host-access_token_cookie",
            "__Host-csrf_access_token",
            "__Host-csrf_refresh_token",
            "__Secure-refresh_token_cookie"
        ],
        "a refresh cookie off `/` cannot be `__Host-`"
    );
}

#[tokio::test]
async fn unsafe_methods_from_a_cookie_need_the_tokens_own_csrf_value() {
    csrf_is_required(cookie_auth(Cookies::default())).await;
}

#[tokio::test]
async fn the_csrf_check_holds_for_tokens_served_from_the_verified_token_cache() {
    // Every token below is verified by a safe GET first, so the unsafe calls are cache hits.
    let auth = Auth::builder()
        .secret(SECRET)
        .cookies(Cookies::default())
        .verified_token_cache(64)
        .build()
        .expect("auth");
    csrf_is_required(auth).await;
}

async fn csrf_is_required(auth: Auth) {
    let addr = serve(app(auth)).await;
    let jar = login(addr).await;
    let other = login(addr).await;
    let call = |method: &'static str| jar.call(method, "/save");

    // Safe methods need no CSRF header.
    assert_eq!(call("GET").send(addr).await.status, 200);
    assert_eq!(jar.call("GET", "/me").send(addr).await.text(), "ann");
    for (case, reply) in [
        ("missing", call("POST").send(addr).await),
        (
            "wrong",
            call("POST").header("x-csrf-token", "nope").send(addr).await,
        ),
        (
            "another token's",
            call("PUT")
                .header("x-csrf-token", &other.csrf_access)
                .send(addr)
                .await,
        ),
        (
            "the refresh token's",
            call("POST")
                .header("x-csrf-token", &jar.csrf_refresh)
                .send(addr)
                .await,
        ),
    ] {
        assert_eq!(reply.status, 403, "{case}: {}", reply.text());
        assert_eq!(reply.json()["error"], "csrf_failed", "{case}");
    }
    let reply = call("POST")
        .header("x-csrf-token", &jar.csrf_access)
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A token from the Authorization header needs no CSRF header.
    let reply = Call::post("/save").bearer(&jar.access).send(addr).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn a_configured_safe_method_needs_no_csrf_header() {
    let relaxed = cookie_auth(Cookies::default().csrf_methods([axum::http::Method::DELETE]));
    let relaxed = serve(app(relaxed)).await;
    let jar = login(relaxed).await;
    let reply = jar.call("POST", "/save").send(relaxed).await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn the_first_location_holding_a_token_decides() {
    let addr = serve(app(cookie_auth(Cookies::default()))).await;
    let jar = login(addr).await;
    // Header first by default: a bad header token is refused even with a good cookie.
    let reply = jar
        .call("GET", "/me")
        .bearer("not-a-token")
        .send(addr)
        .await;
    assert_eq!(reply.status, 401);
    // Cookie first, when configured so: a bad header is then never looked at.
    let cookie_first = Auth::builder()
        .secret(SECRET)
        .cookies(Cookies::default())
        .token_locations([TokenLocation::Cookie, TokenLocation::Header])
        .build()
        .expect("auth");
    let addr = serve(app(cookie_first)).await;
    let jar = login(addr).await;
    let reply = jar
        .call("GET", "/me")
        .bearer("not-a-token")
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // A cookie location without cookie mode is a startup error.
    let err = Auth::builder()
        .secret(SECRET)
        .token_locations([TokenLocation::Cookie])
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("cookie"), "{err}");
}

#[tokio::test]
async fn the_query_parameter_is_opt_in() {
    let plain = serve(app(crate::auth())).await;
    let token = crate::auth()
        .create_access_token(&Grant::to("ann"))
        .expect("token");
    let reply = Call::get(&format!("/me?access_token={token}"))
        .send(plain)
        .await;
    assert_eq!(reply.status, 401, "not a location by default");
    assert_eq!(reply.json()["error"], "missing_token");
    let with_query = Auth::builder()
        .secret(SECRET)
        .token_locations([
            TokenLocation::Header,
            TokenLocation::Query("access_token".into()),
        ])
        .build()
        .expect("auth");
    let addr = serve(app(with_query)).await;
    let reply = Call::get(&format!("/me?x=1&access_token={token}"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[tokio::test]
async fn the_refresh_cookie_renews_with_its_csrf_value_and_logout_clears_everything() {
    // AuthX's names (no `__Host-`), as a client written for AuthX reads them.
    let addr = serve(app(cookie_auth(Cookies::default().without_host_prefix()))).await;
    let jar = login(addr).await;
    let refresh_cookie = format!("refresh_token_cookie={}", jar.refresh);
    let reply = Call::post("/refresh")
        .header("cookie", &refresh_cookie)
        .send(addr)
        .await;
    assert_eq!(reply.status, 403, "no CSRF header: {}", reply.text());
    let reply = Call::post("/refresh")
        .header("cookie", &refresh_cookie)
        .header("x-csrf-token", &jar.csrf_access)
        .send(addr)
        .await;
    assert_eq!(
        reply.status, 403,
        "the access token's value is not the refresh token's"
    );
    let reply = Call::post("/refresh")
        .header("cookie", &refresh_cookie)
        .header("x-csrf-token", &jar.csrf_refresh)
        .send(addr)
        .await;
    let renewed = Jar::of(&reply);
    assert_eq!(claims_of(&renewed.access)["fresh"], false);
    // A browser's refresh answers in cookies only: no script reads a fresh pair in the body.
    assert_eq!(
        reply.json(),
        json!({"token_type": "bearer", "expires_in": 900})
    );

    // Logout from the cookie is an unsafe request: CSRF first.
    let reply = renewed.call("POST", "/logout").send(addr).await;
    assert_eq!(reply.status, 403);
    let reply = renewed
        .call("POST", "/logout")
        .header("x-csrf-token", &renewed.csrf_access)
        .send(addr)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    let set = set_cookies(&reply);
    for (name, path) in [
        ("access_token_cookie", "/"),
        ("refresh_token_cookie", "/"),
        ("csrf_access_token", "/"),
        ("csrf_refresh_token", "/"),
    ] {
        let line = &set[name];
        assert!(line.starts_with(&format!("{name}=;")), "{line}");
        assert!(line.contains("Max-Age=0"), "{line}");
        assert!(line.contains(&format!("Path={path}")), "{line}");
    }
    let reply = renewed.call("GET", "/me").send(addr).await;
    assert_eq!(reply.status, 401, "revoked");
}

#[tokio::test]
async fn implicit_refresh_renews_only_inside_the_window_and_never_a_revoked_token() {
    let inside = cookie_auth(Cookies::default().without_host_prefix());
    let addr = serve(renewing(inside, Duration::from_secs(3600))).await;
    let jar = login(addr).await;
    let reply = jar.call("GET", "/me").send(addr).await;
    assert_eq!(reply.status, 200);
    let set = set_cookies(&reply);
    let renewed = value(&set["access_token_cookie"]).to_owned();
    assert_ne!(renewed, jar.access);
    let (old, new) = (claims_of(&jar.access), claims_of(&renewed));
    assert_eq!(new["fresh"], false, "never fresh");
    assert_eq!(new["fam"], old["fam"], "the same session");
    assert_eq!(new["scopes"], old["scopes"]);
    assert!(
        new["exp"].as_i64() <= old["fam_exp"].as_i64(),
        "never past the family"
    );
    assert_eq!(
        value(&set["csrf_access_token"]),
        new["csrf"].as_str().unwrap(),
        "a CSRF cookie for the renewed token"
    );
    // A refresh with the refresh cookie: both cookies renewed, the refresh token rotated.
    let next_refresh = value(&set["refresh_token_cookie"]).to_owned();
    assert_eq!(claims_of(&next_refresh)["fam"], old["fam"]);
    assert_ne!(
        claims_of(&next_refresh)["jti"],
        claims_of(&jar.refresh)["jti"]
    );
    assert_eq!(reply.header("cache-control"), "private, no-store");
    assert_eq!(reply.header("vary"), "Cookie");
    // A stolen access cookie alone renews nothing: without the refresh token there is no
    // renewal, and the token dies at its own expiry.
    let stolen = Call::get("/me").header("cookie", format!("access_token_cookie={renewed}"));
    let reply = stolen.send(addr).await;
    assert_eq!(reply.status, 200);
    assert!(set_cookies(&reply).is_empty(), "{:?}", set_cookies(&reply));

    // Excluded route: the logout itself renews nothing, and the revoked token is not renewed
    // afterwards either.
    let reply = jar
        .call("POST", "/logout")
        .header("x-csrf-token", &jar.csrf_access)
        .send(addr)
        .await;
    assert_eq!(reply.status, 204);
    let cleared = set_cookies(&reply);
    assert!(
        cleared["access_token_cookie"].contains("Max-Age=0"),
        "only the clearing cookie: {cleared:?}"
    );
    let reply = jar.call("GET", "/me").send(addr).await;
    assert_eq!(reply.status, 401);
    assert!(
        set_cookies(&reply).is_empty(),
        "a revoked token is never renewed"
    );

    // A login answered to a request carrying an old access cookie: its own cookies win.
    let jar = login(addr).await;
    let reply = jar
        .call("POST", "/login")
        .json(&json!({"username": "bob"}))
        .send(addr)
        .await;
    let set = set_cookies(&reply);
    assert_eq!(
        claims_of(value(&set["access_token_cookie"]))["sub"],
        "bob",
        "the login's cookie, not a renewal of ann's"
    );
    assert_eq!(
        reply.headers.get_all("set-cookie").iter().count(),
        4,
        "no renewed cookie appended"
    );
    // A request a Bearer header authenticated: the cookie did not decide, nothing renewed.
    let reply = jar.call("GET", "/me").bearer(&jar.access).send(addr).await;
    assert_eq!(reply.status, 200);
    assert!(set_cookies(&reply).is_empty());

    // Outside the window: nothing renewed.
    let outside = cookie_auth(Cookies::default());
    let addr = serve(renewing(outside, Duration::from_secs(60))).await;
    let jar = login(addr).await;
    let reply = jar.call("GET", "/me").send(addr).await;
    assert_eq!(reply.status, 200);
    assert!(set_cookies(&reply).is_empty());
}
