//! How long an instance takes to start serving next to a crowded Redis: from
//! `RedisStore::connect` to its first check answered from a current mirror, on a real
//! `redis-server` on loopback, in three databases:
//!
//! 1. empty (the baseline);
//! 2. 1 000 000 keys of another application (`DEBUG POPULATE`);
//! 3. the same, plus 100 000 live revocations under the store's prefix.
//!
//! A start is one event, not a loop criterion could time: each case is started 5 times and
//! the median (and range) printed, with the ratio to the empty database. The target:
//! case 3 serves within 2 s.
//!
//! `cargo bench --bench reload`.

use std::time::{Duration, Instant};

use jwtguard::RedisStore;
use jwtguard::revocation::{Presented, Refusal, Store as _};
use jwtguard_tests::RedisServer;

const STARTS: usize = 5;

fn main() {
    if !jwtguard_tests::redis_server::installed() {
        println!("reload: skipped (redis-server is not installed)");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = RedisServer::start_with(false, &["--enable-debug-command", "local"]);
    let now = jwtguard_tests::forge::now();
    let probe = Presented {
        sub: "ann",
        jti: "revoked-77",
        family: "",
        version: 0,
    };
    let mut rows = Vec::new();
    for (case, setup) in [
        ("empty database", None),
        ("1 000 000 foreign keys", Some(false)),
        ("… + 100 000 revocations", Some(true)),
    ] {
        match setup {
            None => {}
            Some(false) => {
                server.cli(&["DEBUG", "POPULATE", "1000000", "other-app"]);
            }
            Some(true) => {
                let until = (now + 3600).to_string();
                server.cli(&[
                    "EVAL",
                    "for i = 1, 100000 do redis.call('ZADD', KEYS[1], ARGV[1], 'revoked-' .. i) end",
                    "1",
                    "bench:revoked:jti",
                    &until,
                ]);
            }
        }
        let mut took: Vec<Duration> = (0..STARTS)
            .map(|_| {
                let started = Instant::now();
                let store = rt
                    .block_on(RedisStore::connect(&server.url(), "bench"))
                    .expect("connect");
                let answer = store.check(&probe, jwtguard_tests::forge::now());
                let took = started.elapsed();
                let expected = if setup == Some(true) {
                    Err(Refusal::Revoked)
                } else {
                    Ok(())
                };
                assert_eq!(answer, expected, "{case}");
                took
            })
            .collect();
        took.sort();
        rows.push((case, server.cli(&["DBSIZE"]), took));
    }
    println!(
        "\n== reload: connect to the first check answered from a current mirror ({STARTS} starts each)"
    );
    println!(
        "{:<28} {:>9} {:>10} {:>22} {:>9}",
        "database", "keys", "median", "range", "÷ empty"
    );
    let base = rows[0].2[STARTS / 2];
    for (case, keys, took) in &rows {
        let median = took[STARTS / 2];
        println!(
            "{case:<28} {keys:>9} {:>10} {:>22} {:>8.2}×",
            format!("{:.0} ms", median.as_secs_f64() * 1e3),
            format!(
                "{:.0}–{:.0} ms",
                took[0].as_secs_f64() * 1e3,
                took[STARTS - 1].as_secs_f64() * 1e3
            ),
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("target: 1 000 000 foreign keys + 100 000 revocations serves within 2 s");
}
