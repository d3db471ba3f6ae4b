//! Where a request's token is: the configured locations, in order; the first that holds a
//! token decides (a request with a bad header token and a good cookie is refused, never
//! "rescued" by the next location). And the CSRF double submit for tokens from cookies.

use http::request::Parts;
use subtle::ConstantTimeEq as _;

use super::bearer::bearer;
use super::cookies::TokenLocation;
use super::error::{AuthError, AuthErrorKind};
use crate::auth::Auth;
use crate::token::kind::TokenKind;

/// A token and where it was found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Found<'p> {
    pub(crate) token: &'p str,
    pub(crate) from_cookie: bool,
}

/// The request's token of `kind`: `Ok(None)` when no location holds one.
pub(crate) fn locate<'p>(
    parts: &'p Parts,
    auth: &Auth,
    kind: TokenKind,
) -> Result<Option<Found<'p>>, AuthError> {
    for location in &auth.inner.locations {
        let token = match location {
            TokenLocation::Header => bearer(&parts.headers)?,
            TokenLocation::Cookie => match auth.inner.cookies.as_ref() {
                Some(cookies) => cookies.token(parts, kind).map_err(|_| {
                    AuthError::new(AuthErrorKind::InvalidRequest(
                        "A token cookie was sent twice",
                    ))
                })?,
                None => None,
            },
            TokenLocation::Query(name) if kind == TokenKind::Access => query(parts, name),
            TokenLocation::Query(_) => None,
        };
        if let Some(token) = token {
            return Ok(Some(Found {
                token,
                from_cookie: *location == TokenLocation::Cookie,
            }));
        }
    }
    Ok(None)
}

/// The raw value of the query parameter `name` (tokens are base64url and dots: nothing to
/// decode; a value that would need decoding is not a token of ours).
fn query<'p>(parts: &'p Parts, name: &str) -> Option<&'p str> {
    parts
        .uri
        .query()?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// The double submit: a token from a cookie on an unsafe method needs the CSRF header, equal
/// (in constant time) to the token's own `csrf` claim. A value merely equal to the CSRF cookie
/// is not enough: it must be the one bound to this token.
pub(crate) fn check_csrf(
    parts: &Parts,
    auth: &Auth,
    found: Found<'_>,
    claim: &str,
) -> Result<(), AuthError> {
    let Some(cookies) = auth.inner.cookies.as_ref().filter(|_| found.from_cookie) else {
        return Ok(());
    };
    if !cookies.csrf_methods.contains(&parts.method) {
        return Ok(());
    }
    let sent = parts
        .headers
        .get(&cookies.csrf_header)
        .map(http::HeaderValue::as_bytes);
    let refuse = |why| Err(AuthError::new(AuthErrorKind::Csrf(why)).with_auth(auth));
    match sent {
        None => refuse("The CSRF header is missing"),
        Some(sent) if !claim.is_empty() && bool::from(sent.ct_eq(claim.as_bytes())) => Ok(()),
        Some(_) => refuse("The CSRF header does not match the token"),
    }
}
