//! Unit tests of configuration, issuing and verification through the public API.

use std::time::Duration;

use serde_json::Value;

use crate::{Algorithm, Auth, ConfigError, Grant, IssueError, Key, TokenError, TokenKind};

mod configuration;
mod issuing;
mod keys;

pub(crate) const SECRET: &str = "unit-test-secret-unit-test-secret-0123456789";
pub(super) const RSA: &str = include_str!("../../../testdata/rsa.pem");
pub(super) const RSA_PUB: &str = include_str!("../../../testdata/rsa.pub.pem");
pub(super) const EC256: &str = include_str!("../../../testdata/ec256.pem");
pub(super) const EC256_PUB: &str = include_str!("../../../testdata/ec256.pub.pem");
pub(super) const EC384: &str = include_str!("../../../testdata/ec384.pem");
pub(super) const ED25519: &str = include_str!("../../../testdata/ed25519.pem");

pub(crate) fn hs256() -> Auth {
    Auth::builder().secret(SECRET).build().unwrap()
}

pub(crate) fn claims_json(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

pub(super) fn header_json(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// An access token for `grant` as this configuration would issue it at `now` (another
/// instance's clock).
pub(super) fn minted(auth: &Auth, grant: &Grant, now: i64) -> String {
    let session = crate::token::issue::Session {
        version: 0,
        family: "family",
        family_exp: now + 3600,
    };
    auth.inner
        .issuer
        .token(grant, TokenKind::Access, false, now, session)
        .unwrap()
}

pub(super) fn issued_at(auth: &Auth, now: i64) -> String {
    minted(auth, &Grant::to("ann"), now)
}

pub(crate) fn forged(header: &[u8], payload: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let input = format!("{}.{}", b64(header), b64(payload.as_bytes()));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub(super) fn payload_now(extra: &str) -> String {
    let now = crate::clock::now();
    format!(
        r#"{{"sub":"u","jti":"j","iat":{now},"exp":{},"type":"access"{extra}}}"#,
        now + 60
    )
}

/// A partner issuing ES256 tokens, and our RS256 `Auth` that verifies them as foreign tokens
/// bound to the partner's issuer (`tweak` adds to ours).
pub(super) fn partner_and_ours(
    tweak: impl FnOnce(crate::AuthBuilder) -> crate::AuthBuilder,
) -> (Auth, Auth) {
    let partner = Auth::builder()
        .signing_key(Key::private_pem(Algorithm::ES256, EC256).with_kid("partner"))
        .issuer("https://partner.example")
        .build()
        .unwrap();
    let ours = tweak(
        Auth::builder()
            .signing_key(Key::private_pem(Algorithm::RS256, RSA).with_kid("ours"))
            .issuer("https://api.example")
            .verification_key(
                Key::public_pem(Algorithm::ES256, EC256_PUB)
                    .with_kid("partner")
                    .for_issuer("https://partner.example"),
            ),
    )
    .build()
    .unwrap();
    (partner, ours)
}

/// What `AuthBuilder::from_env` and `build` make of the variables `var` gives.
pub(super) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Auth, ConfigError> {
    crate::AuthBuilder::from_vars(var)?.build()
}
