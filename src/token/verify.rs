//! Strict verification of one token, independent of HTTP.
//!
//! Order matters: sizes are bounded before anything is decoded, the signature is checked
//! before any claim is believed, and the claims are parsed once.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::claims::{MAX_PAYLOAD, Verified};
use super::errors::TokenError;
use super::key::{MAX_TAG, VerifyKey, Verifying};
use super::kind::TokenKind;
use super::parse::{self, Expect, Payload, PayloadError};
use super::revocation::{Presented, Refusal, Store};
use super::scope::{Registry, ScopeSet};
use super::verified_cache::VerifiedCache;

/// The longest token accepted; longer ones are refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
const MAX_HEADER: usize = 1024;
const SMALL_PAYLOAD: usize = 768;

/// Checks signatures and claims with the configured keys and rules.
pub(crate) struct Verifier {
    pub(crate) keys: Vec<VerifyKey>,
    /// Tolerated on `exp`, `nbf` and `iat`.
    pub(crate) leeway: i64,
    /// Tolerated on `nbf` and `iat` at least: how far ahead of this instance's clock the
    /// issuing instance's clock may be.
    pub(crate) skew: i64,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Vec<String>,
    /// The opt-in verified-token cache (access tokens only).
    pub(crate) cache: Option<VerifiedCache>,
    /// Asked after the signature and the claims passed: is the token revoked?
    pub(crate) store: std::sync::Arc<dyn Store>,
    /// Identity providers whose tokens are accepted, routed by `iss`.
    #[cfg(feature = "oidc")]
    pub(crate) trusted: Option<Arc<crate::issuers::Trusted>>,
}

/// A token that passed every check, as the verifier hands it over: just parsed (borrowing
/// from the decoded payload, nothing kept yet), or out of the verified-token cache.
pub(crate) enum Checked<'a> {
    Parsed {
        payload: Payload<'a>,
        json: &'a str,
        /// The fingerprint of the registry `payload.scopes` indexes into (0: none).
        registry: u64,
        /// The `kid` of the configured key that verified it.
        key_id: Option<&'a Arc<str>>,
    },
    Cached(Verified),
}

impl Checked<'_> {
    pub(crate) fn kind(&self) -> TokenKind {
        match self {
            Self::Parsed { payload, .. } => payload.kind,
            Self::Cached(verified) => verified.kind,
        }
    }

    pub(crate) fn fresh(&self) -> bool {
        match self {
            Self::Parsed { payload, .. } => payload.fresh,
            Self::Cached(verified) => verified.fresh,
        }
    }

    pub(crate) fn scopes(&self) -> &ScopeSet {
        match self {
            Self::Parsed { payload, .. } => &payload.scopes,
            Self::Cached(verified) => &verified.scopes,
        }
    }

    pub(crate) fn csrf(&self) -> &str {
        match self {
            Self::Parsed { payload, .. } => &payload.csrf,
            Self::Cached(verified) => verified.csrf(),
        }
    }

    /// Keeps the claims (one allocation for a parsed token, a reference count for a cached one).
    pub(crate) fn into_verified(self) -> Verified {
        match self {
            Self::Parsed {
                payload,
                json,
                registry,
                key_id,
            } => Verified::new(payload, json, registry).verified_by(key_id),
            Self::Cached(verified) => verified,
        }
    }
}

impl Verifier {
    /// Verifies `token` and keeps its claims (one allocation for the payload, plus a decode
    /// buffer for payloads over 768 bytes and a list of names for tokens with claims of
    /// their own).
    pub(crate) fn verify(
        &self,
        token: &str,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
    ) -> Result<Verified, TokenError> {
        // A closure, not the method path: `finish` must accept a `Checked` of any lifetime.
        #[allow(clippy::redundant_closure_for_method_calls)]
        self.verify_with(token, expect, registry, now, |token| token.into_verified())
    }

    /// Verifies `token` and hands the checked token to `finish`, which keeps what it needs:
    /// a guard that only decides yes or no keeps nothing (and, for a typical token,
    /// allocates nothing).
    pub(crate) fn verify_with<T>(
        &self,
        token: &str,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
        finish: impl FnOnce(Checked<'_>) -> T,
    ) -> Result<T, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLarge);
        }
        let cache = self.cache.as_ref().filter(|_| expect == TokenKind::Access);
        if let Some(hit) = cache.and_then(|cache| self.cached(cache, token, registry, now)) {
            return hit.map(|verified| finish(Checked::Cached(verified)));
        }
        // `find`/`rfind` are memchr-fast; a `.` between the two is a fourth segment.
        let first = token.find('.').ok_or(TokenError::Malformed)?;
        let second = token.rfind('.').ok_or(TokenError::Malformed)?;
        if second == first || token[first + 1..second].contains('.') {
            return Err(TokenError::Malformed);
        }
        let (header, payload, signature) = (
            &token[..first],
            &token[first + 1..second],
            &token[second + 1..],
        );
        // Typical payloads fit a small stack buffer (cheap to zero); larger ones, up to the
        // cap, go to the heap rather than zeroing 6 KiB on every request.
        let mut small = [0u8; SMALL_PAYLOAD];
        let mut large = Vec::new();
        let buf: &mut [u8] = if payload.len() <= SMALL_PAYLOAD * 4 / 3 {
            &mut small
        } else {
            large.resize(MAX_PAYLOAD, 0);
            &mut large
        };
        // Decoded once: before the signature when trusted issuers are told apart by `iss`,
        // after it otherwise.
        #[cfg_attr(not(feature = "oidc"), allow(unused_mut))]
        let mut decoded = None;
        #[cfg(feature = "oidc")]
        if let Some(trusted) = &self.trusted
            && let Ok(len) = decode(payload, buf)
        {
            decoded = Some(len);
            let segments = crate::issuers::Segments {
                header,
                signing_input: &token[..second],
                signature,
            };
            if let Ok(json) = std::str::from_utf8(&buf[..len])
                && let Some(remote) = self.remote(trusted, segments, json, expect, registry, now)
            {
                let verified = remote?;
                if let Some(cache) = cache {
                    cache.insert(token, verified.clone());
                }
                return Ok(finish(Checked::Cached(verified)));
            }
        }
        let key = self.select_key(header)?;
        Self::check_signature(key, &token[..second], signature)?;

        let len = match decoded {
            Some(len) => len,
            None => decode(payload, buf)?,
        };
        // The whole payload must be UTF-8, skipped members too (RFC 8725 §3.7); checked once
        // here (a vectorised pass), so serde does not check each string again.
        let json = std::str::from_utf8(&buf[..len]).map_err(|_| TokenError::Malformed)?;
        let mut parsed = self.claims(json, key, expect, registry, now)?;
        parsed.own_key = key.own;
        self.not_revoked(&parsed.sub, &parsed.jti, &parsed.fam, parsed.ver, now)?;
        let registry = registry.map_or(0, Registry::fingerprint);
        if let (Some(cache), TokenKind::Access) = (cache, parsed.kind) {
            let verified = Verified::new(parsed, json, registry).verified_by(key.key_id.as_ref());
            cache.insert(token, verified.clone());
            return Ok(finish(Checked::Cached(verified)));
        }
        Ok(finish(Checked::Parsed {
            payload: parsed,
            json,
            registry,
            key_id: key.key_id.as_ref(),
        }))
    }

    /// A token whose `iss` names a trusted issuer, verified by that issuer's rules; `None`
    /// for any other token (this application's own, verified as before).
    #[cfg(feature = "oidc")]
    fn remote(
        &self,
        trusted: &crate::issuers::Trusted,
        segments: crate::issuers::Segments<'_>,
        json: &str,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
    ) -> Option<Result<Verified, TokenError>> {
        #[derive(serde::Deserialize)]
        struct Iss<'a> {
            #[serde(borrow)]
            iss: Option<std::borrow::Cow<'a, str>>,
        }
        // Routed by the unverified `iss`: the token must then verify with that issuer's keys.
        let iss = serde_json::from_str::<Iss<'_>>(json).ok()?.iss?;
        let verified = trusted
            .verify(&iss, segments, json, expect, registry, now)?
            .and_then(|remote| {
                // A subject's version belongs to this application's own tokens: a provider's
                // token carries none, so `revoke_all` does not reach it (it would refuse the
                // subject's every future provider token too).
                self.not_revoked(&remote.payload.sub, &remote.payload.jti, "", u64::MAX, now)?;
                let fingerprint = registry.map_or(0, Registry::fingerprint);
                Ok(Verified::new(remote.payload, json, fingerprint)
                    .verified_by(remote.key_id.as_ref())
                    .with_mapped_scopes(remote.scope_names))
            });
        Some(verified)
    }

    /// A hit of the verified-token cache, checked again for time and revocation (refused as
    /// full verification would refuse it), its scopes indexed into `registry`. `None`: not
    /// cached, verify in full.
    fn cached(
        &self,
        cache: &VerifiedCache,
        token: &str,
        registry: Option<&Registry>,
        now: i64,
    ) -> Option<Result<Verified, TokenError>> {
        let mut hit = cache.get(token)?;
        if let Err(refused) = self.in_time(hit.exp, hit.nbf, hit.iat, now) {
            // Expired: the entry is of no more use. Not yet valid: the clock stepped back
            // since the entry was filled; it may be valid again later, verified in full.
            if refused == TokenError::Expired {
                cache.remove(token);
            }
            return Some(Err(refused));
        }
        if let Err(refused) = self.not_revoked(hit.sub(), hit.jti(), hit.fam(), hit.ver, now) {
            if refused == TokenError::Revoked {
                cache.remove(token);
            }
            return Some(Err(refused));
        }
        if let Some(registry) = registry
            && hit.registry != registry.fingerprint()
        {
            // Filled by a call for another registry (or none): index once, keep the result.
            hit.index_scopes(registry);
            cache.insert(token, hit.clone());
        }
        Some(Ok(hit))
    }

    /// The time claims against `now`: `exp` with the leeway; `nbf` and `iat` with the leeway
    /// or the tolerated clock skew, whichever is larger.
    fn in_time(&self, exp: i64, nbf: Option<i64>, iat: i64, now: i64) -> Result<(), TokenError> {
        if now >= exp.saturating_add(self.leeway) {
            return Err(TokenError::Expired);
        }
        let ahead = now.saturating_add(self.leeway.max(self.skew));
        if nbf.is_some_and(|nbf| ahead < nbf) {
            return Err(TokenError::NotYetValid);
        }
        if iat > ahead {
            return Err(TokenError::IssuedInFuture);
        }
        Ok(())
    }

    /// Asks the revocation store about a token whose signature and claims passed.
    fn not_revoked(
        &self,
        sub: &str,
        jti: &str,
        family: &str,
        version: u64,
        now: i64,
    ) -> Result<(), TokenError> {
        self.store
            .check(
                &Presented {
                    sub,
                    jti,
                    family,
                    version,
                },
                now,
            )
            .map_err(|refusal| match refusal {
                Refusal::Revoked => TokenError::Revoked,
                Refusal::Unavailable => TokenError::StoreUnavailable,
            })
    }

    /// The checks on a decoded, signature-verified payload.
    fn claims<'j>(
        &self,
        json: &'j str,
        key: &VerifyKey,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
    ) -> Result<Payload<'j>, TokenError> {
        let parsed = parse::payload(
            json,
            &Expect {
                registry,
                issuer: key.issuer.as_deref().or(self.issuer.as_deref()),
                audience: &self.audience,
            },
        )
        .map_err(|e| match e {
            PayloadError::Malformed => TokenError::Malformed,
            PayloadError::Missing(name) => TokenError::MissingClaim(name),
            PayloadError::WrongAudience => TokenError::Audience,
            PayloadError::WrongIssuer => TokenError::Issuer,
        })?;

        self.in_time(parsed.exp, parsed.nbf, parsed.iat, now)?;
        if parsed.kind != expect {
            return Err(TokenError::WrongType);
        }
        Ok(parsed)
    }

    /// The key for this header: byte-equal to a header we issue (no parsing), or parsed once
    /// into its `alg`/`kid`/`crit`, with the algorithm dictated by the key, never the token.
    fn select_key(&self, header: &str) -> Result<&VerifyKey, TokenError> {
        if let Some(key) = self.keys.iter().find(|k| k.header_segment == header) {
            return Ok(key);
        }
        if header.len() > MAX_HEADER * 4 / 3 + 4 {
            return Err(TokenError::TooLarge);
        }
        let mut buf = [0u8; MAX_HEADER];
        let len = decode(header, &mut buf)?;
        // Valid UTF-8 throughout, skipped members included (RFC 8725 §3.7).
        let text = std::str::from_utf8(&buf[..len]).map_err(|_| TokenError::Malformed)?;
        let parsed: parse::Header<'_> =
            serde_json::from_str(text).map_err(|_| TokenError::Malformed)?;
        if parsed.crit {
            return Err(TokenError::Critical);
        }
        // Explicit typing (RFC 8725 §3.11): a `typ` must be one this application issues, so
        // a JWE, a logout token or another protocol's JWT is never taken for ours.
        if parsed
            .typ
            .as_deref()
            .is_some_and(|typ| !typ.eq_ignore_ascii_case("JWT"))
        {
            return Err(TokenError::WrongType);
        }
        let key = match parsed.kid.as_deref() {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or(TokenError::UnknownKey)?,
            None => self
                .keys
                .iter()
                .find(|k| k.kid.is_none())
                .ok_or(TokenError::UnknownKey)?,
        };
        let alg = parsed
            .alg
            .parse::<jsonwebtoken::Algorithm>()
            .map_err(|_| TokenError::Algorithm)?;
        if alg != key.algorithm {
            return Err(TokenError::Algorithm);
        }
        Ok(key)
    }

    fn check_signature(
        key: &VerifyKey,
        signing_input: &str,
        signature: &str,
    ) -> Result<(), TokenError> {
        let valid = match &key.verifying {
            Verifying::Mac(mac) => {
                let mut tag = [0u8; MAX_TAG];
                let len = URL_SAFE_NO_PAD
                    .decode_slice(signature, &mut tag)
                    .map_err(|_| TokenError::Signature)?;
                mac.verify(signing_input.as_bytes(), &tag[..len])
            }
            Verifying::Public(public) => jsonwebtoken::crypto::verify(
                signature,
                signing_input.as_bytes(),
                public,
                key.algorithm,
            )
            .unwrap_or(false),
        };
        if valid {
            Ok(())
        } else {
            Err(TokenError::Signature)
        }
    }
}

/// Decodes canonical unpadded base64url into `out`; anything larger than `out` is refused.
fn decode(segment: &str, out: &mut [u8]) -> Result<usize, TokenError> {
    if segment.len() > out.len() * 4 / 3 + 4 {
        return Err(TokenError::TooLarge);
    }
    URL_SAFE_NO_PAD
        .decode_slice(segment, out)
        .map_err(|_| TokenError::Malformed)
}
