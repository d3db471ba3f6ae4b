//! A service that verifies the access tokens of an identity provider (Keycloak, Auth0, Okta,
//! Entra ID, Cognito, ...) and issues none of its own.
//!
//! ```sh
//! OIDC_ISSUER_URL=https://sso.example.com/realms/shop OIDC_AUDIENCE=orders-api PORT=8080 \
//!     cargo run --example oidc --features oidc
//! ```
//!
//! Discovery at `<OIDC_ISSUER_URL>/.well-known/openid-configuration`; the scopes come from the
//! token's `scope` and from Keycloak's `realm_access.roles` (as `role:<name>`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use jwtguard::{Auth, Claims, ScopeClaim, TrustedIssuer, protected, scopes};
use serde_json::{Value, json};

scopes! {
    /// Read the reports.
    REPORTS_READ = "reports:read",
    /// Keycloak's realm role `admin`.
    ROLE_ADMIN = "role:admin",
}

/// Any valid token: who it names, which issuer vouched for it, what it grants.
#[protected]
async fn me(claims: Claims) -> Json<Value> {
    Json(json!({
        "sub": claims.sub(),
        "issuer": claims.issuer(),
        "scopes": claims.scopes(),
    }))
}

#[protected(scopes = "reports:read")]
async fn reports() -> Json<Value> {
    Json(json!({"reports": ["q1", "q2", "q3"]}))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let required = |name: &str| {
        std::env::var(name).map_err(|_| format!("{name} must be set (see the example's docs)"))
    };
    let issuer = TrustedIssuer::discover(&required("OIDC_ISSUER_URL")?)
        .audience(required("OIDC_AUDIENCE")?)
        .scopes_from(ScopeClaim::named("scope"))
        .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:"));
    let auth = Auth::builder().trust(issuer).build()?;
    // Fail fast: a provider that cannot be reached (or whose discovery names another issuer)
    // stops the service here, with the reason.
    auth.issuers_ready(Duration::from_secs(10)).await?;

    let app = Router::new()
        .route("/me", get(me))
        .route("/reports", get(reports))
        .with_state(auth);
    let port: u16 = std::env::var("PORT").map_or(Ok(8080), |p| p.parse())?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
