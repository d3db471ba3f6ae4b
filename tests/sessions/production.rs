//! `RedisStore` at production scale and under faults, against real `redis-server`s: data
//! loss, a replica and a failover, TLS with a user and password, events that never arrive,
//! a server that would evict, and a reload next to a million foreign keys.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use jwtguard::RedisStore;
use jwtguard::revocation::Store as _;
use jwtguard_tests::{Forwarder, RedisServer};

use super::*;

/// An instance on `url`: its store (to watch) and its server.
async fn instance(
    url: &str,
    tweak: impl FnOnce(jwtguard::RedisStoreBuilder) -> jwtguard::RedisStoreBuilder,
) -> (RedisStore, SocketAddr) {
    let store = tweak(RedisStore::builder(url, "test"))
        .connect()
        .await
        .expect("the test's redis-server");
    let auth = Auth::builder()
        .secret(SECRET)
        .store(store.clone())
        .build()
        .expect("auth");
    (store, serve(app(auth)).await)
}

/// The request again while it answers 503 (an instance reloading its mirror), for up to 5 s.
async fn settled(request: impl Fn() -> (Call, SocketAddr)) -> Reply {
    let started = Instant::now();
    loop {
        let (call, addr) = request();
        let reply = call.send(addr).await;
        if reply.status != 503 || started.elapsed() > Duration::from_secs(5) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn me(addr: SocketAddr, token: &str) -> impl Fn() -> (Call, SocketAddr) + '_ {
    move || (Call::get("/me").bearer(token), addr)
}

fn renew(addr: SocketAddr, token: &str) -> impl Fn() -> (Call, SocketAddr) + '_ {
    move || (Call::post("/refresh").bearer(token), addr)
}

/// What each instance was told before Redis lost its data.
struct Before {
    logged_out: Pair,
    rotated: Pair,
    current: Pair,
    everywhere: Pair,
}

async fn sessions_before_a_loss(a: SocketAddr, b: SocketAddr) -> Before {
    let logged_out = login(a, "ann").await;
    let reply = Call::post("/logout")
        .bearer(&logged_out.access)
        .send(a)
        .await;
    assert_eq!(reply.status, 204);
    let rotated = login(a, "bob").await;
    let current = Pair::of(&refresh_with(b, &rotated.refresh).await);
    let everywhere = login(b, "cat").await;
    let reply = Call::post("/logout-all")
        .bearer(&everywhere.access)
        .send(b)
        .await;
    assert_eq!(reply.status, 204);
    Before {
        logged_out,
        rotated,
        current,
        everywhere,
    }
}

/// After the loss: every running instance still refuses what it saw revoked and the rotated
/// refresh token; sessions from before are refused at refresh; new logins work; an instance
/// started afterwards refuses the revocations too, because they were written back.
async fn after_the_loss(server: &RedisServer, instances: &[SocketAddr], before: &Before) {
    for &addr in instances {
        for token in [&before.logged_out.access, &before.everywhere.access] {
            assert_revoked(&settled(me(addr, token)).await, REVOKED);
        }
        assert_eq!(settled(me(addr, &before.current.access)).await.status, 200);
        let reply = settled(renew(addr, &before.rotated.refresh)).await;
        assert_eq!(
            reply.status,
            401,
            "a rotated refresh token: {}",
            reply.text()
        );
    }
    let reply = settled(renew(instances[0], &before.current.refresh)).await;
    assert_eq!(
        reply.status, 401,
        "sessions from before the loss end at their refresh"
    );
    // Logins in the few seconds after the loss was noticed are refused at their first
    // refresh, like those before it (a token's `iat` counts whole seconds, and another
    // instance's clock may run ahead); later ones are not.
    tokio::time::sleep(Duration::from_millis(7100)).await;
    let fresh = login(instances[1], "dan").await;
    let next = Pair::of(&refresh_with(instances[0], &fresh.refresh).await);
    assert_eq!(status(instances[1], "/me", &next.access).await, 200);

    let family = claims_of(&before.logged_out.access)["fam"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        !server
            .cli(&["ZSCORE", "test:revoked:fam", &family])
            .is_empty(),
        "the revocation was written back to Redis"
    );
    let (_, late) = instance(&server.url(), |b| b).await;
    for token in [&before.logged_out.access, &before.everywhere.access] {
        assert_revoked(&Call::get("/me").bearer(token).send(late).await, REVOKED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushall_never_un_revokes_on_running_instances() {
    let server = RedisServer::start();
    let (_a, a) = instance(&server.url(), |b| b).await;
    let (_b, b) = instance(&server.url(), |b| b).await;
    let before = sessions_before_a_loss(a, b).await;
    server.cli(&["FLUSHALL"]);
    after_the_loss(&server, &[a, b], &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_without_persistence_never_un_revokes_on_running_instances() {
    let mut server = RedisServer::start_without_persistence();
    let (_a, a) = instance(&server.url(), |b| b).await;
    let (_b, b) = instance(&server.url(), |b| b).await;
    let before = sessions_before_a_loss(a, b).await;
    server.kill();
    let started = Instant::now();
    while status(a, "/me", &before.current.access).await != 503 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "Redis down must fail closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.restart();
    after_the_loss(&server, &[a, b], &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_revocation_is_lost_in_a_failover() {
    let mut primary = RedisServer::start();
    let replica = RedisServer::start_with(
        true,
        &["--replicaof", "127.0.0.1", &primary.port.to_string()],
    );
    let started = Instant::now();
    while !replica
        .cli(&["INFO", "replication"])
        .contains("master_link_status:up")
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the replica never synced"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The instances reach Redis through one address that a failover moves (a virtual IP).
    let vip = Forwarder::start(primary.port).await;
    let durable = |b: jwtguard::RedisStoreBuilder| b.wait_for_replicas(1, Duration::from_secs(1));
    let (store_a, a) = instance(&vip.url(), durable).await;
    let (store_b, b) = instance(&vip.url(), durable).await;
    let mut logged_out = Vec::new();
    for i in 0..20 {
        let at = if i % 2 == 0 { a } else { b };
        let session = login(at, &format!("user{i}")).await;
        let path = if i % 4 < 2 { "/logout" } else { "/logout-all" };
        let reply = Call::post(path).bearer(&session.access).send(at).await;
        assert_eq!(reply.status, 204, "acknowledged once a replica holds it");
        logged_out.push(session);
    }
    let rotated = login(a, "eve").await;
    let current = Pair::of(&refresh_with(b, &rotated.refresh).await);

    primary.kill();
    assert_eq!(replica.cli(&["REPLICAOF", "NO", "ONE"]), "OK");
    vip.move_to(replica.port);
    let started = Instant::now();
    while !(store_a.is_current() && store_b.is_current()) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the instances never followed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "both instances current on the new primary after {:?}",
        started.elapsed()
    );
    let (_, late) = instance(&vip.url(), |b| b).await;
    for session in &logged_out {
        for at in [a, b, late] {
            assert_revoked(
                &Call::get("/me").bearer(&session.access).send(at).await,
                REVOKED,
            );
        }
    }
    // The rotation was acknowledged too: the replaced token is a reuse, not a first use.
    assert_eq!(status(late, "/me", &current.access).await, 200);
    let reply = refresh_with(late, &rotated.refresh).await;
    assert_eq!(
        reply.status,
        200,
        "a retry within the grace window: {}",
        reply.text()
    );
    assert_eq!(
        claims_of(reply.json()["refresh_token"].as_str().unwrap())["jti"],
        claims_of(&current.refresh)["jti"]
    );
    // The new primary has no replica: a write can no longer be acknowledged as durable.
    let session = login(a, "fay").await;
    let reply = Call::post("/logout").bearer(&session.access).send(a).await;
    assert_eq!(reply.status, 503, "{}", reply.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rediss_with_a_user_and_password_from_the_url() {
    let dir = std::env::temp_dir().join(format!("jwtguard-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = jwtguard_tests::certificates(&dir);
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (cert, key, ca_file) = (path("server.crt"), path("server.key"), path("ca.crt"));
    let server = RedisServer::start_with(
        true,
        &[
            "--tls-port",
            "{port}",
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca_file,
            "--tls-auth-clients",
            "no",
            "--user",
            "default",
            "off",
            "--user",
            "app",
            "on",
            ">s3cret",
            "~*",
            "&*",
            "+@all",
        ],
    );
    let url = format!("rediss://app:s3cret@127.0.0.1:{}", server.port);
    let (_store, a) = instance(&url, |b| b.root_certificate(ca.clone())).await;
    let session = login(a, "ann").await;
    let next = Pair::of(&refresh_with(a, &session.refresh).await);
    let reply = Call::post("/logout").bearer(&next.access).send(a).await;
    assert_eq!(reply.status, 204);
    assert_revoked(
        &Call::get("/me").bearer(&next.access).send(a).await,
        REVOKED,
    );

    // What an operator sees when it fails: the client's own error as the source.
    let wrong = format!("rediss://app:wrong@127.0.0.1:{}", server.port);
    let error = RedisStore::builder(&wrong, "test")
        .root_certificate(ca.clone())
        .connect()
        .await
        .unwrap_err();
    let source = std::error::Error::source(&error)
        .unwrap_or_else(|| panic!("the client's error under {error:?}"))
        .to_string();
    assert!(
        source.contains("WRONGPASS") || source.contains("uthenticat"),
        "{source}"
    );
    let untrusted = RedisStore::connect(&url, "test").await.unwrap_err();
    let source = std::error::Error::source(&untrusted).map(ToString::to_string);
    assert!(source.is_some(), "a TLS failure says why: {untrusted}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_whose_event_never_arrives_is_enforced_within_seconds() {
    // An operator's emergency revocation by hand, the supported way (README): add to the
    // set, move the revision, publish nothing. The instances see the revision move without
    // an event, as when their subscription sits on a node that no longer gets the writes.
    let server = RedisServer::start();
    let (_store, a) = instance(&server.url(), |b| b).await;
    let session = login(a, "ann").await;
    assert_eq!(status(a, "/me", &session.access).await, 200);
    let claims = claims_of(&session.access);
    let until = (claims["exp"].as_i64().unwrap() + 60).to_string();
    server.cli(&[
        "ZADD",
        "test:revoked:jti",
        &until,
        claims["jti"].as_str().unwrap(),
    ]);
    server.cli(&["INCR", "test:rev"]);
    let started = Instant::now();
    loop {
        let reply = Call::get("/me").bearer(&session.access).send(a).await;
        if reply.status == 401 {
            assert_revoked(&reply, REVOKED);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "still accepted: {}",
            reply.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "a revocation without its event was enforced after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_redis_that_evicts_keys_is_refused_at_connect() {
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "maxmemory-policy", "volatile-lru"]);
    let error = RedisStore::connect(&server.url(), "test")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("noeviction"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_next_to_a_million_foreign_keys_and_100_000_revocations() {
    let server = RedisServer::start_with(false, &["--enable-debug-command", "local"]);
    server.cli(&["DEBUG", "POPULATE", "1000000", "other-app"]);
    let until = (jwtguard_tests::forge::now() + 3600).to_string();
    server.cli(&[
        "EVAL",
        "for i = 1, 100000 do redis.call('ZADD', KEYS[1], ARGV[1], 'revoked-' .. i) end",
        "1",
        "test:revoked:jti",
        &until,
    ]);
    assert_eq!(server.cli(&["DBSIZE"]), "1000001");
    let auth_started = Instant::now();
    let (store, a) = instance(&server.url(), |b| b).await;
    let pair = login(a, "ann").await;
    assert_eq!(status(a, "/me", &pair.access).await, 200);
    let took = auth_started.elapsed();
    assert_eq!(store.mirrored(), 100_000);
    println!("first protected request served {took:?} after the instance started");
    // Generous for a loaded CI machine and an unoptimised build; BENCHMARKS.md has the figure.
    assert!(took < Duration::from_secs(10), "{took:?}");
    let check = jwtguard::revocation::Presented {
        sub: "ann",
        jti: "revoked-77",
        family: "",
        version: 0,
    };
    assert_eq!(
        store.check(&check, jwtguard_tests::forge::now()),
        Err(jwtguard::revocation::Refusal::Revoked)
    );
}
