//! The README's first example, compiled: `tests/it/readme.rs` checks that every line of the
//! README's snippet stands here, in order, so the snippet a newcomer copies builds.
//!
//! ```sh
//! JWT_SECRET_KEY=a-secret-of-at-least-32-bytes-long!! cargo run --example readme
//! ```

/// Stands in for your user store.
mod my_users {
    /// The user id for a matching name and password.
    pub(crate) fn check(username: &str, password: &str) -> Option<String> {
        (username == "ann"
            && jwtguard::password::verify(password, &jwtguard::password::hash("pw").ok()?))
        .then(|| "ann".to_owned())
    }
}

use axum::{
    Json, Router,
    routing::{get, post},
};
use jwtguard::{AuthError, Claims, Grant, login, protected, refresh, scopes};

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Administration.
    ADMIN = "admin",
}

#[protected] // any valid access token
async fn me(claims: Claims) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user_id": claims.sub() }))
}

#[protected(scopes = "reports:read")] // checked against scopes! when compiling
async fn reports() -> &'static str {
    "q3"
}

#[protected(scopes = "admin", fresh)] // all-of, and only a token fresh from a login
async fn settings() -> &'static str {
    "saved"
}

#[login] // Grant in, token pair out; a login is fresh
async fn log_in(Json(form): Json<LoginForm>) -> Result<Grant, AuthError> {
    // Check the password your way (jwtguard::password has argon2id helpers).
    let user_id = my_users::check(&form.username, &form.password)
        .ok_or_else(AuthError::invalid_credentials)?;
    Ok(Grant::to(user_id).scopes([REPORTS_READ]))
}

#[refresh] // refresh token in, new pair out, never fresh
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let app = Router::new()
        .route("/me", get(me))
        .route("/reports", get(reports))
        .route("/settings", post(settings))
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .with_state(jwtguard::AuthBuilder::from_env()?.build()?); // JWT_SECRET_KEY, at least 32 bytes
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
