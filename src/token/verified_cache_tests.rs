//! The verified-token cache through the verifier: a hit answers exactly what a full
//! verification would, for every check that can change between two requests.

use crate::token::kind::TokenKind;
use crate::token::scope::{Registry, Scope};
use crate::{Auth, Grant, TokenError};

const SECRET: &str = "unit-test-secret-unit-test-secret-0123456789";

const A_SCOPES: &[Scope] = &[
    Scope::__declared("reports:read", 0, 11),
    Scope::__declared("admin", 1, 11),
];
static A: Registry = Registry::__new(A_SCOPES, &[("admin", 1), ("reports:read", 0)], 11, &[]);
// Another registry, declaring the same name at another index.
const B_SCOPES: &[Scope] = &[
    Scope::__declared("profile", 0, 12),
    Scope::__declared("reports:read", 1, 12),
];
static B: Registry = Registry::__new(B_SCOPES, &[("profile", 0), ("reports:read", 1)], 12, &[]);

fn cached() -> Auth {
    Auth::builder()
        .secret(SECRET)
        .verified_token_cache(16)
        .build()
        .unwrap()
}

/// Whether `token` has an entry: the tests below check a hit happened, not only the answer.
fn is_cached(auth: &Auth, token: &str) -> bool {
    auth.inner
        .verifier
        .cache
        .as_ref()
        .is_some_and(|cache| cache.get(token).is_some())
}

fn verify_at(
    auth: &Auth,
    token: &str,
    registry: Option<&Registry>,
    at: i64,
) -> Result<(), TokenError> {
    auth.inner
        .verifier
        .verify(token, TokenKind::Access, registry, at)
        .map(|_| ())
}

#[test]
fn a_cached_token_still_expires() {
    let auth = cached();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    let exp = auth.verify(&token).unwrap().exp();
    assert!(is_cached(&auth, &token));
    assert!(verify_at(&auth, &token, None, exp - 1).is_ok(), "a hit");
    assert_eq!(
        verify_at(&auth, &token, None, exp),
        Err(TokenError::Expired)
    );
    assert!(!is_cached(&auth, &token), "the expired entry is dropped");
    assert_eq!(
        verify_at(&auth, &token, None, exp - 1),
        Ok(()),
        "verified again in full"
    );
}

#[test]
fn a_cached_token_is_refused_when_the_clock_steps_back_before_its_start() {
    let auth = cached();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    let iat = auth.verify(&token).unwrap().iat();
    assert!(is_cached(&auth, &token));
    // The skew tolerated on `nbf`/`iat` is 5 s by default: a minute earlier is outside it.
    assert_eq!(
        verify_at(&auth, &token, None, iat - 60),
        Err(TokenError::NotYetValid)
    );
    assert!(verify_at(&auth, &token, None, iat).is_ok(), "valid again");
}

#[test]
fn scopes_of_a_cached_token_are_read_for_each_registry() {
    let auth = cached();
    let token = auth
        .create_access_token(&Grant::to("ann").scopes([A_SCOPES[0]]))
        .unwrap();
    // Filled without a registry (as `Auth::verify` or a middleware would), then asked with two.
    assert!(auth.verify(&token).unwrap().has_scope(A_SCOPES[0]));
    assert!(is_cached(&auth, &token));
    for _ in 0..2 {
        assert!(auth.authorize(&token, &A, &[A_SCOPES[0]]).is_ok());
        assert_eq!(
            auth.authorize(&token, &A, &[A_SCOPES[1]])
                .unwrap_err()
                .status(),
            403
        );
        assert!(
            auth.authorize(&token, &B, &[B_SCOPES[1]]).is_ok(),
            "same name in B"
        );
        assert_eq!(
            auth.authorize(&token, &B, &[B_SCOPES[0]])
                .unwrap_err()
                .status(),
            403
        );
    }
}

#[test]
fn refresh_tokens_are_checked_in_full_and_never_taken_for_access_tokens() {
    let auth = cached();
    let pair = auth.create_token_pair(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&pair.access_token).is_ok());
    assert!(is_cached(&auth, &pair.access_token));
    assert_eq!(
        auth.verify_refresh(&pair.access_token).unwrap_err(),
        TokenError::WrongType
    );
    assert!(auth.verify_refresh(&pair.refresh_token).is_ok());
    assert!(
        !is_cached(&auth, &pair.refresh_token),
        "refresh tokens never enter"
    );
    assert_eq!(
        auth.verify(&pair.refresh_token).unwrap_err(),
        TokenError::WrongType
    );
    assert_eq!(
        auth.verify(&pair.refresh_token).unwrap_err(),
        TokenError::WrongType
    );
}

#[test]
fn a_forged_payload_under_a_cached_signature_is_refused() {
    let auth = cached();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&token).is_ok());
    assert!(is_cached(&auth, &token));
    let (header, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let other = auth.create_access_token(&Grant::to("root")).unwrap();
    let payload = other.split('.').nth(1).unwrap();
    let forged = format!("{header}.{payload}.{signature}");
    assert_eq!(auth.verify(&forged).unwrap_err(), TokenError::Signature);
    assert_eq!(auth.verify(&token).unwrap().sub(), "ann");
}

#[test]
fn another_configuration_never_sees_the_entries() {
    let auth = cached();
    let other = Auth::builder()
        .secret("another-secret-another-secret-0123456789")
        .verified_token_cache(16)
        .build()
        .unwrap();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    assert!(auth.verify(&token).is_ok());
    assert!(is_cached(&auth, &token));
    assert_eq!(other.verify(&token).unwrap_err(), TokenError::Signature);
}

#[tokio::test(flavor = "current_thread")]
async fn a_cached_token_is_refused_once_revoked() {
    let auth = cached();
    let token = auth.create_access_token(&Grant::to("ann")).unwrap();
    let claims = auth.verify(&token).unwrap();
    assert!(is_cached(&auth, &token));
    assert!(auth.verify(&token).is_ok(), "a hit");
    auth.revoke(&claims).await.unwrap();
    assert_eq!(auth.verify(&token).unwrap_err(), TokenError::Revoked);
    assert!(!is_cached(&auth, &token), "the revoked entry is dropped");
    assert_eq!(auth.verify(&token).unwrap_err(), TokenError::Revoked);
}
