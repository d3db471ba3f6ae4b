//! A token from an identity provider (a trusted issuer whose key is loaded), verified by
//! jwtguard, beside the same token verified by jwt-authorizer (the most used axum crate for
//! providers' tokens) and by `jsonwebtoken` alone, and beside a token of jwtguard's own RS256
//! key, in the same run. The provider's token carries what Keycloak's do: `iss`, `sub`, `aud`,
//! `exp`, `iat`, `jti`, `scope`, realm roles.
//!
//! `cargo bench -p jwtguard-benchmarks --bench issuers` (`JWTGUARD_BENCH_QUICK=1`: short run).

mod common;

use jsonwebtoken::{EncodingKey, Header};
use jwtguard::{Algorithm, Auth, Grant, Key, ScopeClaim, TrustedIssuer};
use serde_json::json;

use common::{Lab, spread, time, times};

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// The caller's own profile.
    PROFILE = "profile",
}

const PRIVATE: &str = include_str!("keys/rsa2048.pem");
const PUBLIC: &str = include_str!("keys/rsa2048.pub.pem");
const ISSUER: &str = "https://sso.example.com/realms/shop";

/// The provider's token: Keycloak's claims, RS256, `kid` k1.
fn provider_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let claims = json!({
        "iss": ISSUER, "sub": "f0e1d2c3-user", "aud": "orders-api", "iat": now,
        "exp": now + 3600, "jti": "8d2c6c1e-4b1a-4f3e-9c55-0f1e2d3c4b5a",
        "scope": "openid profile reports:read", "realm_access": {"roles": ["user"]},
    });
    let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".to_owned());
    let key = EncodingKey::from_rsa_pem(PRIVATE.as_bytes()).expect("RSA key");
    jsonwebtoken::encode(&header, &claims, &key).expect("token")
}

fn main() {
    let token = provider_token();
    let trusted = |cache| {
        Auth::builder()
            .trust(
                TrustedIssuer::with_keys(
                    ISSUER,
                    [Key::public_pem(Algorithm::RS256, PUBLIC).with_kid("k1")],
                )
                .audience("orders-api")
                .scopes_from(ScopeClaim::named("scope"))
                .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:")),
            )
            .verified_token_cache(cache)
            .build()
            .expect("trusted issuer")
    };
    let (remote, remote_cached) = (trusted(0), trusted(1024));
    let own = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::RS256, PRIVATE))
        .build()
        .expect("own RS256 key");
    let own_token = own
        .create_access_token(&Grant::to("f0e1d2c3-user").scopes([REPORTS_READ, PROFILE]))
        .expect("own token");
    for (auth, token) in [
        (&remote, &token),
        (&remote_cached, &token),
        (&own, &own_token),
    ] {
        auth.authorize(token, SCOPES, &[REPORTS_READ])
            .expect("accepted");
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let peer = runtime.block_on(async {
        let validation = jwt_authorizer::Validation::new()
            .iss(&[ISSUER])
            .aud(&["orders-api"]);
        jwt_authorizer::JwtAuthorizer::<serde_json::Value>::from_rsa_pem_text(PUBLIC)
            .validation(validation)
            .build()
            .await
            .expect("jwt-authorizer")
    });
    runtime
        .block_on(peer.check_auth(&token))
        .expect("jwt-authorizer accepts it");
    let decoding = jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&["orders-api"]);

    let mut lab = Lab::new();
    lab.add("issuers", "jwtguard trusted issuer", || {
        remote.authorize(&token, SCOPES, &[REPORTS_READ])
    });
    lab.add("issuers", "jwtguard trusted+cache", || {
        remote_cached.authorize(&token, SCOPES, &[REPORTS_READ])
    });
    lab.add("issuers", "jwtguard own RS256", || {
        own.authorize(&own_token, SCOPES, &[REPORTS_READ])
    });
    lab.add("issuers", "jwt-authorizer", || {
        runtime.block_on(peer.check_auth(&token))
    });
    lab.add("issuers", "jsonwebtoken decode", || {
        jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation)
    });
    lab.run();
    if !common::measuring() {
        return;
    }

    println!("\n== issuers: a provider's RS256 token, verified");
    println!(
        "{:<26} {:>12} {:>16} {:>28}",
        "verifier", "time", "÷ own RS256", "÷ jwt-authorizer (IQR)"
    );
    for name in [
        "jwtguard trusted issuer",
        "jwtguard trusted+cache",
        "jwtguard own RS256",
        "jwt-authorizer",
        "jsonwebtoken decode",
    ] {
        println!(
            "{name:<26} {:>12} {:>16} {:>28}",
            time(lab.ns(name)),
            times(lab.criterion_ratio(name, "jwtguard own RS256")),
            spread(lab.ratio(name, "jwt-authorizer"))
        );
    }
    println!("target: trusted issuer ≈ own RS256 (≤ 1.10×), and not slower than jwt-authorizer");
}
