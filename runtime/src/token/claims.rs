//! Verified claims: what a handler receives.

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::kind::TokenKind;
use super::parse::Payload;
use super::scope::{Registry, Scope, ScopeSet};

/// A token whose signature, time claims, type, issuer and audience have been checked.
///
/// One allocation holds `sub`, `jti` and the payload JSON; everything else is inline, so
/// cloning it (the request cache, a second extractor) costs a reference count.
#[derive(Clone)]
pub(crate) struct Verified {
    buf: Arc<[u8]>,
    sub_end: usize,
    jti_end: usize,
    pub(crate) iat: i64,
    pub(crate) exp: i64,
    pub(crate) nbf: Option<i64>,
    pub(crate) fresh: bool,
    pub(crate) kind: TokenKind,
    pub(crate) scopes: ScopeSet,
    /// The registry `scopes` indexes into, by fingerprint; 0 when built without one.
    pub(crate) registry: u64,
}

/// The largest decoded payload accepted; tokens are capped at 8 KiB before decoding.
pub(crate) const MAX_PAYLOAD: usize = 6 * 1024;

impl Verified {
    /// The verified token from its parsed payload and the payload's JSON text; `registry` is
    /// the fingerprint of the registry `parsed.scopes` indexes into (0: none).
    pub(crate) fn new(parsed: Payload<'_>, json: &[u8], registry: u64) -> Self {
        let (sub, jti) = (parsed.sub.as_bytes(), parsed.jti.as_bytes());
        let sub_end = sub.len();
        let jti_end = sub_end + jti.len();
        // An exact-size iterator: `Arc` allocates once and fills it, no intermediate buffer.
        let buf: Arc<[u8]> = sub.iter().chain(jti).chain(json).copied().collect();
        Self {
            buf,
            sub_end,
            jti_end,
            iat: parsed.iat,
            exp: parsed.exp,
            nbf: parsed.nbf,
            fresh: parsed.fresh,
            kind: parsed.kind,
            scopes: parsed.scopes,
            registry,
        }
    }

    pub(crate) fn sub(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.sub_end]).unwrap_or_default()
    }

    pub(crate) fn jti(&self) -> &str {
        std::str::from_utf8(&self.buf[self.sub_end..self.jti_end]).unwrap_or_default()
    }

    pub(crate) fn payload(&self) -> &[u8] {
        &self.buf[self.jti_end..]
    }

    /// Rebuilds the scope bitset against `registry` (when the cached one was built for
    /// another registry or none).
    pub(crate) fn index_scopes(&mut self, registry: &Registry) {
        if self.registry == registry.fingerprint() {
            return;
        }
        let mut set = ScopeSet::with_capacity(registry.len());
        for name in scope_names(self.payload()) {
            registry.grant(&name, &mut set);
        }
        self.scopes = set;
        self.registry = registry.fingerprint();
    }
}

pub(crate) fn scope_names(payload: &[u8]) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct OnlyScopes {
        #[serde(default)]
        scopes: Vec<String>,
    }
    serde_json::from_slice::<OnlyScopes>(payload)
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
#[derive(Clone)]
pub struct Claims<E = ()> {
    pub(crate) verified: Verified,
    extra: E,
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
            serde_json::from_slice::<E>(verified.payload())
        }
        .map_err(|_| ExtraMismatch)?;
        Ok(Self { verified, extra })
    }
}

impl<E> Claims<E> {
    /// `sub`: whom the token is about.
    pub fn sub(&self) -> &str {
        self.verified.sub()
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

    /// The token's scopes, as written in it (wildcards included, undeclared names included).
    pub fn scopes(&self) -> Vec<String> {
        scope_names(self.verified.payload())
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

    /// The whole payload as JSON text, for claims this type does not expose.
    pub fn payload_json(&self) -> &str {
        std::str::from_utf8(self.verified.payload()).unwrap_or_default()
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
