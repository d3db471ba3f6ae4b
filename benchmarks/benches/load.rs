//! A load test over real HTTP/1.1 on loopback: one axum server on `127.0.0.1:0` (the routes of
//! `common/app.rs`), several keep-alive hyper client connections, each driven by its own tokio
//! task. It measures requests/s of `GET /reports` (`#[protected(scopes = "reports:read")]`) and
//! of `GET /open` (no auth, same handler, same request) in alternating phases of the same run,
//! and prints the ratio; the hand-written `jsonwebtoken` extractor and `axum-jwt-auth` run in
//! the same rounds for context. It also reads the server thread's CPU time per request.
//!
//! Bounded: every phase stops at a request count or a duration, whichever comes first, and each
//! request times out after 5 s; the server and the client stop with the process.
//!
//! The server runs on a tokio runtime of its own with one worker thread, the client on a
//! current-thread runtime on the main thread: on a 2-core machine each has a core, as with
//! `wrk` on one core against a one-worker server. The client's own cost is in every phase,
//! so the ratio understates the server-side cost of auth (see BENCHMARKS.md).
//!
//! `cargo bench --bench load` (add `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

#[path = "common/app.rs"]
mod app;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::{HeaderValue, Request, StatusCode};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use common::SECRET;

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
}

/// How long and how much.
struct Plan {
    connections: usize,
    rounds: usize,
    /// Per phase (one route, one round).
    max_requests: u64,
    max_time: Duration,
}

impl Plan {
    fn new() -> Self {
        if !common::measuring() {
            // `cargo test --benches`: a smoke run.
            Self {
                connections: 2,
                rounds: 1,
                max_requests: 200,
                max_time: Duration::from_millis(500),
            }
        } else if common::quick() {
            Self {
                connections: 8,
                rounds: 2,
                max_requests: 100_000,
                max_time: Duration::from_millis(700),
            }
        } else {
            Self {
                connections: 8,
                rounds: 4,
                max_requests: 1_000_000,
                max_time: Duration::from_secs(3),
            }
        }
    }
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// `/open` first (the baseline), `/reports` second, with the cache third; the two peers for
/// context.
const ROUTES: [(&str, &str); 5] = [
    ("/open", "no auth (/open)"),
    (
        "/reports",
        "#[protected(scopes = \"reports:read\")] (/reports)",
    ),
    ("/cached", "the same + verified_token_cache (/cached)"),
    ("/hand", "hand-written jsonwebtoken extractor (/hand)"),
    ("/peer", "axum-jwt-auth 0.7 (/peer)"),
];

async fn connect(addr: std::net::SocketAddr) -> SendRequest<Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

/// Sends requests on one connection until the phase's budget is spent; returns how many it
/// completed.
async fn drive(
    mut sender: SendRequest<Empty<Bytes>>,
    path: &'static str,
    host: HeaderValue,
    authorization: HeaderValue,
    budget: Arc<AtomicU64>,
    deadline: Instant,
) -> (SendRequest<Empty<Bytes>>, u64) {
    let mut done = 0;
    while Instant::now() < deadline
        && budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    {
        let request = Request::get(path)
            .header(HOST, host.clone())
            .header(AUTHORIZATION, authorization.clone())
            .body(Empty::new())
            .expect("request");
        let exchange = async {
            sender.ready().await.expect("connection ready");
            let response = sender.send_request(request).await.expect("response");
            let status = response.status();
            let body = response.into_body().collect().await.expect("body");
            (status, body.to_bytes().len())
        };
        let (status, len) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .expect("a request took over 5 s");
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(len > 0);
        done += 1;
    }
    (sender, done)
}

/// On-CPU time of the server's worker threads so far (Linux `schedstat`), in ns; `None`
/// where that is not available.
fn server_cpu_ns() -> Option<u64> {
    let mut total = 0;
    let mut found = false;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim_end() != SERVER_THREAD {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        found = true;
    }
    found.then_some(total)
}

const SERVER_THREAD: &str = "load-server";

/// What one route got over all its phases.
#[derive(Clone, Copy, Default)]
struct Tally {
    requests: u64,
    wall: Duration,
    server_cpu_ns: Option<u64>,
}

/// One phase: every connection sends to `path` until the count or the time runs out.
async fn phase(
    senders: &mut Vec<SendRequest<Empty<Bytes>>>,
    path: &'static str,
    host: &HeaderValue,
    authorization: &HeaderValue,
    plan: &Plan,
) -> (u64, Duration) {
    let budget = Arc::new(AtomicU64::new(plan.max_requests));
    let start = Instant::now();
    let deadline = start + plan.max_time;
    let tasks: Vec<_> = senders
        .drain(..)
        .map(|sender| {
            tokio::spawn(drive(
                sender,
                path,
                host.clone(),
                authorization.clone(),
                Arc::clone(&budget),
                deadline,
            ))
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        let (sender, done) = task.await.expect("client task");
        senders.push(sender);
        total += done;
    }
    (total, start.elapsed())
}

impl Tally {
    fn add(&mut self, requests: u64, wall: Duration, cpu: Option<u64>) {
        self.requests += requests;
        self.wall += wall;
        self.server_cpu_ns = match (self.server_cpu_ns, cpu) {
            (Some(a), Some(b)) => Some(a + b),
            (None, Some(b)) if self.requests == requests => Some(b),
            _ => None,
        };
    }

    #[allow(clippy::cast_precision_loss)]
    fn rate(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }

    #[allow(clippy::cast_precision_loss)]
    fn cpu_us_per_request(&self) -> Option<f64> {
        Some(self.server_cpu_ns? as f64 / 1e3 / self.requests as f64)
    }
}

fn main() {
    let plan = Plan::new();
    let (auth, token) = common::typical();
    let router = app::router(app::AppState::new(auth, SECRET.as_bytes()));

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(SERVER_THREAD)
        .enable_all()
        .build()
        .expect("server runtime");
    let addr = server.block_on(jwtguard_tests::serve(router));
    assert!(addr.ip().is_loopback());

    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let results = client.block_on(async {
        let host = HeaderValue::from_str(&addr.to_string()).expect("host");
        let authorization = app::bearer(&token);
        let mut senders = Vec::new();
        for _ in 0..plan.connections {
            senders.push(connect(addr).await);
        }
        // Warm-up: connections, allocator, caches.
        let warm = Plan {
            max_requests: plan.max_requests.min(2_000),
            max_time: plan.max_time.min(Duration::from_millis(300)),
            ..plan
        };
        for (path, _) in ROUTES {
            phase(&mut senders, path, &host, &authorization, &warm).await;
        }
        let mut results = [Tally::default(); ROUTES.len()];
        for round in 0..plan.rounds {
            // Alternate the order so that neither route always runs first.
            let order: Vec<usize> = if round % 2 == 0 {
                (0..ROUTES.len()).collect()
            } else {
                (0..ROUTES.len()).rev().collect()
            };
            for i in order {
                let before = server_cpu_ns();
                let (done, took) =
                    phase(&mut senders, ROUTES[i].0, &host, &authorization, &plan).await;
                let cpu = before
                    .zip(server_cpu_ns())
                    .map(|(a, b)| b.saturating_sub(a));
                results[i].add(done, took, cpu);
            }
        }
        drop(senders);
        results
    });
    drop(client);
    server.shutdown_timeout(Duration::from_secs(1));

    println!(
        "\n== load: HTTP/1.1 keep-alive over loopback, {} connections, {} rounds of ≤ {} requests or ≤ {:?} per route",
        plan.connections, plan.rounds, plan.max_requests, plan.max_time
    );
    println!(
        "{:<50} {:>9} {:>11} {:>9} {:>16} {:>9}",
        "route", "requests", "requests/s", "÷ no auth", "server CPU/req", "÷ no auth"
    );
    let base = results[0];
    for ((_, label), result) in ROUTES.iter().zip(results) {
        let cpu = result.cpu_us_per_request();
        println!(
            "{label:<50} {:>9} {:>11.0} {:>9.2} {:>16} {:>9}",
            result.requests,
            result.rate(),
            result.rate() / base.rate(),
            cpu.map_or_else(|| "n/a".to_owned(), |us| format!("{us:.2} µs")),
            cpu.zip(base.cpu_us_per_request())
                .map_or_else(|| "n/a".to_owned(), |(a, b)| format!("{:.2}", a / b)),
        );
    }
    println!(
        "requests/s of /reports ÷ /open = {:.2}   (target ≥ 0.90)",
        results[1].rate() / base.rate()
    );
    println!(
        "requests/s of /cached ÷ /open = {:.2}   (target ≥ 0.97)",
        results[2].rate() / base.rate()
    );
}
