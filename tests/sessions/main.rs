//! Sessions that can be ended: revocation, rotation with reuse detection, logout. One
//! behaviour suite, generic over the store, run against `MemoryStore` and against a real
//! `redis-server` started by the tests; then what only a shared store has: two instances,
//! and failure.

mod shared;
mod throttle;

use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use jwtguard::{Auth, AuthBuilder, Claims, Grant, MemoryStore, RedisStore, login, logout};
use jwtguard::{protected, refresh};
use jwtguard_tests::forge::claims_of;
use jwtguard_tests::{Call, Reply, serve};
use serde_json::{Value, json};

use jwtguard_tests::RedisServer;

jwtguard::scopes! {
    /// Read the reports.
    REPORTS_READ = "reports:read",
}

const SECRET: &str = "sessions-test-secret-that-is-long-enough-000000";

#[login]
async fn log_in(Json(body): Json<Value>) -> Grant {
    Grant::to(body["username"].as_str().unwrap_or("ann")).scopes([REPORTS_READ])
}

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

#[logout]
async fn log_out() {}

#[logout(everywhere)]
async fn log_out_everywhere() {}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

/// A handler that takes no `Claims`: still checked against the store.
#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "q3"
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route("/login", post(log_in))
        .route("/refresh", post(renew))
        .route("/logout", post(log_out))
        .route("/logout-all", post(log_out_everywhere))
        .route("/me", get(me))
        .route("/reports", get(reports))
        .with_state(auth)
}

/// Where revocations live for one test.
enum Backend {
    Memory,
    Redis(RedisServer),
}

impl Backend {
    fn redis() -> Self {
        Self::Redis(RedisServer::start())
    }

    /// An `Auth` on this backend (a new instance: for Redis, its own mirror of the shared
    /// server), configured by `tweak`.
    async fn auth(&self, tweak: impl FnOnce(AuthBuilder) -> AuthBuilder) -> Auth {
        let builder = tweak(Auth::builder().secret(SECRET));
        match self {
            Self::Memory => builder.store(MemoryStore::new()),
            Self::Redis(server) => builder.store(
                RedisStore::connect(&server.url(), "test")
                    .await
                    .expect("the test's redis-server"),
            ),
        }
        .build()
        .expect("auth")
    }
}

struct Pair {
    access: String,
    refresh: String,
}

impl Pair {
    fn of(reply: &Reply) -> Self {
        assert_eq!(reply.status, 200, "{}", reply.text());
        let json = reply.json();
        Self {
            access: json["access_token"].as_str().expect("access").to_owned(),
            refresh: json["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }
}

async fn login(addr: std::net::SocketAddr, user: &str) -> Pair {
    Pair::of(
        &Call::post("/login")
            .json(&json!({ "username": user }))
            .send(addr)
            .await,
    )
}

async fn refresh_with(addr: std::net::SocketAddr, refresh: &str) -> Reply {
    Call::post("/refresh").bearer(refresh).send(addr).await
}

async fn status(addr: std::net::SocketAddr, path: &str, token: &str) -> u16 {
    Call::get(path).bearer(token).send(addr).await.status
}

#[track_caller]
fn assert_revoked(reply: &Reply, description: &str) {
    assert_eq!(reply.status, 401, "{}", reply.text());
    assert_eq!(
        reply.challenge(),
        format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
    );
}

const REVOKED: &str = "The token has been revoked";
const REUSED: &str = "The refresh token has already been used";

/// The behaviour every store must have, as one test per store.
macro_rules! suite {
    ($store:ident, $backend:expr) => {
        mod $store {
            use super::*;

            #[tokio::test]
            async fn logout_revokes_the_session_everywhere_it_is_checked() {
                logout_revokes_the_session($backend, |b| b).await;
            }

            #[tokio::test]
            async fn logout_all_revokes_every_session_of_the_subject() {
                logout_all_revokes_every_session($backend, |b| b).await;
            }

            #[tokio::test]
            async fn logout_revokes_tokens_held_in_the_verified_token_cache() {
                logout_revokes_the_session($backend, with_cache).await;
            }

            #[tokio::test]
            async fn logout_all_revokes_tokens_held_in_the_verified_token_cache() {
                logout_all_revokes_every_session($backend, with_cache).await;
            }

            #[tokio::test]
            async fn a_reused_refresh_token_kills_its_family() {
                reuse_kills_the_family($backend).await;
            }

            #[tokio::test]
            async fn a_duplicate_within_the_grace_window_spares_the_winner() {
                duplicate_spares_the_winner($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn of_fifty_concurrent_refreshes_exactly_one_wins() {
                fifty_concurrent_refreshes($backend).await;
            }

            #[tokio::test]
            async fn a_session_cannot_outlive_its_family() {
                family_lifetime($backend).await;
            }

            #[tokio::test]
            async fn the_auth_methods_revoke_without_the_macros() {
                auth_methods($backend).await;
            }
        }
    };
}

suite!(memory, &Backend::Memory);
suite!(redis, &Backend::redis());

/// The verified-token cache on: every token below is verified, then served from it.
fn with_cache(builder: AuthBuilder) -> AuthBuilder {
    builder.verified_token_cache(64)
}

async fn logout_revokes_the_session(backend: &Backend, tweak: fn(AuthBuilder) -> AuthBuilder) {
    let addr = serve(app(backend.auth(tweak).await)).await;
    let session = login(addr, "ann").await;
    let other = login(addr, "ann").await;
    // A pair issued by #[refresh] verifies, and is in the same session.
    let renewed = Pair::of(&refresh_with(addr, &session.refresh).await);
    assert_eq!(status(addr, "/me", &renewed.access).await, 200);
    assert_eq!(
        claims_of(&renewed.access)["fam"],
        claims_of(&session.access)["fam"]
    );
    for path in ["/me", "/reports"] {
        assert_eq!(status(addr, path, &session.access).await, 200, "{path}");
    }

    let reply = Call::post("/logout")
        .bearer(&session.access)
        .send(addr)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    for token in [&session.access, &renewed.access] {
        for path in ["/me", "/reports"] {
            assert_revoked(&Call::get(path).bearer(token).send(addr).await, REVOKED);
        }
    }
    assert_revoked(&refresh_with(addr, &renewed.refresh).await, REVOKED);
    // The other session of the same user lives on.
    assert_eq!(status(addr, "/me", &other.access).await, 200);
    // Logging out twice: the token is already revoked.
    assert_revoked(
        &Call::post("/logout")
            .bearer(&session.access)
            .send(addr)
            .await,
        REVOKED,
    );
}

async fn logout_all_revokes_every_session(
    backend: &Backend,
    tweak: fn(AuthBuilder) -> AuthBuilder,
) {
    let addr = serve(app(backend.auth(tweak).await)).await;
    let first = login(addr, "ann").await;
    let second = login(addr, "ann").await;
    let bob = login(addr, "bob").await;
    for session in [&first, &second, &bob] {
        assert_eq!(status(addr, "/me", &session.access).await, 200);
    }
    let reply = Call::post("/logout-all")
        .bearer(&first.access)
        .send(addr)
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text());
    for session in [&first, &second] {
        assert_revoked(
            &Call::get("/me").bearer(&session.access).send(addr).await,
            REVOKED,
        );
        assert_revoked(&refresh_with(addr, &session.refresh).await, REVOKED);
    }
    assert_eq!(
        status(addr, "/me", &bob.access).await,
        200,
        "another subject"
    );
    // New tokens carry the new version and work.
    let after = login(addr, "ann").await;
    assert!(claims_of(&after.access)["ver"].as_u64().unwrap() > 0);
    assert_eq!(status(addr, "/me", &after.access).await, 200);
    assert_eq!(refresh_with(addr, &after.refresh).await.status, 200);
}

async fn reuse_kills_the_family(backend: &Backend) {
    let addr = serve(app(backend.auth(|b| b.refresh_grace(Duration::ZERO)).await)).await;
    let first = login(addr, "ann").await;
    let second = Pair::of(&refresh_with(addr, &first.refresh).await);
    // The old refresh token again: theft. Refused, and the whole session dies.
    assert_revoked(&refresh_with(addr, &first.refresh).await, REUSED);
    assert_revoked(
        &Call::get("/me").bearer(&second.access).send(addr).await,
        REVOKED,
    );
    assert_revoked(&refresh_with(addr, &second.refresh).await, REVOKED);
    assert_revoked(
        &Call::get("/me").bearer(&first.access).send(addr).await,
        REVOKED,
    );
}

async fn duplicate_spares_the_winner(backend: &Backend) {
    let addr = serve(app(backend.auth(|b| b).await)).await;
    let first = login(addr, "ann").await;
    let second = Pair::of(&refresh_with(addr, &first.refresh).await);
    // A retry within the default 10 s window: refused, but the winner's pair keeps working.
    assert_revoked(&refresh_with(addr, &first.refresh).await, REUSED);
    assert_eq!(status(addr, "/me", &second.access).await, 200);
    assert_eq!(refresh_with(addr, &second.refresh).await.status, 200);
}

async fn fifty_concurrent_refreshes(backend: &Backend) {
    // Long enough that 50 requests on a loaded 2-core machine all land inside it.
    let grace = Duration::from_secs(4);
    let addr = serve(app(backend.auth(|b| b.refresh_grace(grace)).await)).await;
    let first = login(addr, "ann").await;
    let replies = futures_join(
        (0..50)
            .map(|_| {
                let refresh = first.refresh.clone();
                tokio::spawn(async move { refresh_with(addr, &refresh).await })
            })
            .collect(),
    )
    .await;
    let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    for loser in replies.iter().filter(|r| r.status != 200) {
        assert_revoked(loser, REUSED);
    }
    let winner = Pair::of(winners[0]);
    assert_eq!(
        status(addr, "/me", &winner.access).await,
        200,
        "the winner's pair works"
    );
    // A replay after the grace window is theft: both of the winner's tokens die.
    tokio::time::sleep(grace + Duration::from_millis(1100)).await;
    assert_revoked(&refresh_with(addr, &first.refresh).await, REUSED);
    assert_revoked(
        &Call::get("/me").bearer(&winner.access).send(addr).await,
        REVOKED,
    );
    assert_revoked(&refresh_with(addr, &winner.refresh).await, REVOKED);
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<Reply>>) -> Vec<Reply> {
    let mut replies = Vec::with_capacity(handles.len());
    for handle in handles {
        replies.push(handle.await.expect("a refresh task"));
    }
    replies
}

async fn family_lifetime(backend: &Backend) {
    let addr = serve(app(backend
        .auth(|b| b.family_ttl(Duration::from_secs(3)))
        .await))
    .await;
    let first = login(addr, "ann").await;
    let started = claims_of(&first.refresh)["iat"].as_i64().unwrap();
    let end = claims_of(&first.refresh)["fam_exp"].as_i64().unwrap();
    assert_eq!(end, started + 3);
    let second = Pair::of(&refresh_with(addr, &first.refresh).await);
    for token in [&second.access, &second.refresh] {
        assert!(
            claims_of(token)["exp"].as_i64().unwrap() <= end,
            "no token outlives its family"
        );
    }
    assert_eq!(claims_of(&second.refresh)["fam_exp"].as_i64(), Some(end));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reply = refresh_with(addr, &second.refresh).await;
    assert_eq!(reply.status, 401, "the session is over: {}", reply.text());
}

async fn auth_methods(backend: &Backend) {
    let auth = backend.auth(|b| b).await;
    let addr = serve(app(auth.clone())).await;
    let one = login(addr, "ann").await;
    let two = login(addr, "ann").await;
    let claims = auth.verify(&one.access).expect("valid");
    auth.revoke(&claims).await.expect("revoke");
    assert_eq!(
        auth.verify(&one.access).unwrap_err(),
        jwtguard::TokenError::Revoked
    );
    assert_eq!(
        refresh_with(addr, &one.refresh).await.status,
        200,
        "only that token"
    );
    auth.revoke_family(&auth.verify_refresh(&two.refresh).expect("valid"))
        .await
        .expect("revoke family");
    assert_revoked(
        &Call::get("/me").bearer(&two.access).send(addr).await,
        REVOKED,
    );
    let three = login(addr, "ann").await;
    auth.revoke_all("ann").await.expect("revoke all");
    assert_revoked(
        &Call::get("/me").bearer(&three.access).send(addr).await,
        REVOKED,
    );
}
