use std::{collections::HashMap, net::SocketAddr, sync::Arc};

use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Auth, AuthError, Claims, Grant, Scope};
use jwtguard::{login, logout, password, protected, refresh, scopes};

scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Administration.
    ADMIN = "admin",
}

/// Your user table: each user's argon2id hash and scopes.
type Users = Arc<HashMap<&'static str, (String, Vec<Scope>)>>;

#[derive(Clone, FromRef)]
struct App {
    auth: Auth, // the macros find it here
    users: Users,
}

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

#[login(throttle = form.username)] // per address and per username: 429
async fn log_in(
    State(users): State<Users>,
    Json(form): Json<LoginForm>,
) -> Result<Grant, AuthError> {
    let user = users.get(form.username.as_str());
    // Off the async workers; None (no such user) takes as long; `?`: 503 when saturated.
    let hash = user.map(|(hash, _)| hash.as_str());
    let right = password::verify_async(&form.password, hash).await?;
    match user {
        Some((_, scopes)) if right => Ok(Grant::to(&form.username).scopes(scopes.clone())),
        _ => Err(AuthError::invalid_credentials()), // 401
    }
}

#[refresh] // the session's next pair, never fresh
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[logout] // ends the session: 204
async fn log_out() {}

#[protected] // any access token
async fn me(claims: Claims) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user": claims.sub(), "scopes": claims.scopes() }))
}

#[protected(scopes = "reports:read")] // checked when compiling
async fn reports() -> &'static str {
    "q1 q2 q3"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = Auth::builder().random_secret().build()?;
    // production: let auth = AuthBuilder::from_env()?.build()?;
    let users: Users = Arc::new(HashMap::from([
        ("ann", (password::hash("ann-password")?, vec![REPORTS_READ])),
        ("bob", (password::hash("bob-password")?, vec![ADMIN])),
    ]));
    let app = Router::new()
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/logout", post(log_out))
        .route("/me", get(me))
        .route("/reports", get(reports))
        .with_state(App { auth, users });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    // Throttling counts client addresses: serve with ConnectInfo.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
