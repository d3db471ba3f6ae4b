//! # jwtguard
//!
//! JSON Web Token guards for axum 0.8 handlers, through attribute macros:
//!
//! - [`#[protected]`](protected) puts verification in front of a handler: a valid access
//!   token, the named scopes, a fresh token where asked.
//! - [`#[login]`](login) and [`#[refresh]`](refresh) turn a handler that returns a [`Grant`]
//!   into one that answers with an access + refresh [`TokenResponse`].
//! - [`scopes!`] declares the application's scopes once; every scope named in a macro is
//!   checked **at compile time**.
//!
//! Without macros, [`Claims`] is an extractor, [`Auth`] verifies and issues tokens by hand,
//! and [`AuthError`] answers as RFC 6750 says.
//!
//! ## Verification is strict
//!
//! The algorithm comes from the key, never from the token (`none` never); keys never come
//! from the token (`jwk`, `jku`, `x5u`, `x5c` are ignored); an unknown `kid` and any `crit`
//! header are refused; `exp`, `iat`, `sub`, `jti` and `type` are required, `nbf` is checked,
//! an `iat` in the future is refused; the default leeway is 0 s; claims are typed (`"true"` is
//! not a `fresh`, `exp` is an integer, a duplicated member is refused); an access token is never
//! accepted where a refresh token is expected, nor the reverse. Tokens over 8 KiB are refused
//! before decoding.
//!
//! ## Speed
//!
//! A verification costs about what the least an HS256 verifier must do costs (split, decode,
//! HMAC, parse into typed claims), revocation check included, and allocates once (zero for a
//! guard whose handler takes no claims). For the usual client, which sends the same access
//! token until it expires, [`AuthBuilder::verified_token_cache`] turns a repeat into a lookup
//! that still checks the time claims and revocation. The figures, beside the peers', are in
//! the repository's BENCHMARKS.md.

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
    pub use crate::token::revocation::{
        Charge, Consumed, Limits, Presented, Refusal, Rotation, Store, StoreError, StoreFuture,
        Success, Verdict,
    };
}

/// Puts token verification in front of an axum handler.
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
///     # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
///     let app: Router = Router::new()
///         .route("/me", get(me))
///         .route("/export", get(export))
///         .route("/settings", get(settings))
///         .route("/sessions", get(sessions))
///         .with_state(auth);
/// }
/// ```
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | (none) | any valid access token |
/// | `scopes = "a b"` / `scopes = ["a", "b"]` | the token must grant all of them |
/// | `any = "a b"` / `any = ["a", "b"]` | the token must grant at least one |
/// | `fresh` | only a fresh token (straight from a `#[login]`, not from a refresh) |
/// | `refresh` | a refresh token instead of an access token (not with `fresh`) |
/// | `check = path` | then the application's own rule: see below |
/// | `crate = path` | where to find jwtguard when the dependency is renamed (see below) |
///
/// Every scope is checked **at compile time** against the crate's [`scopes!`], which must sit
/// at the crate root; a token-side wildcard `ns:*` grants every declared `ns:...` scope.
///
/// # Associated functions
///
/// A handler may be an associated function, routed as `Type::handler` (not a method: `self`
/// is refused). The expansion adds no item beside the function, so it fits an `impl` block,
/// generic or not:
///
/// ```
/// use axum::{routing::get, Router};
/// use jwtguard::{protected, scopes, Auth, Claims};
/// scopes! { REPORTS_READ = "reports:read" }
///
/// struct Reports;
///
/// impl Reports {
///     #[protected(scopes = "reports:read")]
///     async fn list(claims: Claims) -> String { format!("reports for {}", claims.sub()) }
/// }
///
/// # fn main() {
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let app: Router = Router::new().route("/reports", get(Reports::list)).with_state(auth);
/// # }
/// ```
///
/// # A renamed dependency
///
/// The expansions reach the runtime as `::jwtguard`. With the dependency renamed in
/// Cargo.toml (`jwt = { package = "jwtguard", version = "..." }`), or reached through a crate
/// that re-exports it, give every macro its path with `crate = path`, like serde's
/// `#[serde(crate = "...")]` but unquoted: `#[protected(crate = jwt)]`, `#[login(crate = jwt)]`,
/// `#[refresh(crate = jwt)]`, `#[token_endpoint(crate = jwt)]`, `#[logout(crate = jwt)]`,
/// and `scopes! { crate = jwt; ... }`. Without it, rustc reports that it cannot find
/// `jwtguard`.
///
/// ```ignore
/// jwt::scopes! {
///     crate = jwt;
///     REPORTS_READ = "reports:read",
/// }
///
/// #[jwt::protected(crate = jwt, scopes = "reports:read")]
/// async fn reports() -> &'static str { "q3" }
/// ```
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
/// `true` runs the handler; `false` is a 403 `{"error":"access_denied"}`; an `Err` is a 500 that
/// says nothing to the client and is logged with `tracing::error!`. A path that does not
/// resolve, or a function of another shape, does not compile (the error points at the path).
/// The handler's answer type `T` becomes `Checked<T>` (an `IntoResponse`). Without the
/// macro: call your function at the top of the handler with `Claims` and the request's parts.
///
/// # Answers
///
/// No token: 401 `Bearer realm="api"`. A bad, expired or wrong-type token: 401
/// `error="invalid_token"`. A missing scope: 403 `error="insufficient_scope",
/// scope="<what the route requires>"`. Not fresh: 401 `error="insufficient_user_authentication"`.
/// Two `Authorization` headers or an empty `Bearer`: 400 `error="invalid_request"`. See
/// [`AuthError`].
///
/// # What it expands to
///
/// The function keeps its attributes, visibility, generics, parameters, body and return type,
/// and nothing is added beside it. A guard extractor is inserted as its first parameter, its
/// type spelling out the requirement: token kind, freshness, and each scope's index in the
/// crate's registry, looked up at compile time in a const block. The body opens with one
/// compile-time check per scope, which fails the build on an undeclared one:
///
/// ```ignore
/// async fn export(
///     __jwtguard_guard: Guard<
///         // refresh, fresh, share; then the registry, the all-of and any-of indices, and
///         // the length of the 403 challenge's `scope`.
///         Route<false, false, false, Scopes<__JwtguardScopeRegistry, 2, At<{ 0 }, At<{ 1 }, End>>, 0, End, 18>>,
///         Auth,
///     >,
/// ) -> &'static str {
///     const _: () = /* check_scope("reports:read") */;
///     const _: () = /* check_scope("admin") */;
///     "csv"
/// }
/// ```
///
/// A `Claims` parameter of the handler is bound from the claims the guard verified (the guard
/// becomes `ClaimsGuard`, and `let claims: Claims = __jwtguard_guard.claims();` opens the
/// body, with the parameter's attributes such as `#[allow(unused_variables)]`);
/// `Claims<MyExtra>` and `Option<Claims>` parameters find them cached in the request (an
/// extractor of your own that calls `Claims` inside verifies again). The same check written by
/// hand, without the macro:
///
/// ```
/// use jwtguard::{scopes, AuthError, AuthErrorKind, Claims};
/// scopes! { REPORTS_READ = "reports:read" }
///
/// async fn export(claims: Claims) -> Result<&'static str, AuthError> {
///     if !claims.has_scope(REPORTS_READ) {
///         return Err(AuthError::new(AuthErrorKind::InsufficientScope("reports:read")));
///     }
///     Ok("csv")
/// }
/// # fn main() {}
/// ```
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
/// Nor does a router whose state gives no [`Auth`]:
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

/// Turns a handler that returns a [`Grant`] into a login endpoint answering with a token pair.
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
/// #[login(scopes = "reports:read")]        // optional ceiling: ADMIN below is cut
/// async fn log_in(Json(form): Json<Form>) -> Result<Grant, AuthError> {
///     if form.password != "hunter2" {
///         return Err(AuthError::invalid_credentials());
///     }
///     Ok(Grant::to(form.username).scopes([REPORTS_READ, ADMIN]))
/// }
///
/// fn main() {
///     # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
///     let app: Router = Router::new().route("/login", post(log_in)).with_state(auth);
/// }
/// ```
///
/// The handler returns `Grant` or `Result<Grant, E>` with `E: IntoResponse` (an `Err` is
/// answered as is). The grant is cut down to the optional `scopes = "..."` ceiling (checked at
/// compile time like every scope), its access token is **fresh** unless the grant says
/// `.fresh(false)`, and the answer is 200 with the [`TokenResponse`] JSON and
/// `Cache-Control: no-store` (RFC 6749 §5.1). Issuing fails only on a server-side mistake (a
/// grant setting a reserved claim), answered as a bare 500. A login starts a session (a
/// refresh family, see [`logout`]).
///
/// # Throttling
///
/// `#[login(throttle = form.username)]` names the attempted username (any expression over the
/// handler's parameters that gives a `&str`-like value). Every attempt is then charged
/// **before the body runs**, in the revocation store (so instances share the counts), to the
/// (username, client) pair, the client being the browser's device cookie (cookie mode) or
/// else its address; to the address, for failures only; and to the username, for clients it
/// has never logged in from ([`Throttle`]: 5, 20 and 50 per minute). Past a budget the
/// answer is 429 `too_many_attempts` with `Retry-After`, without running the body, for known
/// and unknown users alike; the lock doubles on each further round, up to an hour. An `Ok`
/// grant clears its (username, client) counter, takes back its attempt from the others, and
/// remembers the client; an `Err` was counted already. The address is the TCP peer (serve
/// with `into_make_service_with_connect_info::<SocketAddr>()`; without it only usernames and
/// devices are counted, and a warning is logged), or what [`AuthBuilder::trusted_proxies`]
/// says. In cookie mode a login a page of another site sent is a 403. An unreachable store
/// is a 503, never an unthrottled login.
///
/// ```
/// use axum::Json;
/// use jwtguard::{login, AuthError, Grant};
/// # #[derive(serde::Deserialize)] struct Form { username: String, password: String }
///
/// #[login(throttle = form.username)]
/// async fn log_in(Json(form): Json<Form>) -> Result<Grant, AuthError> {
///     // Check the password with jwtguard::password::verify_async: bounded, off the workers.
///     # if form.password.is_empty() { return Err(AuthError::invalid_credentials()); }
///     Ok(Grant::to(form.username))
/// }
/// # fn main() {}
/// ```
///
/// Without the macro: `let attempt = auth.attempt(&username, client).await?;` before the check,
/// `attempt.succeeded().await?` after a right password ([`Auth::attempt`]).
///
/// It also takes `crate = path`, for a renamed dependency (see
/// [`#[protected]`](protected#a-renamed-dependency)). Like every jwtguard handler, it may be an
/// associated function (`Type::handler`).
///
/// The macro adds a first parameter that gives it the router's [`Auth`], opens the body with
/// the ceiling's compile-time checks, and the function returns `Response`. Without the macro:
///
/// ```
/// use axum::{extract::State, response::{IntoResponse, Response}};
/// use jwtguard::{Auth, AuthError, Grant};
///
/// async fn log_in(State(auth): State<Auth>) -> Response {
///     let grant = Grant::to("ann").fresh(true);
///     match auth.create_token_pair(&grant) {
///         Ok(pair) => pair.into_response(), // 200, Cache-Control: no-store
///         Err(error) => AuthError::from(error).with_auth(&auth).into_response(),
///     }
/// }
/// ```
///
/// A handler that does not return a grant does not compile:
///
/// ```compile_fail
/// #[jwtguard::login]
/// async fn log_in() -> String { String::new() } // must return `Grant` or `Result<Grant, E>`
/// # fn main() {}
/// ```
pub use jwtguard_macros::login;

/// Turns a handler into the refresh endpoint: a valid **refresh** token in, a new pair out.
///
/// ```
/// use axum::{routing::post, Router};
/// use jwtguard::{refresh, Auth, Claims, Grant};
///
/// #[refresh]
/// async fn renew(claims: Claims) -> Grant {
///     Grant::renew(&claims) // same subject, scopes and extra claims
/// }
///
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let app: Router = Router::new().route("/refresh", post(renew)).with_state(auth);
/// ```
///
/// The refresh token comes from `Authorization: Bearer` or a JSON body
/// `{"refresh_token": "..."}` (both at once: 400). An access token, or no token, is a 401; the
/// handler only runs for a valid refresh token. Its `Claims` parameters are that refresh
/// token's claims. Because the body may carry the token, a `#[refresh]` handler takes no body
/// extractor of its own.
///
/// The answer is a new pair whose access token is **never fresh** and whose scopes never exceed
/// the refresh token's, nor the optional compile-checked ceiling `#[refresh(scopes = "...")]`
/// (CRUDAuth's grantable scopes, re-applied on every refresh). 200, `Cache-Control: no-store`.
///
/// The presented refresh token is rotated: the one just replaced, presented again within
/// [`refresh_grace`](AuthBuilder::refresh_grace), is a retry and gets a pair of the same
/// session; any other replay revokes the session (401 `"The refresh token has already been
/// used"`). See [`revocation`] for what the stores keep.
///
/// It also takes `crate = path`, for a renamed dependency (see
/// [`#[protected]`](protected#a-renamed-dependency)). Its `Claims` parameters become `let`
/// bindings from the verified refresh token, keeping their attributes.
///
/// Without the macro:
///
/// ```
/// use axum::{extract::State, http::HeaderMap, response::{IntoResponse, Response}};
/// use jwtguard::{Auth, AuthError, AuthErrorKind, Grant};
///
/// async fn renew(State(auth): State<Auth>, headers: HeaderMap) -> Response {
///     let token = headers
///         .get("authorization")
///         .and_then(|v| v.to_str().ok())
///         .and_then(|v| v.strip_prefix("Bearer "));
///     let Some(token) = token else {
///         return AuthError::new(AuthErrorKind::MissingToken).into_response();
///     };
///     match auth.verify_refresh(token) {
///         Ok(claims) => match auth.create_token_pair(&Grant::renew(&claims).fresh(false)) {
///             Ok(pair) => pair.into_response(),
///             Err(error) => AuthError::from(error).into_response(),
///         },
///         Err(error) => AuthError::from(error).with_auth(&auth).into_response(),
///     }
/// }
/// ```
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
/// such as an OAuth 2 `scope` parameter), and a hidden type through which `#[protected]`,
/// `#[login]` and `#[refresh]` check every scope they name at compile time, from any module of
/// the crate. Scopes follow RFC 6749 §3.3 (printable ASCII without space, `"` or `\`); names and
/// scopes must be unique; items take only doc comments. A scope `ns:*` held by a token grants
/// every declared `ns:...` scope. There is no fixed limit (up to 65535 scopes; up to 256 the
/// per-request bitset needs no allocation), and the compile-time checks stay cheap with
/// thousands: a lookup is a binary search, and a misspelt scope still gets its "did you mean".
///
/// ```compile_fail
/// jwtguard::scopes! {
///     READ = "reports:read",
///     READ = "reports:write", // duplicate name `READ` in `scopes!`
/// }
/// # fn main() {}
/// ```
///
/// With the dependency renamed in Cargo.toml, `crate = path;` comes before the items (see
/// [`#[protected]`](protected#a-renamed-dependency)):
///
/// ```ignore
/// jwt::scopes! {
///     crate = jwt;
///     REPORTS_READ = "reports:read",
/// }
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
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let app: Router = Router::new().route("/token", post(token)).with_state(auth);
/// # }
/// ```
///
/// # What it answers
///
/// The request is a form (`application/x-www-form-urlencoded`):
///
/// - `grant_type=password&username=..&password=..[&scope=..]`: the handler runs with the
///   [`PasswordGrant`]; its `Grant` is answered as [`#[login]`](login) would (fresh, cut to
///   the ceiling), then narrowed to `scope` when the client sent one. A requested scope the
///   grant does not hold is `invalid_scope` (never a silently smaller grant).
/// - `grant_type=refresh_token&refresh_token=..[&scope=..]`: answered without the handler,
///   with the checks of [`#[refresh]`](refresh): a refresh token of this application's own
///   keys, its own subject, scopes and extra claims, the ceiling, a non-fresh access token.
///   `scope` narrows the new access token only; the new refresh token keeps the scope of the
///   one presented (§6).
///
/// Success is 200 `{"access_token", "refresh_token", "token_type": "bearer", "expires_in",
/// "scope"}`. Errors are `{"error", "error_description"}` (§5.2): 400 `invalid_request` for a
/// malformed form (another content type, a missing or repeated parameter), 400
/// `unsupported_grant_type`, 400 `invalid_grant` for bad credentials
/// (`AuthError::invalid_credentials()`) or a bad, expired or foreign refresh token, 400
/// `invalid_scope`, 500 `server_error`. Every answer has `Cache-Control: no-store`. An error
/// answer of the handler's own that is not an [`AuthError`] passes through unchanged.
///
/// It also takes `crate = path`, for a renamed dependency (see
/// [`#[protected]`](protected#a-renamed-dependency)).
///
/// # What it expands to
///
/// ```ignore
/// async fn token(__jwtguard_token: jwtguard::__private::TokenRequest) -> Response {
///     let (__jwtguard_context, form): (TokenContext, PasswordGrant) =
///         match jwtguard::__private::token_request(__jwtguard_token, CEILING).await {
///             Ok(request) => request,
///             Err(response) => return response,   // a refresh grant, or a malformed request
///         };
///     let outcome: Result<Grant, AuthError> = async move { /* your body */ }.await;
///     jwtguard::__private::token_answer(&__jwtguard_context, outcome, CEILING)
/// }
/// ```
pub use jwtguard_macros::token_endpoint;

/// Ends the caller's session: a handler behind it runs once the presented token's session
/// has been revoked.
///
/// ```
/// use axum::{routing::post, Router};
/// use jwtguard::{logout, Auth, Claims};
///
/// #[logout]                 // this session: every token of the presented token's refresh family
/// async fn log_out() {}     // 204 No Content
///
/// #[logout(everywhere)]     // every token of the subject, on every device
/// async fn log_out_everywhere(claims: Claims) -> String {
///     format!("goodbye, {}", claims.sub())   // the handler's own answer
/// }
///
/// # fn main() {
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let app: Router = Router::new()
///     .route("/logout", post(log_out))
///     .route("/logout-all", post(log_out_everywhere))
///     .with_state(auth);
/// # }
/// ```
///
/// # What it does
///
/// A logout must work when the access token is gone (an idle page, a shared computer), so the
/// handler takes, in this order: the **access token** from its usual locations, even
/// **expired** if correctly signed (ending its session is all it can do there); a **refresh
/// token** as `Authorization: Bearer`; or, in cookie mode, the **refresh cookie** (with the
/// refresh token's CSRF value in the header). Without any of them it answers as
/// [`#[protected]`](protected) does (401), and in cookie mode every answer, refusals
/// included, clears the token cookies. A handler with no parameters of its own also takes a
/// refresh token from a JSON body `{"refresh_token": "..."}`; one with parameters leaves the
/// body to them. Before the body runs, the token's
/// session is revoked: its refresh family, that is every access and refresh token issued
/// since the login it came from ([`Auth::revoke_session`]); with `everywhere`, every token of
/// its subject issued so far ([`Auth::revoke_all`], the subject's version moves on). Revoked
/// tokens are then a 401 `invalid_token`, "The token has been revoked", on every instance
/// sharing the store. A store that cannot record the revocation is a 503 and the body does
/// not run. A handler that returns nothing answers 204; otherwise its answer is sent.
/// `Claims` parameters are the presented token's claims.
///
/// It also takes `crate = path`, for a renamed dependency (see
/// [`#[protected]`](protected#a-renamed-dependency)).
///
/// # What it expands to
///
/// ```ignore
/// // `LogoutBody` (which may read the body) when the handler takes nothing else.
/// async fn log_out(__jwtguard_logout: jwtguard::__private::LogoutGuard) -> Response {
///     if let Err(refusal) = __jwtguard_logout.end(/* everywhere: */ false).await {
///         return refusal;
///     }
///     async move { /* your body */ }.await;
///     jwtguard::__private::no_content()
/// }
/// ```
///
/// Without the macro: take `Claims` and call `auth.revoke_session(&claims).await` (or
/// `auth.revoke_all(claims.sub())`) in your handler.
pub use jwtguard_macros::logout;

/// Puts one requirement in front of every route of a router: the guard of
/// [`#[protected]`](protected) as a layer, with the same arguments, the same compile-time scope
/// checks against [`scopes!`] and the same answers (401, 403, 400).
///
/// ```
/// use axum::{routing::get, Router};
/// use jwtguard::{require, scopes, Auth};
///
/// scopes! { ADMIN = "admin" }
///
/// # fn main() {
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let admin: Router = Router::new()
///     .route("/users", get(|| async { "users" }))
///     .route("/audit", get(|| async { "audit" }))
///     .route_layer(require!(auth, scopes = "admin", fresh))   // a misspelt scope does not compile
///     .with_state(auth);
/// # }
/// ```
///
/// The first argument is the [`Auth`] to verify with (cloned); the others are those of
/// `#[protected]`: `scopes`, `any`, `fresh`, `refresh`, `crate`. Use `route_layer`, so that a
/// path that matches no route stays a 404. Handlers behind it take [`Claims`] as usual (they
/// verify the token again: the layer keeps nothing).
///
/// Without the macro: `axum::middleware::from_extractor_with_state::<Claims, Auth>(auth)`
/// requires a valid access token, and a scope check in each handler does the rest.
pub use jwtguard_macros::require;
