//! The `Claims` extractors and the per-request cache of a verified token.

use axum_core::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::AuthError;
use super::locate::{check_csrf, locate};
use crate::auth::Auth;
use crate::token::claims::{Claims, Verified};
use crate::token::errors::TokenError;
use crate::token::kind::TokenKind;
use crate::token::scope::Registry;

/// A token verified earlier in the request, bound to the configuration and the kind that
/// verified it: a token accepted by one `Auth` (a middleware's, say) is never taken as
/// accepted by another with other keys, issuer or audience.
#[derive(Clone)]
struct Cached {
    origin: usize,
    kind: TokenKind,
    token: Verified,
}

/// Verifies the request's bearer token as `kind` once, caching the result in the request's
/// extensions when `share` (another extractor may want it); a token cached by the same `Auth`
/// for the same kind (an earlier extractor, a jwtguard guard) is reused, anything else is
/// verified again. `Ok(None)`: no token was sent.
pub(crate) fn verified(
    parts: &mut Parts,
    auth: &Auth,
    kind: TokenKind,
    registry: Option<&Registry>,
    share: bool,
) -> Result<Option<Verified>, AuthError> {
    if let Some(cached) = parts.extensions.get_mut::<Cached>()
        && cached.origin == auth.origin()
        && cached.kind == kind
    {
        if let Some(registry) = registry {
            cached.token.index_scopes(registry);
        }
        return Ok(Some(cached.token.clone()));
    }
    let Some(found) = locate(parts, auth, kind).map_err(|e| e.with_auth(auth))? else {
        return Ok(None);
    };
    let verified = auth
        .verified(found.token, kind, registry)
        .map_err(|e| AuthError::from(e).with_auth(auth))?;
    check_csrf(parts, auth, found, verified.csrf())?;
    if share {
        parts.extensions.insert(Cached {
            origin: auth.origin(),
            kind,
            token: verified.clone(),
        });
    }
    Ok(Some(verified))
}

pub(crate) fn missing(auth: &Auth) -> AuthError {
    AuthError::new(super::error::AuthErrorKind::MissingToken).with_auth(auth)
}

/// The claims as `Claims<E>`; a token whose claims do not fit `E` is a 401 for the client and
/// a warning for the operator (the application's type and its tokens disagree).
pub(crate) fn claims<E: DeserializeOwned + 'static>(
    verified: Verified,
    auth: &Auth,
) -> Result<Claims<E>, AuthError> {
    Claims::from_verified(verified).map_err(|_| {
        tracing::warn!(
            claims_type = std::any::type_name::<E>(),
            "jwtguard: a verified token's claims do not match the handler's Claims type"
        );
        AuthError::from(TokenError::Malformed).with_auth(auth)
    })
}

impl<S, E> FromRequestParts<S> for Claims<E>
where
    Auth: FromRef<S>,
    S: Send + Sync,
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        let verified =
            verified(parts, &auth, TokenKind::Access, None, true)?.ok_or_else(|| missing(&auth))?;
        claims(verified, &auth)
    }
}

impl<S, E> OptionalFromRequestParts<S> for Claims<E>
where
    Auth: FromRef<S>,
    S: Send + Sync,
    E: DeserializeOwned + Send + Sync + 'static,
{
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let auth = Auth::from_ref(state);
        match verified(parts, &auth, TokenKind::Access, None, true)? {
            Some(verified) => claims(verified, &auth).map(Some),
            None => Ok(None),
        }
    }
}
