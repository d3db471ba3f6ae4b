//! What an attacker cannot turn against users at login and logout: a logout ends the session
//! whatever token is left (an expired access token, the refresh token, the refresh cookie);
//! cookies a sibling subdomain could plant are refused; a page of another site cannot log a
//! browser in or refresh it.

use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Auth, Claims, Cookies, Grant, login, logout, protected, refresh};
use jwtguard_tests::{Call, Reply, serve};
use serde_json::{Value, json};

use crate::SECRET;

#[login]
async fn log_in(Json(body): Json<Value>) -> Grant {
    Grant::to(body["username"].as_str().unwrap_or("ann"))
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

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/logout", post(log_out))
        .route("/logout-all", post(log_out_everywhere))
        .route("/me", get(me))
        .with_state(auth)
}

/// Access tokens that live one second.
fn short_lived(cookies: Option<Cookies>) -> Auth {
    let builder = Auth::builder()
        .secret(SECRET)
        .access_ttl(Duration::from_secs(1));
    match cookies {
        Some(cookies) => builder.cookies(cookies),
        None => builder,
    }
    .build()
    .expect("auth")
}

fn tokens(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    (
        json["access_token"].as_str().unwrap().to_owned(),
        json["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn expire() {
    tokio::time::sleep(Duration::from_millis(2100)).await;
}

fn set_cookie_names(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|line| line.split('=').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn logout_with_an_expired_access_token_ends_the_session() {
    let addr = serve(app(short_lived(None))).await;
    let (access, refresh) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    expire().await;
    assert_eq!(
        Call::get("/me").bearer(&access).send(addr).await.status,
        401
    );
    let out = Call::post("/logout").bearer(&access).send(addr).await;
    assert_eq!(out.status, 204, "{}", out.text());
    let again = Call::post("/refresh").bearer(&refresh).send(addr).await;
    assert_eq!(again.status, 401, "the refresh token died with its session");
}

#[logout(everywhere)]
async fn log_out_everywhere() {}

#[tokio::test]
async fn an_expired_token_ends_its_own_session_only_and_only_while_it_lasts() {
    let auth = Auth::builder()
        .secret(SECRET)
        .access_ttl(Duration::from_secs(1))
        .session_ttl(Duration::from_secs(3))
        .build()
        .expect("auth");
    let addr = serve(app(auth)).await;
    let (access, _) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    expire().await;
    let all = Call::post("/logout-all").bearer(&access).send(addr).await;
    assert_eq!(
        all.status, 401,
        "every session is ended with a live token only"
    );
    let (old, _) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let out = Call::post("/logout").bearer(&old).send(addr).await;
    assert_eq!(out.status, 401, "its session is over: nothing to end");
}

#[tokio::test]
async fn logout_with_the_refresh_token_ends_the_session() {
    let addr = serve(app(short_lived(None))).await;
    let (_, refresh) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    let out = Call::post("/logout").bearer(&refresh).send(addr).await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert_eq!(
        Call::post("/refresh")
            .bearer(&refresh)
            .send(addr)
            .await
            .status,
        401
    );
    // A forged or foreign token still ends nothing.
    let forged = format!("{}x", &refresh[..refresh.len() - 1]);
    assert_eq!(
        Call::post("/logout")
            .bearer(&forged)
            .send(addr)
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn logout_with_the_refresh_token_in_a_json_body_ends_the_session() {
    let addr = serve(app(short_lived(None))).await;
    let (access, refresh) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    let out = Call::post("/logout")
        .json(&json!({ "refresh_token": refresh }))
        .send(addr)
        .await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert_eq!(
        Call::get("/me").bearer(&access).send(addr).await.status,
        401
    );
    assert_eq!(
        Call::post("/refresh")
            .bearer(&refresh)
            .send(addr)
            .await
            .status,
        401
    );
    // An access token in the body is not a refresh token.
    let (access, _) = tokens(&Call::post("/login").json(&json!({})).send(addr).await);
    let wrong = Call::post("/logout")
        .json(&json!({ "refresh_token": access }))
        .send(addr)
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text());
}

#[tokio::test]
async fn in_cookie_mode_logout_works_after_the_access_cookie_is_gone_and_always_clears() {
    let cookies = Cookies::default().insecure_for_local_development();
    let addr = serve(app(short_lived(Some(cookies)))).await;
    let login = Call::post("/login").json(&json!({})).send(addr).await;
    let (_, refresh) = tokens(&login);
    let csrf_refresh = jwtguard_tests::forge::claims_of(&refresh)["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    expire().await;
    // The browser dropped the access cookie (its Max-Age ran out): only the refresh cookie.
    let jar = format!("refresh_token_cookie={refresh}");
    let forged = Call::post("/logout")
        .header("cookie", &jar)
        .send(addr)
        .await;
    assert_eq!(
        forged.status, 403,
        "a logout from a cookie needs its CSRF value"
    );
    assert!(set_cookie_names(&forged).contains(&"refresh_token_cookie".to_owned()));
    let out = Call::post("/logout")
        .header("cookie", &jar)
        .header("x-csrf-token", &csrf_refresh)
        .send(addr)
        .await;
    assert_eq!(out.status, 204, "{}", out.text());
    let cleared = set_cookie_names(&out);
    for name in [
        "access_token_cookie",
        "refresh_token_cookie",
        "csrf_access_token",
        "csrf_refresh_token",
    ] {
        assert!(
            cleared.contains(&name.to_owned()),
            "{name} not cleared: {cleared:?}"
        );
    }
    let again = Call::post("/refresh")
        .header("cookie", &jar)
        .header("x-csrf-token", &csrf_refresh)
        .send(addr)
        .await;
    assert_eq!(again.status, 401, "the session is over: {}", again.text());
    // Nothing to log out with: refused, and the cookies are cleared all the same.
    let nothing = Call::post("/logout").send(addr).await;
    assert_eq!(nothing.status, 401);
    assert_eq!(
        set_cookie_names(&nothing).len(),
        4,
        "{:?}",
        set_cookie_names(&nothing)
    );
}

#[tokio::test]
async fn a_token_cookie_sent_twice_is_refused() {
    let addr = serve(app(short_lived(Some(Cookies::default())))).await;
    let login = Call::post("/login").json(&json!({})).send(addr).await;
    let (access, _) = tokens(&login);
    let planted =
        format!("__Host-access_token_cookie={access}; __Host-access_token_cookie=planted");
    let reply = Call::get("/me").header("cookie", &planted).send(addr).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_request");
    let single = format!("__Host-access_token_cookie={access}");
    assert_eq!(
        Call::get("/me")
            .header("cookie", &single)
            .send(addr)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn secure_cookies_are_host_prefixed_so_a_sibling_cannot_plant_them() {
    let addr = serve(app(short_lived(Some(Cookies::default())))).await;
    let login = Call::post("/login").json(&json!({})).send(addr).await;
    let names = set_cookie_names(&login);
    assert!(!names.is_empty());
    for name in &names {
        assert!(name.starts_with("__Host-"), "{names:?}");
    }
    // A cookie under the unprefixed name (what a sibling subdomain can set) is not read.
    let (access, _) = tokens(&login);
    let sibling = format!("access_token_cookie={access}");
    let reply = Call::get("/me").header("cookie", &sibling).send(addr).await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn a_page_of_another_site_cannot_log_a_browser_in_or_refresh_it() {
    let cookies = Cookies::default().allowed_origins(["https://app.example.com"]);
    let addr = serve(app(short_lived(Some(cookies)))).await;
    let host = format!("127.0.0.1:{}", addr.port());
    let login = || Call::post("/login").json(&json!({"username": "ann"}));

    let cross = login()
        .header("sec-fetch-site", "cross-site")
        .send(addr)
        .await;
    assert_eq!(cross.status, 403, "{}", cross.text());
    assert_eq!(cross.json()["error"], "csrf_failed");
    assert!(set_cookie_names(&cross).is_empty(), "no cookie is set");
    for origin in [
        "https://evil.example",
        "null",
        "https://sub.127.0.0.1.nip.io",
    ] {
        let reply = login().header("origin", origin).send(addr).await;
        assert_eq!(reply.status, 403, "{origin}: {}", reply.text());
        assert!(set_cookie_names(&reply).is_empty());
    }
    // The application's own page, an allowed front end, and a client that is no browser.
    for call in [
        login()
            .header("origin", format!("http://{host}"))
            .header("sec-fetch-site", "same-origin"),
        login().header("origin", "https://app.example.com"),
        login(),
    ] {
        let reply = call.send(addr).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let (_, refresh) = tokens(&login().send(addr).await);
    let cross = Call::post("/refresh")
        .bearer(&refresh)
        .header("origin", "https://evil.example")
        .send(addr)
        .await;
    assert_eq!(cross.status, 403, "{}", cross.text());
    assert_eq!(
        Call::post("/refresh")
            .bearer(&refresh)
            .send(addr)
            .await
            .status,
        200
    );
}
