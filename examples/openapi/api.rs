//! The routes, each documented with `#[utoipa::path]` below its jwtguard attribute.

use axum::extract::{FromRef, Path};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::openapi::Security;
use jwtguard::{
    Auth, AuthError, Claims, CurrentUser, Grant, LoadUser, PasswordGrant, login, protected,
    refresh, require, token_endpoint,
};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::{ADMIN, REPORTS_READ, REPORTS_WRITE, SCOPES};

/// The application's state: the `Auth`, and what stands in for a user table.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) auth: Auth,
}

impl FromRef<App> for Auth {
    fn from_ref(app: &App) -> Auth {
        app.auth.clone()
    }
}

/// A user of the application, loaded from the token's subject.
#[derive(Clone, Debug)]
pub(crate) struct User {
    name: &'static str,
    tenant: &'static str,
}

const USERS: &[(&str, &str, &str)] = &[
    ("ann", "ann-password", "acme"),
    ("root", "root-password", "ops"),
];

impl LoadUser<App> for User {
    type Error = std::convert::Infallible;

    async fn load(claims: &Claims, _: &App) -> Result<Option<Self>, Self::Error> {
        Ok(USERS
            .iter()
            .find(|(name, _, _)| *name == claims.sub())
            .map(|(name, _, tenant)| User { name, tenant }))
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
}

fn check_password(username: &str, password: &str) -> Option<&'static str> {
    USERS
        .iter()
        .find(|(name, pass, _)| *name == username && *pass == password)
        .map(|(name, _, _)| *name)
}

fn grant_for(name: &str) -> Grant {
    if name == "root" {
        Grant::to(name).scopes([REPORTS_READ, REPORTS_WRITE, ADMIN])
    } else {
        Grant::to(name).scopes([REPORTS_READ])
    }
}

/// Log in with a JSON body: a fresh token pair.
#[login(throttle = form.username)]
#[utoipa::path(post, path = "/login", request_body = LoginForm)]
async fn log_in(Json(form): Json<LoginForm>) -> Result<Grant, AuthError> {
    let name = check_password(&form.username, &form.password)
        .ok_or_else(AuthError::invalid_credentials)?;
    Ok(grant_for(name))
}

/// The OAuth 2 token endpoint (password and refresh grants).
#[token_endpoint]
#[utoipa::path(post, path = "/token")]
async fn token(form: PasswordGrant) -> Result<Grant, AuthError> {
    let name = check_password(&form.username, &form.password)
        .ok_or_else(AuthError::invalid_credentials)?;
    Ok(grant_for(name))
}

/// A new pair from a refresh token.
#[refresh]
#[utoipa::path(post, path = "/refresh")]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

/// Who the caller is: the user loaded once for the request.
#[protected]
#[utoipa::path(get, path = "/me", responses((status = 200, description = "The caller")))]
async fn me(CurrentUser(user): CurrentUser<User>) -> Json<Value> {
    Json(json!({ "name": user.name, "tenant": user.tenant }))
}

/// The reports.
#[protected(scopes = "reports:read")]
#[utoipa::path(get, path = "/reports", responses((status = 200, description = "The reports")))]
async fn reports() -> Json<Value> {
    Json(json!(["q1", "q2", "q3"]))
}

/// Publish a report: a writer, or an administrator.
#[protected(any = "reports:write admin", fresh)]
#[utoipa::path(post, path = "/reports", responses((status = 200, description = "Published")))]
async fn publish() -> &'static str {
    "published"
}

/// The tenant in the path must be the caller's own.
fn own_tenant(claims: &Claims, head: &Parts) -> bool {
    let tenant = USERS
        .iter()
        .find(|(name, _, _)| *name == claims.sub())
        .map(|(_, _, tenant)| *tenant);
    tenant.is_some() && head.uri.path().strip_prefix("/tenants/") == tenant
}

/// A tenant's page, for its own users only.
#[protected(scopes = "reports:read", check = own_tenant)]
#[utoipa::path(get, path = "/tenants/{tenant}", params(("tenant" = String, Path)), responses((status = 200, description = "The tenant")))]
async fn tenant(Path(tenant): Path<String>) -> String {
    format!("tenant {tenant}")
}

/// The user list, behind the admin router's requirement.
#[utoipa::path(get, path = "/admin/users", security(("jwtguard" = ["admin"])), responses((status = 200, description = "The users")))]
async fn users() -> Json<Value> {
    Json(json!(
        USERS.iter().map(|(name, _, _)| *name).collect::<Vec<_>>()
    ))
}

static SECURITY: Security = Security::new(SCOPES, "/token");

#[derive(OpenApi)]
#[openapi(
    info(title = "jwtguard example", version = "1.0.0"),
    paths(log_in, token, renew, me, reports, publish, tenant, users),
    modifiers(&SECURITY)
)]
pub(crate) struct ApiDoc;

pub(crate) fn router(auth: Auth) -> Router {
    // One compile-checked requirement in front of every admin route.
    let admin = Router::new()
        .route("/users", get(users))
        .route_layer(require!(auth, scopes = "admin"));
    Router::new()
        .route("/login", post(log_in))
        .route("/token", post(token))
        .route("/refresh", post(renew))
        .route("/me", get(me))
        .route("/reports", get(reports).post(publish))
        .route("/tenants/{tenant}", get(tenant))
        .nest("/admin", admin)
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .with_state(App { auth })
}
