//! Reading `Authorization: Bearer` (RFC 6750 §2.1), with its size bounded first.

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::error::AuthError;

/// The longest `Authorization` header read; longer ones are refused without parsing.
pub(crate) const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// The bearer token of the request: `Ok(None)` when none was sent (no header, or another
/// scheme such as `Basic`), an error when the header is malformed.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::invalid_request("Send one Authorization header"));
    }
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(AuthError::invalid_request(
            "The Authorization header is too large",
        ));
    }
    // A header value holds no control characters but tab; past that, ASCII is what
    // `HeaderValue::to_str` checks, one byte at a time. `is_ascii` checks a word at a time.
    let value = Some(value.as_bytes())
        .filter(|bytes| bytes.is_ascii())
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .ok_or_else(|| AuthError::invalid_request("The Authorization header is not ASCII"))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(AuthError::invalid_request("The Bearer token is empty"));
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc", "Bearer   abc "] {
            assert_eq!(bearer(&with(&[v])).unwrap(), Some("abc"), "{v}");
        }
    }

    #[test]
    fn other_schemes_are_no_token() {
        assert_eq!(bearer(&with(&["Basic dXNlcjpwYXNz"])).unwrap(), None);
        assert_eq!(bearer(&with(&[])).unwrap(), None);
    }

    #[test]
    fn malformed_headers_are_invalid_requests() {
        for values in [&["Bearer "][..], &["Bearer"], &["Bearer a", "Bearer b"]] {
            let err = bearer(&with(values)).unwrap_err();
            assert_eq!(err.status(), http::StatusCode::BAD_REQUEST, "{values:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_LEN));
        assert_eq!(
            bearer(&with(&[&long])).unwrap_err().status(),
            http::StatusCode::BAD_REQUEST
        );
    }
}
