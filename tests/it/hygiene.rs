//! The expansions name only `::jwtguard::__private::*` and `::core::*` (plus the crate's own
//! `scopes!` registry): a module that shadows `Result`, `Ok`, `Err`, `core`, `axum` and
//! `jwtguard` still compiles, warning-free under `deny(warnings)` and clippy pedantic (the
//! module attributes are in main.rs).

// Only the shadowing items themselves are allowed to be unused; the expansions get no allow.
#[allow(dead_code)]
mod core {}
#[allow(dead_code)]
mod axum {}
#[allow(dead_code)]
mod jwtguard {}
#[allow(dead_code)]
type Result = ();
#[allow(dead_code)]
struct Ok;
#[allow(dead_code)]
struct Err;

#[::jwtguard::protected(scopes = "reports:read admin", fresh)]
async fn all_arguments(claims: ::jwtguard::Claims) -> ::std::string::String {
    // A leading item: the claims binding goes after it (clippy's items_after_statements).
    const PREFIX: &str = "user ";
    ::std::format!("{PREFIX}{}", claims.sub())
}

#[::jwtguard::protected(any = ["admin", "profile"], refresh)]
async fn refresh_arguments() {}

#[::jwtguard::login(scopes = "reports:read")]
async fn log_in() -> ::core::result::Result<::jwtguard::Grant, ::jwtguard::AuthError> {
    ::core::result::Result::Ok(
        ::jwtguard::Grant::to("hygienic").scopes([crate::REPORTS_READ, crate::ADMIN]),
    )
}

#[::jwtguard::refresh(scopes = "reports:read")]
async fn renew(claims: ::jwtguard::Claims) -> ::jwtguard::Grant {
    ::jwtguard::Grant::renew(&claims)
}

#[::tokio::test]
async fn shadowed_names_do_not_break_the_expansions() {
    let app = ::axum::Router::new()
        .route("/all", ::axum::routing::get(all_arguments))
        .route(
            "/refresh-arguments",
            ::axum::routing::get(refresh_arguments),
        )
        .route("/login", ::axum::routing::post(log_in))
        .route("/refresh", ::axum::routing::post(renew))
        .with_state(crate::auth());
    let addr = ::jwtguard_tests::serve(app).await;
    let pair = ::jwtguard_tests::Call::post("/login")
        .send(addr)
        .await
        .json();
    let access = pair["access_token"].as_str().unwrap_or_default();
    // The login ceiling cut `admin`, so the all-of route refuses.
    let reply = ::jwtguard_tests::Call::get("/all")
        .bearer(access)
        .send(addr)
        .await;
    ::core::assert_eq!(reply.status, 403);
    let refresh_token = pair["refresh_token"].as_str().unwrap_or_default();
    let reply = ::jwtguard_tests::Call::post("/refresh")
        .bearer(refresh_token)
        .send(addr)
        .await;
    ::core::assert_eq!(reply.status, 200);
}
