//! Heap allocations on the verify path, counted per thread by a counting global allocator
//! (`allocation-counter`; the workspace forbids `unsafe`, so the allocator comes from a crate).
//! Counts are deterministic for a given `Cargo.lock`; times are never asserted here (see
//! `cargo bench` and BENCHMARKS.md for those).
//!
//! Everything measured runs on the test's own thread: the axum router is driven in-process
//! with `tower::ServiceExt::oneshot` and polled once, with no runtime and no other thread.

#[path = "../benches/common/fixture.rs"]
mod common;

#[path = "../benches/common/app.rs"]
mod app;

use std::hint::black_box;

use allocation_counter::measure;
use axum::http::StatusCode;
use jwtguard::Auth;

use common::{SECRET, TypedClaims, floor, floor_key};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

fn setup() -> (Auth, String) {
    common::typical()
}

/// Allocations of `f` after one warm-up call (lazy statics, thread-locals, first-use buffers).
fn allocations<T>(mut f: impl FnMut() -> T) -> u64 {
    black_box(f());
    measure(|| {
        black_box(f());
    })
    .count_total
}

/// Allocations of one successful in-process `GET path` (after a warm-up request).
fn request_allocations(
    router: &axum::Router,
    path: &'static str,
    authorization: &axum::http::HeaderValue,
) -> u64 {
    allocations(|| {
        let (status, body) = app::call(router, path, authorization);
        assert_eq!(status, StatusCode::OK, "{path}");
        body
    })
}

#[test]
fn authorize_makes_at_most_one_heap_allocation() {
    let (auth, token) = setup();
    let count = allocations(|| {
        auth.authorize(&token, SCOPES, &[REPORTS_READ])
            .expect("accepted")
    });
    eprintln!("auth.authorize (verify + scope check): {count} allocation(s)");
    // Issue 6: at most one heap allocation per verified token (the `Arc` that holds `sub`,
    // `jti` and the payload of the returned `Claims`).
    assert!(count <= 1, "authorize made {count} heap allocations");

    let count = allocations(|| auth.verify(&token).expect("accepted"));
    assert!(count <= 1, "verify made {count} heap allocations");

    // A refusal on the scope is an error value, not a verified token; counted for the record.
    let refused = allocations(|| auth.authorize(&token, SCOPES, &[ADMIN]).is_err());
    eprintln!("auth.authorize refused on scope: {refused} allocation(s)");
}

#[test]
fn the_peers_for_the_record() {
    let (_, token) = setup();
    let mac = floor_key();
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 0;
    let floor = allocations(|| floor(&mac, &token).expect("floor"));
    let decode = allocations(|| {
        jsonwebtoken::decode::<TypedClaims>(&token, &key, &validation).expect("decode")
    });
    eprintln!("floor (typed claims, owned strings): {floor}; jsonwebtoken::decode: {decode}");
    // The floor's are the claims' own: `sub`, `jti`, `type`, the `scopes` vector and its two
    // strings.
    assert_eq!(floor, 6);
}

#[test]
fn a_protected_request_costs_few_allocations_over_no_auth() {
    let (auth, token) = setup();
    let router = app::router(app::AppState::new(auth, SECRET.as_bytes()));
    let authorization = app::bearer(&token);
    let mut counts = Vec::new();
    for path in ["/open", "/reports", "/hand", "/peer", "/claims"] {
        counts.push((path, request_allocations(&router, path, &authorization)));
    }
    eprintln!("heap allocations per in-process request: {counts:?}");
    let (open, protected, hand, peer, with_claims) = (
        counts[0].1,
        counts[1].1,
        counts[2].1,
        counts[3].1,
        counts[4].1,
    );
    // Measured with the Cargo.lock of this commit (axum 0.8.9, http 1.5, hyper 1.12): the
    // no-auth request (request, routing, handler, JSON answer, body read) makes 17
    // allocations. An upper bound, so that a leaner axum does not fail it.
    assert!(
        open <= 17,
        "the no-auth request now makes {open} allocations"
    );
    // Issue 6: at most one heap allocation per verified request beyond the no-auth request.
    // A handler that takes no claims gets a guard that keeps nothing: no allocation at all
    // (measured: 17 = 17 + 0).
    assert!(
        protected <= open,
        "#[protected] adds {} allocations over no auth",
        protected - open
    );
    // With a `Claims` parameter the guard keeps the verified token (its one `Arc`) and the
    // macro binds the parameter from it, with no request-extension cache (measured: 18).
    assert!(
        with_claims <= open + 1,
        "#[protected] with Claims adds {} allocations over no auth",
        with_claims - open
    );
    // For the record, same request: the hand-written `jsonwebtoken` extractor made 31 and
    // axum-jwt-auth 33 (+14 and +16); jwtguard stays well below both.
    assert!(with_claims < hand && with_claims < peer);
}

#[test]
fn a_verified_token_cache_hit_allocates_nothing() {
    let (auth, token) = setup();
    let router = app::router(app::AppState::new(auth, SECRET.as_bytes()));
    let authorization = app::bearer(&token);
    let count = |path| request_allocations(&router, path, &authorization);
    // The warm-up call of `allocations` verified the token and filled the cache; the counted
    // call is a hit: the entry's claims are shared by reference count, not copied.
    let (open, cached, cached_claims) = (count("/open"), count("/cached"), count("/cached-claims"));
    eprintln!(
        "verified-token cache hits: open {open}, #[protected] {cached}, with Claims {cached_claims}"
    );
    assert!(cached <= open, "a hit allocated {} times", cached - open);
    assert!(
        cached_claims <= open,
        "a hit with Claims allocated {} times",
        cached_claims - open
    );
}

#[test]
fn the_revocation_check_allocates_nothing_even_with_live_revocations() {
    let auth = Auth::builder()
        .secret(SECRET)
        .store(jwtguard::MemoryStore::new())
        .build()
        .expect("auth");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for i in 0..1000 {
            let other = auth
                .create_access_token(&jwtguard::Grant::to(format!("user{i}")))
                .expect("token");
            let claims = auth.verify(&other).expect("valid");
            auth.revoke(&claims).await.expect("revoke");
            auth.revoke_session(&claims).await.expect("revoke family");
        }
        auth.revoke_all("someone-else").await.expect("revoke all");
    });
    let grant = jwtguard::Grant::to("user1")
        .scopes([REPORTS_READ, PROFILE])
        .fresh(true);
    let token = auth.create_access_token(&grant).expect("token");
    let router = app::router(app::AppState::new(auth, SECRET.as_bytes()));
    let authorization = app::bearer(&token);
    let count = |path| request_allocations(&router, path, &authorization);
    let (open, protected, with_claims) = (count("/open"), count("/reports"), count("/claims"));
    eprintln!(
        "with 2000 live revocations: open {open}, #[protected] {protected}, with Claims {with_claims}"
    );
    assert!(protected <= open, "the store check allocated");
    assert!(with_claims <= open + 1, "the store check allocated");
}

/// What `MemoryStore` holds per session and per revocation, counted in bytes still allocated
/// after 10 000 of each (its documentation gives these figures: 233 and 124 bytes).
#[test]
fn a_memory_store_entry_costs_at_most_300_bytes() {
    use jwtguard::MemoryStore;
    use jwtguard::revocation::{Consumed, Rotation, Store as _};
    const N: usize = 10_000;
    let store = MemoryStore::new();
    let now = jwtguard_tests::forge::now();
    let ids: Vec<(String, String, String)> = (0..N)
        .map(|i| {
            (
                format!("{i:0>22}"),
                format!("r{i:0>21}"),
                format!("s{i:0>21}"),
            )
        })
        .collect();
    let sessions = measure(|| {
        for (family, presented, successor) in &ids {
            let rotation = Rotation {
                family,
                presented,
                successor,
                issued_at: now,
                until: now + 3600,
                grace: 10,
                now,
            };
            let consumed = common::ready(store.consume(&rotation)).expect("room");
            assert_eq!(consumed, Consumed::First);
        }
    });
    let revocations = measure(|| {
        for (_, presented, _) in &ids {
            common::ready(store.revoke_token(presented, now + 3600)).expect("room");
        }
    });
    assert_eq!(store.entries(), 2 * N);
    let per = |bytes: i64| bytes / i64::try_from(N).unwrap();
    println!(
        "MemoryStore: {} B per session record, {} B per revoked token",
        per(sessions.bytes_current),
        per(revocations.bytes_current)
    );
    assert!(per(sessions.bytes_current) <= 300, "{sessions:?}");
    assert!(per(revocations.bytes_current) <= 300, "{revocations:?}");
}
