//! How cost grows, HS256, four dimensions in one run:
//!
//! 1. `Auth::authorize` against the size of the payload: the typical token (what
//!    `common::typical()` issues), a 2 KiB payload and a 6,000-byte one, grown with one string
//!    claim of the user's own (`Grant::extra`). `MAX_TOKEN_LEN` caps the encoded token at
//!    8 KiB, so a decoded payload fits up to about 6,080 bytes (the bench finds the exact
//!    figure and prints it): 6,000 is the largest round size.
//! 2. `authorize` against the number of scopes the token carries: 1, 50 and 500, out of a
//!    registry of 500 four-letter names (`benches/growth/held_500.rs`): 500 of the 14-letter
//!    names of the 5,000-scope fixture would take 8,500 bytes of JSON, past the cap.
//! 3. `authorize` against the number of scopes declared with `scopes!`: 3, 300 (past the 256
//!    of the inline bitset; `benches/growth/declared_300.rs`) and 5,000
//!    (`tests/fixtures/scopes_5000.rs`), the same token holding 2 scopes of each.
//! 4. `Auth::refresh_token_pair` with `RedisStore` on a real `redis-server` (one round trip
//!    expected: the consume script), against the default `MemoryStore`, each call a `block_on`
//!    on a current-thread tokio runtime. A refresh consumes the token it is given, so each call
//!    presents the refresh token the previous one returned.
//!
//! Each table gives criterion's time per call, the ratio to the dimension's smallest case
//! (criterion's, then the interleaved one), the time per byte of token (or per scope), and the
//! marginal time per byte (scope) added over the smallest case: what stays constant down the
//! column when cost grows linearly.
//!
//! `cargo bench --bench growth` (add `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwtguard::{Auth, Grant, IssueError, MAX_TOKEN_LEN, RedisStore};
use jwtguard_tests::RedisServer;
use tokio::runtime::Runtime;

use common::{Lab, SECRET, spread, time, times};

// The registry of the typical token (`common::typical()` grants the first two).
jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

/// Dimension 3's smallest registry: the first three names of the two below, so that one token
/// holds two scopes of each.
mod declared_3 {
    jwtguard::scopes! {
        S0000 = "ns00:scope0000", S0001 = "ns00:scope0001", S0002 = "ns00:scope0002",
    }
}

mod declared_300 {
    include!("growth/declared_300.rs");
}

mod declared_5000 {
    include!("../../tests/fixtures/scopes_5000.rs");
}

/// Dimension 2's registry: 500 short names, so that a token can carry them all.
mod held_500 {
    include!("growth/held_500.rs");
}

/// The payload sizes of dimension 1 beyond the typical token's, in bytes of JSON.
const PAYLOADS: [usize; 2] = [2048, 6000];
/// The number of scopes a token carries in dimension 2.
const HELD: [usize; 3] = [1, 50, 500];
/// How many chained refreshes the Redis command count is taken over.
const COUNTED: usize = 100;

/// The grant of `common::typical()`.
fn typical_grant() -> Grant {
    Grant::to("user1")
        .scopes([REPORTS_READ, PROFILE])
        .fresh(true)
}

/// A claim of the user's own, the way an application adds data to its tokens: one string,
/// sized to grow the payload.
#[derive(serde::Serialize)]
struct Note {
    note: String,
}

/// The decoded payload's length.
fn payload_len(token: &str) -> usize {
    let payload = token.split('.').nth(1).expect("three segments");
    URL_SAFE_NO_PAD.decode(payload).expect("base64url").len()
}

/// The typical token with a `note` claim sized so that its payload is exactly `bytes` long;
/// `IssueError::TooLarge` when that token would not fit `MAX_TOKEN_LEN`.
fn padded(auth: &Auth, bytes: usize) -> Result<String, IssueError> {
    let grant = |len: usize| {
        typical_grant().extra(Note {
            note: "x".repeat(len),
        })
    };
    // Everything but the note has a fixed length (ids are 16 random bytes, times ten digits):
    // a token with an empty note measures it.
    let rest = payload_len(&auth.create_access_token(&grant(0))?);
    let len = bytes
        .checked_sub(rest)
        .expect("a payload larger than the typical one");
    let token = auth.create_access_token(&grant(len))?;
    assert_eq!(
        payload_len(&token),
        bytes,
        "the payload has the planned size"
    );
    Ok(token)
}

/// A refresh chain on `rt`: each call presents the refresh token the previous one returned and
/// answers the new access token. Never an error: that would be measuring a refusal.
fn chain<'a>(rt: &'a Runtime, auth: &'a Auth) -> impl FnMut() -> String + 'a {
    let mut refresh = auth
        .create_token_pair(&typical_grant())
        .expect("pair")
        .refresh_token;
    move || {
        let pair = rt
            .block_on(auth.refresh_token_pair(&refresh))
            .expect("the chain goes on");
        refresh = pair.refresh_token;
        pair.access_token
    }
}

/// One command to the Redis on `port`, with `redis-cli` (Debian's redis-server brings it);
/// the reply as it prints it.
fn redis_command(port: u16, args: &[&str]) -> String {
    jwtguard_tests::redis_server::cli(port, args)
}

/// Calls per command, from `INFO commandstats`.
fn command_calls(port: u16) -> Vec<(String, u64)> {
    redis_command(port, &["INFO", "commandstats"])
        .lines()
        .filter_map(|line| {
            let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = stats.split(',').next()?.strip_prefix("calls=")?;
            Some((name.to_owned(), calls.parse().ok()?))
        })
        .collect()
}

/// The Redis of dimension 4, or why there is none.
struct Redis {
    server: RedisServer,
    auth: Auth,
    store: RedisStore,
}

fn start_redis(rt: &Runtime) -> Result<Redis, String> {
    // `RedisServer::start` fails the test when the binary is missing; a bench skips the row.
    if !jwtguard_tests::redis_server::installed() {
        return Err("redis-server is not installed (apt-get install -y redis-server)".to_owned());
    }
    let server = RedisServer::start();
    // The server fsyncs every write (`appendfsync always`), which the crash tests need; here an
    // fsync per refresh would time this machine's disk, not the round trip. Once a second is
    // Redis's recommended setting.
    let reply = redis_command(server.port, &["CONFIG", "SET", "appendfsync", "everysec"]);
    assert_eq!(reply, "OK", "CONFIG SET appendfsync");
    let store = rt
        .block_on(RedisStore::connect(&server.url(), "growth"))
        .map_err(|e| format!("RedisStore::connect: {e}"))?;
    let auth = Auth::builder()
        .secret(SECRET)
        .store(store.clone())
        .build()
        .expect("auth");
    Ok(Redis {
        server,
        auth,
        store,
    })
}

/// One benchmark of a dimension's table.
struct Row {
    name: &'static str,
    label: String,
    /// The token's length in bytes.
    token: usize,
    /// What grows: bytes of token, scopes held or scopes declared.
    size: usize,
}

/// A time per unit, with enough digits for fractions of a nanosecond.
fn per_unit(ns: Option<f64>) -> String {
    match ns {
        None => "—".to_owned(),
        Some(ns) if ns.abs() >= 100.0 => format!("{ns:.0} ns"),
        Some(ns) if ns.abs() >= 1.0 => format!("{ns:.2} ns"),
        Some(ns) => format!("{ns:.3} ns"),
    }
}

/// One dimension's table: each row against the first (the smallest case).
fn table(lab: &Lab<'_>, title: &str, unit: &str, rows: &[Row]) {
    println!("\n== {title}");
    println!(
        "{:<30} {:>7} {:>10} {:>9} {:>24} {:>11} {:>11}",
        "case",
        "token",
        "time",
        "÷ first",
        "÷ first, interleaved",
        format!("/ {unit}"),
        "marginal"
    );
    let first = &rows[0];
    for row in rows {
        let ns = lab.ns(row.name);
        #[allow(clippy::cast_precision_loss)]
        let per = ns.map(|ns| ns / row.size as f64);
        #[allow(clippy::cast_precision_loss)]
        let marginal = (row.size > first.size)
            .then(|| Some((ns? - lab.ns(first.name)?) / (row.size - first.size) as f64))
            .flatten();
        println!(
            "{:<30} {:>5} B {:>10} {:>9} {:>24} {:>11} {:>11}",
            row.label,
            row.token,
            time(ns),
            times(lab.criterion_ratio(row.name, first.name)),
            spread(lab.ratio(row.name, first.name)),
            per_unit(per),
            per_unit(marginal)
        );
    }
}

// One setup, four dimensions, four tables: splitting it would only pass the pieces around.
#[allow(clippy::too_many_lines)]
fn main() {
    // 1. Payload size.
    let (auth, typical) = common::typical();
    let mut payloads = vec![("payload_typical", typical)];
    for (name, bytes) in ["payload_2k", "payload_6000"].into_iter().zip(PAYLOADS) {
        payloads.push((name, padded(&auth, bytes).expect("fits MAX_TOKEN_LEN")));
    }
    // The cap, found rather than computed: the largest payload that still issues.
    let largest = (PAYLOADS[1]..=MAX_TOKEN_LEN)
        .take_while(|&bytes| padded(&auth, bytes).is_ok())
        .last()
        .expect("6,000 bytes fit");
    let largest_token = padded(&auth, largest).expect("fits").len();
    assert!(matches!(
        padded(&auth, largest + 1),
        Err(IssueError::TooLarge)
    ));

    // 2. Scopes held: the first n of 500.
    let held: Vec<(usize, String)> = HELD
        .iter()
        .map(|&n| {
            let grant = Grant::to("user1")
                .scopes(held_500::SCOPES.scopes()[..n].iter().copied())
                .fresh(true);
            (n, auth.create_access_token(&grant).expect("fits"))
        })
        .collect();

    // 3. Scopes declared: one token, two scopes that all three registries declare.
    let two = auth
        .create_access_token(
            &Grant::to("user1")
                .scopes([declared_5000::S0000, declared_5000::S0002])
                .fresh(true),
        )
        .expect("token");
    let declared = [
        (
            "declared_3",
            declared_3::SCOPES,
            declared_3::S0002,
            declared_3::S0001,
        ),
        (
            "declared_300",
            declared_300::SCOPES,
            declared_300::S0002,
            declared_300::S0001,
        ),
        (
            "declared_5000",
            declared_5000::SCOPES,
            declared_5000::S0002,
            declared_5000::S0001,
        ),
    ];

    // 4. Refresh, on one current-thread runtime (what `block_on` drives is all that runs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rt = &runtime;
    let memory = Auth::builder().secret(SECRET).build().expect("auth");
    let redis = start_redis(rt);

    // Every variant accepts its token (and refuses a scope it lacks), so no error path is
    // measured.
    for (_, token) in &payloads {
        let claims = auth
            .authorize(token, SCOPES, &[REPORTS_READ])
            .expect("accepts");
        assert_eq!(claims.scopes(), ["reports:read", "profile"]);
        assert!(auth.authorize(token, SCOPES, &[ADMIN]).is_err());
    }
    for (n, token) in &held {
        let claims = auth
            .authorize(token, held_500::SCOPES, &[held_500::S000])
            .expect("accepts");
        assert_eq!(claims.scopes().len(), *n);
        assert_eq!(
            auth.authorize(token, held_500::SCOPES, &[held_500::S499])
                .is_ok(),
            *n == 500
        );
    }
    for (_, registry, wanted, lacking) in declared {
        assert!(auth.authorize(&two, registry, &[wanted]).is_ok());
        assert!(auth.authorize(&two, registry, &[lacking]).is_err());
    }
    assert_eq!(declared_300::SCOPES.scopes().len(), 300);
    assert_eq!(declared_5000::SCOPES.scopes().len(), 5000);
    let refreshes: Vec<(&str, &Auth)> = std::iter::once(("refresh_memory", &memory))
        .chain(redis.as_ref().ok().map(|r| ("refresh_redis", &r.auth)))
        .collect();
    for (_, auth) in &refreshes {
        let pair = auth.create_token_pair(&typical_grant()).expect("pair");
        let next = rt
            .block_on(auth.refresh_token_pair(&pair.refresh_token))
            .expect("refresh");
        assert!(auth.verify(&next.access_token).is_ok());
        let again = rt.block_on(auth.refresh_token_pair(&pair.refresh_token));
        assert!(
            again.is_ok(),
            "a retry within the grace window keeps the session"
        );
        let mut next = chain(rt, auth);
        for _ in 0..3 {
            assert!(auth.verify(&next()).is_ok());
        }
    }
    // What a refresh sends to Redis, counted by the server over a chain.
    let commands = redis.as_ref().ok().map(|r| {
        let mut next = chain(rt, &r.auth);
        next();
        let before = command_calls(r.server.port);
        for _ in 0..COUNTED {
            next();
        }
        let after = command_calls(r.server.port);
        after
            .into_iter()
            .filter(|(name, _)| name != "info")
            .filter_map(|(name, calls)| {
                let was = before.iter().find(|(n, _)| *n == name).map_or(0, |c| c.1);
                #[allow(clippy::cast_precision_loss)]
                let per = (calls - was) as f64 / COUNTED as f64;
                (calls > was).then(|| format!("{} {per:.2}", name.to_uppercase()))
            })
            .collect::<Vec<_>>()
            .join(", ")
    });

    let mut lab = Lab::new();
    for (name, token) in &payloads {
        lab.add("growth_payload", name, || {
            auth.authorize(token, SCOPES, &[REPORTS_READ])
        });
    }
    let held_names = ["held_1", "held_50", "held_500"];
    for (name, (_, token)) in held_names.into_iter().zip(&held) {
        lab.add("growth_scopes_held", name, || {
            auth.authorize(token, held_500::SCOPES, &[held_500::S000])
        });
    }
    for (name, registry, wanted, _) in declared {
        let (auth, two) = (&auth, &two);
        lab.add("growth_scopes_declared", name, move || {
            auth.authorize(two, registry, &[wanted])
        });
    }
    lab.add("growth_refresh", "refresh_memory", chain(rt, &memory));
    if let Ok(redis) = &redis {
        let mut next = chain(rt, &redis.auth);
        let store = &redis.store;
        lab.add("growth_refresh", "refresh_redis", move || {
            // The mirror's heartbeat only runs inside `block_on`: after a long pause (another
            // benchmark) it may have gone stale, and then every refresh is refused before it
            // ever yields to the task that would reconnect it. Let it catch up (never in a
            // steady run: an atomic load).
            if !store.is_current() {
                rt.block_on(async {
                    while !store.is_current() {
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                });
            }
            next()
        });
    }
    lab.run();
    if !common::measuring() {
        return;
    }

    let rows: Vec<Row> = payloads
        .iter()
        .map(|(name, token)| Row {
            name,
            label: format!("payload {} B", payload_len(token)),
            token: token.len(),
            size: token.len(),
        })
        .collect();
    table(
        &lab,
        "growth 1: authorize against the payload's size (HS256, one string claim added)",
        "token B",
        &rows,
    );
    println!(
        "MAX_TOKEN_LEN = {MAX_TOKEN_LEN} B encoded: the largest payload that fits is {largest} B \
         (a {largest_token}-byte token), so {} B is the largest case here.",
        PAYLOADS[1]
    );

    let rows: Vec<Row> = held_names
        .into_iter()
        .zip(&held)
        .map(|(name, (n, token))| Row {
            name,
            label: format!("{n} scope(s) held"),
            token: token.len(),
            size: *n,
        })
        .collect();
    table(
        &lab,
        "growth 2: authorize against the scopes the token carries (500 declared)",
        "scope",
        &rows,
    );
    println!(
        "Names of 4 letters (\"s000\" to \"s499\", 7 bytes each in the JSON): 500 of the \
         fixture's 14-letter names would be 8,500 bytes of JSON, past MAX_TOKEN_LEN."
    );

    let rows: Vec<Row> = declared
        .iter()
        .map(|(name, registry, _, _)| Row {
            name,
            label: format!("{} declared", registry.scopes().len()),
            token: two.len(),
            size: registry.scopes().len(),
        })
        .collect();
    table(
        &lab,
        "growth 3: authorize against the scopes declared with scopes! (token holds 2)",
        "declared",
        &rows,
    );

    println!("\n== growth 4: refresh_token_pair, chained, current-thread runtime");
    println!(
        "{:<30} {:>10} {:>9} {:>24} {:>16}",
        "store", "time", "÷ memory", "÷ memory, interleaved", "extra over memory"
    );
    println!(
        "{:<30} {:>10} {:>9} {:>24} {:>16}",
        "MemoryStore (default)",
        time(lab.ns("refresh_memory")),
        "1.00×",
        "",
        ""
    );
    match &commands {
        Some(commands) => {
            println!(
                "{:<30} {:>10} {:>9} {:>24} {:>16}",
                "RedisStore",
                time(lab.ns("refresh_redis")),
                times(lab.criterion_ratio("refresh_redis", "refresh_memory")),
                spread(lab.ratio("refresh_redis", "refresh_memory")),
                time(
                    lab.ns("refresh_redis")
                        .zip(lab.ns("refresh_memory"))
                        .map(|(r, m)| r - m)
                )
            );
            println!(
                "Redis commands per refresh (INFO commandstats over {COUNTED}): {commands}; \
                 a script's own commands count too, so one EVALSHA is one round trip. \
                 redis-server on loopback, AOF fsync once a second."
            );
        }
        None => println!(
            "RedisStore: skipped ({})",
            redis.as_ref().err().map_or("", String::as_str)
        ),
    }
}
