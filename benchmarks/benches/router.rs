//! Whole requests through one axum `Router`, in-process with `tower::ServiceExt::oneshot` (no
//! sockets), the same JSON handler behind four guards (see `common/app.rs`): no auth, a
//! hand-written `jsonwebtoken` extractor, `axum-jwt-auth`, and `#[protected]` (also with a
//! `Claims` parameter, which makes the guard share the token through the request). Every request
//! carries the same `Authorization` header; the response body is read to the end.
//!
//! `cargo bench --bench router` (add `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

#[path = "common/app.rs"]
mod app;

use axum::Router;
use axum::http::StatusCode;
use jwtguard::{Auth, Grant};

use app::call;
use common::{Lab, SECRET, floor, floor_key, spread, time, times};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

const ROUTES: [(&str, &str, &str); 7] = [
    ("/open", "a_no_auth", "no auth"),
    (
        "/hand",
        "b_hand_written_jsonwebtoken",
        "hand-written extractor (jsonwebtoken)",
    ),
    ("/peer", "c_axum_jwt_auth", "axum-jwt-auth 0.7"),
    (
        "/reports",
        "d_jwtguard_protected",
        "#[protected(scopes = \"reports:read\")]",
    ),
    (
        "/claims",
        "e_jwtguard_protected_claims",
        "  with `fresh`, handler takes `Claims`",
    ),
    (
        "/cached",
        "i_cached_protected",
        "#[protected] + verified_token_cache",
    ),
    (
        "/cached-claims",
        "j_cached_protected_claims",
        "  with `fresh`, `Claims`, + the cache",
    ),
];

fn main() {
    let (auth, token) = common::typical();
    let router = app::router(app::AppState::new(auth, SECRET.as_bytes()));
    let authorization = app::bearer(&token);
    let bad = app::bearer(&format!("{token}x"));
    let (_, expected) = call(&router, "/open", &authorization);
    for (path, _, _) in ROUTES {
        assert_eq!(
            call(&router, path, &authorization),
            (StatusCode::OK, expected.clone()),
            "{path}"
        );
        if path != "/open" {
            assert_eq!(
                call(&router, path, &bad).0,
                StatusCode::UNAUTHORIZED,
                "{path}"
            );
        }
    }
    refused_without_scope(&router);
    let mac = floor_key();
    assert!(floor(&mac, &token).is_some());

    let stores = Stores::start(&token);
    let mut lab = Lab::new();
    for (path, name, _) in ROUTES {
        let (router, authorization) = (&router, &authorization);
        lab.add("router", name, move || call(router, path, authorization));
    }
    // The floor of verification (as in `benches/verify.rs`), for the target on the extra cost.
    lab.add("router", "floor", || floor(&mac, &token));

    // The revocation check, side by side on the `Claims` route: no store at all, the memory
    // store and Redis's mirror, each holding 10 000 live revocations of other tokens (so the
    // lookups run, not the empty-store shortcut).
    for (name, router) in [
        ("f_store_none", &stores.none),
        ("g_store_memory", &stores.memory),
        ("h_store_redis_mirror", &stores.redis),
    ] {
        let authorization = &authorization;
        lab.add("router", name, move || {
            call(router, "/claims", authorization)
        });
    }
    lab.run();
    if !common::measuring() {
        return;
    }

    println!("\n== router: one GET through axum, in-process oneshot");
    println!(
        "{:<42} {:>10} {:>11} {:>24} {:>12} {:>22}",
        "route", "time", "÷ no auth", "÷ no auth, interleaved", "extra", "extra ÷ floor, inter."
    );
    let base = lab.ns("a_no_auth");
    for (_, name, label) in ROUTES {
        println!(
            "{label:<42} {:>10} {:>11} {:>24} {:>12} {:>22}",
            time(lab.ns(name)),
            times(lab.criterion_ratio(name, "a_no_auth")),
            spread(lab.ratio(name, "a_no_auth")),
            time(lab.ns(name).zip(base).map(|(t, b)| t - b)),
            spread(extra_over_floor(&lab, name)),
        );
    }
    println!("floor of verification: {}", time(lab.ns("floor")));
    println!("\n== the revocation check on the `Claims` route (10 000 live revocations)");
    for (name, label) in [
        ("f_store_none", "no store"),
        ("g_store_memory", "MemoryStore"),
        ("h_store_redis_mirror", "RedisStore (its mirror)"),
    ] {
        println!(
            "{label:<42} {:>10} {:>24}   (target ≤ 1.10× no store)",
            time(lab.ns(name)),
            spread(lab.ratio(name, "f_store_none")),
        );
    }
    let versus = |other: &str| {
        lab.per_round(|t| {
            Some((t("d_jwtguard_protected")? - t("a_no_auth")?) / (t(other)? - t("a_no_auth")?))
        })
    };
    println!(
        "#[protected(fresh)] with Claims, revocation on ÷ no auth = {}; with the verified-token cache {}   (target ≤ 1.5×)",
        spread(lab.ratio("e_jwtguard_protected_claims", "a_no_auth")),
        spread(lab.ratio("j_cached_protected_claims", "a_no_auth")),
    );
    println!(
        "extra of #[protected] ÷ floor = {}   (target ≤ 1.30×)",
        spread(extra_over_floor(&lab, "d_jwtguard_protected"))
    );
    println!(
        "extra of #[protected] ÷ extra of the hand-written extractor = {}   (target < 1)",
        spread(versus("b_hand_written_jsonwebtoken"))
    );
    println!(
        "extra of #[protected] ÷ extra of axum-jwt-auth = {}   (target < 1)",
        spread(versus("c_axum_jwt_auth"))
    );
}

/// The `Claims` route over three stores, and what keeps the Redis one alive.
struct Stores {
    none: Router,
    memory: Router,
    redis: Router,
    _runtime: tokio::runtime::Runtime,
    _server: jwtguard_tests::RedisServer,
}

impl Stores {
    fn start(token: &str) -> Self {
        let build = |store: &dyn Fn(jwtguard::AuthBuilder) -> jwtguard::AuthBuilder| {
            let auth = store(Auth::builder().secret(SECRET)).build().expect("auth");
            let router = app::router(app::AppState::new(auth.clone(), SECRET.as_bytes()));
            assert_eq!(
                call(&router, "/claims", &app::bearer(token)).0,
                StatusCode::OK
            );
            (auth, router)
        };
        let (_, none) = build(&|b| b.store(jwtguard::revocation::NoRevocation));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the Redis mirror");
        let server = jwtguard_tests::RedisServer::start();
        let redis = runtime
            .block_on(jwtguard::RedisStore::connect(&server.url(), "bench"))
            .expect("the bench's redis-server");
        let (memory_auth, memory) = build(&|b| b.store(jwtguard::MemoryStore::new()));
        let (redis_auth, redis) = build(&|b| b.store(redis.clone()));
        runtime.block_on(async {
            for auth in [&memory_auth, &redis_auth] {
                for i in 0..10_000 {
                    let other = auth
                        .create_token_pair(&Grant::to(format!("user{i}")))
                        .expect("a pair");
                    let claims = auth.verify(&other.access_token).expect("valid");
                    auth.revoke(&claims).await.expect("revoke");
                    if i % 3 == 0 {
                        auth.revoke_session(&claims).await.expect("revoke family");
                    }
                    if i % 7 == 0 {
                        auth.revoke_all(claims.sub()).await.expect("revoke all");
                    }
                }
            }
        });
        Self {
            none,
            memory,
            redis,
            _runtime: runtime,
            _server: server,
        }
    }
}

/// (route − no auth) ÷ floor, per interleaved round.
fn extra_over_floor(lab: &Lab<'_>, name: &str) -> Option<common::Spread> {
    lab.per_round(|t| Some((t(name)? - t("a_no_auth")?) / t("floor")?))
}

/// Every guard refuses a valid token that lacks `reports:read` with a 403, so the guards
/// compared really check the scope.
fn refused_without_scope(router: &Router) {
    let auth = Auth::builder().secret(SECRET).build().expect("auth");
    let token = auth
        .create_access_token(&Grant::to("user1").scopes([PROFILE, ADMIN]))
        .expect("token");
    let authorization = app::bearer(&token);
    for (path, _, _) in &ROUTES[1..] {
        assert_eq!(
            call(router, path, &authorization).0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
}
