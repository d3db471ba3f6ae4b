//! Login throttling on both stores: the budget holds under concurrency, locks answer 429 with
//! `Retry-After` before the password is checked, success clears the username, instances share
//! the counts, and an unreachable Redis fails closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use jwtguard::{AuthError, Throttle};

use super::*;

/// The right password.
const PASSWORD: &str = "correct horse";

#[derive(Clone)]
struct App {
    auth: Auth,
    /// How many passwords the handler checked.
    checks: Arc<AtomicUsize>,
}

impl axum::extract::FromRef<App> for Auth {
    fn from_ref(app: &App) -> Auth {
        app.auth.clone()
    }
}

#[derive(serde::Deserialize)]
struct Form {
    username: String,
    password: String,
}

#[login(throttle = form.username)]
async fn throttled_login(
    State(app): State<App>,
    Json(form): Json<Form>,
) -> Result<Grant, AuthError> {
    app.checks.fetch_add(1, Ordering::SeqCst);
    if form.password == PASSWORD {
        Ok(Grant::to(&form.username))
    } else {
        Err(AuthError::invalid_credentials())
    }
}

/// A server that knows its clients' addresses (`ConnectInfo`), and its password counter.
async fn start(auth: Auth) -> (SocketAddr, Arc<AtomicUsize>) {
    let checks = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route("/login", post(throttled_login))
        .with_state(App {
            auth,
            checks: checks.clone(),
        });
    (jwtguard_tests::serve_with_peers(router).await, checks)
}

async fn attempt(addr: SocketAddr, user: &str, password: &str) -> Reply {
    Call::post("/login")
        .json(&json!({ "username": user, "password": password }))
        .send(addr)
        .await
}

#[track_caller]
fn assert_locked(reply: &Reply) -> u64 {
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert_eq!(reply.json()["error"], "too_many_attempts");
    reply
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds")
}

fn short(window: u64) -> impl FnOnce(AuthBuilder) -> AuthBuilder {
    move |b| b.throttle(Throttle::default().window(Duration::from_secs(window)))
}

macro_rules! throttle_suite {
    ($store:ident, $backend:expr) => {
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_hundred_concurrent_guesses_reach_at_most_five_password_checks() {
                hundred_concurrent_guesses($backend).await;
            }

            #[tokio::test]
            async fn the_sixth_failure_locks_even_the_right_password_until_the_lock_ends() {
                sixth_failure_locks($backend).await;
            }

            #[tokio::test]
            async fn the_address_budget_spans_usernames() {
                address_budget($backend).await;
            }
        }
    };
}

throttle_suite!(memory, &Backend::Memory);
throttle_suite!(redis, &Backend::redis());

async fn hundred_concurrent_guesses(backend: &Backend) {
    let (addr, checks) = start(backend.auth(|b| b).await).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        tasks.push(tokio::spawn(async move {
            attempt(addr, "ann", "guess").await.status
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("a guess"));
    }
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    let checked = checks.load(Ordering::SeqCst);
    println!("100 concurrent guesses: {checked} password checks");
    assert!(checked <= 5, "{checked} password checks");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), checked);
}

async fn sixth_failure_locks(backend: &Backend) {
    // A 2 s window: six quick attempts always fall in one (a 1 s one could straddle seconds).
    let (addr, checks) = start(backend.auth(short(2)).await).await;
    for _ in 0..5 {
        assert_eq!(attempt(addr, "ann", "wrong").await.status, 401);
    }
    let retry = assert_locked(&attempt(addr, "ann", "wrong").await);
    assert_eq!(retry, 2, "the first lock lasts one window");
    // The right password during the lock: still 429, and the password is not even checked.
    assert_locked(&attempt(addr, "ann", PASSWORD).await);
    assert_eq!(checks.load(Ordering::SeqCst), 5);
    // An unknown user locked the same way answers the same.
    for _ in 0..6 {
        attempt(addr, "nobody", "wrong").await;
    }
    let (known, unknown) = (
        attempt(addr, "ann", "wrong").await,
        attempt(addr, "nobody", "wrong").await,
    );
    assert_eq!(
        (known.status, known.json()),
        (unknown.status, unknown.json())
    );

    // Another round of failures after the lock: the next lock is twice as long.
    tokio::time::sleep(Duration::from_millis(1100 * retry)).await;
    for _ in 0..5 {
        assert_eq!(attempt(addr, "ann", "wrong").await.status, 401);
    }
    let retry = assert_locked(&attempt(addr, "ann", "wrong").await);
    assert_eq!(retry, 4, "the lock doubles");

    // After the lock, the right password works and clears the counter: a fresh budget.
    tokio::time::sleep(Duration::from_millis(1100 * retry)).await;
    assert_eq!(attempt(addr, "ann", PASSWORD).await.status, 200);
    for _ in 0..5 {
        assert_eq!(
            attempt(addr, "ann", "wrong").await.status,
            401,
            "a fresh budget"
        );
    }
}

async fn address_budget(backend: &Backend) {
    let auth = backend
        .auth(|b| b.throttle(Throttle::default().per_address(8)))
        .await;
    let (addr, _) = start(auth).await;
    for i in 0..8 {
        assert_eq!(
            attempt(addr, &format!("user{i}"), "wrong").await.status,
            401
        );
    }
    // A ninth username from the same address: the address is locked.
    assert_locked(&attempt(addr, "user9", PASSWORD).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_count() {
    let redis = Backend::redis();
    let (a, _) = start(redis.auth(|b| b).await).await;
    let (b, _) = start(redis.auth(|b| b).await).await;
    for _ in 0..3 {
        assert_eq!(attempt(a, "ann", "wrong").await.status, 401);
    }
    for _ in 0..2 {
        assert_eq!(attempt(b, "ann", "wrong").await.status, 401);
    }
    assert_locked(&attempt(b, "ann", "wrong").await);
    assert_locked(&attempt(a, "ann", PASSWORD).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_fails_login_closed_with_503() {
    let mut redis = Backend::redis();
    let (addr, checks) = start(redis.auth(|b| b).await).await;
    assert_eq!(attempt(addr, "ann", PASSWORD).await.status, 200);
    let Backend::Redis(server) = &mut redis else {
        unreachable!()
    };
    server.kill();
    let started = Instant::now();
    let reply = attempt(addr, "ann", PASSWORD).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");
    assert_eq!(
        checks.load(Ordering::SeqCst),
        1,
        "no unthrottled password check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_started_after_throttled_logins_loads_and_serves() {
    let redis = Backend::redis();
    let (a, _) = start(redis.auth(|b| b).await).await;
    for _ in 0..3 {
        attempt(a, "ann", "wrong").await;
    }
    let pair = Pair::of(&attempt(a, "bob", PASSWORD).await);
    // A new instance loads the revocations next to the throttling counters (other types of
    // keys under the same prefix) and is current.
    let late = serve(app(redis.auth(|b| b).await)).await;
    assert_eq!(status(late, "/me", &pair.access).await, 200);
}
