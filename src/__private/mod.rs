//! What the macros expand to. Not public API: names and signatures may change in any release.
//!
//! Everything an expansion does can be written by hand against these items; the rustdoc of
//! each macro shows that equivalent code. One file per concern: the guards of `#[protected]`,
//! a route's requirement as a type, the compile-time scope checks, and the issuing endpoints.

// axum's own error type for handlers is `Response`; boxing it here would only add an allocation.
#![allow(clippy::result_large_err)]

mod bind;
mod check;
mod guard;
mod issue;
mod logout;
mod policy;
mod scope_check;

pub use axum_core::response::{IntoResponse, Response};

pub use crate::token::kind::TokenKind;
pub use crate::token::scope::Registry;
pub use bind::{FromClaimsGuard, FromLogoutGuard, FromPasswordGrant, FromRefreshGuard};
pub use check::{
    AsyncCheck, CheckCall, CheckFuture, CheckOutcome, Checked, RequestHead, SyncCheck, checked,
};
pub use guard::{ClaimsGuard, Guard, HasAuth, Policy, PolicySpec};
pub use issue::{
    IntoGrant, RefreshGuard, Signer, TokenContext, TokenRequest, attempt, login, login_throttled,
    refresh, token_answer, token_request,
};
pub use logout::{LogoutBody, LogoutGuard, no_content};
pub use policy::{At, End, Indices, NoScopes, Route, RouteScopes, Scopes};
pub use scope_check::{ScopeCheck, ScopeRegistry, check_scope, fallback, scope_index};

/// The layer `require!` builds: the guard of `#[protected]` as an axum middleware in front of
/// every route of a router, with the same answers.
pub fn require<P: Policy>(
    auth: crate::Auth,
) -> axum::middleware::FromExtractorLayer<Guard<P, crate::Auth>, crate::Auth> {
    axum::middleware::from_extractor_with_state(auth)
}
