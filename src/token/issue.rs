//! Signing tokens and token pairs.
//!
//! The header segment of the signing key is encoded once at startup; a pair shares it, and
//! HMAC keys are pre-keyed, so a pair costs two payload serializations and two MACs.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::MAX_PAYLOAD;
use super::errors::IssueError;
use super::grant::{Audience, Grant, RESERVED_CLAIMS, RESERVED_HEADERS};
use super::key::{MAX_TAG, SignKey, Signing};
use super::kind::TokenKind;
use super::parse::{MAX_LIFETIME, MAX_NUMERIC_DATE};
use super::verify::MAX_TOKEN_LEN;

/// The token-pair answer of a login or refresh endpoint (RFC 6749 §5.1 and AuthX's
/// `TokenResponse`): `{"access_token", "refresh_token", "token_type": "bearer", "expires_in"}`.
///
/// As an axum response it is a 200 with `Cache-Control: no-store`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The access token's scopes, space-separated (RFC 6749 §5.1). A token endpoint always
    /// sends it; `#[login]` and `#[refresh]` leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    // Tokens are credentials: keep them out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The session a token belongs to: its subject's version and its refresh family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Session<'a> {
    pub(crate) version: u64,
    pub(crate) family: &'a str,
    /// When the family ends: no token of it outlives this.
    pub(crate) family_exp: i64,
}

pub(crate) struct Issuer {
    pub(crate) key: SignKey,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) iss: Option<String>,
    pub(crate) audience: Option<String>,
    /// Cookie mode: every token carries a `csrf` claim.
    pub(crate) csrf: bool,
}

#[derive(Serialize)]
struct Payload<'a> {
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    fresh: bool,
    scopes: &'a [Cow<'static, str>],
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<Aud<'a>>,
    ver: u64,
    fam: &'a str,
    fam_exp: i64,
    /// A refresh token's only: the session's access-token lifetime, in seconds, which every
    /// refresh keeps (see `Grant::renew`). The refresh token's own is its `exp - iat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    att: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    extra: Option<&'a Map<String, Value>>,
}

/// `aud` as written: one audience, or a renewed token's several.
#[derive(Serialize)]
#[serde(untagged)]
enum Aud<'a> {
    One(&'a str),
    Many(&'a [String]),
}

/// What a typical payload needs, with room to spare.
const JSON_CAPACITY: usize = 1024;

thread_local! {
    /// The payload's JSON before it is encoded: one buffer per thread, reused, rather than a
    /// vector grown (128, 256, 512 bytes) and freed for every token.
    static JSON: std::cell::RefCell<Vec<u8>> =
        std::cell::RefCell::new(Vec::with_capacity(JSON_CAPACITY));
}

/// Seconds of a configured duration, at most a century: lifetimes, windows and margins stay
/// far from overflowing anywhere they are added (in Rust, in Redis's Lua).
pub(crate) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs().min(u64::from(MAX_LIFETIME))).unwrap_or(i64::MAX)
}

/// A random id of 128 bits, base64url (22 characters), kept on the stack: a token id, a
/// family, a CSRF value.
pub(crate) struct Id([u8; 22]);

impl Id {
    /// An id this crate drew before (a store names a session's current refresh token by it).
    pub(crate) fn parse(id: &str) -> Option<Self> {
        let bytes: [u8; 22] = id.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .then_some(Self(bytes))
    }

    pub(crate) fn as_str(&self) -> &str {
        // Always ASCII: base64url output.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// `N` random ids from [`crate::random`]: unpredictable, as a CSRF value must be, without an
/// allocation per id.
pub(crate) fn ids<const N: usize>() -> Result<[Id; N], IssueError> {
    let mut bytes = [[0u8; 16]; N];
    crate::random::fill(bytes.as_flattened_mut()).map_err(|_| IssueError::Random)?;
    let mut ids = [const { Id([0; 22]) }; N];
    for (id, raw) in ids.iter_mut().zip(bytes) {
        // 16 bytes are always 22 characters; anything else would be a bug, not an id.
        match URL_SAFE_NO_PAD.encode_slice(raw, &mut id.0) {
            Ok(22) => {}
            _ => return Err(IssueError::Random),
        }
    }
    Ok(ids)
}

impl Issuer {
    /// One token of `kind` for `grant`; `fresh` applies to access tokens only.
    pub(crate) fn token(
        &self,
        grant: &Grant,
        kind: TokenKind,
        fresh: bool,
        now: i64,
        session: Session<'_>,
    ) -> Result<String, IssueError> {
        let header = self.header(grant)?;
        let [jti] = ids()?;
        self.sign(&header, grant, kind, fresh, now, jti.as_str(), session)
    }

    /// An access + refresh pair of `session`, with the token ids drawn by the caller.
    pub(crate) fn pair_with(
        &self,
        grant: &Grant,
        fresh: bool,
        now: i64,
        session: Session<'_>,
        [access_id, refresh_id]: [Id; 2],
    ) -> Result<TokenResponse, IssueError> {
        let header = self.header(grant)?;
        let access_token = self.sign(
            &header,
            grant,
            TokenKind::Access,
            fresh,
            now,
            access_id.as_str(),
            session,
        )?;
        let refresh_token = self.sign(
            &header,
            grant,
            TokenKind::Refresh,
            false,
            now,
            refresh_id.as_str(),
            session,
        )?;
        Ok(TokenResponse {
            access_token,
            refresh_token,
            token_type: "bearer".to_owned(),
            expires_in: u64::try_from(
                now.saturating_add(secs(grant.access_ttl.unwrap_or(self.access_ttl)))
                    .min(session.family_exp)
                    .saturating_sub(now),
            )
            .unwrap_or(0),
            scope: None,
        })
    }

    fn header<'s>(&'s self, grant: &Grant) -> Result<Cow<'s, str>, IssueError> {
        let extra = grant.headers.as_ref().map_err(Clone::clone)?;
        if extra.is_empty() {
            return Ok(Cow::Borrowed(&self.key.header_segment));
        }
        if let Some(name) = extra
            .keys()
            .find(|k| RESERVED_HEADERS.contains(&k.as_str()))
        {
            return Err(IssueError::ReservedHeader(name.clone()));
        }
        let mut header = extra.clone();
        header.insert(
            "alg".into(),
            serde_json::to_value(self.key.algorithm).map_err(|_| IssueError::Serialize)?,
        );
        header.insert("typ".into(), "JWT".into());
        if let Some(kid) = &self.key.kid {
            header.insert("kid".into(), kid.clone().into());
        }
        let json = serde_json::to_vec(&header).map_err(|_| IssueError::Serialize)?;
        Ok(Cow::Owned(URL_SAFE_NO_PAD.encode(json)))
    }

    // Every part of a token is an argument: bundling them would only move the list elsewhere.
    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        header: &str,
        grant: &Grant,
        kind: TokenKind,
        fresh: bool,
        now: i64,
        jti: &str,
        session: Session<'_>,
    ) -> Result<String, IssueError> {
        let extra = grant.extra.as_ref().map_err(Clone::clone)?.as_ref();
        if let Some(name) =
            extra.and_then(|m| m.keys().find(|k| RESERVED_CLAIMS.contains(&k.as_str())))
        {
            return Err(IssueError::ReservedClaim(name.clone()));
        }
        if grant.sub.is_empty() {
            return Err(IssueError::EmptySubject);
        }
        let access_ttl = grant.access_ttl.unwrap_or(self.access_ttl);
        let (ttl, scopes, att) = match kind {
            TokenKind::Access => (access_ttl, &grant.scopes, None),
            TokenKind::Refresh => {
                // The session's access lifetime, for its refreshes. Zero would be refused
                // when verified: refused here instead, as for an access token.
                let att = u32::try_from(secs(access_ttl))
                    .ok()
                    .filter(|secs| *secs > 0)
                    .ok_or(IssueError::Lifetime)?;
                (
                    grant.refresh_ttl.unwrap_or(self.refresh_ttl),
                    grant.refresh_scopes.as_ref().unwrap_or(&grant.scopes),
                    Some(att),
                )
            }
        };
        // No token outlives its family: a session cannot be extended forever by refreshing.
        let exp = now.saturating_add(secs(ttl)).min(session.family_exp);
        // Cookie mode: a random double-submit value per token, bound to it by the signature.
        let csrf = if self.csrf {
            let [value] = ids()?;
            Some(value)
        } else {
            None
        };
        if ttl.as_secs() == 0 || exp > MAX_NUMERIC_DATE {
            return Err(IssueError::Lifetime);
        }
        if exp <= now {
            return Err(IssueError::FamilyEnded);
        }
        let payload = Payload {
            sub: &grant.sub,
            iat: now,
            nbf: now,
            exp,
            jti,
            kind: kind.as_str(),
            fresh: fresh && kind == TokenKind::Access,
            scopes,
            iss: self.iss.as_deref(),
            aud: match &grant.audience {
                Some(Audience::One(aud)) => Some(Aud::One(aud)),
                Some(Audience::Many(auds)) => Some(Aud::Many(auds)),
                None => self.audience.as_deref().map(Aud::One),
            },
            ver: session.version,
            fam: session.family,
            fam_exp: session.family_exp,
            att,
            csrf: csrf.as_ref().map(Id::as_str),
            extra,
        };
        let mut token = JSON.with_borrow_mut(|json| {
            json.clear();
            let token = serde_json::to_writer(&mut *json, &payload)
                .map_err(|_| IssueError::Serialize)
                .and_then(|()| {
                    // Never hand out a token that verification would refuse for its size (the
                    // whole token is checked again once signed: RSA signatures alone are 342
                    // characters).
                    if json.len() > MAX_PAYLOAD {
                        return Err(IssueError::TooLarge);
                    }
                    let mut token =
                        String::with_capacity(header.len() + json.len() * 4 / 3 + 4 + 90);
                    token.push_str(header);
                    token.push('.');
                    URL_SAFE_NO_PAD.encode_string(&json[..], &mut token);
                    Ok(token)
                });
            if json.capacity() > MAX_PAYLOAD * 2 {
                // A huge extra claim was refused: do not keep its buffer for the thread's life.
                *json = Vec::with_capacity(JSON_CAPACITY);
            }
            token
        })?;
        match &self.key.signing {
            Signing::Mac(mac) => {
                let mut tag = [0u8; MAX_TAG];
                let len = mac.sign(token.as_bytes(), &mut tag);
                token.push('.');
                URL_SAFE_NO_PAD.encode_string(&tag[..len], &mut token);
            }
            Signing::Private(key) => {
                let signature =
                    jsonwebtoken::crypto::sign(token.as_bytes(), key, self.key.algorithm)
                        .map_err(|_| IssueError::Sign)?;
                token.push('.');
                token.push_str(&signature);
            }
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(IssueError::TooLarge);
        }
        Ok(token)
    }
}
