//! Keys: what signs, what verifies, and the checks that refuse a bad key at startup.
//!
//! HMAC keys are keyed once here; every request clones the keyed state instead of re-keying,
//! which is the part of `jsonwebtoken`'s verify path that costs the most for HS256.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};

use super::errors::ConfigError;

/// Key material for [`Auth`](crate::Auth): a secret for HS256/384/512 or a PEM for the
/// asymmetric algorithms, with the algorithm it is used with and an optional key id (`kid`).
///
/// ```
/// use jwtguard::{Algorithm, Key};
/// let current = Key::hmac(Algorithm::HS256, "a-secret-of-at-least-32-bytes-long!!").with_kid("2026-11");
/// # let _ = current;
/// ```
///
/// # Whose key it is
///
/// The signing key is this application's own: tokens it signed can be renewed by
/// `#[refresh]`, and its public half is published by [`Auth::jwks`](crate::Auth::jwks).
/// A [`verification_key`](crate::AuthBuilder::verification_key) is **foreign** unless marked
/// [`own`](Self::own): its tokens are accepted where an access token is required, but never
/// renewed, and it is never republished as ours. Bind a foreign key to the issuer it speaks
/// for with [`for_issuer`](Self::for_issuer): a token it verifies must then carry that `iss`.
#[derive(Clone)]
pub struct Key {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) material: Material,
    pub(crate) issuer: Option<String>,
    pub(crate) own: bool,
}

#[derive(Clone)]
pub(crate) enum Material {
    Secret(Vec<u8>),
    PrivatePem(Vec<u8>),
    PublicPem(Vec<u8>),
}

impl Key {
    /// An HMAC secret for `HS256`, `HS384` or `HS512`. It must be at least as long as the hash
    /// output (32, 48 or 64 bytes, RFC 7518 §3.2); a shorter one is refused at startup.
    pub fn hmac(algorithm: Algorithm, secret: impl AsRef<[u8]>) -> Self {
        Self {
            algorithm,
            kid: None,
            material: Material::Secret(secret.as_ref().to_vec()),
            issuer: None,
            own: false,
        }
    }

    /// A private key in PEM (PKCS#8, or PKCS#1 for RSA): it signs, and its public half verifies.
    pub fn private_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Self {
        Self {
            algorithm,
            kid: None,
            material: Material::PrivatePem(pem.as_ref().to_vec()),
            issuer: None,
            own: false,
        }
    }

    /// A public key in PEM: it only verifies (a service that accepts tokens but issues none,
    /// or the previous key during a rotation).
    pub fn public_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Self {
        Self {
            algorithm,
            kid: None,
            material: Material::PublicPem(pem.as_ref().to_vec()),
            issuer: None,
            own: false,
        }
    }

    /// Names the key: tokens it signs carry `kid`, and a token's `kid` selects it for
    /// verification.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Binds a verification key to the issuer it speaks for: a token it verifies must carry
    /// this `iss` (instead of the one configured with
    /// [`AuthBuilder::issuer`](crate::AuthBuilder::issuer)).
    pub fn for_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Marks a verification key as this application's own: a previous signing key during a
    /// rotation. Its refresh tokens can still be renewed, and [`Auth::jwks`](crate::Auth::jwks)
    /// publishes its public half. The signing key is always its own.
    pub fn own(mut self) -> Self {
        self.own = true;
        self
    }

    /// The algorithm this key is used with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl fmt::Debug for Key {
    // Never print key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.material {
            Material::Secret(_) => "secret",
            Material::PrivatePem(_) => "private PEM",
            Material::PublicPem(_) => "public PEM",
        };
        f.debug_struct("Key")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("material", &kind)
            .field("issuer", &self.issuer)
            .field("own", &self.own)
            .finish()
    }
}

/// A keyed HMAC, ready to be cloned per use.
#[derive(Clone)]
pub(crate) enum Mac {
    Hs256(Hmac<Sha256>),
    Hs384(Hmac<Sha384>),
    Hs512(Hmac<Sha512>),
}

/// The longest HMAC tag (HS512), so tags fit a stack buffer.
pub(crate) const MAX_TAG: usize = 64;

impl Mac {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Self, ConfigError> {
        let (min, mac) = match algorithm {
            Algorithm::HS256 => (32, Hmac::new_from_slice(secret).map(Mac::Hs256)),
            Algorithm::HS384 => (48, Hmac::new_from_slice(secret).map(Mac::Hs384)),
            Algorithm::HS512 => (64, Hmac::new_from_slice(secret).map(Mac::Hs512)),
            other => return Err(ConfigError::KeyDoesNotFit(other, "an HMAC secret")),
        };
        if secret.len() < min {
            return Err(ConfigError::SecretTooShort {
                algorithm,
                min,
                got: secret.len(),
            });
        }
        mac.map_err(|_| ConfigError::SecretTooShort {
            algorithm,
            min,
            got: secret.len(),
        })
    }

    /// Constant-time comparison of `tag` with the MAC of `input`.
    pub(crate) fn verify(&self, input: &[u8], tag: &[u8]) -> bool {
        match self {
            Self::Hs256(mac) => check(mac.clone(), input, tag),
            Self::Hs384(mac) => check(mac.clone(), input, tag),
            Self::Hs512(mac) => check(mac.clone(), input, tag),
        }
    }

    /// Writes the MAC of `input` into `out`, returning its length.
    pub(crate) fn sign(&self, input: &[u8], out: &mut [u8; MAX_TAG]) -> usize {
        fn tag<M: hmac::Mac + Clone>(mac: &M, input: &[u8], out: &mut [u8; MAX_TAG]) -> usize {
            let mut mac = mac.clone();
            mac.update(input);
            let bytes = mac.finalize().into_bytes();
            out[..bytes.len()].copy_from_slice(&bytes);
            bytes.len()
        }
        match self {
            Self::Hs256(mac) => tag(mac, input, out),
            Self::Hs384(mac) => tag(mac, input, out),
            Self::Hs512(mac) => tag(mac, input, out),
        }
    }
}

fn check<M: hmac::Mac>(mut mac: M, input: &[u8], tag: &[u8]) -> bool {
    mac.update(input);
    mac.verify_slice(tag).is_ok()
}

/// How a configured key checks signatures.
// The keyed HMAC stays inline: it is cloned on every request and a box would add a pointer
// chase; the public keys are boxed because they are large and slow anyway.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Verifying {
    Mac(Mac),
    Public(Box<DecodingKey>),
}

/// How the signing key signs.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Signing {
    Mac(Mac),
    Private(Box<EncodingKey>),
}

/// A key ready to verify: its algorithm, its `kid`, and the exact header segments this crate
/// issues for it (a token whose header segment is byte-equal needs no header parsing).
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) verifying: Verifying,
    pub(crate) header_segment: String,
    /// The public half as a JWK, for `Auth::jwks`; `None` for HMAC secrets.
    pub(crate) jwk: Option<Jwk>,
    /// `kid` again, shared: a verified token keeps it for
    /// [`Claims::key_id`](crate::Claims::key_id) with a reference count, not a copy.
    pub(crate) key_id: Option<Arc<str>>,
    /// The `iss` a token verified by this key must carry, when bound to one.
    pub(crate) issuer: Option<String>,
    /// This application's own key: its tokens may be renewed and its JWK published.
    pub(crate) own: bool,
}

/// The key that signs, with its precomputed header segment.
#[derive(Clone)]
pub(crate) struct SignKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kid: Option<String>,
    pub(crate) signing: Signing,
    pub(crate) header_segment: String,
}

/// The header this crate writes: `{"alg":..,"typ":"JWT"[,"kid":..]}`, base64url.
pub(crate) fn header_segment(algorithm: Algorithm, kid: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        alg: Algorithm,
        typ: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kid: Option<&'a str>,
    }
    let json = serde_json::to_vec(&Header {
        alg: algorithm,
        typ: "JWT",
        kid,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

fn supported(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256
            | Algorithm::HS384
            | Algorithm::HS512
            | Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512
            | Algorithm::ES256
            | Algorithm::ES384
            | Algorithm::EdDSA
    )
}

fn pem_kind(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::ES256 => "an EC P-256 key",
        Algorithm::ES384 => "an EC P-384 key",
        Algorithm::EdDSA => "an Ed25519 key",
        _ => "an RSA key",
    }
}

/// Builds the verifying half of `key`, refusing a key that does not parse or fit.
pub(crate) fn verify_key(key: &Key) -> Result<VerifyKey, ConfigError> {
    let algorithm = key.algorithm;
    if !supported(algorithm) {
        return Err(ConfigError::UnsupportedAlgorithm(algorithm));
    }
    let (verifying, jwk) = match &key.material {
        Material::Secret(secret) => (Verifying::Mac(Mac::new(algorithm, secret)?), None),
        Material::PrivatePem(pem) => {
            let signing = private_key(algorithm, pem)?;
            let jwk = Jwk::from_encoding_key(&signing, algorithm)
                .map_err(|_| ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))?;
            let public = public_from_jwk(algorithm, &jwk)?;
            self_test(algorithm, &signing, &public)?;
            (Verifying::Public(Box::new(public)), Some(jwk))
        }
        Material::PublicPem(pem) => {
            if is_hmac(algorithm) {
                return Err(ConfigError::KeyDoesNotFit(algorithm, "an HMAC secret"));
            }
            let public = match algorithm {
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
                Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
                _ => DecodingKey::from_rsa_pem(pem),
            }
            .map_err(|_| ConfigError::BadPem(pem_kind(algorithm)))?;
            let jwk = Jwk::from_decoding_key(&public, Some(algorithm))
                .map_err(|_| ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))?;
            check_curve(algorithm, &jwk)?;
            check_rsa_size(&jwk)?;
            (Verifying::Public(Box::new(public)), Some(jwk))
        }
    };
    let jwk = jwk.map(|mut jwk| {
        jwk.common.key_id.clone_from(&key.kid);
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        jwk
    });
    Ok(VerifyKey {
        algorithm,
        kid: key.kid.clone(),
        key_id: key.kid.as_deref().map(Arc::from),
        verifying,
        header_segment: header_segment(algorithm, key.kid.as_deref()),
        jwk,
        issuer: key.issuer.clone(),
        own: key.own,
    })
}

/// Builds the signing half of `key`; a public key cannot sign.
pub(crate) fn sign_key(key: &Key) -> Result<SignKey, ConfigError> {
    let algorithm = key.algorithm;
    if !supported(algorithm) {
        return Err(ConfigError::UnsupportedAlgorithm(algorithm));
    }
    let signing = match &key.material {
        Material::Secret(secret) => Signing::Mac(Mac::new(algorithm, secret)?),
        Material::PrivatePem(pem) => Signing::Private(Box::new(private_key(algorithm, pem)?)),
        Material::PublicPem(_) => return Err(ConfigError::PublicKeyCannotSign),
    };
    Ok(SignKey {
        algorithm,
        kid: key.kid.clone(),
        signing,
        header_segment: header_segment(algorithm, key.kid.as_deref()),
    })
}

pub(crate) fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

/// Parses a private PEM; an RSA one must also be large enough (it signs, or it is the
/// signing key's own verifying half: both paths come here).
fn private_key(algorithm: Algorithm, pem: &[u8]) -> Result<EncodingKey, ConfigError> {
    if is_hmac(algorithm) {
        return Err(ConfigError::KeyDoesNotFit(algorithm, "an HMAC secret"));
    }
    let private = match algorithm {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => EncodingKey::from_rsa_pem(pem),
    }
    .map_err(|_| ConfigError::BadPem(pem_kind(algorithm)))?;
    if matches!(private.family(), AlgorithmFamily::Rsa) {
        // The modulus, read through the public half (the same parser the JWKS uses).
        let jwk = Jwk::from_encoding_key(&private, algorithm)
            .map_err(|_| ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))?;
        check_rsa_size(&jwk)?;
    }
    Ok(private)
}

/// The shortest RSA modulus accepted, in bits: RFC 7518 §3.3 and §3.5 ("a key of size 2048
/// bits or larger MUST be used"), NIST SP 800-131A.
const MIN_RSA_BITS: usize = 2048;

/// Refuses an RSA key whose modulus is shorter than [`MIN_RSA_BITS`]; other keys pass.
fn check_rsa_size(jwk: &Jwk) -> Result<(), ConfigError> {
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        return Ok(());
    };
    let modulus = URL_SAFE_NO_PAD
        .decode(&rsa.n)
        .map_err(|_| ConfigError::BadPem(pem_kind(Algorithm::RS256)))?;
    let bits = bit_length(&modulus);
    if bits < MIN_RSA_BITS {
        Err(ConfigError::WeakKey { bits })
    } else {
        Ok(())
    }
}

/// The bit length of a big-endian unsigned integer (leading zero bytes and bits not counted).
fn bit_length(be: &[u8]) -> usize {
    match be.iter().position(|&byte| byte != 0) {
        Some(first) => (be.len() - first) * 8 - be[first].leading_zeros() as usize,
        None => 0,
    }
}

fn public_from_jwk(algorithm: Algorithm, jwk: &Jwk) -> Result<DecodingKey, ConfigError> {
    check_curve(algorithm, jwk)?;
    DecodingKey::from_jwk(jwk)
        .map_err(|_| ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))
}

fn check_curve(algorithm: Algorithm, jwk: &Jwk) -> Result<(), ConfigError> {
    let fits = match (&jwk.algorithm, algorithm) {
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => {
            ec.curve == EllipticCurve::P384
        }
        (AlgorithmParameters::OctetKeyPair(ed), Algorithm::EdDSA) => {
            ed.curve == EllipticCurve::Ed25519
        }
        (
            AlgorithmParameters::RSA(_),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))
    }
}

/// Signs and verifies once, so a key that parses but cannot work with its algorithm is a
/// startup error and not a 401 on every request.
fn self_test(
    algorithm: Algorithm,
    signing: &EncodingKey,
    public: &DecodingKey,
) -> Result<(), ConfigError> {
    let message = b"jwtguard key self-test";
    let works = jsonwebtoken::crypto::sign(message, signing, algorithm)
        .and_then(|signature| jsonwebtoken::crypto::verify(&signature, message, public, algorithm))
        .unwrap_or(false);
    if works {
        Ok(())
    } else {
        Err(ConfigError::KeyDoesNotFit(algorithm, pem_kind(algorithm)))
    }
}
