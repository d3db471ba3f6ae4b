//! `CurrentUser<U>` over HTTP: loaded once per request however many extractors ask, a token
//! whose user is gone is a 401, a loader error a 500 that says nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use jwtguard::{Auth, Claims, CurrentUser, Grant, LoadUser, protected};
use jwtguard_tests::{Call, serve};

#[derive(Clone, FromRef)]
struct AppState {
    auth: Auth,
    loads: Arc<AtomicUsize>,
}

#[derive(Clone, Debug)]
struct User {
    name: String,
}

impl LoadUser<AppState> for User {
    type Error = String;

    async fn load(claims: &Claims, state: &AppState) -> Result<Option<Self>, Self::Error> {
        state.loads.fetch_add(1, Ordering::SeqCst);
        match claims.sub() {
            "gone" => Ok(None),
            "broken" => Err("the database is down: secret-dsn://user:pw@db".to_owned()),
            name => Ok(Some(User {
                name: name.to_uppercase(),
            })),
        }
    }
}

/// Three extractors ask for the user: it is loaded once.
#[protected]
async fn twice(
    claims: Claims,
    CurrentUser(first): CurrentUser<User>,
    CurrentUser(second): CurrentUser<User>,
) -> String {
    format!("{} {} {}", claims.sub(), first.name, second.name)
}

/// Without the macro.
async fn plain(CurrentUser(user): CurrentUser<User>) -> String {
    user.name
}

fn app(loads: Arc<AtomicUsize>) -> Router {
    Router::new()
        .route("/twice", get(twice))
        .route("/plain", get(plain))
        .with_state(AppState {
            auth: crate::auth(),
            loads,
        })
}

fn token(sub: &str) -> String {
    crate::auth()
        .create_access_token(&Grant::to(sub))
        .expect("token")
}

#[tokio::test]
async fn the_user_is_loaded_once_per_request() {
    let loads = Arc::new(AtomicUsize::new(0));
    let addr = serve(app(loads.clone())).await;
    let reply = Call::get("/twice").bearer(&token("ann")).send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.text(), "ann ANN ANN");
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let reply = Call::get("/plain").bearer(&token("bob")).send(addr).await;
    assert_eq!(reply.text(), "BOB");
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_missing_user_is_401_and_a_loader_error_a_silent_500() {
    let addr = serve(app(Arc::new(AtomicUsize::new(0)))).await;
    for path in ["/twice", "/plain"] {
        let reply = Call::get(path).bearer(&token("gone")).send(addr).await;
        assert_eq!(reply.status, 401, "{path}");
        assert_eq!(
            reply.challenge(),
            r#"Bearer realm="api", error="invalid_token", error_description="The token's user no longer exists""#
        );
        let reply = Call::get(path).bearer(&token("broken")).send(addr).await;
        assert_eq!(reply.status, 500, "{path}");
        assert_eq!(
            reply.json(),
            serde_json::json!({"error": "internal_error", "message": "Internal server error"})
        );
        assert!(
            !reply.text().contains("database"),
            "nothing said to the client"
        );
        let reply = Call::get(path).send(addr).await;
        assert_eq!(reply.status, 401, "no token");
    }
}
