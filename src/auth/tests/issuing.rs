//! Issuing: what a grant puts in tokens, and what issuing refuses.

use super::*;

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
struct Tenant {
    tenant: String,
}

#[test]
fn grant_options_reach_the_tokens() {
    let auth = hs256();
    let grant = Grant::to(42)
        .extra(Tenant {
            tenant: "acme".into(),
        })
        .header("x-purpose", "test")
        .access_ttl(Duration::from_secs(30))
        .refresh_ttl(Duration::from_secs(3600))
        .audience("reports-api");
    let pair = auth.create_token_pair(&grant).unwrap();
    assert_eq!(pair.expires_in, 30);
    let access = claims_json(&pair.access_token);
    assert_eq!(access["sub"], "42");
    assert_eq!(access["tenant"], "acme");
    assert_eq!(access["aud"], "reports-api");
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        30
    );
    assert_eq!(
        access["jti"].as_str().unwrap().len(),
        22,
        "128 random bits, base64url"
    );
    assert_eq!(header_json(&pair.access_token)["x-purpose"], "test");
    let refresh = claims_json(&pair.refresh_token);
    assert_eq!(
        refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap(),
        3600
    );
    assert_ne!(access["jti"], refresh["jti"]);
    // Audience-bound tokens are refused where no audience is configured.
    assert_eq!(
        auth.verify(&pair.access_token).unwrap_err(),
        TokenError::Audience
    );
}

#[test]
fn typed_extra_claims_are_read_and_renewed() {
    let auth = hs256();
    let token = auth
        .create_refresh_token(&Grant::to("ann").extra(Tenant {
            tenant: "acme".into(),
        }))
        .unwrap();
    let claims = auth.verify_refresh(&token).unwrap();
    let renewed = auth.create_access_token(&Grant::renew(&claims)).unwrap();
    assert_eq!(claims_json(&renewed)["tenant"], "acme");
    let verified = auth.verify(&renewed).unwrap();
    let typed: Tenant = serde_json::from_str(verified.payload_json()).unwrap();
    assert_eq!(typed.tenant, "acme");
}

#[test]
fn reserved_claims_and_headers_are_refused_when_issuing() {
    let auth = hs256();
    let grant = Grant::to("ann").extra(serde_json::json!({ "type": "refresh" }));
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ReservedClaim("type".into())
    );
    let grant = Grant::to("ann").header("alg", "none");
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ReservedHeader("alg".into())
    );
    let grant = Grant::to("ann").extra(7);
    assert_eq!(
        auth.create_access_token(&grant).unwrap_err(),
        IssueError::ExtraNotAnObject
    );
}

#[test]
fn access_and_refresh_scopes_are_separate() {
    use crate::Scope;
    const READ: Scope = Scope::__declared("reports:read", 0, 9);
    const REFRESH: Scope = Scope::__declared("token:refresh", 1, 9);
    let auth = hs256();
    let pair = auth
        .create_token_pair(&Grant::to("ann").scopes([READ]).refresh_scopes([REFRESH]))
        .unwrap();
    assert_eq!(
        claims_json(&pair.access_token)["scopes"],
        serde_json::json!(["reports:read"])
    );
    assert_eq!(
        claims_json(&pair.refresh_token)["scopes"],
        serde_json::json!(["token:refresh"])
    );
    // Without refresh scopes, the refresh token carries the access scopes (what a refresh may
    // grant again).
    let pair = auth
        .create_token_pair(&Grant::to("ann").scopes([READ]))
        .unwrap();
    assert_eq!(
        claims_json(&pair.refresh_token)["scopes"],
        serde_json::json!(["reports:read"])
    );
}

#[test]
fn issuing_refuses_what_verification_would_refuse() {
    let auth = hs256();
    assert_eq!(
        auth.create_token_pair(&Grant::to("")).unwrap_err(),
        IssueError::EmptySubject
    );
    for ttl in [Duration::ZERO, Duration::from_millis(999)] {
        assert_eq!(
            auth.create_access_token(&Grant::to("ann").access_ttl(ttl))
                .unwrap_err(),
            IssueError::Lifetime,
            "{ttl:?}"
        );
        assert_eq!(
            auth.create_token_pair(&Grant::to("ann").refresh_ttl(ttl))
                .unwrap_err(),
            IssueError::Lifetime,
            "{ttl:?}"
        );
    }
    // No token outlives its session: a lifetime beyond the family's is cut to it.
    let capped = auth
        .create_access_token(&Grant::to("ann").access_ttl(Duration::MAX))
        .unwrap();
    let claims = auth.verify(&capped).unwrap();
    assert_eq!(claims.exp() - claims.iat(), 30 * 24 * 3600);
    let one_second = auth
        .create_access_token(&Grant::to("ann").access_ttl(Duration::from_secs(1)))
        .unwrap();
    assert!(auth.verify(&one_second).is_ok());
}

#[test]
fn narrowing_keeps_what_a_held_wildcard_covers() {
    use crate::Scope;
    const ALL_REPORTS: Scope = Scope::__declared("reports:*", 0, 1);
    const ADMIN: Scope = Scope::__declared("admin", 1, 1);
    let grant = Grant::to("ann").scopes([ALL_REPORTS, ADMIN]);
    let narrowed = grant.clone().narrow_to("reports:read");
    assert_eq!(narrowed.scope_names().collect::<Vec<_>>(), ["reports:read"]);
    let narrowed = grant.clone().narrow_to("reports:* admin other");
    assert_eq!(
        narrowed.scope_names().collect::<Vec<_>>(),
        ["reports:*", "admin"]
    );
    let narrowed = grant.narrow_to("reports:read reports:write reports:read");
    assert_eq!(
        narrowed.scope_names().collect::<Vec<_>>(),
        ["reports:read", "reports:write"]
    );
}

#[test]
fn a_grant_is_fresh_wherever_it_is_signed_unless_it_says_otherwise() {
    let auth = Auth::builder().secret(SECRET).build().unwrap();
    let pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&pair.access_token).unwrap().fresh());
    let access = auth.create_access_token(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&access).unwrap().fresh());
    let stale = auth
        .create_access_token(&Grant::to("ann").fresh(false))
        .unwrap();
    assert!(!auth.verify(&stale).unwrap().fresh());
}
