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

#![forbid(unsafe_code)]

mod auth;
mod http;
mod token;

#[cfg(feature = "password")]
pub mod password;

#[doc(hidden)]
pub mod __private;

pub use auth::{
    Auth, AuthBuilder, ConfigError, DEFAULT_ACCESS_TTL, DEFAULT_REFRESH_TTL, ErrorBody,
};
pub use http::bearer::MAX_AUTHORIZATION_LEN;
pub use http::error::{AuthError, AuthErrorKind};
pub use jsonwebtoken::Algorithm;
pub use jsonwebtoken::jwk::JwkSet;
pub use token::claims::{Claims, TokenKind};
pub use token::grant::Grant;
pub use token::issue::{IssueError, TokenResponse};
pub use token::key::Key;
pub use token::scope::{Registry, Scope};
pub use token::verify::{MAX_TOKEN_LEN, TokenError};

pub use jwtguard_macros::{login, protected, refresh, scopes};
