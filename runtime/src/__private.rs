//! What the macros expand to. Not public API: names and signatures may change in any release.
//!
//! Everything an expansion does can be written by hand against these items; the rustdoc of
//! each macro shows that equivalent code.

// axum's own error type for handlers is `Response`; boxing it here would only add an allocation.
#![allow(clippy::result_large_err)]

use std::marker::PhantomData;

use axum_core::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum_core::response::IntoResponse;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use serde::de::DeserializeOwned;

pub use crate::token::kind::TokenKind;
pub use crate::token::scope::Registry;
pub use axum_core::response::Response;

use crate::auth::Auth;
use crate::http::bearer::bearer;
use crate::http::error::{AuthError, AuthErrorKind};
use crate::http::extract::{missing, verified};
use crate::token::claims::{Claims, Verified};
use crate::token::grant::Grant;
use crate::token::scope::{ScopeSet, covers};

/// What a `#[protected]` route requires, computed at compile time.
#[derive(Debug)]
pub struct PolicySpec {
    /// Access or refresh.
    pub kind: TokenKind,
    /// Only a fresh token.
    pub fresh: bool,
    /// Indices that must all be held.
    pub all: &'static [u16],
    /// Indices of which one must be held (none: no any-of requirement).
    pub any: &'static [u16],
    /// The registry the indices refer to.
    pub registry: Option<&'static Registry>,
    /// The `scope` of the 403 challenge: what the route requires, space-separated.
    pub scope: &'static str,
    /// Whether the handler has other extractors that may want the verified claims; without
    /// any, caching them in the request would be work for no one.
    pub share: bool,
}

/// A route's requirement, as a type so it can parameterise the guard extractor.
pub trait Policy: 'static {
    /// The requirement.
    const SPEC: PolicySpec;
}

/// The extractor `#[protected]` inserts as the handler's first parameter.
///
/// `A` is always [`Auth`], written out by the macro: when a router's state gives no `Auth`,
/// rustc reports only that the handler does not implement `Handler`, and this parameter makes
/// that message name `jwtguard::Auth`.
pub struct Guard<P, A>(PhantomData<fn() -> (P, A)>);

impl<P, A> core::fmt::Debug for Guard<P, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Guard")
    }
}

/// The guard `#[protected]` inserts when the handler takes `Claims`: it keeps the verified
/// token and hands it to those parameters, which the macro binds from it (so the claims are
/// neither cached in the request nor verified twice).
pub struct ClaimsGuard<P, A> {
    token: Verified,
    policy: PhantomData<fn() -> (P, A)>,
}

impl<P, A> core::fmt::Debug for ClaimsGuard<P, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ClaimsGuard")
    }
}

impl<P, A> ClaimsGuard<P, A> {
    /// The claims for one of the handler's `Claims` parameters.
    pub fn claims(&self) -> Claims {
        Claims::standard(self.token.clone())
    }
}

impl<S, P> FromRequestParts<S> for ClaimsGuard<P, Auth>
where
    S: HasAuth + Send + Sync,
    P: Policy,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = verified_for(parts, &state.auth(), &P::SPEC)?;
        Ok(Self {
            token,
            policy: PhantomData,
        })
    }
}

/// The router state of a jwtguard handler must give access to an [`Auth`].
#[diagnostic::on_unimplemented(
    message = "the router state `{Self}` gives no `jwtguard::Auth`",
    label = "jwtguard handlers need `jwtguard::Auth: FromRef<{Self}>`",
    note = "give the router `.with_state(auth)`, or implement `FromRef<{Self}> for jwtguard::Auth` (or derive `axum::extract::FromRef` on your state with an `Auth` field)"
)]
pub trait HasAuth {
    /// The configuration.
    fn auth(&self) -> Auth;
}

impl<S> HasAuth for S
where
    Auth: FromRef<S>,
{
    fn auth(&self) -> Auth {
        Auth::from_ref(self)
    }
}

impl<S, P> FromRequestParts<S> for Guard<P, Auth>
where
    S: HasAuth + Send + Sync,
    P: Policy,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        let spec = &P::SPEC;
        if spec.share {
            verified_for(parts, &auth, spec)?;
            return Ok(Self(PhantomData));
        }
        // Nobody after the guard wants the claims: decide on the parsed payload and keep
        // nothing (no allocation, no request extension). The guard is the first extractor,
        // so only a middleware could have verified the token before; re-verifying then is
        // cheaper than a cache lookup on every request.
        let token = bearer(&parts.headers)
            .map_err(|e| e.with_auth(&auth))?
            .ok_or_else(|| missing(&auth))?;
        auth.verify_with(token, spec.kind, spec.registry, |parsed, _| {
            check(parsed.kind, parsed.fresh, &parsed.scopes, spec)
        })
        .map_err(|e| AuthError::from(e).with_auth(&auth))?
        .map_err(|kind| AuthError::new(kind).with_auth(&auth))?;
        Ok(Self(PhantomData))
    }
}

/// The request's verified token (from the request cache, or verified and cached when
/// `spec.share`), once it meets the route's requirement.
fn verified_for(parts: &mut Parts, auth: &Auth, spec: &PolicySpec) -> Result<Verified, AuthError> {
    let token = verified(parts, auth, spec.kind, spec.registry, spec.share)?
        .ok_or_else(|| missing(auth))?;
    check(token.kind, token.fresh, &token.scopes, spec)
        .map_err(|kind| AuthError::new(kind).with_auth(auth))?;
    Ok(token)
}

fn check(
    kind: TokenKind,
    fresh: bool,
    scopes: &ScopeSet,
    spec: &PolicySpec,
) -> Result<(), AuthErrorKind> {
    if kind != spec.kind {
        return Err(AuthErrorKind::InvalidToken(
            crate::token::errors::TokenError::WrongType,
        ));
    }
    if !scopes.contains_all(spec.all) || (!spec.any.is_empty() && !scopes.contains_any(spec.any)) {
        return Err(AuthErrorKind::InsufficientScope(spec.scope));
    }
    if spec.fresh && !fresh {
        return Err(AuthErrorKind::NotFresh);
    }
    Ok(())
}

// ---- compile-time scope checks ------------------------------------------------------------

/// Implemented by the hidden type that `scopes!` declares at the crate root. The expansions
/// find it through `use crate::*`, and fall back to [`fallback::__JwtguardScopeRegistry`]
/// when the crate declared no scopes.
pub trait ScopeRegistry {
    /// False only for the fallback.
    const DECLARED: bool;
    /// The declared names, in declaration order.
    const NAMES: &'static [&'static str];
    /// The runtime registry.
    const REGISTRY: Option<&'static Registry>;
}

/// The registry a crate without `scopes!` resolves to.
pub mod fallback {
    /// Stands in for the registry of a crate that declared no scopes.
    #[allow(non_camel_case_types, missing_debug_implementations)]
    pub struct __JwtguardScopeRegistry;

    impl super::ScopeRegistry for __JwtguardScopeRegistry {
        const DECLARED: bool = false;
        const NAMES: &'static [&'static str] = &[];
        const REGISTRY: Option<&'static super::Registry> = None;
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The index of `scope` among `names`, or `u16::MAX` (the build then fails in
/// [`check_scope`], so the value is never used).
pub const fn scope_index(names: &[&str], scope: &str) -> u16 {
    let mut i = 0;
    while i < names.len() {
        if same(names[i], scope) {
            // `scopes!` refuses more than u16::MAX scopes, so the index fits.
            #[allow(clippy::cast_possible_truncation)]
            return i as u16;
        }
        i += 1;
    }
    u16::MAX
}

const MESSAGE: usize = 1536;

/// The outcome of a compile-time scope check, with the error text built at compile time.
#[derive(Debug)]
pub struct ScopeCheck {
    ok: bool,
    buf: [u8; MESSAGE],
    len: usize,
}

impl ScopeCheck {
    /// Whether the scope is declared.
    pub const fn ok(&self) -> bool {
        self.ok
    }

    /// The error message.
    pub const fn message(&self) -> &str {
        let (text, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "unknown scope",
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < MESSAGE {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn push_const_name(mut self, scope: &str) -> Self {
        let bytes = scope.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < MESSAGE {
            let b = bytes[i];
            self.buf[self.len] = if b.is_ascii_alphanumeric() {
                b.to_ascii_uppercase()
            } else {
                b'_'
            };
            self.len += 1;
            i += 1;
        }
        self
    }
}

/// Checks at compile time that `scope`, named in `#[attribute]`, is declared; builds the
/// error message (with a "did you mean") when it is not.
pub const fn check_scope(
    declared: bool,
    names: &[&str],
    attribute: &str,
    scope: &str,
) -> ScopeCheck {
    let mut out = ScopeCheck {
        ok: false,
        buf: [0; MESSAGE],
        len: 0,
    };
    if !declared {
        return out
            .push("`#[")
            .push(attribute)
            .push("]` names the scope \"")
            .push(scope)
            .push("\", but this crate declares no scopes: add `jwtguard::scopes! { ")
            .push_const_name(scope)
            .push(" = \"")
            .push(scope)
            .push("\" }` at the crate root (main.rs or lib.rs)");
    }
    if scope_index(names, scope) != u16::MAX {
        out.ok = true;
        return out;
    }
    out = out
        .push("unknown scope \"")
        .push(scope)
        .push("\" in `#[")
        .push(attribute)
        .push("]`");
    let mut best = usize::MAX;
    let mut best_at = 0;
    let mut i = 0;
    while i < names.len() {
        let d = distance(names[i].as_bytes(), scope.as_bytes());
        if d < best {
            best = d;
            best_at = i;
        }
        i += 1;
    }
    let limit = if scope.len() / 3 > 2 {
        scope.len() / 3
    } else {
        2
    };
    out = if best <= limit {
        out.push(": did you mean \"")
            .push(names[best_at])
            .push("\"? declared scopes: ")
    } else {
        out.push("; declared scopes: ")
    };
    let mut i = 0;
    while i < names.len() {
        if out.len + names[i].len() + 16 > MESSAGE {
            out = out.push(", ...");
            break;
        }
        if i > 0 {
            out = out.push(", ");
        }
        out = out.push("\"").push(names[i]).push("\"");
        i += 1;
    }
    out
}

/// Levenshtein distance for names up to 64 bytes (longer ones are never "close").
const fn distance(a: &[u8], b: &[u8]) -> usize {
    const MAX: usize = 64;
    if a.len() > MAX || b.len() > MAX {
        return usize::MAX;
    }
    let mut prev = [0usize; MAX + 1];
    let mut cur = [0usize; MAX + 1];
    let mut j = 0;
    while j <= b.len() {
        prev[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        cur[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let mut best = prev[j - 1] + cost;
            if prev[j] + 1 < best {
                best = prev[j] + 1;
            }
            if cur[j - 1] + 1 < best {
                best = cur[j - 1] + 1;
            }
            cur[j] = best;
            j += 1;
        }
        prev = cur;
        i += 1;
    }
    prev[b.len()]
}

// ---- #[login] and #[refresh] ----------------------------------------------------------------

/// What a `#[login]` or `#[refresh]` handler may return.
#[diagnostic::on_unimplemented(
    message = "a `#[login]`/`#[refresh]` handler must return `jwtguard::Grant` or `Result<jwtguard::Grant, E>` with `E: IntoResponse`, not `{Self}`",
    label = "this is what the handler returns"
)]
pub trait IntoGrant {
    /// The grant, or the handler's own error answer.
    fn into_grant(self) -> Result<Grant, Response>;
}

impl IntoGrant for Grant {
    fn into_grant(self) -> Result<Grant, Response> {
        Ok(self)
    }
}

impl<E: IntoResponse> IntoGrant for Result<Grant, E> {
    fn into_grant(self) -> Result<Grant, Response> {
        self.map_err(IntoResponse::into_response)
    }
}

/// The extractor `#[login]` inserts: the configuration to sign with.
#[derive(Debug)]
pub struct Signer(Auth);

impl<S> FromRequestParts<S> for Signer
where
    S: HasAuth + Send + Sync,
{
    type Rejection = core::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(state.auth()))
    }
}

fn within(ceiling: Option<&[&str]>, scope: &str) -> bool {
    ceiling.is_none_or(|allowed| allowed.iter().any(|c| covers(c, scope)))
}

fn answer(auth: &Auth, grant: &Grant, fresh: bool) -> Response {
    match auth.issue_pair(grant, fresh) {
        Ok(pair) => pair.into_response(),
        Err(error) => AuthError::from(error).with_auth(auth).into_response(),
    }
}

/// The answer of a `#[login]` handler: the pair for its grant, cut down to the ceiling; fresh
/// unless the grant says `fresh(false)`.
pub fn login<G: IntoGrant>(signer: &Signer, outcome: G, ceiling: Option<&[&str]>) -> Response {
    let mut grant = match outcome.into_grant() {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    grant.clamp(|scope| within(ceiling, scope));
    let fresh = grant.fresh.unwrap_or(true);
    answer(&signer.0, &grant, fresh)
}

/// The largest JSON body read for `{"refresh_token": "..."}`.
const MAX_REFRESH_BODY: usize = 16 * 1024;

/// The extractor `#[refresh]` inserts as the handler's last parameter: a verified refresh
/// token from `Authorization: Bearer` or a JSON body `{"refresh_token": "..."}`.
pub struct RefreshGuard {
    auth: Auth,
    token: Verified,
}

impl core::fmt::Debug for RefreshGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RefreshGuard")
    }
}

/// `application/json` or any `+json` type, parameters (`; charset=utf-8`) aside.
fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/json")
        || media
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

#[derive(serde::Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

impl<S> FromRequest<S> for RefreshGuard
where
    S: HasAuth + Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        let (parts, body) = request.into_parts();
        let header = bearer(&parts.headers).map_err(|e| e.with_auth(&auth))?;
        let is_json = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json);
        let from_body = if is_json {
            let bytes = http_body_util::BodyExt::collect(http_body_util::Limited::new(
                body,
                MAX_REFRESH_BODY,
            ))
            .await
            .map(http_body_util::Collected::to_bytes)
            .map_err(|error| {
                let description = if error.is::<http_body_util::LengthLimitError>() {
                    "The request body is too large"
                } else {
                    "The request body could not be read"
                };
                AuthError::invalid_request(description).with_auth(&auth)
            })?;
            if bytes.is_empty() {
                None
            } else {
                let parsed: RefreshBody = serde_json::from_slice(&bytes).map_err(|_| {
                    AuthError::invalid_request(
                        "The body must be a JSON object with a refresh_token string",
                    )
                    .with_auth(&auth)
                })?;
                Some(parsed.refresh_token)
            }
        } else {
            None
        };
        let token = match (header, from_body.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(
                    AuthError::invalid_request("Send the refresh token once").with_auth(&auth)
                );
            }
            (Some(token), None) | (None, Some(token)) => token,
            (None, None) => return Err(missing(&auth)),
        };
        let verified = auth
            .verified(token, TokenKind::Refresh, None)
            .map_err(|e| AuthError::from(e).with_auth(&auth))?;
        Ok(Self {
            auth,
            token: verified,
        })
    }
}

impl RefreshGuard {
    /// The refresh token's claims, for the handler's `Claims` parameter.
    pub fn claims<E: DeserializeOwned + 'static>(&self) -> Result<Claims<E>, Response> {
        Claims::from_verified(self.token.clone()).map_err(|_| {
            AuthError::from(crate::token::errors::TokenError::Malformed)
                .with_auth(&self.auth)
                .into_response()
        })
    }
}

/// The answer of a `#[refresh]` handler: a pair whose access token is not fresh, with scopes
/// cut down to the refresh token's and to the ceiling, for the refresh token's own subject
/// (a grant for another subject is a server-side mistake: 500).
pub fn refresh<G: IntoGrant>(
    guard: &RefreshGuard,
    outcome: G,
    ceiling: Option<&[&str]>,
) -> Response {
    let mut grant = match outcome.into_grant() {
        Ok(grant) => grant,
        Err(response) => return response,
    };
    // A refresh renews the caller's own session: a grant for another subject would let any
    // refresh token mint tokens for anyone the handler names.
    if grant.sub() != guard.token.sub() {
        let error = crate::token::errors::IssueError::SubjectChanged;
        return AuthError::from(error)
            .with_auth(&guard.auth)
            .into_response();
    }
    let held = crate::token::claims::scope_names(guard.token.payload());
    grant.clamp(|scope| within(ceiling, scope) && held.iter().any(|h| covers(h, scope)));
    answer(&guard.auth, &grant, false)
}
