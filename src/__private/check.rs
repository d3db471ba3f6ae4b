//! `#[protected(check = path)]`: a function of the application's after the scope check. It
//! may be sync or async, and return `bool` or `Result<bool, E>`; the expansion calls it through
//! [`CheckCall`], whose two traits pick the right way by autoref (the future, when it is one;
//! the value otherwise).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;

use super::guard::HasAuth;
use crate::auth::Auth;
use crate::web::error::{AuthError, AuthErrorKind};

/// What a check may return: `bool`, or `Result<bool, E>` whose error is logged.
pub trait CheckOutcome {
    /// `Ok(allowed)`, or the error's text for the log.
    fn into_outcome(self) -> Result<bool, String>;
}

impl CheckOutcome for bool {
    fn into_outcome(self) -> Result<bool, String> {
        Ok(self)
    }
}

impl<E: std::fmt::Display> CheckOutcome for Result<bool, E> {
    fn into_outcome(self) -> Result<bool, String> {
        self.map_err(|e| e.to_string())
    }
}

/// The check's outcome, boxed.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;

/// What the check returned, taken once by whichever trait applies.
pub struct CheckCall<T>(Cell<Option<T>>);

impl<T> std::fmt::Debug for CheckCall<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckCall")
    }
}

impl<T> CheckCall<T> {
    /// Wraps a check's return value.
    pub fn new(value: T) -> Self {
        Self(Cell::new(Some(value)))
    }
}

/// An async check: its future, awaited. Preferred by autoref (`(&&call).resolve()`).
pub trait AsyncCheck<'a> {
    /// The outcome.
    fn resolve(&self) -> CheckFuture<'a>;
}

impl<'a, F> AsyncCheck<'a> for &CheckCall<F>
where
    F: Future + Send + 'a,
    F::Output: CheckOutcome,
{
    fn resolve(&self) -> CheckFuture<'a> {
        let future = self.0.take();
        Box::pin(async move {
            match future {
                Some(future) => future.await.into_outcome(),
                None => Err("the check was resolved twice".to_owned()),
            }
        })
    }
}

/// A sync check: its value.
pub trait SyncCheck<'a> {
    /// The outcome.
    fn resolve(&self) -> CheckFuture<'a>;
}

impl<'a, T: CheckOutcome + Send + 'a> SyncCheck<'a> for CheckCall<T> {
    fn resolve(&self) -> CheckFuture<'a> {
        let outcome = self.0.take().map_or_else(
            || Err("the check was resolved twice".to_owned()),
            T::into_outcome,
        );
        Box::pin(std::future::ready(outcome))
    }
}

/// `Ok(())` when the check allowed the request; a 403 when it refused; a 500 (logged, nothing
/// said to the client) when it failed; rendered with the application's `Auth` like every
/// other refusal.
pub fn checked(
    outcome: Result<bool, String>,
    check: &'static str,
    head: &RequestHead,
) -> Result<(), Response> {
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(AuthError::new(AuthErrorKind::Denied)
            .with_auth(&head.auth)
            .required(check)
            .into_response()),
        Err(error) => {
            tracing::error!(check, error = %error, "jwtguard: a route check failed");
            Err(AuthError::new(AuthErrorKind::Internal)
                .with_auth(&head.auth)
                .into_response())
        }
    }
}

/// The answer of a `#[protected(check = ...)]` handler: the handler's own, or the check's
/// refusal.
#[derive(Debug)]
pub enum Checked<T> {
    /// The check passed: the handler's answer.
    Passed(T),
    /// The check refused or failed.
    Refused(Response),
}

impl<T: IntoResponse> IntoResponse for Checked<T> {
    fn into_response(self) -> Response {
        match self {
            Self::Passed(answer) => answer.into_response(),
            Self::Refused(refusal) => refusal,
        }
    }
}

/// The extractor a checked route gains: the request's head (method, URI, version, headers,
/// and its extensions, so a check can read what axum put there), for the check; and the
/// configuration its refusals are rendered with.
#[derive(Debug)]
pub struct RequestHead {
    /// The head of the request.
    pub parts: Parts,
    auth: Auth,
}

impl<S> FromRequestParts<S> for RequestHead
where
    S: HasAuth + Send + Sync,
{
    type Rejection = core::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let mut head = http::Request::new(()).into_parts().0;
        head.method = parts.method.clone();
        head.uri = parts.uri.clone();
        head.version = parts.version;
        head.headers = parts.headers.clone();
        head.extensions = parts.extensions.clone();
        Ok(Self {
            parts: head,
            auth: state.auth(),
        })
    }
}
