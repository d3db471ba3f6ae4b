//! Where tokens travel, and cookie mode for browsers. Access and refresh tokens in `HttpOnly`
//! cookies (out of reach of scripts, so of XSS), and readable CSRF cookies holding each token's
//! `csrf` claim for the double submit (see `csrf.rs`). Cookies are written and parsed by the
//! `cookie` crate, never by hand.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method};

use crate::token::kind::TokenKind;

/// A place a token may travel ([`AuthBuilder::token_locations`](crate::AuthBuilder::token_locations)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenLocation {
    /// `Authorization: Bearer` (RFC 6750 §2.1). The default.
    Header,
    /// The access (or refresh) token cookie of cookie mode
    /// ([`AuthBuilder::cookies`](crate::AuthBuilder::cookies)); unsafe methods then need the
    /// CSRF header.
    Cookie,
    /// A query parameter of this name (RFC 6750 §2.3), for access tokens only. A last resort:
    /// URLs end up in logs, histories and `Referer` headers.
    Query(String),
}

/// Cookie mode's settings ([`AuthBuilder::cookies`](crate::AuthBuilder::cookies)). The
/// defaults are AuthX's names, prefixed with `__Host-`, and the safe attributes:
///
/// | cookie | default name | attributes |
/// |---|---|---|
/// | access token | `__Host-access_token_cookie` | `HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=<access lifetime>` |
/// | refresh token | `__Host-refresh_token_cookie` | `HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=<refresh lifetime>` |
/// | CSRF of the access token | `__Host-csrf_access_token` | readable; `Secure; SameSite=Lax; Path=/; Max-Age=<access lifetime>` |
/// | CSRF of the refresh token | `__Host-csrf_refresh_token` | readable; `Secure; SameSite=Lax; Path=/; Max-Age=<refresh lifetime>` |
/// | device (login throttling) | `__Host-jwtguard_device` | `HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=<90 days>` |
///
/// `__Host-` makes a browser refuse the cookie unless it is `Secure`, for `Path=/` and without
/// `Domain`: a sibling subdomain cannot plant or shadow it (cookie tossing). It is dropped
/// with [`insecure_for_local_development`](Self::insecure_for_local_development) (browsers
/// refuse `__Host-` without `Secure`), [`without_host_prefix`](Self::without_host_prefix), or
/// a [`refresh_path`](Self::refresh_path) other than `/` (that cookie is then `__Secure-`).
/// The refresh cookie is sent to every path by default: logout and implicit refresh need it.
/// A request carrying a token cookie's name twice is refused (400).
///
/// # The CSRF model, and its limits
///
/// A browser attaches cookies to every request to your origin, including requests a hostile
/// page makes it send (cross-site request forgery). So a token taken from a cookie is trusted
/// for an unsafe method (POST, PUT, PATCH, DELETE; [`csrf_methods`](Self::csrf_methods)) only
/// with a header that a hostile page cannot set: `X-CSRF-Token`
/// ([`csrf_header`](Self::csrf_header)) equal to the token's own `csrf` claim. The claim is
/// random per token and signed with it; the readable CSRF cookie hands it to your page's
/// script. Comparing the header with the cookie alone would not do (a subdomain that can set
/// cookies could set both); comparing with the signed claim binds the value to the very token
/// presented. Missing or different: 403 `csrf_failed`. Tokens from `Authorization: Bearer` need
/// no CSRF header: browsers never send that header on their own.
///
/// Limits: this stops forgery, not XSS. A script running on your origin can read the CSRF
/// cookie and send the header (it still cannot read the token cookies, which are `HttpOnly`),
/// so fix XSS with the usual means (escaping, a Content-Security-Policy). Safe methods (GET,
/// HEAD) must not change state. Keep `SameSite=Lax` (or `Strict`) and `Secure`: they are the
/// first line, the double submit the second.
///
/// ```
/// use jwtguard::{Auth, Cookies};
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .cookies(Cookies::default().refresh_path("/auth/refresh"))
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cookies {
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) csrf_access: String,
    pub(crate) csrf_refresh: String,
    pub(crate) device: String,
    pub(crate) secure: bool,
    /// Whether the names get `__Host-` (or `__Secure-`) when `Secure`.
    pub(crate) prefixed: bool,
    pub(crate) same_site: SameSite,
    pub(crate) refresh_path: String,
    pub(crate) csrf_header: http::HeaderName,
    /// A name given to `csrf_header` that is not a header name: `build` refuses it.
    invalid_csrf_header: Option<String>,
    pub(crate) csrf_methods: Vec<Method>,
    /// Origins besides the application's own that may log in and refresh (a front end on
    /// another origin).
    pub(crate) allowed_origins: Vec<String>,
}

impl Default for Cookies {
    fn default() -> Self {
        Self {
            access: "access_token_cookie".into(),
            refresh: "refresh_token_cookie".into(),
            csrf_access: "csrf_access_token".into(),
            csrf_refresh: "csrf_refresh_token".into(),
            device: "jwtguard_device".into(),
            secure: true,
            prefixed: true,
            same_site: SameSite::Lax,
            refresh_path: "/".into(),
            csrf_header: http::HeaderName::from_static("x-csrf-token"),
            invalid_csrf_header: None,
            csrf_methods: vec![Method::POST, Method::PUT, Method::PATCH, Method::DELETE],
            allowed_origins: Vec::new(),
        }
    }
}

impl Cookies {
    /// The names of the access, refresh and two CSRF cookies.
    pub fn names(
        mut self,
        access: impl Into<String>,
        refresh: impl Into<String>,
        csrf_access: impl Into<String>,
        csrf_refresh: impl Into<String>,
    ) -> Self {
        self.access = access.into();
        self.refresh = refresh.into();
        self.csrf_access = csrf_access.into();
        self.csrf_refresh = csrf_refresh.into();
        self
    }

    /// Keeps the names as given, without the `__Host-` prefix (for a client that reads the
    /// cookies by their AuthX names). A sibling subdomain can then plant cookies of the same
    /// names.
    pub fn without_host_prefix(mut self) -> Self {
        self.prefixed = false;
        self
    }

    /// The names as they are sent: with `__Host-` when `Secure` and prefixed (`__Secure-`
    /// for a refresh cookie whose path is not `/`). Applied once, when the `Auth` is built.
    pub(crate) fn finish(mut self) -> Result<Self, crate::ConfigError> {
        if let Some(name) = self.invalid_csrf_header.take() {
            return Err(crate::ConfigError::HeaderName(name));
        }
        if !(self.secure && self.prefixed) {
            return Ok(self);
        }
        let refresh_prefix = if self.refresh_path == "/" {
            "__Host-"
        } else {
            "__Secure-"
        };
        for name in [
            &mut self.access,
            &mut self.csrf_access,
            &mut self.csrf_refresh,
            &mut self.device,
        ] {
            *name = format!("__Host-{name}");
        }
        self.refresh = format!("{refresh_prefix}{}", self.refresh);
        Ok(self)
    }

    /// Drops `Secure`, for local development over plain `http://` only: browsers do not send
    /// `Secure` cookies over HTTP. `Auth::build` warns about it.
    pub fn insecure_for_local_development(mut self) -> Self {
        self.secure = false;
        self
    }

    /// `SameSite` (default `Lax`).
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The path the refresh cookie is sent to (default `/`: logout and implicit refresh need
    /// it on other routes). A narrower one (the refresh route) keeps it off other routes, at
    /// the price of a logout that cannot end the session once the access cookie is gone.
    pub fn refresh_path(mut self, path: impl Into<String>) -> Self {
        self.refresh_path = path.into();
        self
    }

    /// The header carrying the CSRF value (default `X-CSRF-Token`). An invalid name is ignored.
    pub fn csrf_header(mut self, name: &str) -> Self {
        match http::HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => self.csrf_header = name,
            // Refused by `AuthBuilder::build`, never silently replaced by the default.
            Err(_) => self.invalid_csrf_header = Some(name.to_owned()),
        }
        self
    }

    /// The methods that need the CSRF header when the token comes from a cookie (default
    /// POST, PUT, PATCH, DELETE).
    pub fn csrf_methods(mut self, methods: impl IntoIterator<Item = Method>) -> Self {
        self.csrf_methods = methods.into_iter().collect();
        self
    }

    /// Origins besides the application's own (`https://app.example.com`, exactly as browsers
    /// send `Origin`) whose pages may call `#[login]`, `#[refresh]` and `#[logout]`. The
    /// application's own origin is the `Host` a request was sent to; behind a proxy that
    /// rewrites `Host` (nginx's default `proxy_set_header Host $proxy_host`), list the public
    /// origin here, or pass `Host` through.
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Whether a browser sent this request for a page of another site: `Sec-Fetch-Site:
    /// cross-site`, or an `Origin` that is neither the application's own (the `Host` it was
    /// sent to) nor an allowed one. A request without either (curl, a server) is not.
    pub(crate) fn sent_by_another_site(&self, parts: &Parts) -> bool {
        let headers = &parts.headers;
        if headers
            .get("sec-fetch-site")
            .is_some_and(|site| site.as_bytes().eq_ignore_ascii_case(b"cross-site"))
        {
            return true;
        }
        let Some(origin) = headers.get(http::header::ORIGIN) else {
            return false;
        };
        let Ok(origin) = origin.to_str() else {
            return true;
        };
        if self.allowed_origins.iter().any(|allowed| allowed == origin) {
            return false;
        }
        let host = headers
            .get(http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .or_else(|| parts.uri.authority().map(http::uri::Authority::as_str));
        let authority = origin.split_once("://").map(|(_, authority)| authority);
        host.is_none() || authority != host
    }

    /// The token cookie of `kind` in the request, if any; `Err` when its name comes twice
    /// (a cookie planted beside the real one: which one the server reads must not be up to
    /// the order the browser sends them in).
    pub(crate) fn token<'p>(
        &self,
        parts: &'p Parts,
        kind: TokenKind,
    ) -> Result<Option<&'p str>, Duplicated> {
        let name = match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        };
        let mut values = all(&parts.headers, name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Duplicated);
        }
        Ok(first.filter(|value| !value.is_empty()))
    }

    fn cookie<'c>(&self, name: &'c str, value: String, path: &'c str, max_age: i64) -> Cookie<'c> {
        Cookie::build((name, value))
            .path(path)
            .secure(self.secure)
            .same_site(self.same_site)
            .max_age(cookie::time::Duration::seconds(max_age.max(0)))
            .build()
    }

    /// The `Set-Cookie`s of a token: the token itself (`HttpOnly`) and its readable CSRF
    /// value, living as long as the token.
    pub(crate) fn set(&self, headers: &mut HeaderMap, kind: TokenKind, token: &str, now: i64) {
        let Some((exp, csrf)) = exp_and_csrf(token) else {
            return;
        };
        let (name, csrf_name, path) = match kind {
            TokenKind::Access => (&self.access, &self.csrf_access, "/"),
            TokenKind::Refresh => (
                &self.refresh,
                &self.csrf_refresh,
                self.refresh_path.as_str(),
            ),
        };
        let mut token_cookie = self.cookie(name, token.to_owned(), path, exp - now);
        token_cookie.set_http_only(true);
        append(headers, &token_cookie);
        append(headers, &self.cookie(csrf_name, csrf, "/", exp - now));
    }

    /// The device cookie's id, if the request carries exactly one.
    pub(crate) fn device<'p>(&self, parts: &'p Parts) -> Option<&'p str> {
        let mut values = all(&parts.headers, &self.device);
        let first = values.next();
        values.next().is_none().then_some(first).flatten()
    }

    /// The `Set-Cookie` of the device cookie: an opaque random id that lets login throttling
    /// tell this browser from an attacker's (it proves nothing else, and is not a session).
    pub(crate) fn set_device(&self, headers: &mut HeaderMap, id: &str, max_age: i64) {
        let mut device = self.cookie(&self.device, id.to_owned(), "/", max_age);
        device.set_http_only(true);
        append(headers, &device);
    }

    /// `Set-Cookie`s that remove all four cookies (logout).
    pub(crate) fn clear(&self, headers: &mut HeaderMap) {
        for (name, path) in [
            (&self.access, "/"),
            (&self.refresh, self.refresh_path.as_str()),
            (&self.csrf_access, "/"),
            (&self.csrf_refresh, "/"),
        ] {
            let mut removal = self.cookie(name, String::new(), path, 0);
            removal.make_removal();
            append(headers, &removal);
        }
    }
}

fn append(headers: &mut HeaderMap, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        headers.append(SET_COOKIE, value);
    }
}

/// A token cookie's name came twice in one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Duplicated;

/// Every value of the cookie `name` in the request's `Cookie` headers.
fn all<'h>(headers: &'h HeaderMap, name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(move |cookie| cookie.name() == name)
        .filter_map(|cookie| cookie.value_raw())
}

/// A token's `exp`, unverified: only to pick the instant a token that failed as expired is
/// verified again at (see `__private/logout.rs`).
pub(crate) fn unverified_exp(token: &str) -> Option<i64> {
    exp_and_csrf(token).map(|(exp, _)| exp)
}

/// The `exp` and `csrf` claims of a token this application just signed (no verification
/// needed: it is ours).
fn exp_and_csrf(token: &str) -> Option<(i64, String)> {
    #[derive(serde::Deserialize)]
    struct Claims {
        exp: i64,
        #[serde(default)]
        csrf: String,
    }
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Claims>(&json)
        .ok()
        .map(|c| (c.exp, c.csrf))
}
