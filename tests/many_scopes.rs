//! 5,000 declared scopes (far more than the 256 that fit the inline bitset): declared,
//! checked at compile time, granted and required like any other. The declaration is
//! generated (tests/fixtures/generate_scopes.py) and shared with the UI case
//! `protected-unknown-scope-5000`, which shows the "did you mean" at this size.

use axum::Router;
use axum::routing::get;
use jwtguard::{Auth, Grant, protected};
use jwtguard_tests::{Call, serve};

include!("fixtures/scopes_5000.rs");

#[protected(scopes = "ns49:scope4999 ns00:scope0000")]
async fn last_and_first() -> &'static str {
    "ok"
}

#[protected(any = ["ns25:scope2500", "ns49:scope4998"])]
async fn middle() -> &'static str {
    "ok"
}

#[tokio::test]
async fn five_thousand_scopes_work_end_to_end() {
    assert_eq!(SCOPES.scopes().len(), 5000);
    let auth = Auth::builder()
        .secret("many-scopes-test-secret-that-is-long-enough-0000")
        .build()
        .unwrap();
    let addr = serve(
        Router::new()
            .route("/last-and-first", get(last_and_first))
            .route("/middle", get(middle))
            .with_state(auth.clone()),
    )
    .await;
    let both = auth
        .create_access_token(&Grant::to("u").scopes([S4999, S0000]))
        .unwrap();
    let one = auth
        .create_access_token(&Grant::to("u").scopes([S4999]))
        .unwrap();
    let none = auth.create_access_token(&Grant::to("u")).unwrap();
    assert_eq!(
        Call::get("/last-and-first")
            .bearer(&both)
            .send(addr)
            .await
            .status,
        200
    );
    let denied = Call::get("/last-and-first").bearer(&one).send(addr).await;
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.challenge(),
        r#"Bearer realm="api", error="insufficient_scope", scope="ns49:scope4999 ns00:scope0000""#
    );
    assert_eq!(
        Call::get("/middle").bearer(&none).send(addr).await.status,
        403
    );
    let s4998 = auth
        .create_access_token(&Grant::to("u").scopes([S4998]))
        .unwrap();
    assert_eq!(
        Call::get("/middle").bearer(&s4998).send(addr).await.status,
        200
    );
}
