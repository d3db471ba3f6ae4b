//! `#[logout]`: ending the presented session, or every session of its subject.

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CACHE_CONTROL;
use http::request::Parts;

use super::guard::HasAuth;
use crate::auth::Auth;
use crate::http::error::AuthError;
use crate::http::extract::{missing, verified};
use crate::token::claims::{Claims, Verified};
use crate::token::errors::TokenError;
use crate::token::kind::TokenKind;

/// The extractor `#[logout]` inserts as the handler's first parameter: the caller's verified
/// access token.
pub struct LogoutGuard {
    auth: Auth,
    token: Verified,
}

impl core::fmt::Debug for LogoutGuard {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LogoutGuard")
    }
}

impl<S> FromRequestParts<S> for LogoutGuard
where
    S: HasAuth + Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        // A logout from a cookie is an unsafe request: the CSRF check applies (in `verified`).
        let token = verified(parts, &auth, TokenKind::Access, None, false)?
            .ok_or_else(|| missing(&auth))?;
        Ok(Self { auth, token })
    }
}

impl LogoutGuard {
    /// The access token's claims, for the handler's `Claims` parameters.
    pub fn claims(&self) -> Claims {
        Claims::standard(self.token.clone())
    }

    /// Revokes the token's session (its refresh family: every access and refresh token of
    /// it), or with `everywhere` every token of its subject. A store that cannot record it
    /// is a 503: the client must not believe it logged out.
    pub async fn end(&self, everywhere: bool) -> Result<(), Response> {
        let claims = self.claims();
        let ended = if !self.token.own_key {
            // Another issuer's token: its subject, family and version are that issuer's, not
            // ours to end. It is revoked by its `jti` alone.
            self.auth.revoke(&claims).await
        } else if everywhere {
            self.auth.revoke_all(claims.sub()).await
        } else {
            self.auth.revoke_family(&claims).await
        };
        ended.map_err(|_| {
            AuthError::from(TokenError::StoreUnavailable)
                .with_auth(&self.auth)
                .into_response()
        })
    }
}

impl LogoutGuard {
    /// The handler's answer, with the token cookies cleared in cookie mode.
    pub fn finish(&self, mut response: Response) -> Response {
        if let Some(cookies) = &self.auth.inner.cookies {
            cookies.clear(response.headers_mut());
        }
        response
    }
}

/// 204 No Content, not cached: what a `#[logout]` handler that returns nothing answers.
pub fn no_content() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}
