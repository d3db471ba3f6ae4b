//! `#[protected(check = ...)]`: the application's own rule after the scope check, sync or
//! async, `bool` or `Result<bool, E>`: true passes, false is a 403, an error a silent 500.

use axum::Router;
use axum::http::request::Parts;
use axum::routing::get;
use jwtguard::{Claims, Grant, protected};
use jwtguard_tests::{Call, serve};

use crate::{REPORTS_READ, auth};

/// Sync: the tenant in the path must be the caller's (`/tenants/{name}` and `sub`).
fn owns_tenant(claims: &Claims, head: &Parts) -> bool {
    head.uri.path().strip_prefix("/tenants/") == Some(claims.sub())
}

/// Async, fallible: a lookup that may fail.
async fn is_on_duty(claims: &Claims, _: &Parts) -> Result<bool, String> {
    tokio::task::yield_now().await;
    match claims.sub() {
        "broken" => Err("the roster service is down (secret-host:9000)".to_owned()),
        who => Ok(who == "ann"),
    }
}

#[protected(scopes = "reports:read", check = owns_tenant)]
async fn tenant(claims: Claims) -> String {
    format!("tenant of {}", claims.sub())
}

#[protected(check = is_on_duty)]
async fn duty() -> &'static str {
    "on duty"
}

fn app() -> Router {
    Router::new()
        .route("/tenants/{name}", get(tenant))
        .route("/duty", get(duty))
        .with_state(auth())
}

fn token(sub: &str) -> String {
    auth()
        .create_access_token(&Grant::to(sub).scopes([REPORTS_READ]))
        .expect("token")
}

#[tokio::test]
async fn a_sync_check_sees_claims_and_request() {
    let addr = serve(app()).await;
    let reply = Call::get("/tenants/ann")
        .bearer(&token("ann"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "tenant of ann");
    let reply = Call::get("/tenants/bob")
        .bearer(&token("ann"))
        .send(addr)
        .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["error"], "access_denied");
    // The scope check comes first.
    let no_scope = auth()
        .create_access_token(&Grant::to("ann"))
        .expect("token");
    let reply = Call::get("/tenants/ann").bearer(&no_scope).send(addr).await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.json()["error"], "insufficient_scope");
    assert_eq!(Call::get("/tenants/ann").send(addr).await.status, 401);
}

#[tokio::test]
async fn an_async_check_passes_refuses_and_fails_silently() {
    let addr = serve(app()).await;
    assert_eq!(
        Call::get("/duty")
            .bearer(&token("ann"))
            .send(addr)
            .await
            .text(),
        "on duty"
    );
    let reply = Call::get("/duty").bearer(&token("bob")).send(addr).await;
    assert_eq!(reply.status, 403);
    let reply = Call::get("/duty").bearer(&token("broken")).send(addr).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["error"], "internal_error");
    assert!(!reply.text().contains("secret-host"));
}

#[tokio::test]
async fn a_check_refusal_is_rendered_with_the_applications_body_hook() {
    fn body(parts: jwtguard::ErrorParts) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        axum::Json(serde_json::json!({ "problem": parts.code })).into_response()
    }
    let auth = jwtguard::Auth::builder()
        .secret(crate::SECRET)
        .error_body(body)
        .build()
        .expect("auth");
    let addr = serve(
        Router::new()
            .route("/duty", get(duty))
            .with_state(auth.clone()),
    )
    .await;
    let token = auth.create_access_token(&Grant::to("bob")).expect("token");
    let reply = Call::get("/duty").bearer(&token).send(addr).await;
    assert_eq!(reply.status, 403);
    assert_eq!(
        reply.json(),
        serde_json::json!({"problem": "access_denied"})
    );
}
