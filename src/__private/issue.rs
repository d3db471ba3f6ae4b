//! `#[login]` and `#[refresh]`: turning a handler's `Grant` into a token pair.

use axum_core::extract::{FromRequest, FromRequestParts, Request};
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use super::guard::HasAuth;
use crate::auth::Auth;
use std::marker::PhantomData;
use std::net::IpAddr;

use crate::throttle::{Attempt, LoginClient};
use crate::token::claims::{Claims, Verified};
use crate::token::grant::{Grant, intersect, scope_list};
use crate::token::issue::TokenResponse;
use crate::token::kind::TokenKind;
use crate::web::client::client_address;
use crate::web::error::{AuthError, render_with};
use crate::web::extract::{claims, missing};
use crate::web::locate::{check_csrf, locate};
use crate::web::refresh_body::refresh_token;
use crate::web::respond::{pair_answer, pair_answer_to};
use crate::web::token_endpoint::{OAuthError, PasswordGrant, TokenForm, oauth_answer, token_form};

/// What a `#[login]`, `#[refresh]` or `#[token_endpoint]` handler may return. The expansion
/// converts the body's value with `<Ret as IntoGrant>::into_grant`, spanned on the return type:
/// whatever else a handler returns is refused there, by this message.
#[diagnostic::on_unimplemented(
    message = "a `#[login]`, `#[refresh]` or `#[token_endpoint]` handler must return `jwtguard::Grant` or `Result<jwtguard::Grant, E>` with `E: IntoResponse`, not `{Self}`",
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

/// The extractor `#[login]` inserts: the configuration to sign with, and who is logging in
/// (address, device cookie) for throttling.
///
/// `A` is always [`Auth`], written out by the macro, as in
/// [`Guard`](super::Guard): when a router's state gives no `Auth`, rustc reports only that the
/// handler does not implement `Handler`, and this parameter makes that message name `Auth`.
pub struct Signer<A> {
    auth: Auth,
    client: LoginClient,
    of: PhantomData<fn() -> A>,
}

impl<A> core::fmt::Debug for Signer<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Signer").field(&self.client).finish()
    }
}

impl<S> FromRequestParts<S> for Signer<Auth>
where
    S: HasAuth + Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        refuse_another_site(parts, &auth, "A login from another site is refused")?;
        let client = LoginClient {
            address: client_address(parts, auth.inner.proxies.as_ref()),
            device: auth
                .inner
                .cookies
                .as_ref()
                .and_then(|cookies| cookies.device(parts))
                .map(str::to_owned),
        };
        Ok(Self {
            auth,
            client,
            of: PhantomData,
        })
    }
}

/// In cookie mode, a login or refresh a page of another site made the browser send is refused
/// before any cookie is set (login CSRF: the victim would work in the attacker's account).
fn refuse_another_site(parts: &Parts, auth: &Auth, why: &'static str) -> Result<(), AuthError> {
    match &auth.inner.cookies {
        Some(cookies) if cookies.sent_by_another_site(parts) => {
            Err(AuthError::new(crate::web::error::AuthErrorKind::Csrf(why)).with_auth(auth))
        }
        _ => Ok(()),
    }
}

/// Charges a `#[login]` attempt before the handler checks the password: by the username of
/// `throttle = ...` and the client, or without one by the client's address alone. A locked
/// (username, client), address or username is answered (429) without running the handler.
pub async fn attempt(signer: &Signer<Auth>, username: Option<&str>) -> Result<Attempt, Response> {
    let client = signer.client.clone();
    match username {
        Some(username) => signer.auth.attempt(username, client).await,
        None => signer.auth.attempt_unnamed(client).await,
    }
    .map_err(IntoResponse::into_response)
}

/// The answer of a throttled `#[login]` handler: as [`login`]; a success clears its
/// (username, client) counter, refunds its address, and in cookie mode sets the device cookie
/// that makes this browser a known client next time.
pub async fn login_throttled(
    signer: &Signer<Auth>,
    attempt: Attempt,
    outcome: Result<Grant, Response>,
    ceiling: Option<&'static [&'static str]>,
) -> Response {
    if outcome.is_err() {
        return login(signer, outcome, ceiling);
    }
    let device = match attempt.record().await {
        Ok(device) => device,
        Err(error) => return error.into_response(),
    };
    let mut response = login(signer, outcome, ceiling);
    if let (Some(device), Some(cookies)) = (device, signer.auth.inner.cookies.as_ref())
        && response.status().is_success()
    {
        let remember = signer.auth.inner.throttle.remembered_for();
        cookies.set_device(response.headers_mut(), &device, remember);
    }
    response
}

fn answer(auth: &Auth, grant: &Grant, fresh: bool) -> Response {
    match auth.issue_pair(grant, fresh) {
        Ok(pair) => pair_answer(auth, pair),
        Err(error) => AuthError::from(error).with_auth(auth).into_response(),
    }
}

/// The answer of a `#[login]` handler: the pair for its grant, cut down to the ceiling; fresh
/// unless the grant says `fresh(false)`.
pub fn login(
    signer: &Signer<Auth>,
    outcome: Result<Grant, Response>,
    ceiling: Option<&'static [&'static str]>,
) -> Response {
    let mut grant = match outcome {
        Ok(grant) => grant,
        Err(response) => return render_with(response, &signer.auth),
    };
    grant.clamp_to(ceiling);
    let fresh = grant.fresh;
    answer(&signer.auth, &grant, fresh)
}

/// The extractor `#[refresh]` inserts as the handler's last parameter: a verified refresh
/// token from `Authorization: Bearer` or a JSON body `{"refresh_token": "..."}` (see
/// `web/refresh_body.rs` for the rule). `A` is always [`Auth`] (see [`Signer`]).
pub struct RefreshGuard<A> {
    auth: Auth,
    token: Verified,
    /// Presented in the refresh cookie: a browser's refresh, answered in cookies only.
    from_cookie: bool,
    of: PhantomData<fn() -> A>,
}

impl<A> core::fmt::Debug for RefreshGuard<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RefreshGuard")
    }
}

impl<S> FromRequest<S> for RefreshGuard<Auth>
where
    S: HasAuth + Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let auth = state.auth();
        let (parts, body) = request.into_parts();
        refuse_another_site(&parts, &auth, "A refresh from another site is refused")?;
        let sent = refresh_token(&parts, body)
            .await
            .map_err(|e| e.with_auth(&auth))?;
        // Neither the header nor the body: in cookie mode, the refresh cookie (its CSRF
        // header checked against the refresh token's own claim).
        let cookie = match sent {
            Some(_) => None,
            None => locate(&parts, &auth, TokenKind::Refresh)
                .map_err(|e| e.with_auth(&auth))?
                .filter(|found| found.from_cookie),
        };
        let token = sent
            .as_deref()
            .or(cookie.map(|found| found.token))
            .ok_or_else(|| missing(&auth))?;
        let token = auth
            .renewable(token)
            .map_err(|e| AuthError::from(e).with_auth(&auth))?;
        if let Some(found) = cookie {
            check_csrf(&parts, &auth, found, token.csrf())?;
        }
        // Consumed by `refresh`, once the successor is signed.
        Ok(Self {
            auth,
            token,
            from_cookie: cookie.is_some(),
            of: PhantomData,
        })
    }
}

/// The refresh token's claims, for the handler's `Claims` parameters; claims that do not fit
/// `E` are a 401.
impl<E: DeserializeOwned + 'static> super::FromRefreshGuard for Claims<E> {
    fn from_guard(guard: &RefreshGuard<Auth>) -> Result<Self, Response> {
        claims(guard.token.clone(), &guard.auth).map_err(IntoResponse::into_response)
    }
}

/// The answer of a `#[refresh]` handler: a pair whose access token is not fresh, with scopes
/// cut down to the refresh token's and to the ceiling, for the refresh token's own subject
/// (a grant for another subject is a server-side mistake: 500).
pub async fn refresh(
    guard: &RefreshGuard<Auth>,
    outcome: Result<Grant, Response>,
    ceiling: Option<&'static [&'static str]>,
) -> Response {
    let grant = match outcome {
        Ok(grant) => grant,
        Err(response) => return render_with(response, &guard.auth),
    };
    let grant = match grant.renewing(&guard.token, ceiling) {
        Ok(grant) => grant,
        Err(error) => {
            return AuthError::from(error)
                .with_auth(&guard.auth)
                .into_response();
        }
    };
    match guard.auth.rotate_pair(&guard.token, &grant).await {
        Ok(pair) => pair_answer_to(&guard.auth, pair, guard.from_cookie),
        Err(error) => error.with_auth(&guard.auth).into_response(),
    }
}

/// The extractor `#[token_endpoint]` inserts as the handler's last parameter: the RFC 6749
/// token request, read from the form body. It never rejects: a malformed request is answered
/// by [`token_request`] in OAuth 2's error format. `A` is always [`Auth`] (see [`Signer`]).
pub struct TokenRequest<A> {
    auth: Auth,
    client: Option<IpAddr>,
    form: Result<TokenForm, OAuthError>,
    of: PhantomData<fn() -> A>,
}

impl<A> core::fmt::Debug for TokenRequest<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("TokenRequest")
    }
}

impl<S> FromRequest<S> for TokenRequest<Auth>
where
    S: HasAuth + Send + Sync,
{
    type Rejection = core::convert::Infallible;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let auth = state.auth();
        Ok(Self {
            client: client_address(&parts, auth.inner.proxies.as_ref()),
            auth,
            form: token_form(&parts, body).await,
            of: PhantomData,
        })
    }
}

/// What the password grant's answer needs once the handler has run.
#[derive(Debug)]
pub struct TokenContext {
    auth: Auth,
    scope: Option<String>,
    attempt: Attempt,
}

/// Starts a `#[token_endpoint]`: a password grant goes to the handler (`Ok`); a refresh grant
/// is answered here, with exactly the checks of `#[refresh]`, and so is a malformed request
/// (`Err`, the answer to return).
pub async fn token_request(
    request: TokenRequest<Auth>,
    ceiling: Option<&'static [&'static str]>,
) -> Result<(TokenContext, PasswordGrant), Response> {
    let TokenRequest {
        auth, client, form, ..
    } = request;
    match form.map_err(IntoResponse::into_response)? {
        TokenForm::Password(password) => {
            // Charged before the handler checks the password.
            let attempt = auth
                .attempt(&password.username, client)
                .await
                .map_err(|error| oauth_answer(error.into_response()))?;
            Ok((
                TokenContext {
                    auth,
                    scope: password.scope().map(str::to_owned),
                    attempt,
                },
                password,
            ))
        }
        TokenForm::Refresh {
            refresh_token,
            scope,
        } => Err(refresh_grant(&auth, &refresh_token, scope.as_deref(), ceiling).await),
    }
}

/// RFC 6749 §6: the refresh token's own subject, scopes and extra claims, never fresh. A
/// `scope` narrows the access token only: the new refresh token keeps the scope of the one
/// presented (§6).
async fn refresh_grant(
    auth: &Auth,
    refresh_token: &str,
    requested: Option<&str>,
    ceiling: Option<&'static [&'static str]>,
) -> Response {
    let token = match auth.renewable(refresh_token) {
        Ok(token) => token,
        Err(error) => return OAuthError::from(&AuthError::from(error)).into_response(),
    };
    let renewed = Grant::renew(&Claims::standard(token.clone())).renewing(&token, ceiling);
    let mut grant = match renewed {
        Ok(grant) => grant,
        Err(error) => return OAuthError::from(&AuthError::from(error)).into_response(),
    };
    grant.refresh_scopes = Some(grant.scopes.clone());
    // A token endpoint answers API clients, never with cookies: a cross-site form posted
    // to it must not log a browser into the attacker's account (login CSRF).
    match oauth_pair(auth, grant, requested, Some(&token)).await {
        Ok(pair) => pair.into_response(),
        Err(refusal) => refusal,
    }
}

/// The answer of a `#[token_endpoint]` handler to a password grant: as `#[login]`, cut to the
/// ceiling and to the requested `scope` (a scope the grant does not hold is `invalid_scope`),
/// with `scope` in the answer and errors in OAuth 2's format. A success clears the username's
/// throttling counter.
pub async fn token_answer(
    context: TokenContext,
    outcome: Result<Grant, Response>,
    ceiling: Option<&'static [&'static str]>,
) -> Response {
    let mut grant = match outcome {
        Ok(grant) => grant,
        Err(response) => return oauth_answer(response),
    };
    if let Err(error) = context.attempt.succeeded().await {
        return oauth_answer(error.into_response());
    }
    grant.clamp_to(ceiling);
    match oauth_pair(&context.auth, grant, context.scope.as_deref(), None).await {
        Ok(pair) => pair.into_response(),
        Err(refusal) => refusal,
    }
}

/// The pair of a token endpoint: a new session for a password grant (fresh unless the grant
/// says otherwise), the next of `renewing`'s session for a refresh grant (never fresh).
async fn oauth_pair(
    auth: &Auth,
    mut grant: Grant,
    requested: Option<&str>,
    renewing: Option<&Verified>,
) -> Result<TokenResponse, Response> {
    if let Some(requested) = requested {
        if grant.exceeds(requested) {
            return Err(OAuthError::scope().into_response());
        }
        grant.scopes = intersect(&grant.scopes, &scope_list(requested));
    }
    let pair = match renewing {
        Some(token) => auth.rotate_pair(token, &grant).await,
        None => auth
            .issue_pair(&grant, grant.fresh)
            .map_err(AuthError::from),
    };
    match pair {
        Ok(mut pair) => {
            // RFC 6749 §3.3: a scope is one or more tokens; no scopes, no `scope` member.
            pair.scope = Some(grant.scope_names().collect::<Vec<_>>().join(" "))
                .filter(|scope| !scope.is_empty());
            Ok(pair)
        }
        Err(error) => Err(OAuthError::from(&error).into_response()),
    }
}
