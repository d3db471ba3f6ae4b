//! What only a shared store has: two instances that agree, and failure that fails closed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;

/// Polls `path` with `token` on `addr` until it is refused, and says how long that took.
async fn refused_within(addr: std::net::SocketAddr, token: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if status(addr, "/me", token).await == 401 {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "still accepted after {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_on_one_instance_is_enforced_on_the_other_within_a_second() {
    let redis = Backend::redis();
    let a = serve(app(redis.auth(|b| b).await)).await;
    let b = serve(app(redis.auth(|b| b).await)).await;

    let session = login(a, "ann").await;
    assert_eq!(
        status(b, "/me", &session.access).await,
        200,
        "B accepts A's token"
    );
    let reply = Call::post("/logout").bearer(&session.access).send(a).await;
    assert_eq!(reply.status, 204);
    let took = refused_within(b, &session.access, Duration::from_secs(1)).await;
    println!("logout on A refused on B after {took:?}");

    let first = login(b, "bob").await;
    let second = login(a, "bob").await;
    let reply = Call::post("/logout-all")
        .bearer(&first.access)
        .send(b)
        .await;
    assert_eq!(reply.status, 204);
    let took = refused_within(a, &second.access, Duration::from_secs(1)).await;
    println!("logout-all on B refused on A after {took:?}");

    // Reuse detected on one instance kills the family on the other.
    let first = login(a, "cat").await;
    let second = Pair::of(&refresh_with(a, &first.refresh).await);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let instance_b = redis.auth(|b| b.refresh_grace(Duration::ZERO)).await;
    let b0 = serve(app(instance_b)).await;
    assert_revoked(&refresh_with(b0, &first.refresh).await, REUSED);
    refused_within(a, &second.access, Duration::from_secs(1)).await;

    // A new instance loads what was revoked before it started.
    let late = serve(app(redis.auth(|b| b).await)).await;
    assert_revoked(
        &Call::get("/me").bearer(&session.access).send(late).await,
        REVOKED,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_503_never_500_and_service_resumes_by_itself() {
    let mut backend = Backend::redis();
    let addr = serve(app(backend.auth(|b| b).await)).await;
    let session = login(addr, "ann").await;
    let revoked = login(addr, "ann").await;
    assert_eq!(
        Call::post("/logout")
            .bearer(&revoked.access)
            .send(addr)
            .await
            .status,
        204
    );

    let Backend::Redis(server) = &mut backend else {
        unreachable!()
    };
    server.kill();
    // The mirror notices the dropped subscription at once; give it a moment.
    let started = Instant::now();
    let down = loop {
        let reply = Call::get("/me").bearer(&session.access).send(addr).await;
        if reply.status == 503 || started.elapsed() > Duration::from_secs(3) {
            break reply;
        }
        assert_eq!(reply.status, 200, "{}", reply.text());
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(down.status, 503, "{}", down.text());
    assert_eq!(down.header("retry-after"), "1");
    assert_eq!(down.json()["error"], "temporarily_unavailable");
    for reply in [
        Call::get("/reports")
            .bearer(&session.access)
            .send(addr)
            .await,
        Call::get("/me").bearer(&revoked.access).send(addr).await,
        refresh_with(addr, &session.refresh).await,
        Call::post("/logout")
            .bearer(&session.access)
            .send(addr)
            .await,
        Call::post("/login")
            .json(&json!({"username": "ann"}))
            .send(addr)
            .await,
    ] {
        assert_eq!(reply.status, 503, "{}", reply.text());
    }

    server.restart();
    let started = Instant::now();
    while status(addr, "/me", &session.access).await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "service did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("service resumed {:?} after the restart", started.elapsed());
    // The revocation made before the crash survived it (appendfsync always).
    assert_revoked(
        &Call::get("/me").bearer(&revoked.access).send(addr).await,
        REVOKED,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_never_gives_a_500_a_hang_or_a_revoked_token() {
    let mut backend = Backend::redis();
    let addr = serve(app(backend.auth(|b| b).await)).await;
    let live = login(addr, "ann").await;
    let mut revoked = Vec::new();
    for _ in 0..5 {
        let pair = login(addr, "ann").await;
        assert_eq!(
            Call::post("/logout")
                .bearer(&pair.access)
                .send(addr)
                .await
                .status,
            204
        );
        revoked.push(pair.access);
    }

    let deadline = Instant::now() + Duration::from_secs(4);
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (live, revoked) = (live.access.clone(), revoked.clone());
        let login_refresh = login(addr, "dan").await.refresh;
        workers.push(tokio::spawn(async move {
            let mut counts: BTreeMap<String, u32> = BTreeMap::new();
            let mut refresh = login_refresh;
            let mut round = 0usize;
            while Instant::now() < deadline {
                round += 1;
                let (what, call) = match round % 3 {
                    0 => (
                        "revoked",
                        Call::get("/me").bearer(&revoked[(round + worker) % revoked.len()]),
                    ),
                    1 => ("live", Call::get("/reports").bearer(&live)),
                    _ => ("refresh", Call::post("/refresh").bearer(&refresh)),
                };
                let reply = tokio::time::timeout(Duration::from_secs(5), call.send(addr))
                    .await
                    .expect("no request hangs past 5 s");
                assert!(
                    [200, 401, 503].contains(&reply.status),
                    "{what}: {} {}",
                    reply.status,
                    reply.text()
                );
                assert!(
                    !(what == "revoked" && reply.status == 200),
                    "a revoked token was accepted"
                );
                if what == "refresh" && reply.status == 200 {
                    refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
                }
                *counts
                    .entry(format!("{what} {}", reply.status))
                    .or_default() += 1;
            }
            counts
        }));
    }
    let Backend::Redis(server) = &mut backend else {
        unreachable!()
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.kill();
    tokio::time::sleep(Duration::from_secs(1)).await;
    server.restart();
    let mut total: BTreeMap<String, u32> = BTreeMap::new();
    for worker in workers {
        for (key, count) in worker.await.expect("a load worker") {
            *total.entry(key).or_default() += count;
        }
    }
    println!("answers under SIGKILL and restart: {total:?}");
    assert!(
        total.keys().any(|k| k.ends_with("503")),
        "the outage was seen: {total:?}"
    );
    // After the restart every revocation acknowledged before the kill still holds.
    let started = Instant::now();
    while status(addr, "/me", &live.access).await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "service did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for token in &revoked {
        assert_revoked(&Call::get("/me").bearer(token).send(addr).await, REVOKED);
    }
}

#[tokio::test]
async fn a_misconfigured_store_is_a_startup_error_or_a_503_never_an_open_route() {
    let vars = |url: &'static str| {
        move |name: &str| match name {
            "JWT_SECRET_KEY" => Some(SECRET.to_owned()),
            "REDIS_URL" => Some(url.to_owned()),
            _ => None,
        }
    };
    let err = AuthBuilder::from_vars(vars("not a url"))
        .and_then(AuthBuilder::build)
        .unwrap_err();
    assert!(err.to_string().contains("REDIS_URL"), "{err}");
    // Nothing listens there: the instance starts, and answers 503 until Redis appears.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url: &'static str = Box::leak(format!("redis://127.0.0.1:{port}").into_boxed_str());
    let auth = AuthBuilder::from_vars(vars(url))
        .and_then(AuthBuilder::build)
        .expect("a lazy store");
    let token = auth.create_access_token(&Grant::to("ann"));
    assert!(token.is_err(), "no version can be read: no token is issued");
    let issuer = Auth::builder().secret(SECRET).build().unwrap();
    let token = issuer.create_access_token(&Grant::to("ann")).unwrap();
    let addr = serve(app(auth)).await;
    for path in ["/me", "/reports"] {
        let reply = Call::get(path).bearer(&token).send(addr).await;
        assert_eq!(reply.status, 503, "{path}: {}", reply.text());
    }
    let reply = Call::post("/login")
        .json(&json!({"username": "ann"}))
        .send(addr)
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
}
