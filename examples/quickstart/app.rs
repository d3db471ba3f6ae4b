//! The routes of the quickstart.

use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use jwtguard::{
    Auth, AuthError, Claims, Grant, ImplicitRefresh, PasswordGrant, implicit_refresh, login,
    logout, protected, refresh, token_endpoint,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::users;

pub(crate) fn router(auth: Auth) -> Router {
    let routes = Router::new()
        .route("/", get(page))
        .route("/login", post(log_in))
        .route("/token", post(token))
        .route("/refresh", post(renew))
        .route("/logout", post(log_out))
        .route("/logout-all", post(log_out_everywhere))
        .route("/protected", get(protected_route))
        .route("/me", get(me))
        .route("/reports", get(reports))
        .route("/admin", get(admin))
        .route("/settings", post(settings));
    // In cookie mode, answers renew an access cookie about to expire (bearer clients refresh
    // for themselves).
    let routes = match ImplicitRefresh::new(&auth, Duration::from_secs(120)) {
        Ok(renew) => routes.layer(middleware::from_fn_with_state(
            renew.excluding(["/logout"]),
            implicit_refresh,
        )),
        Err(_) => routes,
    };
    routes
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(auth)
}

/// `GET /`: a page to try cookie mode in a browser (log in, who am I, a CSRF-protected POST,
/// refresh, log out), with no framework and no build step.
async fn page() -> Html<&'static str> {
    Html(include_str!("page.html"))
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
///
/// Throttled: 5 attempts per username and 20 per address per minute, then 429 with
/// `Retry-After`; each attempt is counted before the password is checked.
#[login(throttle = form_username(&form))]
async fn log_in(form: Result<Json<LoginForm>, JsonRejection>) -> Result<Grant, Response> {
    let Json(form) = form.map_err(|e| bad_body(e.status(), &e.body_text()))?;
    let user = users::check(&form.username, &form.password)
        .await
        .map_err(|busy| AuthError::from(busy).into_response())?
        .ok_or_else(|| AuthError::invalid_credentials().into_response())?;
    Ok(Grant::to(user.name).scopes(user.scopes.iter().copied()))
}

/// The username a login body names, for throttling ("" when the body is not a login form:
/// those are answered 400 anyway, and still counted).
fn form_username(form: &Result<Json<LoginForm>, JsonRejection>) -> &str {
    form.as_ref()
        .map_or("", |Json(form)| form.username.as_str())
}

/// `POST /token`: an RFC 6749 token endpoint for OAuth 2 clients. `grant_type=password`
/// checks the user here; `grant_type=refresh_token` is answered by jwtguard with the checks of
/// `#[refresh]`. A `scope` narrows the grant; errors are OAuth 2's (`invalid_grant`, ...).
/// Throttled like `/login` (the endpoint knows the username).
#[token_endpoint]
async fn token(form: PasswordGrant) -> Result<Grant, AuthError> {
    let user = users::check(&form.username, &form.password)
        .await?
        .ok_or_else(AuthError::invalid_credentials)?;
    Ok(Grant::to(user.name).scopes(user.scopes.iter().copied()))
}

/// `POST /refresh` with the refresh token (Bearer or `{"refresh_token"}`): a new pair, not
/// fresh, with no more scopes than the refresh token holds.
#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

/// `POST /logout`: ends this session (every token of the presented token's refresh family);
/// 204.
#[logout]
async fn log_out() {}

/// `POST /logout-all`: ends every session of the caller (password change, lost device); 204.
#[logout(everywhere)]
async fn log_out_everywhere() {}

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
