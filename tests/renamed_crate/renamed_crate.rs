//! Every macro with `crate = ...`, in a crate whose only jwtguard dependency is renamed
//! (`jwt_renamed = { package = "jwtguard", ... }`, see Cargo.toml): one HTTP call through
//! each of a `#[protected]`, a `#[login]`, a `#[refresh]`, a `#[token_endpoint]` and a
//! `#[logout]` route.

use axum::Router;
use axum::routing::{get, post};
use jwt_renamed::{
    Auth, Claims, Grant, PasswordGrant, login, logout, protected, refresh, token_endpoint,
};
use jwtguard_tests::{Call, serve};

jwt_renamed::scopes! {
    crate = jwt_renamed;
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    ADMIN = "admin",
}

#[protected(crate = jwt_renamed, scopes = "reports:read")]
async fn reports(claims: Claims) -> String {
    format!("reports for {}", claims.sub())
}

// A leading `::` works as well.
#[login(crate = ::jwt_renamed, scopes = "reports:read")]
async fn log_in() -> Grant {
    Grant::to("ann").scopes([REPORTS_READ, ADMIN])
}

#[refresh(crate = jwt_renamed)]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[token_endpoint(crate = jwt_renamed, scopes = "reports:read")]
async fn token(form: PasswordGrant) -> Grant {
    Grant::to(form.username).scopes([REPORTS_READ])
}

#[logout(crate = jwt_renamed)]
async fn log_out() {}

#[tokio::test]
async fn every_macro_works_through_a_renamed_dependency() {
    let auth = Auth::builder()
        .secret("renamed-crate-test-secret-long-enough-for-hs256")
        .build()
        .unwrap();
    let addr = serve(
        Router::new()
            .route("/reports", get(reports))
            .route("/login", post(log_in))
            .route("/refresh", post(renew))
            .route("/token", post(token))
            .route("/logout", post(log_out))
            .with_state(auth),
    )
    .await;

    let login = Call::post("/login").send(addr).await;
    assert_eq!(login.status, 200, "{}", login.text());
    let pair = login.json();
    let access = pair["access_token"].as_str().unwrap();
    let reports = Call::get("/reports").bearer(access).send(addr).await;
    assert_eq!(reports.text(), "reports for ann");

    let refresh_token = pair["refresh_token"].as_str().unwrap();
    let renewed = Call::post("/refresh")
        .bearer(refresh_token)
        .send(addr)
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text());
    let renewed = renewed.json();
    let reports = Call::get("/reports")
        .bearer(renewed["access_token"].as_str().unwrap())
        .send(addr)
        .await;
    assert_eq!(reports.status, 200, "{}", reports.text());

    let token = Call::post("/token")
        .form("grant_type=password&username=bob&password=x")
        .send(addr)
        .await;
    assert_eq!(token.status, 200, "{}", token.text());
    assert_eq!(token.json()["scope"], "reports:read");
    assert_eq!(SCOPES.find("admin"), Some(ADMIN));

    let access = token.json()["access_token"].as_str().unwrap().to_owned();
    let logout = Call::post("/logout").bearer(&access).send(addr).await;
    assert_eq!(logout.status, 204, "{}", logout.text());
    let after = Call::get("/reports").bearer(&access).send(addr).await;
    assert_eq!(after.status, 401);
}
