//! The application's hook for the body of error answers, and what it is given.

use axum_core::response::Response;
use http::StatusCode;

/// What a custom error body may show: the status and the stable code and message of the
/// default JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorParts {
    /// The status of the answer.
    pub status: StatusCode,
    /// The stable machine-readable code, e.g. `"token_expired"`.
    pub code: &'static str,
    /// The human message, e.g. `"Token expired"`.
    pub message: &'static str,
    /// Why a token was refused, e.g. `"signature"` ([`TokenError::reason`](crate::TokenError::reason)); `None` for a
    /// refusal that is not about a token's content.
    pub reason: Option<&'static str>,
}

/// A hook that renders the body of every error answer. Status, `WWW-Authenticate` and
/// `Cache-Control` are set by jwtguard afterwards, so RFC 6750 holds whatever it returns.
///
/// ```
/// use axum::{response::IntoResponse, Json};
/// use jwtguard::{Auth, ErrorParts};
///
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .error_body(|e: ErrorParts| Json(serde_json::json!({ "detail": e.message })).into_response())
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
pub type ErrorBody = fn(ErrorParts) -> Response;
