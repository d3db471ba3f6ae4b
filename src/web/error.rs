//! `AuthError` and its RFC 6750 / RFC 9470 answers.

use std::fmt;

use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

use super::error_body::ErrorParts;
use crate::auth::Auth;
use crate::token::errors::{IssueError, TokenError};

/// What went wrong, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// No bearer token was sent.
    MissingToken,
    /// The request is malformed: two `Authorization` headers, an empty `Bearer`, a header
    /// over 8 KiB, a body that is not the expected JSON.
    InvalidRequest(&'static str),
    /// The token was sent and refused.
    InvalidToken(TokenError),
    /// The token lacks a scope; the value is the `scope` the route requires.
    InsufficientScope(&'static str),
    /// The route needs a fresh token (straight from a login).
    NotFresh,
    /// Wrong username or password (for your login handler: `AuthError::invalid_credentials()`).
    InvalidCredentials,
    /// A token could not be issued: a server-side mistake, answered as a bare 500.
    Issue(IssueError),
    /// The revocation store cannot answer truthfully: 503 with `Retry-After`, never a guess.
    Unavailable,
    /// Too many login attempts for the username or the client address: 429 with
    /// `Retry-After` (the seconds until the lock ends).
    TooManyAttempts(u64),
    /// A token from a cookie on an unsafe method without the right CSRF header: 403.
    Csrf(&'static str),
    /// A route's own check (`#[protected(check = ...)]`) refused the request: 403.
    Denied,
    /// A failure of the application's own code around authentication (a user loader, a
    /// route check): a bare 500, logged, nothing said to the client.
    Internal,
}

/// An authentication or authorization failure, answered as RFC 6750 says: the status, the
/// `WWW-Authenticate` challenge, and a JSON body `{"error", "message"}` (AuthX's) with a
/// `"reason"` when a token was refused ([`TokenError::reason`]). Every answer and every reason
/// is in one table, in [`guide::errors`](crate::guide::errors).
///
/// Or the body is whatever the [`AuthBuilder::error_body`](crate::AuthBuilder::error_body)
/// hook renders from [`ErrorParts`](crate::ErrorParts). No answer ever carries a secret, a
/// signature, a token or a panic message.
#[derive(Clone)]
pub struct AuthError {
    kind: AuthErrorKind,
    /// The configuration that raised it, for its realm and body hook.
    auth: Option<Auth>,
    /// What the route required, for the operator's log line.
    requirement: Option<&'static str>,
}

/// Rides on the answer of an `AuthError`, so that a jwtguard macro around a handler can
/// render it again: with the application's realm and body hook when the handler built it
/// without an `Auth` (`AuthError::invalid_credentials()`), or in OAuth 2's format at a token
/// endpoint.
#[derive(Clone)]
pub(crate) struct Raised(pub(crate) AuthError);

/// `response`, rendered again with `auth` when it is an `AuthError` that had none.
pub(crate) fn render_with(mut response: Response, auth: &Auth) -> Response {
    match response.extensions_mut().remove::<Raised>() {
        Some(Raised(error)) if error.auth.is_none() => error.with_auth(auth).into_response(),
        _ => response,
    }
}

impl AuthError {
    /// An error of `kind`, with the default realm and body.
    pub fn new(kind: AuthErrorKind) -> Self {
        Self {
            kind,
            auth: None,
            requirement: None,
        }
    }

    /// Wrong username or password: a 401 that says no more (no account enumeration).
    pub fn invalid_credentials() -> Self {
        Self::new(AuthErrorKind::InvalidCredentials)
    }

    /// A 400 for a malformed request; `description` goes to `error_description`.
    pub fn invalid_request(description: &'static str) -> Self {
        Self::new(AuthErrorKind::InvalidRequest(description))
    }

    /// Answers with `auth`'s realm and body hook.
    pub fn with_auth(mut self, auth: &Auth) -> Self {
        self.auth = Some(auth.clone());
        self
    }

    /// Names what the refusing route required, for the log line.
    pub(crate) fn required(mut self, requirement: &'static str) -> Self {
        self.requirement = Some(requirement);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &AuthErrorKind {
        &self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            AuthErrorKind::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            AuthErrorKind::InsufficientScope(_)
            | AuthErrorKind::Csrf(_)
            | AuthErrorKind::Denied => StatusCode::FORBIDDEN,
            AuthErrorKind::Issue(_) | AuthErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            AuthErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AuthErrorKind::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The stable machine-readable code of the body's `error`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            AuthErrorKind::MissingToken => "missing_token",
            AuthErrorKind::InvalidRequest(_) => "invalid_request",
            AuthErrorKind::InvalidToken(TokenError::Expired) => "token_expired",
            AuthErrorKind::InvalidToken(_) => "invalid_token",
            AuthErrorKind::InsufficientScope(_) => "insufficient_scope",
            AuthErrorKind::NotFresh => "fresh_token_required",
            AuthErrorKind::InvalidCredentials => "invalid_credentials",
            AuthErrorKind::Issue(_) | AuthErrorKind::Internal => "internal_error",
            AuthErrorKind::Unavailable => "temporarily_unavailable",
            AuthErrorKind::TooManyAttempts(_) => "too_many_attempts",
            AuthErrorKind::Csrf(_) => "csrf_failed",
            AuthErrorKind::Denied => "access_denied",
        }
    }

    /// Why the token was refused ([`TokenError::reason`]), for a refusal of a token: the
    /// body's `reason` member.
    pub fn reason(&self) -> Option<&'static str> {
        match self.kind {
            AuthErrorKind::InvalidToken(error) => Some(error.reason()),
            _ => None,
        }
    }

    /// The human message of the body (the words of AuthX where it has them).
    pub fn message(&self) -> &'static str {
        match self.kind {
            AuthErrorKind::MissingToken => "Missing JWT in request",
            AuthErrorKind::InvalidRequest(_) => "Malformed authentication request",
            AuthErrorKind::InvalidToken(TokenError::Expired) => "Token expired",
            AuthErrorKind::InvalidToken(_) => "Invalid token",
            AuthErrorKind::InsufficientScope(_) => "Insufficient scope",
            AuthErrorKind::NotFresh => "Fresh token required",
            AuthErrorKind::InvalidCredentials => "Invalid credentials",
            AuthErrorKind::Issue(_) | AuthErrorKind::Internal => "Internal server error",
            AuthErrorKind::Unavailable => "Authentication is temporarily unavailable",
            AuthErrorKind::TooManyAttempts(_) => "Too many login attempts; try again later",
            AuthErrorKind::Csrf(_) => "CSRF token missing or invalid",
            AuthErrorKind::Denied => "Access denied",
        }
    }

    /// The `Retry-After` seconds of a 429 or 503.
    pub fn retry_after(&self) -> Option<u64> {
        match self.kind {
            AuthErrorKind::Unavailable => Some(1),
            AuthErrorKind::TooManyAttempts(seconds) => Some(seconds.max(1)),
            _ => None,
        }
    }

    /// The `WWW-Authenticate` challenge, when the status calls for one.
    pub fn challenge(&self) -> Option<String> {
        let realm = self.auth.as_ref().map_or("api", Auth::realm);
        let (error, detail) = match &self.kind {
            AuthErrorKind::MissingToken | AuthErrorKind::InvalidCredentials => {
                return Some(format!("Bearer realm=\"{}\"", quoted(realm)));
            }
            AuthErrorKind::Issue(_)
            | AuthErrorKind::Internal
            | AuthErrorKind::Unavailable
            | AuthErrorKind::TooManyAttempts(_)
            | AuthErrorKind::Csrf(_)
            | AuthErrorKind::Denied => return None,
            AuthErrorKind::InvalidRequest(d) => (
                "invalid_request",
                format!("error_description=\"{}\"", quoted(d)),
            ),
            AuthErrorKind::InvalidToken(e) => (
                "invalid_token",
                format!("error_description=\"{}\"", description(*e)),
            ),
            AuthErrorKind::InsufficientScope(scope) => {
                ("insufficient_scope", format!("scope=\"{}\"", quoted(scope)))
            }
            AuthErrorKind::NotFresh => (
                "insufficient_user_authentication",
                "error_description=\"A fresh token from a new login is required\"".to_owned(),
            ),
        };
        Some(format!(
            "Bearer realm=\"{}\", error=\"{error}\", {detail}",
            quoted(realm)
        ))
    }
}

fn description(error: TokenError) -> &'static str {
    match error {
        TokenError::Expired => "The token has expired",
        TokenError::NotYetValid => "The token is not valid yet",
        TokenError::IssuedInFuture => "The token was issued in the future",
        TokenError::WrongType => "The token is of the wrong type for this endpoint",
        TokenError::TooLarge => "The token is too large",
        TokenError::Signature => "The token signature is invalid",
        TokenError::Algorithm => "The token algorithm is not accepted",
        TokenError::UnknownKey => "The token key id is unknown",
        TokenError::Critical => "The token requires unsupported extensions",
        TokenError::MissingClaim(_) => "The token lacks a required claim",
        TokenError::Audience => "The token is not meant for this audience",
        TokenError::Issuer => "The token issuer is not accepted",
        TokenError::Malformed => "The token is malformed",
        TokenError::NotRenewable => "The token was not issued here and cannot be renewed",
        TokenError::Revoked => "The token has been revoked",
        TokenError::UnknownUser => "The token's user no longer exists",
        TokenError::Reused => "The refresh token has already been used",
        TokenError::StoreUnavailable => "The revocation store is unavailable",
        TokenError::KeysUnavailable => "The issuer's keys are unavailable",
    }
}

/// Makes a value safe inside a quoted-string (RFC 9110 §5.6.4): the realm and scope names
/// are ours, but a realm from configuration could hold a quote.
fn quoted(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"' && *c != '\\')
        .collect()
}

impl From<TokenError> for AuthError {
    fn from(error: TokenError) -> Self {
        Self::new(match error {
            TokenError::StoreUnavailable | TokenError::KeysUnavailable => {
                AuthErrorKind::Unavailable
            }
            other => AuthErrorKind::InvalidToken(other),
        })
    }
}

impl From<IssueError> for AuthError {
    fn from(error: IssueError) -> Self {
        Self::new(match error {
            IssueError::StoreUnavailable => AuthErrorKind::Unavailable,
            // Only reachable with a refresh token that is itself expired.
            IssueError::FamilyEnded => AuthErrorKind::InvalidToken(TokenError::Expired),
            other => AuthErrorKind::Issue(other),
        })
    }
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            AuthErrorKind::InvalidToken(e) => write!(f, "{}: {e}", self.message()),
            AuthErrorKind::Issue(e) => write!(f, "could not issue a token: {e}"),
            _ => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for AuthError {}

impl AuthError {
    /// The operator's view of a refusal: debug for the client's mistakes, warn for the
    /// server's. Never the token, a secret or a signature: only the kind and the route's
    /// requirement.
    fn trace(&self) {
        let requirement = self.requirement.unwrap_or("");
        if self.status().is_server_error() {
            tracing::warn!(
                status = self.status().as_u16(),
                reason = %self,
                requirement,
                "jwtguard: request failed"
            );
        } else {
            tracing::debug!(
                status = self.status().as_u16(),
                reason = %self,
                requirement,
                "jwtguard: request refused"
            );
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.trace();
        let hook = self.auth.as_ref().and_then(|a| a.inner.error_body);
        let mut response = if let Some(render) = hook {
            render(ErrorParts {
                status: self.status(),
                code: self.code(),
                message: self.message(),
                reason: self.reason(),
            })
        } else {
            let mut body = serde_json::json!({ "error": self.code(), "message": self.message() });
            if let Some(reason) = self.reason() {
                body["reason"] = reason.into();
            }
            let mut response = Response::new(body.to_string().into());
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        };
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge().and_then(|c| HeaderValue::try_from(c).ok()) {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after() {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(Raised(self));
        response
    }
}
