//! Sessions that can be ended: revocation, rotation with reuse detection, logout. One
//! behaviour suite, generic over the store, run against `MemoryStore` and against a real
//! `redis-server` started by the tests; then what only a shared store has: two instances,
//! and failure.

mod production;
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
            async fn a_retry_within_the_grace_window_keeps_the_session() {
                retry_keeps_the_session($backend).await;
            }

            #[tokio::test]
            async fn two_holders_of_one_refresh_token_end_the_session() {
                two_holders_end_the_session($backend).await;
            }

            #[tokio::test]
            async fn a_refresh_token_without_a_session_cannot_revive_one_once_revoked() {
                sessionless_token_stays_dead($backend).await;
            }

            #[tokio::test]
            async fn ten_thousand_refreshes_of_one_session_hold_one_record() {
                ten_thousand_refreshes($backend).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fifty_concurrent_refreshes_rotate_once_and_keep_one_line() {
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

async fn retry_keeps_the_session(backend: &Backend) {
    let addr = serve(app(backend.auth(|b| b).await)).await;
    let first = login(addr, "ann").await;
    // The answer to this refresh is lost on its way to the client...
    let lost = Pair::of(&refresh_with(addr, &first.refresh).await);
    // ...which retries within the default 10 s window: a working pair of the same session,
    // whose refresh token carries the id of the one that was lost (one line of tokens).
    let retry = Pair::of(&refresh_with(addr, &first.refresh).await);
    assert_eq!(
        claims_of(&retry.refresh)["jti"],
        claims_of(&lost.refresh)["jti"]
    );
    assert_eq!(
        claims_of(&retry.refresh)["fam"],
        claims_of(&first.refresh)["fam"]
    );
    assert_ne!(retry.access, lost.access);
    assert_eq!(status(addr, "/me", &retry.access).await, 200);
    let next = Pair::of(&refresh_with(addr, &retry.refresh).await);
    assert_eq!(
        status(addr, "/me", &next.access).await,
        200,
        "the session carries on"
    );
    assert_eq!(refresh_with(addr, &next.refresh).await.status, 200);
}

async fn two_holders_end_the_session(backend: &Backend) {
    let grace = Duration::from_secs(1);
    let addr = serve(app(backend.auth(|b| b.refresh_grace(grace)).await)).await;
    let first = login(addr, "ann").await;
    // A thief presents the stolen token first; the client, a moment later, gets a pair too.
    let thief = Pair::of(&refresh_with(addr, &first.refresh).await);
    let client = Pair::of(&refresh_with(addr, &first.refresh).await);
    // Both now hold the session's one current refresh token: whichever refreshes first
    // rotates it, and the other's refresh, past the window, ends the session for both.
    let thief_next = Pair::of(&refresh_with(addr, &thief.refresh).await);
    tokio::time::sleep(grace + Duration::from_millis(1100)).await;
    assert_revoked(&refresh_with(addr, &client.refresh).await, REUSED);
    for token in [&thief_next.access, &client.access, &thief.access] {
        assert_revoked(&Call::get("/me").bearer(token).send(addr).await, REVOKED);
    }
    assert_revoked(&refresh_with(addr, &thief_next.refresh).await, REVOKED);
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
    // One rotation; the 49 others are retries within the window, answered with the same
    // session's current refresh token id: the session has one line of tokens.
    let pairs: Vec<Pair> = replies.iter().map(Pair::of).collect();
    let ids: std::collections::BTreeSet<String> = pairs
        .iter()
        .map(|p| claims_of(&p.refresh)["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "one successor: {ids:?}");
    let winner = &pairs[0];
    assert_eq!(status(addr, "/me", &winner.access).await, 200);
    // A replay after the grace window is theft: every token of the session dies.
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
        .auth(|b| b.session_ttl(Duration::from_secs(3)))
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
    auth.revoke_session(&auth.verify_refresh(&two.refresh).expect("valid"))
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

/// Store size grows with sessions, never with refreshes: counted (entries in `MemoryStore`,
/// keys and bytes in Redis), not timed.
async fn ten_thousand_refreshes(backend: &Backend) {
    let memory = MemoryStore::new();
    let auth = match backend {
        Backend::Memory => Auth::builder()
            .secret(SECRET)
            .store(memory.clone())
            .build()
            .expect("auth"),
        Backend::Redis(_) => backend.auth(|b| b).await,
    };
    let size = || match backend {
        Backend::Memory => (memory.entries(), 0),
        Backend::Redis(server) => {
            let keys: usize = server.cli(&["DBSIZE"]).parse().unwrap();
            let bytes: usize = server
                .cli(&["INFO", "memory"])
                .lines()
                .find_map(|l| l.strip_prefix("used_memory:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            (keys, bytes)
        }
    };
    let mut pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    pair = auth.refresh_token_pair(&pair.refresh_token).await.unwrap();
    let (after_one, bytes_one) = size();
    for _ in 1..10_000 {
        pair = auth.refresh_token_pair(&pair.refresh_token).await.unwrap();
    }
    let (after_many, bytes_many) = size();
    println!(
        "one session: {after_one} entries/keys ({bytes_one} B used) after 1 refresh, \
         {after_many} ({bytes_many} B) after 10 000"
    );
    assert_eq!(after_one, after_many, "the store grew with refreshes");
    if let Backend::Redis(server) = backend {
        // Memory moves a little with allocator state, never by a record per refresh
        // (10 000 records would be over a megabyte).
        assert!(
            bytes_many.abs_diff(bytes_one) < 64 * 1024,
            "{bytes_one} B -> {bytes_many} B"
        );
        let family = claims_of(&pair.refresh_token)["fam"]
            .as_str()
            .unwrap()
            .to_owned();
        let record = server.cli(&["MEMORY", "USAGE", &format!("test:session:{family}")]);
        println!("the session's record in Redis: {record} B");
    }
    assert!(auth.verify(&pair.access_token).is_ok());
}

/// A refresh token without `fam` (AuthX mints them with the shared secret) starts a session
/// named after its own id; once that session is revoked by a reuse, presenting the token again
/// never starts it over.
async fn sessionless_token_stays_dead(backend: &Backend) {
    use jwtguard_tests::forge::{HEADER, hs256, payload};
    let addr = serve(app(backend.auth(|b| b.refresh_grace(Duration::ZERO)).await)).await;
    let authx = hs256(HEADER, &payload("refresh", ""), SECRET.as_bytes());
    let first = Pair::of(&refresh_with(addr, &authx).await);
    assert_eq!(
        claims_of(&first.refresh)["fam"],
        claims_of(&authx)["jti"],
        "the session is named after the token"
    );
    assert!(
        claims_of(&first.refresh)["exp"].as_i64() <= claims_of(&authx)["exp"].as_i64(),
        "and ends no later than it"
    );
    assert_revoked(&refresh_with(addr, &authx).await, REUSED);
    assert_revoked(
        &Call::get("/me").bearer(&first.access).send(addr).await,
        REVOKED,
    );
    for _ in 0..2 {
        let again = refresh_with(addr, &authx).await;
        assert_eq!(again.status, 401, "{}", again.text());
    }
}
