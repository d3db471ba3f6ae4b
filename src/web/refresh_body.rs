//! Where a refresh endpoint finds the refresh token: `Authorization: Bearer`, or a JSON body
//! `{"refresh_token": "..."}` (CRUDAuth's form).
//!
//! The rule: a JSON body without a `refresh_token` member is not a credential (many clients
//! send `{}`, or members of their own, with every JSON POST), so the header decides. Only a
//! token in the body *and* a Bearer header is ambiguous, and refused as a malformed request.

use axum_core::body::Body;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use http_body_util::{BodyExt as _, Collected, LengthLimitError, Limited};
use serde_json::{Map, Value};

use super::bearer::bearer;
use super::error::AuthError;

/// The largest JSON body read for `{"refresh_token": "..."}`.
pub(crate) const MAX_REFRESH_BODY: usize = 16 * 1024;

/// `application/json` or any `+json` type, parameters (`; charset=utf-8`) aside.
pub(crate) fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    media.eq_ignore_ascii_case("application/json")
        || media
            .rsplit_once('+')
            .is_some_and(|(_, suffix)| suffix.eq_ignore_ascii_case("json"))
}

/// The refresh token the request presents: `Ok(None)` when it presents none. Errors carry
/// no configuration yet: the caller renders them with its `Auth`.
pub(crate) async fn refresh_token(parts: &Parts, body: Body) -> Result<Option<String>, AuthError> {
    let header = bearer(&parts.headers)?;
    let json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json);
    let from_body = if json { body_token(body).await? } else { None };
    match (header, from_body) {
        (Some(_), Some(_)) => Err(AuthError::invalid_request(
            "Send the refresh token once: in the Authorization header or in the body",
        )),
        (Some(token), None) => Ok(Some(token.to_owned())),
        (None, from_body) => Ok(from_body),
    }
}

/// The `refresh_token` member of a JSON object body, if it has one.
async fn body_token(body: Body) -> Result<Option<String>, AuthError> {
    let bytes = Limited::new(body, MAX_REFRESH_BODY)
        .collect()
        .await
        .map(Collected::to_bytes)
        .map_err(|error| {
            AuthError::invalid_request(if error.is::<LengthLimitError>() {
                "The request body is too large"
            } else {
                "The request body could not be read"
            })
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut object: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| AuthError::invalid_request("The body must be a JSON object"))?;
    match object.remove("refresh_token") {
        None => Ok(None),
        Some(Value::String(token)) if !token.is_empty() => Ok(Some(token)),
        Some(_) => Err(AuthError::invalid_request(
            "refresh_token must be a non-empty string",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder();
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    async fn found(headers: &[(&str, &str)], body: &str) -> Result<Option<String>, u16> {
        refresh_token(&parts(headers), Body::from(body.to_owned()))
            .await
            .map_err(|e| e.status().as_u16())
    }

    const JSON: (&str, &str) = ("content-type", "application/json");
    const BEARER: (&str, &str) = ("authorization", "Bearer from-header");

    #[tokio::test]
    async fn a_body_without_refresh_token_leaves_the_header_in_charge() {
        for body in ["", " ", "{}", r#"{"device":"phone"}"#] {
            assert_eq!(
                found(&[JSON, BEARER], body).await,
                Ok(Some("from-header".into())),
                "{body}"
            );
            assert_eq!(found(&[JSON], body).await, Ok(None), "{body}");
        }
    }

    #[tokio::test]
    async fn the_body_token_alone_is_taken_and_twice_is_refused() {
        let body = r#"{"refresh_token":"from-body","device":"phone"}"#;
        assert_eq!(found(&[JSON], body).await, Ok(Some("from-body".into())));
        assert_eq!(found(&[JSON, BEARER], body).await, Err(400));
    }

    #[tokio::test]
    async fn bodies_that_are_not_objects_or_hold_a_non_string_are_refused() {
        for body in [
            "[]",
            "\"x\"",
            "{",
            r#"{"refresh_token":1}"#,
            r#"{"refresh_token":""}"#,
        ] {
            assert_eq!(found(&[JSON], body).await, Err(400), "{body}");
        }
    }

    #[tokio::test]
    async fn a_body_of_another_type_is_not_read() {
        let body = r#"{"refresh_token":"from-body"}"#;
        assert_eq!(
            found(&[("content-type", "text/plain")], body).await,
            Ok(None)
        );
    }
}
