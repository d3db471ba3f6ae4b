//! Verification with asymmetric keys through jwtguard (`Auth::authorize`: signature, claims,
//! scope), RS256 (2048-bit), ES256 and EdDSA (Ed25519), each without and with
//! `AuthBuilder::verified_token_cache(1024)`, against HS256 in the same run. With the cache on, the
//! same token is sent again and again, as a client does until its token expires: the first call
//! verifies and remembers the signature, the repeats skip the public-key operation (claims,
//! time and scope are still checked on every call).
//!
//! Keys: `benches/keys/` (see its README). `cargo bench --bench asymmetric` (add
//! `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

use jwtguard::{Algorithm, Auth, Grant, Key};

use common::{Lab, SECRET, spread, time, times};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
}

const RSA: &str = include_str!("keys/rsa2048.pem");
const EC: &str = include_str!("keys/ec256.pem");
const ED: &str = include_str!("keys/ed25519.pem");

fn main() {
    let grant = Grant::to("user1")
        .scopes([REPORTS_READ, PROFILE])
        .fresh(true);
    let hs256 = Auth::builder().secret(SECRET).build().expect("HS256");
    let mut cases: Vec<(String, Auth)> = vec![("HS256".to_owned(), hs256)];
    for (algorithm, pem) in [
        (Algorithm::RS256, RSA),
        (Algorithm::ES256, EC),
        (Algorithm::EdDSA, ED),
    ] {
        for cache in [0, 1024] {
            let auth = Auth::builder()
                .signing_key(Key::private_pem(algorithm, pem))
                .verified_token_cache(cache)
                .build()
                .expect("key");
            let name = if cache == 0 {
                format!("{algorithm:?}")
            } else {
                format!("{algorithm:?}+cache")
            };
            cases.push((name, auth));
        }
    }
    let cases: Vec<(String, Auth, String)> = cases
        .into_iter()
        .map(|(name, auth)| {
            let token = auth.create_access_token(&grant).expect("token");
            // Also the first call of the cached variants: it fills the cache.
            auth.authorize(&token, SCOPES, &[REPORTS_READ])
                .expect("accepted");
            (name, auth, token)
        })
        .collect();

    let mut lab = Lab::new();
    for (name, auth, token) in &cases {
        lab.add("asymmetric", name, move || {
            auth.authorize(token, SCOPES, &[REPORTS_READ])
        });
    }
    lab.run();
    if !common::measuring() {
        return;
    }

    println!("\n== asymmetric: jwtguard authorize, same claims");
    println!(
        "{:<16} {:>7} {:>12} {:>10} {:>28}",
        "algorithm", "token", "time", "÷ HS256", "÷ HS256, interleaved (IQR)"
    );
    for (name, _, token) in &cases {
        println!(
            "{name:<16} {:>7} {:>12} {:>10} {:>28}",
            token.len(),
            time(lab.ns(name)),
            times(lab.criterion_ratio(name, "HS256")),
            spread(lab.ratio(name, "HS256"))
        );
    }
    println!("target: RS256+cache and ES256+cache ≤ 1.50× HS256");
}
