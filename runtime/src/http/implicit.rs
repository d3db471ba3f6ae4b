//! Implicit refresh (AuthX's), as an axum middleware: an answer to a request whose access
//! cookie is about to expire carries a renewed one.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum_core::response::Response;

use super::cookies::find;
use super::locate::locate;
use crate::auth::Auth;
use crate::token::kind::TokenKind;
use crate::token::verify::now;

/// Renews the access cookie of a request when it expires within the window set with
/// [`Cookies::implicit_refresh`](crate::Cookies::implicit_refresh):
///
/// ```
/// use axum::{middleware, routing::get, Router};
/// use std::time::Duration;
/// use jwtguard::{implicit_refresh, Auth, Cookies};
///
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .cookies(Cookies::default().implicit_refresh(Duration::from_secs(120), ["/logout"]))
///     .build()?;
/// let app: Router = Router::new()
///     .route("/", get(|| async { "home" }))
///     .layer(middleware::from_fn_with_state(auth.clone(), implicit_refresh))
///     .with_state(auth);
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
///
/// The renewed token is what `#[refresh]` would issue for the access token's session, as an
/// access token only: same subject, scopes and extra claims, **never fresh**, in the same
/// refresh family and never past its end. It is decided after the handler ran, with the
/// token verified again: a token revoked meanwhile (the request was a logout) or already
/// expired is never renewed, nor is one outside the window, on an excluded route, signed by a
/// foreign key, or on a request a `Bearer` header authenticated; and an answer that sets or
/// clears the access cookie itself (a login, a refresh, a logout) is left as it is. The
/// request itself is not changed: the handler saw the old token.
pub async fn implicit_refresh(State(auth): State<Auth>, request: Request, next: Next) -> Response {
    let Some((cookies, window)) = auth
        .inner
        .cookies
        .as_ref()
        .and_then(|cookies| cookies.implicit_refresh.map(|window| (cookies, window)))
    else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let excluded = cookies
        .implicit_excluded
        .iter()
        .any(|prefix| path.starts_with(prefix.as_str()));
    // Only a request the access cookie authenticated: when a location before the cookie holds
    // a token (a Bearer header), that token decided, and the cookie is not renewed.
    let (parts, body) = request.into_parts();
    let decided_by_cookie = matches!(
        locate(&parts, &auth, TokenKind::Access),
        Ok(Some(found)) if found.from_cookie
    );
    let token = (!excluded && decided_by_cookie)
        .then(|| find(&parts.headers, &cookies.access).map(str::to_owned))
        .flatten();
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(token) = token else {
        return response;
    };
    // An answer that sets or clears the access cookie itself (a login, a refresh, a logout)
    // has the last word.
    let sets_access = response
        .headers()
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|line| line.split('=').next() == Some(cookies.access.as_str()));
    if sets_access {
        return response;
    }
    // Only this application's own tokens are renewed (as only they are refreshed).
    let Ok(claims) = auth.verify(&token) else {
        return response;
    };
    if !claims.verified.own_key {
        return response;
    }
    let now = now();
    let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    if claims.exp().saturating_sub(now) > window {
        return response;
    }
    if let Ok(renewed) = auth.renew_access(&claims) {
        cookies.set(response.headers_mut(), TokenKind::Access, &renewed, now);
    }
    response
}
