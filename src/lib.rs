// The front page is the README. In rustdoc its guide links lead to the guide modules: a link
// takes its first definition, and these come before the README's own (docs/*.md, for GitHub).
//! [vocabulary]: crate::guide::vocabulary
//! [macros]: crate::guide::macros
//! [passwords]: crate::guide::passwords
//! [throttling]: crate::guide::throttling
//! [sessions]: crate::guide::sessions
//! [cookies]: crate::guide::cookies
//! [configuration]: crate::guide::configuration
//! [errors]: crate::guide::errors
//! [verification]: crate::guide::verification
//! [identity providers]: crate::guide::identity_providers
//! [openapi]: crate::guide::openapi
//! [quickstart]: crate::guide::quickstart
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod auth;
mod clock;
#[cfg(feature = "oidc")]
mod issuers;
mod random;
mod sessions;
mod store;
mod throttle;
mod token;
mod web;

#[cfg(feature = "password")]
pub mod password;

#[cfg(feature = "utoipa")]
pub mod openapi;

#[doc(hidden)]
pub mod __private;

pub use auth::{Auth, AuthBuilder};
pub use cookie::SameSite;
#[cfg(feature = "oidc")]
pub use issuers::{ScopeClaim, TrustedIssuer, Typing};
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::JwkSet;
pub use store::memory::MemoryStore;
#[cfg(feature = "redis")]
pub use store::redis::{RedisStore, RedisStoreBuilder};
pub use throttle::{Attempt, LoginClient, Throttle};
pub use token::claims::Claims;
pub use token::errors::{ConfigError, IssueError, TokenError};
pub use token::grant::Grant;
pub use token::issue::TokenResponse;
pub use token::key::Key;
pub use token::kind::TokenKind;
pub use token::revocation::{Store, StoreError};
pub use token::scope::{Registry, Scope};
pub use token::verify::MAX_TOKEN_LEN;
pub use web::client::TrustedProxies;
pub use web::cookies::{Cookies, TokenLocation};
pub use web::current_user::{CurrentUser, LoadUser};
pub use web::error::{AuthError, AuthErrorKind};
pub use web::error_body::{ErrorBody, ErrorParts};
pub use web::implicit::{ImplicitRefresh, implicit_refresh};
pub use web::token_endpoint::PasswordGrant;

// The store port's operations, for the benchmarks and the allocation counts only: the port is
// sealed (see `Store`), so none of these types is part of the API.
#[doc(hidden)]
pub mod revocation {
    pub use crate::store::none::NoRevocation;
    pub use crate::token::revocation::{
        Charge, Consumed, Limits, Presented, Refusal, Rotation, Store, StoreError, StoreFuture,
        Success, Verdict,
    };
}

/// Puts token verification in front of an axum handler: it runs only for a valid access token
/// that meets the route's requirement.
///
/// ```
/// use axum::{routing::get, Router};
/// use jwtguard::{protected, scopes, Auth, Claims};
///
/// scopes! {
///     REPORTS_READ = "reports:read",
///     ADMIN = "admin",
/// }
///
/// #[protected]                                   // any valid access token
/// async fn me(claims: Claims) -> String { claims.sub().to_owned() }
///
/// #[protected(scopes = "reports:read admin")]    // all of them (also: ["reports:read", "admin"])
/// async fn export() -> &'static str { "csv" }
///
/// #[protected(any = ["admin", "reports:read"], fresh)]   // one of them, from a fresh login
/// async fn settings() -> &'static str { "saved" }
///
/// #[protected(refresh)]                          // a refresh token instead of an access token
/// async fn sessions(claims: Claims) -> String { claims.jti().to_owned() }
///
/// fn main() {
///     let auth = Auth::builder().random_secret().build().unwrap();
///     let app: Router = Router::new()
///         .route("/me", get(me))
///         .route("/export", get(export))
///         .route("/settings", get(settings))
///         .route("/sessions", get(sessions))
///         .with_state(auth);
/// }
/// ```
///
/// | argument | meaning |
/// |---|---|
/// | (none) | any valid access token |
/// | `scopes = "a b"` or `scopes = ["a", "b"]` | the token must grant all of them |
/// | `any = "a b"` or `any = ["a", "b"]` | the token must grant at least one |
/// | `fresh` | only a [fresh](crate::guide::vocabulary) token, straight from a login |
/// | `refresh` | a refresh token instead of an access token (not with `fresh`) |
/// | `check = path` | then a rule of yours: see below |
/// | `crate = path` | the path of a renamed jwtguard dependency ([guide](crate::guide::macros#a-renamed-dependency)) |
///
/// Every scope is checked at compile time against the crate's [`scopes!`]; a token-side
/// wildcard `ns:*` grants every declared `ns:...` scope. What the macro changes in the
/// function (a guard parameter, `Claims` parameters bound from it) and how the route answers
/// are in [the macros guide](crate::guide::macros).
///
/// # Custom checks
///
/// `check = path::to::function` runs a rule of yours after the token and the scopes passed
/// (the user owns the tenant, the account is active, ...). The function takes the verified
/// claims and the request's head (method, URI, version, headers, extensions), may be sync
/// or `async`, and returns `bool` or `Result<bool, E>` with `E: Display`:
///
/// ```
/// use axum::http::request::Parts;
/// use jwtguard::{protected, Claims};
///
/// fn owns_tenant(claims: &Claims, head: &Parts) -> bool {
///     head.uri.path().strip_prefix("/tenants/") == Some(claims.sub())   // the path is /tenants/{sub}
/// }
///
/// #[protected(check = owns_tenant)]
/// async fn tenant() -> &'static str { "yours" }
/// # fn main() {}
/// ```
///
/// `true` runs the handler; `false` is a 403 `access_denied`; an `Err` is a 500 that says
/// nothing to the client and is logged with `tracing::error!`. A path that does not resolve,
/// or a function of another shape, does not compile (the error points at the path). The
/// handler's answer type `T` becomes `Checked<T>` (an `IntoResponse`).
///
/// # Compile errors
///
/// A misspelt scope does not compile:
///
/// ```compile_fail,E0080
/// use jwtguard::{protected, scopes};
/// scopes! { REPORTS_READ = "reports:read" }
///
/// #[protected(scopes = "reports:raed")] // unknown scope "reports:raed": did you mean "reports:read"?
/// async fn export() -> &'static str { "csv" }
/// # fn main() {}
/// ```
///
/// Nor does a router whose state gives no [`Auth`]
/// ([the messages](crate::guide::errors#compile-errors)):
///
/// ```compile_fail,E0277
/// use axum::{routing::get, Router};
/// #[jwtguard::protected]
/// async fn me() {}
/// fn main() {
///     let app: Router = Router::new().route("/me", get(me)); // no `.with_state(auth)`
/// }
/// ```
pub use jwtguard_macros::protected;

/// Turns a handler that returns a [`Grant`] into a login endpoint: 200 with the token pair
/// ([`TokenResponse`]) and `Cache-Control: no-store`.
///
/// ```
/// use axum::{routing::post, Json, Router};
/// use jwtguard::{login, scopes, Auth, AuthError, Grant};
///
/// scopes! { REPORTS_READ = "reports:read", ADMIN = "admin" }
///
/// #[derive(serde::Deserialize)]
/// struct Form { username: String, password: String }
///
/// #[login(throttle = form.username, scopes = "reports:read")] // a ceiling: ADMIN below is cut
/// async fn log_in(Json(form): Json<Form>) -> Result<Grant, AuthError> {
///     if form.password != "hunter2" {
///         return Err(AuthError::invalid_credentials());
///     }
///     Ok(Grant::to(form.username).scopes([REPORTS_READ, ADMIN]))
/// }
///
/// fn main() {
///     let auth = Auth::builder().random_secret().build().unwrap();
///     let app: Router = Router::new().route("/login", post(log_in)).with_state(auth);
/// }
/// ```
///
/// (The front page's example checks a password as a real login must: see also
/// [passwords](crate::guide::passwords).)
///
/// | argument | meaning |
/// |---|---|
/// | (none) | throttled by client address |
/// | `throttle = expr` | throttled by client address and by username: `expr` is the attempted username, any expression over the handler's parameters that gives a `&str`-like value |
/// | `unthrottled` | not throttled at all: only when something else in front of the route throttles logins |
/// | `scopes = "a b"` | a [ceiling](crate::guide::vocabulary): a grant asking for more is cut down to it (checked at compile time) |
/// | `crate = path` | the path of a renamed jwtguard dependency ([guide](crate::guide::macros#a-renamed-dependency)) |
///
/// The handler returns `Grant` or `Result<Grant, E>` with `E: IntoResponse`. An `Err` is
/// answered as it is; an [`AuthError`] (such as `AuthError::invalid_credentials()`, a 401)
/// with the application's realm and error body. The access token is fresh unless the grant
/// says `.fresh(false)`. A login starts a [session](crate::guide::sessions); in cookie mode it
/// also sets the token cookies ([cookies](crate::guide::cookies)). How attempts are counted,
/// and the 429: [throttling](crate::guide::throttling).
///
/// A handler that does not return a grant does not compile:
///
/// ```compile_fail
/// #[jwtguard::login]
/// async fn log_in() -> String { String::new() } // must return `Grant` or `Result<Grant, E>`
/// # fn main() {}
/// ```
pub use jwtguard_macros::login;

/// Turns a handler into the refresh endpoint: a valid **refresh** token in, the next pair of
/// its session out (200, `Cache-Control: no-store`).
///
/// ```
/// use axum::{routing::post, Router};
/// use jwtguard::{refresh, Auth, Claims, Grant};
///
/// #[refresh]
/// async fn renew(claims: Claims) -> Grant {
///     Grant::renew(&claims) // the session's subject, scopes, extra claims and terms
/// }
///
/// # let auth = Auth::builder().random_secret().build().unwrap();
/// let app: Router = Router::new().route("/refresh", post(renew)).with_state(auth);
/// ```
///
/// Arguments: `scopes = "a b"`, a [ceiling](crate::guide::vocabulary) re-applied on every
/// refresh (checked at compile time), and `crate = path`.
///
/// **Where the refresh token comes from.** `Authorization: Bearer`; a JSON body
/// `{"refresh_token": "..."}`; in cookie mode, the refresh cookie
/// ([cookies](crate::guide::cookies)). A JSON body (`Content-Type: application/json` or
/// `+json`) with a `refresh_token` member is a credential; one without it (`{}`, or
/// `{"device": "phone"}`, as many clients send with every JSON POST) is not, and the header
/// decides. A token in the body *and* a Bearer header is a 400 `invalid_request` (send it
/// once); a body that is not a JSON object, or a `refresh_token` that is not a non-empty
/// string, is a 400; no token anywhere is a 401 `missing_token`. Bodies of other types are
/// never read; so that the body can carry the token, the handler takes no body extractor of
/// its own.
///
/// **What it issues.** The handler runs only for a valid refresh token of this application's
/// own keys, and its `Claims` parameters are that token's claims. The grant must be for the
/// token's own subject (any other is a 500: a server-side mistake). The new access token is
/// never fresh and never holds a scope the refresh token does not. The presented token is
/// rotated: presented again it is a retry or a reuse ([sessions](crate::guide::sessions)).
/// Without the macro: [`Auth::refresh_token_pair`].
pub use jwtguard_macros::refresh;

/// Declares the application's scopes, once per crate, **at the crate root**.
///
/// ```
/// jwtguard::scopes! {
///     /// Read the quarterly reports.
///     REPORTS_READ = "reports:read",
///     /// Every `reports:` scope, as a token-side wildcard.
///     ALL_REPORTS = "reports:*",
///     ADMIN = "admin",
/// }
///
/// # fn main() {
/// assert_eq!(REPORTS_READ.name(), "reports:read");
/// assert_eq!(SCOPES.find("admin"), Some(ADMIN));
/// let _grant = jwtguard::Grant::to("ann").scopes([REPORTS_READ, ADMIN]);
/// # }
/// ```
///
/// It emits one [`Scope`] constant per item, `SCOPES` (the [`Registry`], for run-time lookups
/// such as an OAuth 2 `scope` parameter), and a hidden type through which the attributes
/// check every scope they name at compile time, from any module of the crate. Scopes follow
/// RFC 6749 §3.3 (printable ASCII without space, `"` or `\`); names and scopes must be unique;
/// items take only doc comments (the [OpenAPI](crate::guide::openapi) scheme describes each
/// scope with its doc comment). A scope `ns:*` held by a token grants every declared `ns:...`
/// scope. There is no fixed limit (up to 65535 scopes; up to 256 the per-request bitset needs
/// no allocation), and the compile-time checks stay cheap with thousands: a lookup is a binary
/// search, and a misspelt scope still gets its "did you mean".
///
/// With the dependency renamed, `crate = path;` comes before the items
/// ([guide](crate::guide::macros#a-renamed-dependency)).
///
/// ```compile_fail
/// jwtguard::scopes! {
///     READ = "reports:read",
///     READ = "reports:write", // duplicate name `READ` in `scopes!`
/// }
/// # fn main() {}
/// ```
pub use jwtguard_macros::scopes;

/// Turns a password-checking handler into an RFC 6749 token endpoint: the OAuth 2 password
/// grant (§4.3) and refresh grant (§6) on one route, with OAuth 2's error format (§5.2), for
/// OAuth 2 client libraries.
///
/// ```
/// use axum::{routing::post, Router};
/// use jwtguard::{scopes, token_endpoint, Auth, AuthError, Grant, PasswordGrant};
///
/// scopes! { REPORTS_READ = "reports:read", ADMIN = "admin" }
///
/// #[token_endpoint(scopes = "reports:read admin")]   // optional ceiling, compile-checked
/// async fn token(form: PasswordGrant) -> Result<Grant, AuthError> {
///     if form.username != "ann" || form.password != "correct horse" {
///         return Err(AuthError::invalid_credentials());   // 400 {"error": "invalid_grant"}
///     }
///     Ok(Grant::to("ann").scopes([REPORTS_READ]))
/// }
///
/// # fn main() {
/// # let auth = Auth::builder().random_secret().build().unwrap();
/// let app: Router = Router::new().route("/token", post(token)).with_state(auth);
/// # }
/// ```
///
/// Arguments: `scopes = "a b"`, a [ceiling](crate::guide::vocabulary), and `crate = path`.
/// Attempts are [throttled](crate::guide::throttling) by client address and username.
///
/// The request is a form (`application/x-www-form-urlencoded`):
///
/// | request | answer |
/// |---|---|
/// | `grant_type=password&username=..&password=..` | the handler runs with the [`PasswordGrant`]; its grant is answered as [`#[login]`](login) would (fresh, cut to the ceiling): 200 with the pair and `"scope"` |
/// | the same `&scope=a b` | the grant narrowed to `a b`; a scope the grant does not hold is 400 `invalid_scope` (never a silently smaller grant) |
/// | `grant_type=refresh_token&refresh_token=..[&scope=..]` | without the handler, with the checks of [`#[refresh]`](refresh): 200 with a pair, not fresh; `scope` narrows the access token only, the new refresh token keeps the presented one's scope |
/// | a wrong password (`AuthError::invalid_credentials()`), a bad, expired, access or foreign refresh token | 400 `invalid_grant` |
/// | another `grant_type` | 400 `unsupported_grant_type` |
/// | not a form, a missing or repeated parameter | 400 `invalid_request` |
///
/// Errors are `{"error", "error_description"}`, and a server-side mistake is 500
/// `server_error`. Every answer has `Cache-Control: no-store`. An error answer of the
/// handler's own that is not an [`AuthError`] passes through unchanged. The endpoint never
/// sets cookies.
pub use jwtguard_macros::token_endpoint;

/// Ends the caller's session: the handler's body runs once the presented token's session has
/// been revoked.
///
/// ```
/// use axum::{routing::post, Router};
/// use jwtguard::{logout, Auth, Claims};
///
/// #[logout]                 // this session
/// async fn log_out() {}     // 204 No Content
///
/// #[logout(everywhere)]     // every session of the subject, on every device
/// async fn log_out_everywhere(claims: Claims) -> String {
///     format!("goodbye, {}", claims.sub())   // the handler's own answer
/// }
///
/// # fn main() {
/// # let auth = Auth::builder().random_secret().build().unwrap();
/// let app: Router = Router::new()
///     .route("/logout", post(log_out))
///     .route("/logout-all", post(log_out_everywhere))
///     .with_state(auth);
/// # }
/// ```
///
/// Arguments: `everywhere` (every token of the subject issued so far, as
/// [`Auth::revoke_all`] does), and `crate = path`.
///
/// A logout must work when the access token is gone (an idle page, a shared computer), so it
/// takes, in this order: the **access token** from its usual locations, even **expired** if
/// correctly signed (ending its session is all it can do there); a **refresh token** as
/// `Authorization: Bearer`, or in a JSON body `{"refresh_token": "..."}` when the handler takes
/// no parameters of its own; or, in cookie mode, the **refresh cookie** with the refresh
/// token's CSRF value in the header. Without any of them it answers 401, as
/// [`#[protected]`](protected) does. A store that cannot record the revocation is a 503 and
/// the body does not run. A handler that returns nothing answers 204; otherwise its answer is
/// sent. `Claims` parameters are the presented token's claims. What revocation does, and the
/// stores: [sessions](crate::guide::sessions); the cookies it clears:
/// [cookies](crate::guide::cookies).
pub use jwtguard_macros::logout;

/// Puts one requirement in front of every route of a router: the guard of
/// [`#[protected]`](protected) as a layer, with the same arguments, the same compile-time scope
/// checks against [`scopes!`] and the same answers.
///
/// ```
/// use axum::{routing::get, Router};
/// use jwtguard::{require, scopes, Auth};
///
/// scopes! { ADMIN = "admin" }
///
/// # fn main() {
/// # let auth = Auth::builder().random_secret().build().unwrap();
/// let admin: Router = Router::new()
///     .route("/users", get(|| async { "users" }))
///     .route("/audit", get(|| async { "audit" }))
///     .route_layer(require!(auth, scopes = "admin", fresh))   // a misspelt scope does not compile
///     .with_state(auth);
/// # }
/// ```
///
/// The first argument is the [`Auth`] to verify with (cloned); the others are those of
/// `#[protected]` but `check`: `scopes`, `any`, `fresh`, `refresh`, `crate`. Use
/// `route_layer`, so that a path that matches no route stays a 404. Handlers behind it take
/// [`Claims`] as usual (they verify the token again: the layer keeps nothing).
pub use jwtguard_macros::require;

pub mod guide;
