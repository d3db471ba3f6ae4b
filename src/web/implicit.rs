//! Implicit refresh (AuthX's), as an axum middleware: an answer to a request whose access
//! cookie is about to expire carries the session's next pair, rotated with the refresh cookie.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum_core::response::Response;

use super::locate::locate;
use crate::auth::Auth;
use crate::clock::now;
use crate::token::claims::Claims;
use crate::token::errors::ConfigError;
use crate::token::grant::Grant;
use crate::token::kind::TokenKind;

/// The configuration of [`implicit_refresh`], given to it as its state: the one place
/// implicit refresh is set up, refused without cookie mode.
#[derive(Debug, Clone)]
pub struct ImplicitRefresh {
    auth: Auth,
    window: Duration,
    excluded: Vec<String>,
}

impl ImplicitRefresh {
    /// Renew sessions whose access cookie expires within `window`. Cookie mode must be on
    /// ([`AuthBuilder::cookies`](crate::AuthBuilder::cookies)): a bearer token is never
    /// renewed behind the client's back.
    pub fn new(auth: &Auth, window: Duration) -> Result<Self, ConfigError> {
        if auth.inner.cookies.is_none() {
            return Err(ConfigError::CookiesNotConfigured);
        }
        Ok(Self {
            auth: auth.clone(),
            window,
            excluded: Vec::new(),
        })
    }

    /// Leave routes whose path starts with one of `prefixes` alone (the logout route: a
    /// session renewed just before it ends is renewed for nothing).
    pub fn excluding(mut self, prefixes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.excluded = prefixes.into_iter().map(Into::into).collect();
        self
    }
}

/// Renews the session of a request whose access cookie expires within the window of its
/// [`ImplicitRefresh`] state (AuthX's implicit refresh), as an axum middleware:
///
/// ```
/// use axum::{middleware, routing::get, Router};
/// use std::time::Duration;
/// use jwtguard::{implicit_refresh, Auth, Cookies, ImplicitRefresh};
///
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .cookies(Cookies::default())
///     .build()?;
/// let renew = ImplicitRefresh::new(&auth, Duration::from_secs(120))?.excluding(["/logout"]);
/// let app: Router = Router::new()
///     .route("/", get(|| async { "home" }))
///     .layer(middleware::from_fn_with_state(renew, implicit_refresh))
///     .with_state(auth);
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
///
/// The renewal is a refresh, with the **refresh cookie**: the refresh token of the access
/// token's own session is rotated exactly as `#[refresh]` rotates it (so reuse detection
/// sees it), and the answer carries both new cookies. An access token alone never renews
/// anything: a stolen access cookie dies at its expiry, whatever window is configured. The new
/// pair is never fresh, keeps the session's scopes and terms, and never outlives the session.
///
/// It is decided before the handler runs, with both tokens verified: nothing is renewed for a
/// revoked or expired token, outside the window,
/// on an excluded route, for a foreign key's token, for a refresh cookie of another session,
/// or on a request a `Bearer` header authenticated; and an answer that sets or clears the
/// access cookie itself (a login, a refresh, a logout) is left as it is (exclude the logout
/// route: a session renewed just before it ends is renewed for nothing). An answer that gets
/// cookies is marked `Cache-Control: private, no-store` and `Vary: Cookie`: no shared cache
/// may hand one user's tokens to another. The request itself is not changed: the handler saw
/// the old token.
pub async fn implicit_refresh(
    State(config): State<ImplicitRefresh>,
    request: Request,
    next: Next,
) -> Response {
    let (auth, window) = (&config.auth, config.window);
    let Some(cookies) = auth.inner.cookies.as_ref() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let excluded = config
        .excluded
        .iter()
        .any(|prefix| path.starts_with(prefix.as_str()));
    // Only a request the access cookie authenticated: when a location before the cookie holds
    // a token (a Bearer header), that token decided, and the cookie is not renewed.
    let (parts, body) = request.into_parts();
    let tokens = match locate(&parts, auth, TokenKind::Access) {
        Ok(Some(found)) if found.from_cookie && !excluded => cookies
            .token(&parts, TokenKind::Refresh)
            .ok()
            .flatten()
            .map(|refresh| (found.token.to_owned(), refresh.to_owned())),
        _ => None,
    };
    // Rotated before the handler runs: a slow handler must not present, after it, a refresh
    // token that a quicker request has rotated since (past the grace window, a reuse).
    let renewed = match tokens {
        Some((access, refresh)) => renewal(auth, &access, &refresh, window).await,
        None => None,
    };
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let Some(pair) = renewed else {
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
    let now = now();
    let headers = response.headers_mut();
    cookies.set(headers, TokenKind::Access, &pair.access_token, now);
    cookies.set(headers, TokenKind::Refresh, &pair.refresh_token, now);
    private(headers);
    response
}

/// The next pair of the access token's session, when it is due: the access token this
/// application's, live, within the window; the refresh token this application's and of the
/// same session, rotated as `#[refresh]` rotates it.
async fn renewal(
    auth: &Auth,
    access: &str,
    refresh: &str,
    window: std::time::Duration,
) -> Option<crate::token::issue::TokenResponse> {
    let claims = auth.verify(access).ok()?;
    let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    if !claims.verified.own_key || claims.exp().saturating_sub(now()) > window {
        return None;
    }
    let refresh = auth.renewable(refresh).ok()?;
    if refresh.fam().is_empty() || refresh.fam() != claims.session() {
        return None;
    }
    let grant = Grant::renew(&Claims::standard(refresh.clone()));
    auth.rotate_pair(&refresh, &grant).await.ok()
}

/// An answer carrying a user's tokens is for that user's browser only.
pub(crate) fn private(headers: &mut http::HeaderMap) {
    headers.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("private, no-store"),
    );
    headers.append(http::header::VARY, http::HeaderValue::from_static("Cookie"));
}
