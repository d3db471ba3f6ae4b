//! Attributes on a `Claims` parameter stay with it: the macros turn the parameter into a
//! `let` binding and put its attributes there. Compiled under `deny(warnings)` (see main.rs):
//! were an `allow` dropped, the unused binding below would fail the build.

use axum::Router;
use axum::routing::{get, post};
use jwtguard::{Claims, Grant, protected, refresh};
use jwtguard_tests::{Call, serve};

use crate::auth;

#[protected]
async fn ignores_the_caller(#[allow(unused_variables)] claims: Claims) -> &'static str {
    "ok"
}

#[protected]
async fn rebinds(#[allow(unused_mut)] mut claims: Claims) -> String {
    claims.sub().to_owned()
}

#[refresh]
async fn renews_for_anyone(#[allow(unused_variables)] claims: Claims) -> Grant {
    Grant::to("ann")
}

#[tokio::test]
async fn parameter_attributes_are_kept_on_the_bindings() {
    let auth = auth();
    let addr = serve(
        Router::new()
            .route("/ignores", get(ignores_the_caller))
            .route("/rebinds", get(rebinds))
            .route("/refresh", post(renews_for_anyone))
            .with_state(auth.clone()),
    )
    .await;
    let pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    let access = Call::get("/ignores")
        .bearer(&pair.access_token)
        .send(addr)
        .await;
    assert_eq!(access.text(), "ok");
    let access = Call::get("/rebinds")
        .bearer(&pair.access_token)
        .send(addr)
        .await;
    assert_eq!(access.text(), "ann");
    let renewed = Call::post("/refresh")
        .bearer(&pair.refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
}
