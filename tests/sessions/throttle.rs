//! Login throttling on both stores: the budget holds under concurrency, locks answer 429 with
//! `Retry-After` before the password is checked, locks land on the (user, client) that failed
//! and never on the user's known clients, successes spend no budget, instances share the
//! counts, and an unreachable Redis fails closed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use jwtguard::{AuthError, Throttle, TrustedProxies};

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

/// An attempt from `client`, as the trusted proxy in front says (`X-Forwarded-For`).
async fn attempt_from(addr: SocketAddr, client: &str, user: &str, password: &str) -> Reply {
    Call::post("/login")
        .header("x-forwarded-for", client)
        .json(&json!({ "username": user, "password": password }))
        .send(addr)
        .await
}

/// The test's own connections (loopback) are the trusted proxy.
fn behind_a_proxy(throttle: Throttle) -> impl FnOnce(AuthBuilder) -> AuthBuilder {
    move |b| {
        b.throttle(throttle).trusted_proxies(
            TrustedProxies::networks("x-forwarded-for", ["127.0.0.0/8", "::1"]).unwrap(),
        )
    }
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

            #[tokio::test]
            async fn twenty_five_successful_logins_from_one_address_lock_nobody_out() {
                successes_spend_no_budget($backend).await;
            }

            #[tokio::test]
            async fn failures_elsewhere_never_lock_out_a_known_address() {
                known_address_is_not_locked_out($backend).await;
            }

            #[tokio::test]
            async fn guessing_spread_over_addresses_is_bounded_per_user() {
                distributed_guessing($backend).await;
            }

            #[tokio::test]
            async fn a_browser_with_its_device_cookie_is_not_locked_out_behind_a_shared_address() {
                device_cookie($backend).await;
            }

            #[tokio::test]
            async fn made_up_device_ids_buy_no_extra_guesses() {
                made_up_devices($backend).await;
            }

            #[tokio::test]
            async fn the_names_of_one_user_share_one_budget() {
                username_variants($backend).await;
            }

            #[tokio::test]
            async fn an_unreadable_or_missing_forwarded_header_still_counts_the_peer() {
                unreadable_forwarded_header($backend).await;
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

async fn successes_spend_no_budget(backend: &Backend) {
    let (addr, _) = start(backend.auth(|b| b).await).await;
    for i in 0..25 {
        let user = if i % 2 == 0 { "user1" } else { "user2" };
        let reply = attempt(addr, user, PASSWORD).await;
        assert_eq!(reply.status, 200, "login {i}: {}", reply.text());
    }
    assert_eq!(
        attempt(addr, "admin", PASSWORD).await.status,
        200,
        "the office's admin too"
    );
}

async fn known_address_is_not_locked_out(backend: &Backend) {
    let auth = backend.auth(behind_a_proxy(Throttle::default())).await;
    let (addr, checks) = start(auth).await;
    let (home, attacker) = ("198.51.100.7", "203.0.113.66");
    assert_eq!(
        attempt_from(addr, home, "admin", PASSWORD).await.status,
        200
    );
    for _ in 0..5 {
        assert_eq!(
            attempt_from(addr, attacker, "admin", "guess").await.status,
            401
        );
    }
    assert_locked(&attempt_from(addr, attacker, "admin", "guess").await);
    assert_locked(&attempt_from(addr, attacker, "admin", PASSWORD).await);
    // The user, from an address that has logged in before: not locked, not even slowed.
    assert_eq!(attempt_from(addr, home, "admin", "typo").await.status, 401);
    assert_eq!(
        attempt_from(addr, home, "admin", PASSWORD).await.status,
        200
    );
    // Nor from an address never seen: the attacker's lock is the attacker's.
    assert_eq!(
        attempt_from(addr, "192.0.2.44", "admin", PASSWORD)
            .await
            .status,
        200
    );
    assert_eq!(checks.load(Ordering::SeqCst), 1 + 5 + 2 + 1);
}

async fn distributed_guessing(backend: &Backend) {
    let throttle = Throttle::default().per_account(10);
    let (addr, checks) = start(backend.auth(behind_a_proxy(throttle)).await).await;
    let home = "198.51.100.7";
    assert_eq!(attempt_from(addr, home, "ann", PASSWORD).await.status, 200);
    // One guess from each of many addresses: the user's budget for unknown clients runs out.
    let mut refused = 0;
    for i in 0..30 {
        let reply = attempt_from(addr, &format!("203.0.113.{i}"), "ann", "guess").await;
        match reply.status {
            401 => {}
            429 => refused += 1,
            other => panic!("{other}: {}", reply.text()),
        }
    }
    assert_eq!(
        checks.load(Ordering::SeqCst),
        1 + 10,
        "ten guesses reached the password check"
    );
    assert_eq!(refused, 20);
    // A new address is held back too; the user's known address is not.
    assert_locked(&attempt_from(addr, "192.0.2.1", "ann", PASSWORD).await);
    assert_eq!(attempt_from(addr, home, "ann", PASSWORD).await.status, 200);
}

async fn username_variants(backend: &Backend) {
    let (addr, _) = start(backend.auth(|b| b).await).await;
    for variant in [
        "admin",
        "ADMIN",
        "ａｄｍｉｎ",
        "ad\u{200B}min",
        " Admin\u{00AD} ",
    ] {
        assert_eq!(
            attempt(addr, variant, "guess").await.status,
            401,
            "{variant:?}"
        );
    }
    assert_locked(&attempt(addr, "AdMiN", PASSWORD).await);
    assert_locked(&attempt(addr, "ádmin", PASSWORD).await);
    assert_eq!(
        attempt(addr, "bdmin", "guess").await.status,
        401,
        "another name"
    );
}

async fn unreadable_forwarded_header(backend: &Backend) {
    let (addr, checks) = start(backend.auth(behind_a_proxy(Throttle::default())).await).await;
    // A client's junk in the header, and no header at all: both counted on the peer (the
    // proxy, here), never left uncounted.
    for i in 0..5 {
        let call = Call::post("/login").json(&json!({ "username": "ann", "password": "guess" }));
        let call = if i % 2 == 0 {
            call.header("x-forwarded-for", b"\xff\xfe\xfd")
        } else {
            call
        };
        assert_eq!(call.send(addr).await.status, 401);
    }
    let call = Call::post("/login")
        .header("x-forwarded-for", b"not an address \xc3\x28")
        .json(&json!({ "username": "ann", "password": "guess" }));
    assert_locked(&call.send(addr).await);
    assert_eq!(checks.load(Ordering::SeqCst), 5);
}

async fn device_cookie(backend: &Backend) {
    let cookies = jwtguard::Cookies::default().insecure_for_local_development();
    let (addr, _) = start(backend.auth(|b| b.cookies(cookies)).await).await;
    let first = attempt(addr, "ann", PASSWORD).await;
    assert_eq!(first.status, 200);
    let device = first
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("jwtguard_device="))
        .expect("a device cookie")
        .to_owned();
    assert!(device.contains("HttpOnly"), "{device}");
    let pair = device.split(';').next().unwrap().to_owned();
    // Someone else behind the same address (one office, one NAT) fails until locked...
    for _ in 0..5 {
        assert_eq!(attempt(addr, "ann", "guess").await.status, 401);
    }
    assert_locked(&attempt(addr, "ann", PASSWORD).await);
    // ...while the browser that logged in before is another client.
    let with_device = || {
        Call::post("/login")
            .header("cookie", &pair)
            .json(&json!({ "username": "ann", "password": PASSWORD }))
    };
    let reply = with_device().send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    // The address locked for everyone else (failures across users) does not stop it either.
    for i in 0..25 {
        attempt(addr, &format!("other{i}"), "guess").await;
    }
    assert_locked(&attempt(addr, "nobody-yet", PASSWORD).await);
    let reply = with_device().send(addr).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

async fn made_up_devices(backend: &Backend) {
    let cookies = jwtguard::Cookies::default().insecure_for_local_development();
    let (addr, checks) = start(backend.auth(|b| b.cookies(cookies)).await).await;
    assert_eq!(
        attempt(addr, "ann", PASSWORD).await.status,
        200,
        "a known address"
    );
    // A fresh, well-formed device id on every guess, from the user's own address.
    let mut refused = 0;
    for i in 0..10 {
        let device = format!("jwtguard_device=AAAAAAAAAAAAAAAAAAAA{i:02}");
        let reply = Call::post("/login")
            .header("cookie", device)
            .json(&json!({ "username": "ann", "password": "guess" }))
            .send(addr)
            .await;
        if reply.status == 429 {
            refused += 1;
        }
    }
    assert_eq!(
        checks.load(Ordering::SeqCst),
        1 + 5,
        "the address's pair held them back"
    );
    assert_eq!(refused, 5);
}
