//! Unit tests of sessions through the public API: how long store entries guard what they
//! guard, and the terms (audience, lifetimes) a session keeps across refreshes.

use std::time::Duration;

use crate::auth::tests::{SECRET, claims_json, forged, hs256};
use crate::{Auth, Grant, IssueError};

#[test]
fn store_entries_outlive_what_they_guard_by_the_larger_margin_plus_a_minute() {
    let leeway = Auth::builder()
        .secret(SECRET)
        .leeway(Duration::from_secs(30))
        .build()
        .unwrap();
    assert_eq!(leeway.retained_until(1_000), 1_000 + 30 + 60);
    let skew = Auth::builder()
        .secret(SECRET)
        .clock_skew(Duration::from_secs(45))
        .build()
        .unwrap();
    assert_eq!(skew.retained_until(1_000), 1_000 + 45 + 60);
    assert_eq!(hs256().retained_until(i64::MAX), i64::MAX, "never wraps");
}

#[tokio::test]
async fn a_revoked_token_stays_refused_through_the_leeway() {
    use crate::revocation::{Presented, Refusal, Store as _};
    let store = crate::MemoryStore::new();
    let auth = Auth::builder()
        .secret(SECRET)
        .leeway(Duration::from_secs(30))
        .store(store.clone())
        .build()
        .unwrap();
    let pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    let claims = auth.verify(&pair.access_token).unwrap();
    auth.revoke(&claims).await.unwrap();
    let presented = Presented {
        sub: "ann",
        jti: claims.jti(),
        family: "",
        version: 0,
    };
    // The last second a verifier with this leeway accepts the token, and a minute past it.
    let last = claims.exp() + 30;
    assert_eq!(store.check(&presented, last), Err(Refusal::Revoked));
    assert_eq!(store.check(&presented, last + 59), Err(Refusal::Revoked));
}

/// `exp - iat` of a token, read from its payload.
fn lifetime_of(token: &str) -> i64 {
    let claims = claims_json(token);
    claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
}

#[test]
fn renewing_an_access_token_keeps_its_terms() {
    // What implicit refresh renewed an access cookie with: `Grant::renew` of its claims.
    let auth = Auth::builder()
        .secret(SECRET)
        .audience("main")
        .audience("partner")
        .build()
        .unwrap();
    let token = auth
        .create_access_token(
            &Grant::to("ann")
                .access_ttl(Duration::from_secs(60))
                .audience("partner"),
        )
        .unwrap();
    let renew = |token: &str| {
        auth.create_access_token(&Grant::renew(&auth.verify(token).unwrap()))
            .unwrap()
    };
    let renewed = renew(&token);
    assert_eq!(claims_json(&renewed)["aud"], "partner");
    assert_eq!(lifetime_of(&renewed), 60);
    assert_eq!(
        claims_json(&renewed).get("att"),
        None,
        "a refresh token's only"
    );
    // And again from the renewed one: the terms do not drift.
    let again = renew(&renewed);
    assert_eq!(claims_json(&again)["aud"], "partner");
    assert_eq!(lifetime_of(&again), 60);
    // A token that chose nothing keeps the defaults.
    let renewed = renew(&auth.create_access_token(&Grant::to("bob")).unwrap());
    assert_eq!(claims_json(&renewed)["aud"], "main");
    assert_eq!(lifetime_of(&renewed), 15 * 60);
}

#[test]
fn a_refresh_token_records_the_access_lifetime_and_refuses_none() {
    let auth = hs256();
    let refresh = auth
        .create_refresh_token(&Grant::to("ann").access_ttl(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(claims_json(&refresh)["att"], 60);
    let claims = auth.verify_refresh(&refresh).unwrap();
    let renewed = auth.create_access_token(&Grant::renew(&claims)).unwrap();
    assert_eq!(lifetime_of(&renewed), 60);
    // The default is recorded too: the session keeps the lifetime it started with.
    let refresh = auth.create_refresh_token(&Grant::to("ann")).unwrap();
    assert_eq!(claims_json(&refresh)["att"], 15 * 60);
    // `att` is the token's own: a grant's extra data may not set it.
    assert_eq!(
        auth.create_refresh_token(&Grant::to("ann").extra(serde_json::json!({"att": 1})))
            .unwrap_err(),
        IssueError::ReservedClaim("att".into())
    );
    // A zero access lifetime would make an unverifiable refresh token: refused at issue.
    assert_eq!(
        auth.create_refresh_token(&Grant::to("ann").access_ttl(Duration::from_millis(500)))
            .unwrap_err(),
        IssueError::Lifetime
    );
}

#[tokio::test]
async fn a_refresh_keeps_an_audience_list_it_was_issued_with() {
    // A refresh token AuthX minted with the shared secret, for two audiences, no session.
    let auth = Auth::builder()
        .secret(SECRET)
        .audience("main")
        .audience("partner")
        .build()
        .unwrap();
    let now = crate::clock::now();
    let token = forged(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        &format!(
            r#"{{"sub":"u","jti":"authx-refresh","iat":{now},"exp":{},"type":"refresh","aud":["partner","reports"]}}"#,
            now + 3600
        ),
    );
    let pair = auth.refresh_token_pair(&token).await.unwrap();
    for renewed in [&pair.access_token, &pair.refresh_token] {
        assert_eq!(
            claims_json(renewed)["aud"],
            serde_json::json!(["partner", "reports"])
        );
    }
    assert!(auth.verify(&pair.access_token).is_ok());
    assert!(auth.verify_refresh(&pair.refresh_token).is_ok());
    assert_eq!(lifetime_of(&pair.refresh_token), 3600);
    // No `att`: the access lifetime is the configured one.
    assert_eq!(lifetime_of(&pair.access_token), 15 * 60);
}
