//! A documented API: jwtguard with utoipa. Every route's security requirement in the OpenAPI
//! document comes from its jwtguard attribute, the scopes and their descriptions from
//! `scopes!`. Also: the current user loaded once per request, a custom check, and one
//! requirement in front of a whole admin router.
//!
//! ```sh
//! cargo run --example openapi          # then: curl -s http://127.0.0.1:8001/openapi.json
//! ```
//!
//! Listens on 127.0.0.1:8001 (`HOST`, `PORT` override); signs with `JWT_SECRET_KEY` or a random
//! development secret. Users: `ann`/`ann-password` (reports) and `root`/`root-password`
//! (admin).

mod api;

#[cfg(test)]
mod e2e;

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Write the quarterly reports.
    REPORTS_WRITE = "reports:write",
    /// Administer users and tenants.
    ADMIN = "admin",
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = if std::env::var_os("JWT_SECRET_KEY").is_some() {
        jwtguard::AuthBuilder::from_env()?.build()?
    } else {
        eprintln!("warning: JWT_SECRET_KEY is not set; signing with a random development secret");
        jwtguard::Auth::builder().random_secret().build()?
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8001".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    println!(
        "openapi example listening on http://{}",
        listener.local_addr()?
    );
    println!(
        "  the document: http://{}/openapi.json",
        listener.local_addr()?
    );
    let app = api::router(auth).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
