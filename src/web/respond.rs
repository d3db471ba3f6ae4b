//! Token pairs as HTTP answers.

use axum_core::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};

use crate::auth::Auth;
use crate::token::issue::TokenResponse;
use crate::token::kind::TokenKind;

impl IntoResponse for TokenResponse {
    /// 200 with the JSON pair and `Cache-Control: no-store` (RFC 6749 §5.1): tokens must
    /// never sit in a cache.
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = Response::new(body.into());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

/// A token pair as the answer of a login or refresh endpoint: the JSON, and in cookie mode the
/// token cookies and their CSRF cookies. A refresh made with the refresh cookie is a
/// browser's: its answer keeps the tokens out of the body (`cookies_only`), or a script
/// injected in the page could read a fresh pair there, which `HttpOnly` exists to prevent.
pub(crate) fn pair_answer(auth: &Auth, pair: TokenResponse) -> Response {
    pair_answer_to(auth, pair, false)
}

/// [`pair_answer`], with the tokens left out of the body when `cookies_only`.
pub(crate) fn pair_answer_to(auth: &Auth, pair: TokenResponse, cookies_only: bool) -> Response {
    let cookies = auth.inner.cookies.as_ref().map(|cookies| {
        let mut headers = http::HeaderMap::new();
        let now = crate::clock::now();
        cookies.set(&mut headers, TokenKind::Access, &pair.access_token, now);
        cookies.set(&mut headers, TokenKind::Refresh, &pair.refresh_token, now);
        headers
    });
    let cookies_only = cookies_only && cookies.is_some();
    let mut response = if cookies_only {
        let body = serde_json::json!({
            "token_type": pair.token_type,
            "expires_in": pair.expires_in,
        });
        let mut response = Response::new(body.to_string().into());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
        response
    } else {
        pair.into_response()
    };
    if let Some(cookies) = cookies {
        response.headers_mut().extend(cookies);
        super::implicit::private(response.headers_mut());
    }
    response
}
