//! The independent OIDC provider (`tests/oidc`) does what jwtguard's end-to-end tests rely on:
//! exact issuer in discovery, RS256 tokens with a `kid` that verify against its JWKS, a
//! rotation that keeps the old key published, and a retirement that removes it.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwtguard_tests::Call;
use jwtguard_tests::oidc_provider::{self, OidcProvider};
use serde_json::{Value, json};

/// Verifies `token` against `jwks` as a relying party would: the key by the header's `kid`,
/// RS256 only, the issuer and audience checked. Returns the `kid` and the claims.
fn verify(token: &str, jwks: &Value, issuer: &str, audience: &str) -> (String, Value) {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("a kid in the header");
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWK set");
    let jwk = set
        .find(&kid)
        .unwrap_or_else(|| panic!("{kid} is not in {jwks}"));
    let key = DecodingKey::from_jwk(jwk).expect("an RSA public key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("a valid signature");
    (kid, data.claims)
}

fn kids(jwks: &Value) -> Vec<String> {
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("a kid").to_owned())
        .collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn discovery_tokens_rotation_and_retirement() {
    if !oidc_provider::installed() {
        return;
    }
    let provider = OidcProvider::start();
    let issuer = provider.issuer();
    assert!(!issuer.ends_with('/'));

    let discovery = provider.discovery().await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(discovery["jwks_uri"], format!("{issuer}/jwks").as_str());

    // A token with shaped claims: a subject, scopes and Keycloak's realm roles.
    let first = provider
        .mint(json!({
            "sub": "alice",
            "scope": "openid reports:read",
            "realm_access": { "roles": ["admin"] },
        }))
        .await;
    let jwks = provider.jwks().await;
    assert_eq!(kids(&jwks), ["key-1"]);
    let (kid1, claims) = verify(&first, &jwks, &issuer, "jwtguard");
    assert_eq!(kid1, "key-1");
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "openid reports:read");
    assert_eq!(claims["realm_access"]["roles"], json!(["admin"]));
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert!(
        (iat - jwtguard_tests::forge::now()).abs() < 60,
        "the provider's clock is ours"
    );

    // A null claim is removed (Cognito's access tokens have no aud).
    let no_aud = provider.mint(json!({ "aud": null })).await;
    assert!(
        jwtguard_tests::forge::claims_of(&no_aud)
            .get("aud")
            .is_none()
    );

    // The provider's own token endpoint signs with the same key.
    let reply = Call::post("/token")
        .form("grant_type=client_credentials&scope=reports%3Aread&aud=jwtguard")
        .send(provider.addr())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let from_endpoint = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        verify(&from_endpoint, &jwks, &issuer, "jwtguard").0,
        "key-1"
    );

    // The JWKS's ETag changes with its keys only (what a conditional refresh relies on).
    let etag = Call::get("/jwks")
        .send(provider.addr())
        .await
        .header("etag")
        .to_owned();
    assert!(!etag.is_empty());
    let unchanged = Call::get("/jwks")
        .header("if-none-match", &etag)
        .send(provider.addr())
        .await;
    assert_eq!(unchanged.status, 304);

    // Rotation: a new signing key; the old one stays published and its tokens still verify.
    let new_kid = provider.rotate().await;
    let changed = Call::get("/jwks")
        .header("if-none-match", &etag)
        .send(provider.addr())
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(new_kid, "key-2");
    let second = provider.mint(json!({})).await;
    let jwks = provider.jwks().await;
    assert_eq!(kids(&jwks), ["key-1", "key-2"]);
    let (kid2, claims) = verify(&second, &jwks, &issuer, "jwtguard");
    assert_eq!(kid2, new_kid);
    assert_eq!(claims["sub"], "user-1");
    assert_eq!(verify(&first, &jwks, &issuer, "jwtguard").0, "key-1");
    // Every token after the rotation is signed by the new key (no round-robin), and signing
    // leaves the JWKS (its ETag) as it was.
    let etag = Call::get("/jwks")
        .send(provider.addr())
        .await
        .header("etag")
        .to_owned();
    for _ in 0..3 {
        let token = provider.mint(json!({})).await;
        assert_eq!(verify(&token, &jwks, &issuer, "jwtguard").0, "key-2");
    }
    let unchanged = Call::get("/jwks")
        .header("if-none-match", &etag)
        .send(provider.addr())
        .await;
    assert_eq!(unchanged.status, 304);

    // Retirement: the old key leaves the JWKS; the new one keeps signing.
    assert_eq!(provider.retire().await, ["key-1"]);
    let jwks = provider.jwks().await;
    assert_eq!(kids(&jwks), ["key-2"]);
    let set: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    assert!(set.find("key-1").is_none());
    assert_eq!(verify(&second, &jwks, &issuer, "jwtguard").0, "key-2");
    let third = provider.mint(json!({})).await;
    assert_eq!(verify(&third, &jwks, &issuer, "jwtguard").0, "key-2");
}

#[tokio::test]
async fn two_providers_publish_the_same_kid_under_two_issuers() {
    if !oidc_provider::installed() {
        return;
    }
    let (a, b) = (OidcProvider::start(), OidcProvider::start());
    assert_ne!(a.issuer(), b.issuer());
    let (jwks_a, jwks_b) = (a.jwks().await, b.jwks().await);
    assert_eq!(kids(&jwks_a), kids(&jwks_b));
    assert_ne!(jwks_a["keys"][0]["n"], jwks_b["keys"][0]["n"]);
    // The same kid, yet a token of one does not verify with the other's key.
    let token = a.mint(json!({})).await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let set: JwkSet = serde_json::from_value(jwks_b).unwrap();
    let key = DecodingKey::from_jwk(set.find(&header.kid.unwrap()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["jwtguard"]);
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_err());
}
