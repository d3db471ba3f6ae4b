//! Issuing: what `#[login]` does to build a pair, `Auth::create_token_pair`, against one
//! `jsonwebtoken::encode` of the same access-token claims with a key prepared once.
//!
//! `cargo bench --bench issue` (add `JWTGUARD_BENCH_QUICK=1` for a short run).

mod common;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwtguard::{Auth, Grant};

use common::{Lab, SECRET, TypedClaims, spread, time, times};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
}

/// What jwtguard writes into an access token: the typed claims, and the session's (`ver`,
/// `fam`, `fam_exp`), so that `encode` signs the same payload.
#[derive(serde::Serialize)]
struct IssuedClaims {
    #[serde(flatten)]
    typed: TypedClaims,
    ver: u64,
    fam: String,
    fam_exp: i64,
}

fn main() {
    let auth = Auth::builder().secret(SECRET).build().expect("auth");
    let grant = Grant::to("user1")
        .scopes([REPORTS_READ, PROFILE])
        .fresh(true);

    // The claims of the access token jwtguard issues, for `jsonwebtoken::encode`.
    let pair = auth.create_token_pair(&grant).expect("pair");
    let claims = auth.verify(&pair.access_token).expect("valid");
    let payload: serde_json::Value =
        serde_json::from_str(claims.payload_json()).expect("the payload is JSON");
    let claims = IssuedClaims {
        typed: TypedClaims {
            sub: claims.sub().to_owned(),
            iat: claims.iat(),
            nbf: claims.nbf().expect("nbf"),
            exp: claims.exp(),
            jti: claims.jti().to_owned(),
            kind: "access".to_owned(),
            fresh: claims.fresh(),
            scopes: claims.scopes(),
        },
        ver: claims.version(),
        fam: claims.session().to_owned(),
        fam_exp: payload["fam_exp"].as_i64().expect("fam_exp"),
    };
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let header = Header::new(Algorithm::HS256);
    let encoded = jsonwebtoken::encode(&header, &claims, &key).expect("encode");
    assert!(
        encoded.len().abs_diff(pair.access_token.len()) <= 2,
        "the same claims: {} vs {} bytes",
        encoded.len(),
        pair.access_token.len()
    );
    assert!(auth.verify_refresh(&pair.refresh_token).is_ok());

    let mut lab = Lab::new();
    lab.add("issue", "a_jsonwebtoken_encode", || {
        jsonwebtoken::encode(&header, &claims, &key)
    });
    lab.add("issue", "b_jwtguard_create_token_pair", || {
        auth.create_token_pair(&grant)
    });
    lab.add("issue", "c_jwtguard_create_access_token", || {
        auth.create_access_token(&grant)
    });
    lab.run();
    if !common::measuring() {
        return;
    }

    println!(
        "\n== issue: HS256, access token of {} bytes",
        pair.access_token.len()
    );
    println!(
        "{:<42} {:>10} {:>9} {:>27}",
        "variant", "time", "÷ encode", "÷ encode, interleaved (IQR)"
    );
    for (name, label) in [
        ("a_jsonwebtoken_encode", "one jsonwebtoken::encode"),
        ("b_jwtguard_create_token_pair", "jwtguard create_token_pair"),
        (
            "c_jwtguard_create_access_token",
            "    jwtguard create_access_token",
        ),
    ] {
        println!(
            "{label:<42} {:>10} {:>9} {:>27}",
            time(lab.ns(name)),
            times(lab.criterion_ratio(name, "a_jsonwebtoken_encode")),
            spread(lab.ratio(name, "a_jsonwebtoken_encode"))
        );
    }
    println!(
        "pair ÷ one encode = {}   (target ≤ 1.50×)",
        spread(lab.ratio("b_jwtguard_create_token_pair", "a_jsonwebtoken_encode"))
    );
}
