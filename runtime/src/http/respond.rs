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
/// token cookies and their CSRF cookies.
pub(crate) fn pair_answer(auth: &Auth, pair: TokenResponse) -> Response {
    let cookies = auth.inner.cookies.as_ref().map(|cookies| {
        let mut headers = http::HeaderMap::new();
        let now = crate::token::verify::now();
        cookies.set(&mut headers, TokenKind::Access, &pair.access_token, now);
        cookies.set(&mut headers, TokenKind::Refresh, &pair.refresh_token, now);
        headers
    });
    let mut response = pair.into_response();
    if let Some(cookies) = cookies {
        response.headers_mut().extend(cookies);
    }
    response
}
