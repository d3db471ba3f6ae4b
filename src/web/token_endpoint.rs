//! An RFC 6749 token endpoint: the form of a token request (§4.3 password grant, §6 refresh
//! grant), and answers in OAuth 2's own error format (§5.2) instead of RFC 6750's.
//!
//! The grant logic (what a refresh may renew, ceilings, freshness) is the same as
//! `#[login]`/`#[refresh]`; only the wire format differs.

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, Collected, Limited};

use super::error::{AuthError, AuthErrorKind, Raised};
use crate::token::errors::TokenError;

/// The largest form body read.
const MAX_FORM: usize = 16 * 1024;

/// The credentials of a password grant (RFC 6749 §4.3), handed to a `#[token_endpoint]`
/// handler. Its `Debug` never shows the password.
pub struct PasswordGrant {
    /// `username`.
    pub username: String,
    /// `password`.
    pub password: String,
    scope: Option<String>,
}

impl PasswordGrant {
    /// The `scope` the client asked for (space-separated), if any. The endpoint applies it to
    /// the handler's grant itself: a scope the user does not hold is `invalid_scope`.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

impl std::fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("username", &self.username)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// What a token request asks for.
pub(crate) enum TokenForm {
    Password(PasswordGrant),
    Refresh {
        refresh_token: String,
        scope: Option<String>,
    },
}

/// An OAuth 2 error answer (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
}

impl OAuthError {
    pub(crate) const fn request(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description,
        }
    }

    pub(crate) const fn scope() -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_scope",
            description: "The requested scope exceeds what the grant allows",
        }
    }
}

impl From<&AuthError> for OAuthError {
    fn from(error: &AuthError) -> Self {
        let grant = |description| Self {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_grant",
            description,
        };
        match error.kind() {
            AuthErrorKind::InvalidCredentials => grant("Invalid username or password"),
            AuthErrorKind::InvalidToken(TokenError::Expired) => {
                grant("The refresh token has expired")
            }
            AuthErrorKind::InvalidToken(_) | AuthErrorKind::MissingToken => {
                grant("The refresh token is invalid")
            }
            AuthErrorKind::NotFresh => grant("A fresh login is required"),
            AuthErrorKind::InvalidRequest(description) | AuthErrorKind::Csrf(description) => {
                Self::request(description)
            }
            AuthErrorKind::InsufficientScope(_) | AuthErrorKind::Denied => Self::scope(),
            AuthErrorKind::Issue(_) | AuthErrorKind::Internal => Self {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "server_error",
                description: "The server could not issue a token",
            },
            // RFC 6749 has no code for it: `invalid_grant` (what a client shows as "try
            // again"), with the 429 status and `Retry-After` of HTTP.
            AuthErrorKind::TooManyAttempts(_) => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "invalid_grant",
                description: "Too many login attempts; try again later",
            },
            AuthErrorKind::Unavailable => Self {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "temporarily_unavailable",
                description: "Authentication is temporarily unavailable",
            },
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(
                status = self.status.as_u16(),
                error = self.code,
                "jwtguard: token request failed"
            );
        } else {
            tracing::debug!(
                status = self.status.as_u16(),
                error = self.code,
                reason = self.description,
                "jwtguard: token request refused"
            );
        }
        let body = serde_json::json!({ "error": self.code, "error_description": self.description });
        let mut response = Response::new(body.to_string().into());
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        no_store(response)
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, which RFC 6749 §5.1 asks of every
/// answer carrying tokens, and §5.2 of the errors.
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A handler's error answer in OAuth 2's format when it is an `AuthError` (with or without
/// the application's `Auth`); any other answer of the handler's own passes unchanged but for
/// `Cache-Control: no-store`.
pub(crate) fn oauth_answer(mut response: Response) -> Response {
    match response.extensions_mut().remove::<Raised>() {
        Some(Raised(error)) => {
            let mut answer = OAuthError::from(&error).into_response();
            if let Some(seconds) = error.retry_after() {
                answer
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            answer
        }
        None => no_store(response),
    }
}

/// Reads the form of a token request.
pub(crate) async fn token_form(parts: &Parts, body: Body) -> Result<TokenForm, OAuthError> {
    let form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Err(OAuthError::request(
            "The body must be application/x-www-form-urlencoded",
        ));
    }
    let bytes = Limited::new(body, MAX_FORM)
        .collect()
        .await
        .map(Collected::to_bytes)
        .map_err(|_| OAuthError::request("The request body is too large or unreadable"))?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
        .map_err(|_| OAuthError::request("The body is not a valid form"))?;
    let mut fields = Fields(pairs);
    let grant_type = fields.one("grant_type")?;
    let scope = fields.optional("scope")?;
    match grant_type.as_deref() {
        Some("password") => Ok(TokenForm::Password(PasswordGrant {
            username: fields.one("username")?.ok_or(MISSING_USERNAME)?,
            password: fields.one("password")?.ok_or(MISSING_PASSWORD)?,
            scope,
        })),
        Some("refresh_token") => Ok(TokenForm::Refresh {
            refresh_token: fields.one("refresh_token")?.ok_or(MISSING_REFRESH)?,
            scope,
        }),
        Some(_) => Err(OAuthError {
            status: StatusCode::BAD_REQUEST,
            code: "unsupported_grant_type",
            description: "grant_type must be password or refresh_token",
        }),
        None => Err(OAuthError::request("grant_type is required")),
    }
}

const MISSING_USERNAME: OAuthError = OAuthError::request("username is required");
const MISSING_PASSWORD: OAuthError = OAuthError::request("password is required");
const MISSING_REFRESH: OAuthError = OAuthError::request("refresh_token is required");

struct Fields(Vec<(String, String)>);

impl Fields {
    /// The one value of `name` (RFC 6749 §3.2: a parameter sent twice is an invalid request);
    /// an empty value counts as absent (§3.1).
    fn one(&mut self, name: &str) -> Result<Option<String>, OAuthError> {
        let mut found = None;
        for (key, value) in &mut self.0 {
            if key == name {
                if found.is_some() {
                    return Err(OAuthError::request("A parameter was sent more than once"));
                }
                found = Some(std::mem::take(value));
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    fn optional(&mut self, name: &str) -> Result<Option<String>, OAuthError> {
        self.one(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn form(content_type: &str, body: &str) -> Result<TokenForm, OAuthError> {
        let parts = http::Request::builder()
            .header("content-type", content_type)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        token_form(&parts, Body::from(body.to_owned())).await
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[tokio::test]
    async fn password_and_refresh_grants_parse() {
        let Ok(TokenForm::Password(p)) = form(
            FORM,
            "grant_type=password&username=ann&password=p%26w&scope=a+b",
        )
        .await
        else {
            panic!("a password grant")
        };
        assert_eq!((p.username.as_str(), p.password.as_str()), ("ann", "p&w"));
        assert_eq!(p.scope(), Some("a b"));
        assert!(!format!("{p:?}").contains("p&w"));
        let Ok(TokenForm::Refresh {
            refresh_token,
            scope,
        }) = form(FORM, "grant_type=refresh_token&refresh_token=abc").await
        else {
            panic!("a refresh grant")
        };
        assert_eq!((refresh_token.as_str(), scope), ("abc", None));
    }

    #[tokio::test]
    async fn malformed_requests_get_their_oauth_code() {
        for (content_type, body, code) in [
            ("application/json", "{}", "invalid_request"),
            (
                FORM,
                "grant_type=client_credentials",
                "unsupported_grant_type",
            ),
            (
                FORM,
                "grant_type=authorization_code&code=x",
                "unsupported_grant_type",
            ),
            (FORM, "username=a&password=b", "invalid_request"),
            (FORM, "grant_type=password&username=a", "invalid_request"),
            (
                FORM,
                "grant_type=password&username=a&password=b&password=c",
                "invalid_request",
            ),
            (FORM, "grant_type=refresh_token", "invalid_request"),
            (
                FORM,
                "grant_type=password&grant_type=refresh_token",
                "invalid_request",
            ),
        ] {
            let error = form(content_type, body).await.err().expect(body);
            assert_eq!(error.code, code, "{body}");
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
        }
    }
}
