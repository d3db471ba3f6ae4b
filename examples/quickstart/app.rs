//! The routes of the quickstart.

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use jwtguard::{Auth, AuthError, Claims, Grant, login, protected, refresh};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::users;

pub(crate) fn router(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/token", post(token))
        .route("/refresh", post(renew))
        .route("/protected", get(protected_route))
        .route("/me", get(me))
        .route("/reports", get(reports))
        .route("/admin", get(admin))
        .route("/settings", post(settings))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(auth)
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

/// A malformed body (bad JSON, wrong content type, missing field) as a JSON 4xx.
fn bad_body(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": "invalid_request", "message": message })),
    )
        .into_response()
}

/// `POST /login` with `{"username", "password"}`: a fresh token pair with the user's scopes.
#[login]
async fn log_in(form: Result<Json<LoginForm>, JsonRejection>) -> Result<Grant, Response> {
    let Json(form) = form.map_err(|e| bad_body(e.status(), &e.body_text()))?;
    let user = users::check(&form.username, &form.password)
        .await
        .ok_or_else(|| AuthError::invalid_credentials().into_response())?;
    Ok(Grant::to(user.name).scopes(user.scopes.iter().copied()))
}

#[derive(Deserialize)]
struct PasswordGrant {
    grant_type: String,
    username: String,
    password: String,
    scope: Option<String>,
}

/// `POST /token`: the OAuth 2 password grant (form-encoded), optionally narrowed by `scope`.
#[login]
async fn token(form: Result<Form<PasswordGrant>, FormRejection>) -> Result<Grant, Response> {
    let Form(form) = form.map_err(|e| bad_body(e.status(), &e.body_text()))?;
    if form.grant_type != "password" {
        let body = json!({ "error": "unsupported_grant_type", "message": "grant_type must be \"password\"" });
        return Err((StatusCode::BAD_REQUEST, Json(body)).into_response());
    }
    let user = users::check(&form.username, &form.password)
        .await
        .ok_or_else(|| AuthError::invalid_credentials().into_response())?;
    let grant = Grant::to(user.name).scopes(user.scopes.iter().copied());
    Ok(match form.scope {
        Some(scope) => grant.narrow_to(&scope),
        None => grant,
    })
}

/// `POST /refresh` with the refresh token (Bearer or `{"refresh_token"}`): a new pair, not
/// fresh, with no more scopes than the refresh token holds.
#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

/// `GET /protected`: any valid access token.
#[protected]
async fn protected_route() -> Json<Value> {
    Json(json!({ "message": "You have access to this protected resource" }))
}

/// `GET /me`: who the token is about.
#[protected]
async fn me(claims: Claims) -> Json<Value> {
    Json(json!({ "user_id": claims.sub(), "scopes": claims.scopes(), "fresh": claims.fresh() }))
}

/// `GET /reports`: needs `reports:read`.
#[protected(scopes = "reports:read")]
async fn reports() -> Json<Value> {
    Json(json!({ "reports": ["q1", "q2", "q3"] }))
}

/// `GET /admin`: needs `admin`.
#[protected(scopes = "admin")]
async fn admin(claims: Claims) -> Json<Value> {
    Json(json!({ "message": format!("hello, administrator {}", claims.sub()) }))
}

/// `POST /settings`: needs a fresh token, straight from a login.
#[protected(fresh)]
async fn settings() -> Json<Value> {
    Json(json!({ "message": "settings saved" }))
}
