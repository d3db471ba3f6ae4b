//! `#[logout]`: ending the presented session, or every session of its subject.

use std::marker::PhantomData;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::header::CACHE_CONTROL;
use http::request::Parts;

use super::guard::HasAuth;
use crate::auth::Auth;
use crate::token::claims::{Claims, Verified};
use crate::token::errors::TokenError;
use crate::token::kind::TokenKind;
use crate::web::error::AuthError;
use crate::web::extract::missing;
use crate::web::locate::{Found, check_csrf, locate};

/// The extractor `#[logout]` inserts as the handler's first parameter: a token of the
/// session to end. A logout must work when the access token has run out (an idle page, a
/// shared computer), so it takes, in this order: the access token (from its usual locations,
/// **even expired** if correctly signed: ending a session is all it can do), a refresh token
/// sent as `Authorization: Bearer`, or the refresh cookie. In cookie mode the answer clears
/// the cookies, refused or not. `A` is always [`Auth`] (see [`Signer`](super::Signer)).
pub struct LogoutGuard<A> {
    auth: Auth,
    token: Verified,
    /// The token had expired: it may end its own session, not every session of its subject.
    expired: bool,
    of: PhantomData<fn() -> A>,
}

impl<A> core::fmt::Debug for LogoutGuard<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LogoutGuard")
    }
}

impl<S> FromRequestParts<S> for LogoutGuard<Auth>
where
    S: HasAuth + Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        another_site(parts, &auth)?;
        match session_token(parts, &auth) {
            Ok(Some(token)) => Ok(Self::new(auth, token)),
            Ok(None) => Err(refuse(&auth, missing(&auth))),
            Err(refusal) => Err(refuse(&auth, refusal)),
        }
    }
}

impl LogoutGuard<Auth> {
    fn new(auth: Auth, token: Verified) -> Self {
        let expired = token.exp <= crate::clock::now();
        Self {
            auth,
            token,
            expired,
            of: PhantomData,
        }
    }
}

/// In cookie mode, a logout a page of another site made the browser send is refused, and
/// its cookies are left alone (clearing them would be a forced logout).
fn another_site(parts: &Parts, auth: &Auth) -> Result<(), Response> {
    match &auth.inner.cookies {
        Some(cookies) if cookies.sent_by_another_site(parts) => Err(AuthError::new(
            crate::web::error::AuthErrorKind::Csrf("A logout from another site is refused"),
        )
        .with_auth(auth)
        .into_response()),
        _ => Ok(()),
    }
}

/// The refusal, with the token cookies cleared in cookie mode: a browser that cannot log out
/// must not keep them either.
fn refuse(auth: &Auth, refusal: AuthError) -> Response {
    let mut response = refusal.with_auth(auth).into_response();
    if let Some(cookies) = &auth.inner.cookies {
        cookies.clear(response.headers_mut());
    }
    response
}

/// What `#[logout]` inserts when the handler takes nothing else: [`LogoutGuard`], which also
/// reads a refresh token from a JSON body `{"refresh_token": "..."}` (the form `#[refresh]`
/// takes) when no header or cookie holds a token. A handler with parameters of its own gets
/// [`LogoutGuard`], which leaves the body to them. `A` is always [`Auth`].
pub struct LogoutBody<A>(LogoutGuard<A>);

impl<A> core::fmt::Debug for LogoutBody<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LogoutBody")
    }
}

impl<A> core::ops::Deref for LogoutBody<A> {
    type Target = LogoutGuard<A>;

    fn deref(&self) -> &LogoutGuard<A> {
        &self.0
    }
}

impl<S> axum_core::extract::FromRequest<S> for LogoutBody<Auth>
where
    S: HasAuth + Send + Sync,
{
    type Rejection = Response;

    async fn from_request(
        request: axum_core::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        let (parts, body) = request.into_parts();
        another_site(&parts, &auth)?;
        let token = match session_token(&parts, &auth) {
            Ok(Some(token)) => token,
            Ok(None) => {
                let sent = crate::web::refresh_body::refresh_token(&parts, body)
                    .await
                    .map_err(|refusal| refuse(&auth, refusal))?
                    .ok_or_else(|| refuse(&auth, missing(&auth)))?;
                ended_or_live(&auth, &sent, TokenKind::Refresh)
                    .map_err(|refusal| refuse(&auth, refusal.into()))?
            }
            Err(refusal) => return Err(refuse(&auth, refusal)),
        };
        Ok(Self(LogoutGuard::new(auth, token)))
    }
}

/// A token of the session to end (see [`LogoutGuard`]). A token from a cookie passes the CSRF
/// check of its own claim: a logout is an unsafe request.
/// `Ok(None)`: no header or cookie holds a token.
fn session_token(parts: &Parts, auth: &Auth) -> Result<Option<Verified>, AuthError> {
    if let Some(found) = locate(parts, auth, TokenKind::Access)? {
        match ended_or_live(auth, found.token, TokenKind::Access) {
            Ok(token) => return checked(parts, auth, found, token),
            // A refresh token as `Authorization: Bearer`: a client whose access token is gone.
            Err(TokenError::WrongType) if !found.from_cookie => {
                let token = ended_or_live(auth, found.token, TokenKind::Refresh)?;
                return checked(parts, auth, found, token);
            }
            Err(refused) if !found.from_cookie => return Err(refused.into()),
            // A spoiled access cookie: the refresh cookie may still name the session.
            Err(_) => {}
        }
    }
    let refresh = locate(parts, auth, TokenKind::Refresh)?.filter(|found| found.from_cookie);
    let Some(found) = refresh else {
        return Ok(None);
    };
    let token = ended_or_live(auth, found.token, TokenKind::Refresh)?;
    checked(parts, auth, found, token)
}

fn checked(
    parts: &Parts,
    auth: &Auth,
    found: Found<'_>,
    token: Verified,
) -> Result<Option<Verified>, AuthError> {
    check_csrf(parts, auth, found, token.csrf())?;
    Ok(Some(token))
}

/// `token` verified in full, or, when its only fault is that it expired, verified in full as
/// of the last second it was valid (signature, type, issuer, audience and revocation still
/// checked) while its session has not ended: an expired token can end its own session,
/// nothing else, and a token whose session is over (or that names none) ends nothing.
fn ended_or_live(auth: &Auth, token: &str, kind: TokenKind) -> Result<Verified, TokenError> {
    match auth.verified(token, kind, None) {
        Err(TokenError::Expired) => {
            let exp = crate::web::cookies::unverified_exp(token).ok_or(TokenError::Malformed)?;
            let verified = auth
                .inner
                .verifier
                .verify(token, kind, None, exp.saturating_sub(1))?;
            let session_end = verified.fam_exp.filter(|_| !verified.fam().is_empty());
            match session_end {
                Some(end) if crate::clock::now() < end && verified.own_key => Ok(verified),
                _ => Err(TokenError::Expired),
            }
        }
        other => other,
    }
}

/// The presented token's claims (the access token's, or the refresh token's when that is what
/// came), for the handler's `Claims` parameters.
impl super::FromLogoutGuard for Claims {
    fn from_guard(guard: &LogoutGuard<Auth>) -> Self {
        guard.claims()
    }
}

impl LogoutGuard<Auth> {
    fn claims(&self) -> Claims {
        Claims::standard(self.token.clone())
    }

    /// Revokes the token's session (its refresh family: every access and refresh token of
    /// it), or with `everywhere` every token of its subject. A store that cannot record it
    /// is a 503: the client must not believe it logged out.
    pub async fn end(&self, everywhere: bool) -> Result<(), Response> {
        let claims = self.claims();
        if everywhere && self.expired {
            // Every session of the subject is ended with a live token only.
            return Err(refuse(&self.auth, TokenError::Expired.into()));
        }
        let ended = if !self.token.own_key {
            // Another issuer's token: its subject, family and version are that issuer's, not
            // ours to end. It is revoked by its `jti` alone.
            self.auth.revoke(&claims).await
        } else if everywhere {
            self.auth.revoke_all(claims.sub()).await
        } else {
            self.auth.revoke_session(&claims).await
        };
        ended.map_err(|_| {
            AuthError::from(TokenError::StoreUnavailable)
                .with_auth(&self.auth)
                .into_response()
        })
    }
}

impl LogoutGuard<Auth> {
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
