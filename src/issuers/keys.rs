//! An issuer's key set: its JWKS read key by key, what cannot be used skipped one by one.

use std::collections::HashMap;
use std::sync::Arc;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// One usable key: its public half and the algorithms it may verify (those of its `alg`, or
/// of its type when a JWKS leaves `alg` out, as Entra ID does), within the issuer's list.
pub(crate) struct RemoteKey {
    pub(crate) key: DecodingKey,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) kid: Option<Arc<str>>,
}

/// The keys of one issuer, by `kid`.
#[derive(Default)]
pub(crate) struct KeySet {
    by_kid: HashMap<String, RemoteKey>,
    /// A key without `kid` (static keys, a JWKS of one key): used for tokens without `kid`.
    without_kid: Option<RemoteKey>,
}

/// At most this many keys are read from one JWKS (providers publish two or three).
const MAX_KEYS: usize = 64;

impl KeySet {
    pub(crate) fn get(&self, kid: Option<&str>) -> Option<&RemoteKey> {
        match kid {
            Some(kid) => self.by_kid.get(kid),
            None => self.without_kid.as_ref(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_kid.len() + usize::from(self.without_kid.is_some())
    }

    pub(crate) fn kids(&self) -> impl Iterator<Item = &str> {
        self.by_kid.keys().map(String::as_str)
    }

    pub(crate) fn insert(&mut self, key: RemoteKey) {
        match key.kid.as_deref() {
            Some(kid) => {
                self.by_kid.insert(kid.to_owned(), key);
            }
            None => self.without_kid = Some(key),
        }
    }

    /// The usable keys of a JWKS document, and how many were skipped (an encryption key, an
    /// unknown `kty`, an algorithm outside `allowed`, a symmetric key, a malformed entry):
    /// one bad key never fails the set. `Err` only when the document is not a JWKS at all.
    pub(crate) fn from_jwks(json: &[u8], allowed: &[Algorithm]) -> Result<(Self, usize), String> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document =
            serde_json::from_slice(json).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut set = Self::default();
        let mut skipped = 0;
        for entry in document.keys.into_iter().take(MAX_KEYS) {
            match usable(entry, allowed) {
                Some(key) => set.insert(key),
                None => skipped += 1,
            }
        }
        Ok((set, skipped))
    }
}

/// One JWKS entry as a verification key, or `None` when it cannot be one.
fn usable(entry: serde_json::Value, allowed: &[Algorithm]) -> Option<RemoteKey> {
    // Parsed alone: jsonwebtoken refuses a whole set for one entry of an unknown `kty`.
    let jwk: Jwk = serde_json::from_value(entry).ok()?;
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let family: &[Algorithm] = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => &[
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => &[Algorithm::ES256],
            EllipticCurve::P384 => &[Algorithm::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(_) => &[Algorithm::EdDSA],
        // A shared secret is never a key a provider publishes for others to verify with;
        // a key type jsonwebtoken adds later is not one this verifier knows.
        _ => return None,
    };
    let named = match &jwk.common.key_algorithm {
        Some(alg) => Some(alg.to_string().parse::<Algorithm>().ok()?),
        None => None,
    };
    let algorithms: Vec<Algorithm> = family
        .iter()
        .copied()
        .filter(|alg| allowed.contains(alg) && named.is_none_or(|named| named == *alg))
        .collect();
    if algorithms.is_empty() {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(RemoteKey {
        key,
        algorithms,
        kid: jwk.common.key_id.as_deref().map(Arc::from),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw";

    fn rsa(extra: &serde_json::Value) -> serde_json::Value {
        let mut key = serde_json::json!({"kty": "RSA", "n": RSA_N, "e": "AQAB"});
        key.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key
    }

    #[test]
    fn keys_that_cannot_verify_are_skipped_one_by_one() {
        let document = serde_json::json!({"keys": [
            rsa(&serde_json::json!({"kid": "sig", "use": "sig", "alg": "RS256"})),
            rsa(&serde_json::json!({"kid": "enc", "use": "enc", "alg": "RSA-OAEP"})),
            rsa(&serde_json::json!({"kid": "no-alg"})),
            rsa(&serde_json::json!({"kid": "ps", "alg": "PS512"})),
            {"kty": "oct", "kid": "secret", "k": "c2VjcmV0"},
            {"kty": "XYZ", "kid": "future"},
            {"kid": "nothing"},
        ]});
        let (set, skipped) =
            KeySet::from_jwks(document.to_string().as_bytes(), &[Algorithm::RS256]).unwrap();
        let mut kids: Vec<&str> = set.kids().collect();
        kids.sort_unstable();
        assert_eq!(kids, ["no-alg", "sig"]);
        assert_eq!(skipped, 5);
        assert_eq!(
            set.get(Some("no-alg")).unwrap().algorithms,
            [Algorithm::RS256]
        );
        assert!(KeySet::from_jwks(b"{\"not\": \"keys\"}", &[Algorithm::RS256]).is_err());
    }
}
