//! Token pairs as HTTP answers.

use axum_core::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA};

use crate::token::issue::TokenResponse;

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
