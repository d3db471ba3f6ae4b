//! What the macros expand to. Not public API: names and signatures may change in any release.
//!
//! Everything an expansion does can be written by hand against these items; the rustdoc of
//! each macro shows that equivalent code. One file per concern: the guards of `#[protected]`,
//! the compile-time scope checks, and the issuing endpoints.

// axum's own error type for handlers is `Response`; boxing it here would only add an allocation.
#![allow(clippy::result_large_err)]

mod guard;
mod issue;
mod logout;
mod scope_check;

pub use axum_core::response::{IntoResponse, Response};

pub use crate::token::kind::TokenKind;
pub use crate::token::scope::Registry;
pub use guard::{ClaimsGuard, Guard, HasAuth, Policy, PolicySpec};
pub use issue::{
    IntoGrant, RefreshGuard, Signer, TokenContext, TokenRequest, login, refresh, token_answer,
    token_request,
};
pub use logout::{LogoutGuard, no_content};
pub use scope_check::{ScopeCheck, ScopeRegistry, check_scope, fallback, scope_index};
