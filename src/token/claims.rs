//! Verified claims: what a handler receives.

use std::any::TypeId;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

use super::kind::TokenKind;
use super::parse::Payload;
use super::scope::{Registry, Scope, ScopeSet};

/// A token whose signature, time claims, type, issuer and audience have been checked.
///
/// One allocation holds the payload JSON; `sub` and `jti` are ranges into it (an escaped one
/// is appended after the payload, unescaped). Everything else is inline or shared, so cloning
/// it (the request cache, a second extractor) costs reference counts.
#[derive(Clone)]
pub(crate) struct Verified {
    buf: Arc<str>,
    payload_end: u32,
    sub: Span,
    jti: Span,
    fam: Span,
    csrf: Span,
    pub(crate) ver: u64,
    pub(crate) fam_exp: Option<i64>,
    /// `att`: the session's access-token lifetime in seconds, carried by a refresh token.
    pub(crate) att: Option<u32>,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) nbf: Option<i64>,
    pub(crate) fresh: bool,
    pub(crate) kind: TokenKind,
    pub(crate) scopes: ScopeSet,
    /// The registry `scopes` indexes into, by fingerprint; 0 when built without one.
    pub(crate) registry: u64,
    /// Signed by one of this application's own keys (only those tokens are renewed).
    pub(crate) own_key: bool,
    /// The `kid` of the configured key that verified it (shared with the key: a reference
    /// count, no copy).
    pub(crate) key_id: Option<Arc<str>>,
    /// The scope names a trusted issuer's claims mapped to (its tokens carry no `scopes`).
    pub(crate) mapped_scopes: Option<Arc<[String]>>,
}

/// Where a string sits in the buffer: `u32`s (the payload is capped at 6 KiB) keep `Verified`
/// small, and it is moved through every layer of a request.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    const EMPTY: Self = Self { start: 0, end: 0 };

    fn of(range: Range<usize>) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            start: clamp(range.start),
            end: clamp(range.end),
        }
    }
}

/// The largest decoded payload accepted; tokens are capped at 8 KiB before decoding.
pub(crate) const MAX_PAYLOAD: usize = 6 * 1024;

impl Verified {
    /// The verified token from its parsed payload and the payload's JSON text; `registry` is
    /// the fingerprint of the registry `parsed.scopes` indexes into (0: none).
    pub(crate) fn new(parsed: Payload<'_>, json: &str, registry: u64) -> Self {
        // An absent family or CSRF value is the empty span.
        let optional = |json: &str, text: &str| {
            if text.is_empty() {
                Some(Span::EMPTY)
            } else {
                within(json, text)
            }
        };
        let (buf, sub, jti, fam, csrf) = if let (Some(sub), Some(jti), Some(fam), Some(csrf)) = (
            within(json, &parsed.sub),
            within(json, &parsed.jti),
            optional(json, &parsed.fam),
            optional(json, &parsed.csrf),
        ) {
            // The usual case: all borrow from the payload, one copy of it is all it takes.
            (Arc::from(json), sub, jti, fam, csrf)
        } else {
            let mut buf = json.to_owned();
            let mut append = |text: &str| {
                let start = buf.len();
                buf.push_str(text);
                Span::of(start..buf.len())
            };
            let sub = within(json, &parsed.sub).unwrap_or_else(|| append(&parsed.sub));
            let jti = within(json, &parsed.jti).unwrap_or_else(|| append(&parsed.jti));
            let fam = optional(json, &parsed.fam).unwrap_or_else(|| append(&parsed.fam));
            let csrf = optional(json, &parsed.csrf).unwrap_or_else(|| append(&parsed.csrf));
            (Arc::from(buf), sub, jti, fam, csrf)
        };
        Self {
            buf,
            payload_end: Span::of(0..json.len()).end,
            sub,
            jti,
            fam,
            csrf,
            ver: parsed.ver,
            fam_exp: parsed.fam_exp,
            att: parsed.att,
            iat: parsed.iat,
            exp: parsed.exp,
            nbf: parsed.nbf,
            fresh: parsed.fresh,
            kind: parsed.kind,
            scopes: parsed.scopes,
            registry,
            own_key: parsed.own_key,
            key_id: None,
            mapped_scopes: None,
        }
    }

    /// Records the scope names a trusted issuer's claims map to.
    #[cfg(feature = "oidc")]
    pub(crate) fn with_mapped_scopes(mut self, names: Vec<String>) -> Self {
        self.mapped_scopes = Some(names.into());
        self
    }

    /// The scope names the token grants: its `scopes`, or what a trusted issuer's claims map
    /// to.
    pub(crate) fn scope_names(&self) -> Vec<String> {
        match &self.mapped_scopes {
            Some(names) => names.to_vec(),
            None => scope_names(self.payload()),
        }
    }

    /// Records the `kid` of the configured key that verified the token.
    pub(crate) fn verified_by(mut self, key_id: Option<&Arc<str>>) -> Self {
        self.key_id = key_id.cloned();
        self
    }

    pub(crate) fn sub(&self) -> &str {
        self.text(self.sub)
    }

    pub(crate) fn jti(&self) -> &str {
        self.text(self.jti)
    }

    /// The refresh family (empty for a token issued without one).
    pub(crate) fn fam(&self) -> &str {
        self.text(self.fam)
    }

    /// The CSRF double-submit value (empty for a token issued without one).
    pub(crate) fn csrf(&self) -> &str {
        self.text(self.csrf)
    }

    /// The payload's JSON text.
    pub(crate) fn payload(&self) -> &str {
        self.text(Span {
            start: 0,
            end: self.payload_end,
        })
    }

    /// The text at `span` (always on character boundaries: it was a `&str` when the span was
    /// taken, so no UTF-8 validation here, only the bounds).
    fn text(&self, span: Span) -> &str {
        self.buf
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Rebuilds the scope bitset against `registry` (when the cached one was built for
    /// another registry or none).
    pub(crate) fn index_scopes(&mut self, registry: &Registry) {
        if self.registry == registry.fingerprint() {
            return;
        }
        let mut set = ScopeSet::with_capacity(registry.len());
        for name in self.scope_names() {
            registry.grant(&name, &mut set);
        }
        self.scopes = set;
        self.registry = registry.fingerprint();
    }
}

/// Where `text` sits inside `json`, when it is a slice of it (a string without escapes that
/// serde borrowed from the input).
fn within(json: &str, text: &str) -> Option<Span> {
    let start = (text.as_ptr() as usize).checked_sub(json.as_ptr() as usize)?;
    let end = start.checked_add(text.len())?;
    (end <= json.len()).then(|| Span::of(start..end))
}

/// Where the payload's `iss` is, found when first asked for: verification checks `iss`
/// against the configured issuer without keeping it, so a request that never asks pays
/// nothing.
#[derive(Clone)]
enum Iss {
    Absent,
    /// A slice of the payload (no escapes).
    At(Span),
    /// Unescaped, for an `iss` written with escapes (`https:\/\/...` from some encoders).
    Unescaped(Box<str>),
}

impl Iss {
    fn read(payload: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Borrowed<'a> {
            #[serde(borrow, default)]
            iss: Option<&'a str>,
        }
        #[derive(serde::Deserialize)]
        struct Owned {
            #[serde(default)]
            iss: Option<String>,
        }
        // Verification already refused a duplicated or non-string `iss`.
        match serde_json::from_str::<Borrowed<'_>>(payload) {
            Ok(Borrowed { iss: None }) => Self::Absent,
            Ok(Borrowed { iss: Some(iss) }) => within(payload, iss).map_or(Self::Absent, Self::At),
            // A borrowed `&str` cannot hold an escaped string: read it unescaped.
            Err(_) => serde_json::from_str::<Owned>(payload)
                .ok()
                .and_then(|owned| owned.iss)
                .map_or(Self::Absent, |iss| Self::Unescaped(iss.into())),
        }
    }
}

pub(crate) fn scope_names(payload: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct OnlyScopes {
        #[serde(default)]
        scopes: Vec<String>,
    }
    serde_json::from_str::<OnlyScopes>(payload)
        .map(|s| s.scopes)
        .unwrap_or_default()
}

/// The claims of a verified token, as an extractor: `Claims` for the standard claims,
/// `Claims<MyExtra>` to also parse your own claims (any `serde::Deserialize` type, read from
/// the same payload).
///
/// As an extractor it needs `Auth: FromRef<S>` for the router state `S`. It reads
/// `Authorization: Bearer`, verifies an **access** token, and caches the result in the
/// request, so a second `Claims` (or the guard of `#[protected]`) does not verify again.
/// `Option<Claims>` is optional authentication: `None` when no token was sent, a 401 when one
/// was sent and is bad.
///
/// ```
/// use axum::{routing::get, Router, Json};
/// use jwtguard::{Auth, Claims};
///
/// async fn me(claims: Claims) -> Json<serde_json::Value> {
///     Json(serde_json::json!({ "user_id": claims.sub(), "fresh": claims.fresh() }))
/// }
///
/// # fn app(auth: Auth) -> Router {
/// Router::new().route("/me", get(me)).with_state(auth)
/// # }
/// ```
///
/// # Identifying users across issuers
///
/// `sub` is unique only within its issuer (RFC 7519 §4.1.2: "locally unique in the context of
/// the issuer"). With a foreign [verification key](crate::AuthBuilder::verification_key), two
/// issuers may each send `"sub": "42"` for two different people: key your users by
/// `(claims.issuer(), claims.sub())`, never by `sub` alone.
///
/// ```
/// # use jwtguard::Claims;
/// fn user_key(claims: &Claims) -> (Option<&str>, &str) {
///     (claims.issuer(), claims.sub())
/// }
/// # let _ = user_key;
/// ```
///
/// [`issuer`](Self::issuer) is vouched for only when verification checked it: when the key
/// that verified the token is bound with [`Key::for_issuer`](crate::Key::for_issuer), or an
/// issuer is configured with [`AuthBuilder::issuer`](crate::AuthBuilder::issuer). Otherwise
/// it is whatever the key's holder wrote; key users by `(claims.key_id(), claims.sub())` then
/// (every verification key has its own `kid`, at most one has none).
#[derive(Clone)]
pub struct Claims<E = ()> {
    pub(crate) verified: Verified,
    extra: E,
    /// `iss`, read from the payload on the first [`issuer`](Self::issuer).
    iss: OnceLock<Iss>,
}

/// Why a token's extra claims could not be read into the requested type.
#[derive(Debug)]
pub(crate) struct ExtraMismatch;

impl<E> Claims<E>
where
    E: DeserializeOwned + 'static,
{
    pub(crate) fn from_verified(verified: Verified) -> Result<Self, ExtraMismatch> {
        let extra = if TypeId::of::<E>() == TypeId::of::<()>() {
            // `()` reads only from `null`; skip the payload entirely.
            serde_json::from_slice::<E>(b"null")
        } else {
            serde_json::from_str::<E>(verified.payload())
        }
        .map_err(|_| ExtraMismatch)?;
        Ok(Self {
            verified,
            extra,
            iss: OnceLock::new(),
        })
    }
}

impl Claims {
    /// The standard claims alone: nothing to parse, so nothing can fail.
    pub(crate) fn standard(verified: Verified) -> Self {
        Self {
            verified,
            extra: (),
            iss: OnceLock::new(),
        }
    }
}

impl<E> Claims<E> {
    /// `sub`: whom the token is about.
    pub fn sub(&self) -> &str {
        self.verified.sub()
    }

    /// `iss`: the issuer the token names, when it has one. `sub` is unique only within its
    /// issuer: see [Identifying users across issuers](Self#identifying-users-across-issuers).
    ///
    /// Verification checks `iss` without keeping it, so the first call reads it from the
    /// payload (later calls on the same `Claims` do not).
    pub fn issuer(&self) -> Option<&str> {
        match self.iss.get_or_init(|| Iss::read(self.verified.payload())) {
            Iss::Absent => None,
            Iss::At(span) => Some(self.verified.text(*span)),
            Iss::Unescaped(iss) => Some(iss),
        }
    }

    /// The `kid` of the configured key that verified the token: the signing key's, or a
    /// [verification key](crate::AuthBuilder::verification_key)'s. `None` when that key has
    /// no `kid`.
    pub fn key_id(&self) -> Option<&str> {
        self.verified.key_id.as_deref()
    }

    /// `jti`: the token's unique id.
    pub fn jti(&self) -> &str {
        self.verified.jti()
    }

    /// `iat`, seconds since the Unix epoch.
    pub fn iat(&self) -> i64 {
        self.verified.iat
    }

    /// `exp`, seconds since the Unix epoch.
    pub fn exp(&self) -> i64 {
        self.verified.exp
    }

    /// `nbf`, when the token has one.
    pub fn nbf(&self) -> Option<i64> {
        self.verified.nbf
    }

    /// Whether the token was issued straight from a login (not from a refresh).
    pub fn fresh(&self) -> bool {
        self.verified.fresh
    }

    /// Access or refresh.
    pub fn kind(&self) -> TokenKind {
        self.verified.kind
    }

    /// The token's scopes, as written in it (wildcards included, undeclared names included);
    /// for a trusted issuer's token, the names its scope claims map to.
    pub fn scopes(&self) -> Vec<String> {
        self.verified.scope_names()
    }

    /// Whether the token grants `scope`: held exactly, or through a `ns:*` wildcard.
    pub fn has_scope(&self, scope: Scope) -> bool {
        if self.verified.registry == scope.registry() {
            self.verified.scopes.contains(scope.index())
        } else {
            self.scopes()
                .iter()
                .any(|held| super::scope::covers(held, scope.name()))
        }
    }

    /// Your own claims, parsed from the same payload.
    pub fn extra(&self) -> &E {
        &self.extra
    }

    /// Your own claims, by value.
    pub fn into_extra(self) -> E {
        self.extra
    }

    /// `fam`: the id of the session the token belongs to; a session starts at a login and
    /// every refresh continues it (empty for a token issued without one). The claim keeps
    /// its AuthX name (a "refresh family").
    pub fn session(&self) -> &str {
        self.verified.fam()
    }

    /// `ver`: the subject's token version when the token was issued.
    pub fn version(&self) -> u64 {
        self.verified.ver
    }

    /// The whole payload as JSON text, for claims this type does not expose.
    pub fn payload_json(&self) -> &str {
        self.verified.payload()
    }
}

impl<E: fmt::Debug> fmt::Debug for Claims<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub())
            .field("jti", &self.jti())
            .field("kind", &self.kind())
            .field("fresh", &self.fresh())
            .field("iat", &self.iat())
            .field("exp", &self.exp())
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}
