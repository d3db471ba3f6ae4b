//! The jwtguard quickstart: log in, call protected routes, refresh.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! Listens on 127.0.0.1:8000 (`HOST` and `PORT` override). Signs with `JWT_SECRET_KEY`, or
//! with a random development secret when it is unset. Keeps revocations in memory, or in Redis
//! when `REDIS_URL` is set. Demo users: `user1`/`password1` and
//! `admin`/`adminpass1`.

mod app;
mod users;

#[cfg(test)]
mod e2e;

// The application's scopes, declared once. Every scope named in `#[protected]`, `#[login]`
// or `#[refresh]` is checked against this list when the crate compiles.
jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Read and edit one's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    // Cookie mode for the page at `/` (API clients keep using `Authorization: Bearer`, looked
    // at first). Plain http on a loopback address: the cookies cannot be `Secure` there, and
    // jwtguard warns about it at startup. On any other address they stay `Secure`.
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let loopback = host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || host == "localhost";
    let cookies = jwtguard::Cookies::default();
    let cookies = if loopback {
        cookies.insecure_for_local_development()
    } else {
        cookies
    };
    let builder = if std::env::var_os("JWT_SECRET_KEY").is_some() {
        jwtguard::AuthBuilder::from_env()?
    } else {
        eprintln!(
            "warning: JWT_SECRET_KEY is not set; signing with a random development secret \
             (tokens die with this process). Set JWT_SECRET_KEY to a random secret of at \
             least 32 bytes in production."
        );
        let builder = jwtguard::Auth::builder().random_secret();
        match std::env::var("REDIS_URL") {
            #[cfg(feature = "redis")]
            Ok(url) => builder.store(jwtguard::RedisStore::connect(&url, "jwtguard").await?),
            #[cfg(not(feature = "redis"))]
            Ok(_) => {
                return Err("REDIS_URL needs the `redis` feature: \
                            cargo run --example quickstart --features redis"
                    .into());
            }
            Err(_) => builder,
        }
    };
    let auth = builder.cookies(cookies).build()?;
    let store = if std::env::var_os("REDIS_URL").is_some() {
        "Redis (REDIS_URL), shared by every instance"
    } else {
        "memory (set REDIS_URL to share revocations between instances)"
    };

    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("jwtguard quickstart listening on {url}");
    println!("revocations: {store}");
    println!("open {url}/ in a browser for the cookie-mode page");
    println!("try:");
    println!(
        "  curl -s -X POST {url}/login -H 'Content-Type: application/json' -d '{{\"username\":\"user1\",\"password\":\"password1\"}}'"
    );
    println!("  curl -s {url}/me -H 'Authorization: Bearer <access_token>'");

    // The client's address (for login throttling) comes from the connection.
    let app = app::router(auth).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}
