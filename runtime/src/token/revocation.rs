//! The revocation port: what the token core asks of a store, without knowing which one.
//!
//! Two kinds of questions. The check every verification makes is synchronous and answered from
//! memory (the `MemoryStore` itself, or an instance's mirror of Redis): a network round trip per
//! request would cost more than the whole verification. The operations that must be atomic
//! across instances (revoking, bumping a version, consuming a refresh token) are rare and
//! asynchronous, and go to the store.

use std::future::Future;
use std::pin::Pin;

pub use super::throttle::{Charge, Limits, Verdict};

/// A boxed future of a store operation (the trait is object-safe: `Auth` holds `dyn Store`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The store could not answer truthfully (unreachable, or its view may be stale). Requests
/// that need it are answered 503, never with a guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the revocation store is unavailable: {0}")]
pub struct StoreError(pub(crate) &'static str);

/// What a verified token shows the revocation check.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    /// `sub`.
    pub sub: &'a str,
    /// `jti`.
    pub jti: &'a str,
    /// `fam`: the refresh family the token belongs to (empty for tokens issued without one).
    pub family: &'a str,
    /// `ver`: the subject's token version when the token was issued.
    pub version: u64,
}

/// Why the check refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its `jti` or its family was revoked, or its subject's version moved past it.
    Revoked,
    /// The store cannot tell (fail closed).
    Unavailable,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumed {
    /// First use: the caller may issue the next pair of the family.
    First,
    /// Used before, within the grace window: refused, the family lives on (a client's retry,
    /// two tabs refreshing at once).
    Duplicate,
    /// Used before, after the grace window: the family is revoked, every token in it dies.
    Reused,
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A revocation store: [`MemoryStore`](crate::MemoryStore) (the default) or, with the `redis`
/// feature, `RedisStore`. Chosen with [`AuthBuilder::store`](crate::AuthBuilder::store).
/// Implemented by jwtguard's stores only.
pub trait Store: Sealed + Send + Sync + 'static {
    /// The check every verification makes, from memory: `Ok` when the token is live.
    fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal>;

    /// The subject's current token version, written into new tokens (0 until bumped).
    fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError>;

    /// Revokes one token by its `jti`, until `until` (its `exp` plus the leeway).
    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()>;

    /// Revokes a refresh family, until `until` (its end plus the leeway).
    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()>;

    /// Moves the subject's version past every token issued so far; entries live until `until`.
    fn bump_version<'a>(&'a self, sub: &'a str, until: i64, now: i64) -> StoreFuture<'a, u64>;

    /// Consumes a refresh token atomically: of N concurrent calls with one `jti`, one gets
    /// [`Consumed::First`]. A reuse after `grace` seconds revokes `family` until `until`.
    fn consume<'a>(
        &'a self,
        jti: &'a str,
        family: &'a str,
        until: i64,
        grace: i64,
        now: i64,
    ) -> StoreFuture<'a, Consumed>;

    /// Charges a login attempt to every counter atomically, before the password is checked:
    /// of N concurrent attempts, no more pass than the budget allows.
    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict>;

    /// Forgets a counter (a successful login clears its username's).
    fn forgive<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
}
