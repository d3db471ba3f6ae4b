//! Handlers that are associated functions of a type (`impl Api { #[protected] async fn ... }`),
//! routed as `Api::reports`: the expansions emit nothing beside the function, so they work
//! inside an `impl` block, generic or not, as they do at module level.

use std::marker::PhantomData;

use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Claims, Grant, login, protected, refresh};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, serve};
use serde_json::{Value, json};

use crate::{PROFILE, REPORTS_READ, auth};

struct Api;

// Clippy knows a free `async fn` passed as a handler needs no `await`, not an associated one.
#[allow(clippy::unused_async)]
impl Api {
    #[protected(scopes = "reports:read", any = ["admin", "profile"])]
    async fn reports(claims: Claims) -> Json<Value> {
        Json(json!({ "user_id": claims.sub() }))
    }

    #[protected]
    async fn anyone() -> &'static str {
        "anyone"
    }

    #[login(scopes = "reports:read profile")]
    async fn log_in(Json(form): Json<Value>) -> Grant {
        let user = form["username"].as_str().unwrap_or_default().to_owned();
        Grant::to(user).scopes([REPORTS_READ, PROFILE])
    }

    #[refresh(scopes = "reports:read")]
    async fn renew(claims: Claims) -> Grant {
        Grant::renew(&claims)
    }
}

/// A generic type: its handlers do not depend on `T`, and still route as `Tenant::<T>::...`.
struct Tenant<T>(PhantomData<T>);

#[allow(clippy::unused_async)]
impl<T: Send + 'static> Tenant<T> {
    #[protected(scopes = "reports:read", fresh)]
    async fn profile(claims: Claims) -> String {
        format!("{} in {}", claims.sub(), std::any::type_name::<T>())
    }
}

fn app() -> Router {
    Router::new()
        .route("/reports", get(Api::reports))
        .route("/anyone", get(Api::anyone))
        .route("/login", post(Api::log_in))
        .route("/refresh", post(Api::renew))
        .route("/profile", get(Tenant::<u8>::profile))
        .with_state(auth())
}

#[tokio::test]
async fn associated_function_handlers_guard_issue_and_refresh() {
    let addr = serve(app()).await;
    assert_eq!(Call::get("/anyone").send(addr).await.status, 401);
    assert_eq!(Call::get("/reports").send(addr).await.status, 401);

    let reply = Call::post("/login")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let pair = reply.json();
    let access = pair["access_token"].as_str().unwrap();
    let refresh_token = pair["refresh_token"].as_str().unwrap();
    assert_eq!(
        claims_of(access)["scopes"],
        json!(["reports:read", "profile"])
    );

    let reports = Call::get("/reports").bearer(access).send(addr).await;
    assert_eq!(reports.status, 200, "{}", reports.text());
    assert_eq!(reports.json(), json!({"user_id": "ann"}));
    assert_eq!(
        Call::get("/anyone").bearer(access).send(addr).await.text(),
        "anyone"
    );
    assert_eq!(
        Call::get("/profile").bearer(access).send(addr).await.text(),
        "ann in u8"
    );

    // The refresh ceiling (reports:read) applies; the renewed token is not fresh.
    let renewed = Call::post("/refresh")
        .bearer(refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let renewed = renewed.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&renewed)["scopes"], json!(["reports:read"]));
    let denied = Call::get("/reports").bearer(&renewed).send(addr).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.challenge(),
        r#"Bearer realm="api", error="insufficient_scope", scope="reports:read admin profile""#
    );
    let stale = Call::get("/profile").bearer(&renewed).send(addr).await;
    assert_eq!(stale.status, 401);
    assert!(
        stale
            .challenge()
            .contains("insufficient_user_authentication"),
        "{}",
        stale.challenge()
    );
}
