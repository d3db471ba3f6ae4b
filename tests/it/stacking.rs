//! The macros stack with `#[axum::debug_handler]`, `#[tracing::instrument]` and
//! `#[utoipa::path]`. Order: jwtguard's attribute first (outermost), the others below it, so
//! they see the handler as jwtguard rewrote it. `debug_handler` needs the state named:
//! `#[axum::debug_handler(state = jwtguard::Auth)]` (or your own state type).

use axum::Router;
use axum::routing::{get, post};
use jwtguard::{Auth, Claims, Grant, login, protected, refresh};
use jwtguard_tests::{Call, serve};
use serde_json::json;

use crate::{REPORTS_READ, auth};

#[protected(scopes = "reports:read")]
#[axum::debug_handler(state = Auth)]
async fn debugged(claims: Claims) -> String {
    claims.sub().to_owned()
}

#[protected]
#[tracing::instrument(skip_all, fields(route = "traced"))]
async fn traced(claims: Claims) -> String {
    tracing::info!(sub = claims.sub(), "traced handler");
    claims.sub().to_owned()
}

#[protected(scopes = "reports:read")]
#[utoipa::path(get, path = "/documented", responses((status = 200, description = "the caller")))]
async fn documented(claims: Claims) -> String {
    claims.sub().to_owned()
}

#[login]
#[axum::debug_handler(state = Auth)]
#[tracing::instrument]
async fn log_in() -> Grant {
    Grant::to("stacked").scopes([REPORTS_READ])
}

#[refresh]
#[axum::debug_handler(state = Auth)]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

/// A multi-line attribute with a trailing comma: the security requirement still fits in.
#[protected(any = "reports:read admin")]
#[utoipa::path(
    get,
    path = "/trailing",
    responses((status = 200, description = "ok")),
)]
async fn trailing() -> &'static str {
    "ok"
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(documented, trailing))]
struct ApiDoc;

#[tokio::test]
async fn stacked_handlers_still_guard_and_issue() {
    let app = Router::new()
        .route("/debugged", get(debugged))
        .route("/traced", get(traced))
        .route("/documented", get(documented))
        .route("/trailing", get(trailing))
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .with_state(auth());
    let addr = serve(app).await;

    for path in ["/debugged", "/traced", "/documented"] {
        assert_eq!(Call::get(path).send(addr).await.status, 401, "{path}");
    }
    let pair = Call::post("/login").send(addr).await.json();
    let access = pair["access_token"].as_str().unwrap();
    for path in ["/debugged", "/traced", "/documented"] {
        let reply = Call::get(path).bearer(access).send(addr).await;
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (200, "stacked"),
            "{path}"
        );
    }
    let renewed = Call::post("/refresh")
        .json(&json!({ "refresh_token": pair["refresh_token"] }))
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200);
}

#[test]
fn utoipa_still_documents_the_protected_route() {
    let spec = serde_json::to_value(<ApiDoc as utoipa::OpenApi>::openapi()).unwrap();
    assert_eq!(
        spec["paths"]["/trailing"]["get"]["security"],
        json!([{"jwtguard": ["reports:read"]}, {"jwtguard": ["admin"]}])
    );
    assert_eq!(
        spec["paths"]["/documented"]["get"]["security"],
        json!([{"jwtguard": ["reports:read"]}])
    );
    assert!(spec["paths"]["/documented"]["get"].is_object(), "{spec}");
}
