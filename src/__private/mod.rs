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

/// A store that revokes nothing and records nothing: the "no store" baseline of the benches,
/// which measure what the revocation check costs. Not for applications: with it, logout and
/// rotation cannot work (their writes fail with a 503).
#[derive(Debug, Clone, Copy)]
pub struct NoRevocation;

impl crate::token::revocation::Sealed for NoRevocation {}

impl crate::token::revocation::Store for NoRevocation {
    fn check(
        &self,
        _: &crate::token::revocation::Presented<'_>,
        _: i64,
    ) -> Result<(), crate::token::revocation::Refusal> {
        Ok(())
    }

    fn version(&self, _: &str, _: i64) -> Result<u64, crate::StoreError> {
        Ok(0)
    }

    fn revoke_token<'a>(&'a self, _: &'a str, _: i64) -> crate::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn revoke_family<'a>(&'a self, _: &'a str, _: i64) -> crate::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn bump_version<'a>(
        &'a self,
        _: &'a str,
        _: i64,
        _: i64,
    ) -> crate::revocation::StoreFuture<'a, u64> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn consume<'a>(
        &'a self,
        _: &'a crate::revocation::Rotation<'a>,
    ) -> crate::revocation::StoreFuture<'a, crate::revocation::Consumed> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn attempt<'a>(
        &'a self,
        _: &'a [crate::revocation::Charge<'a>],
        _: &'a [&'a str],
        _: crate::revocation::Limits,
        _: i64,
    ) -> crate::revocation::StoreFuture<'a, crate::revocation::Verdict> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }

    fn succeeded<'a>(
        &'a self,
        _: &'a crate::revocation::Success<'a>,
    ) -> crate::revocation::StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Err(NOTHING)))
    }
}

const NOTHING: crate::StoreError = crate::StoreError::new("NoRevocation records nothing");

/// The layer `require!` builds: the guard of `#[protected]` as an axum middleware in front of
/// every route of a router, with the same answers.
pub fn require<P: Policy>(
    auth: crate::Auth,
) -> axum::middleware::FromExtractorLayer<Guard<P, crate::Auth>, crate::Auth> {
    axum::middleware::from_extractor_with_state(auth)
}
