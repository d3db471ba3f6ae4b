//! HS256 verification of one typical access token, three ways, in the same run:
//!
//! - (a) the floor, written here: split, base64url-decode the signature and the payload into
//!   stack buffers, HMAC-SHA256 with a key prepared once (RustCrypto `hmac` + `sha2`, the
//!   backend jwtguard uses), constant-time compare, serde into typed claims with owned strings;
//! - (b) `jsonwebtoken::decode` with a strict, prepared `Validation`;
//! - (c) `Auth::authorize`: jwtguard's full verification plus the scope check;
//! - (e) the same with `verified_token_cache` on: the token is a hit (revocation still asked).
//!
//! `cargo bench --bench verify` (add `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use common::{Lab, SECRET, TypedClaims, floor, floor_key, spread, time, times};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
    /// Administration.
    ADMIN = "admin",
}

fn main() {
    let (auth, token) = common::typical();

    let mac = floor_key();
    let key = DecodingKey::from_secret(SECRET.as_bytes());
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "iat", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 0;

    // Every variant accepts the token and agrees on what it says.
    let by_floor = floor(&mac, &token).expect("floor accepts");
    let by_jsonwebtoken = jsonwebtoken::decode::<TypedClaims>(&token, &key, &validation)
        .expect("jsonwebtoken accepts")
        .claims;
    let cached = jwtguard::Auth::builder()
        .secret(SECRET)
        .verified_token_cache(1024)
        .build()
        .expect("auth with the verified-token cache");
    assert_eq!(
        cached
            .authorize(&token, SCOPES, &[REPORTS_READ])
            .expect("jwtguard accepts")
            .sub(),
        "user1"
    );
    assert!(cached.authorize(&token, SCOPES, &[ADMIN]).is_err());
    let by_jwtguard = auth
        .authorize(&token, SCOPES, &[REPORTS_READ])
        .expect("jwtguard accepts");
    assert_eq!(by_floor.sub, by_jwtguard.sub());
    assert_eq!(by_jsonwebtoken.jti, by_jwtguard.jti());
    assert_eq!(by_floor.scopes, ["reports:read", "profile"]);
    assert!(auth.authorize(&token, SCOPES, &[ADMIN]).is_err());

    let mut lab = Lab::new();
    lab.add("verify", "a_floor", || floor(&mac, &token));
    lab.add("verify", "b_jsonwebtoken_decode", || {
        jsonwebtoken::decode::<TypedClaims>(&token, &key, &validation)
    });
    lab.add("verify", "c_jwtguard_authorize", || {
        auth.authorize(&token, SCOPES, &[REPORTS_READ])
    });
    lab.add("verify", "d_jwtguard_verify", || auth.verify(&token));
    lab.add("verify", "e_jwtguard_authorize_cached", || {
        cached.authorize(&token, SCOPES, &[REPORTS_READ])
    });
    lab.run();
    if !common::measuring() {
        return;
    }

    println!(
        "\n== verify: one access token, {} bytes, HS256",
        token.len()
    );
    println!(
        "{:<42} {:>10} {:>9} {:>26}",
        "variant", "time", "÷ floor", "÷ floor, interleaved (IQR)"
    );
    for (name, label) in [
        ("a_floor", "(a) floor"),
        ("b_jsonwebtoken_decode", "(b) jsonwebtoken::decode, strict"),
        (
            "c_jwtguard_authorize",
            "(c) jwtguard authorize (verify + scope)",
        ),
        ("d_jwtguard_verify", "    jwtguard verify (no scope check)"),
        (
            "e_jwtguard_authorize_cached",
            "(e) authorize, verified_token_cache hit",
        ),
    ] {
        println!(
            "{label:<42} {:>10} {:>9} {:>26}",
            time(lab.ns(name)),
            times(lab.criterion_ratio(name, "a_floor")),
            spread(lab.ratio(name, "a_floor"))
        );
    }
    println!(
        "(c)/(a) = {}   (target ≤ 0.75×)",
        spread(lab.ratio("c_jwtguard_authorize", "a_floor"))
    );
    println!(
        "(c)/(b) = {}",
        spread(lab.ratio("c_jwtguard_authorize", "b_jsonwebtoken_decode"))
    );
}
