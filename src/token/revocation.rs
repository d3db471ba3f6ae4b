//! The revocation port: what the token core asks of a store, without knowing which one.
//!
//! Two kinds of questions. The check every verification makes is synchronous and answered from
//! memory (the `MemoryStore` itself, or an instance's mirror of Redis): a network round trip per
//! request would cost more than the whole verification. The operations that must be atomic
//! across instances (revoking, bumping a version, consuming a refresh token) are rare and
//! asynchronous, and go to the store.

use std::future::Future;
use std::pin::Pin;

pub use crate::throttle::counters::{Charge, Limits, Success, Verdict};

/// A boxed future of a store operation (the trait is object-safe: `Auth` holds `dyn Store`).
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The store could not answer truthfully (unreachable, full, or its view may be stale).
/// Requests that need it are answered 503, never with a guess. Its message says what failed;
/// its [`source`](std::error::Error::source), when there is one, is the Redis client's own
/// error (for an operator to tell DNS from authentication from a timeout).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the revocation store is unavailable: {reason}")]
pub struct StoreError {
    reason: &'static str,
    #[source]
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    pub(crate) const fn new(reason: &'static str) -> Self {
        Self {
            reason,
            source: None,
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn caused_by(
        reason: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            reason,
            source: Some(std::sync::Arc::new(source)),
        }
    }

    /// What failed, in a few words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        self.reason == other.reason
    }
}

impl Eq for StoreError {}

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

/// A refresh token presented for rotation: the store keeps one record per session (the
/// current refresh token's id and the one it replaced), never one per refresh.
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    /// The session (refresh family) the token belongs to.
    pub family: &'a str,
    /// The presented refresh token's `jti`.
    pub presented: &'a str,
    /// The `jti` of the refresh token issued in its place.
    pub successor: &'a str,
    /// The presented token's `iat`: a session the store has no record of is refused when its
    /// token is older than the store's data (the store lost it).
    pub issued_at: i64,
    /// When the record may be forgotten: the session's end plus the margins.
    pub until: i64,
    /// How long, seconds, the token just replaced may be presented again as a retry.
    pub grace: i64,
    /// This instance's clock (a shared store judges the grace window on its own clock).
    pub now: i64,
}

/// The outcome of presenting a refresh token for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The session's current refresh token: its successor is now the current one.
    First,
    /// The token the current one replaced, again within the grace window (a client whose
    /// answer was lost, two tabs refreshing at once): the session lives on, and the retry is
    /// answered with a pair whose refresh token carries `current`, the successor's id, so
    /// that the session still has one line of refresh tokens.
    Duplicate {
        /// The id (`jti`) of the session's current refresh token. An id, not a token.
        current: String,
    },
    /// An older token, or the replaced one after the grace window: a stolen copy or its
    /// victim. The session is revoked, every token in it dies.
    Reused,
    /// The store has no record of a session it should know (its data was lost after the
    /// token was issued): refused, the user logs in again.
    Unknown,
}

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// Where sessions, revocations and login counters live: [`MemoryStore`](crate::MemoryStore)
/// (the default) or `RedisStore` (feature `redis`), given to
/// [`AuthBuilder::store`](crate::AuthBuilder::store) and used through the [`Auth`](crate::Auth)
/// methods `revoke`, `revoke_session` and `revoke_all`.
///
/// The trait is **sealed**: its contract (an atomic rotation with retry and reuse detection,
/// throttle counters charged before a password check, a mirror that never forgets a
/// revocation across restarts and failovers) is more than a few methods can promise, and a
/// store that gets one part subtly wrong turns into an authentication bypass. The two stores
/// are held to it by the same tests; a port for other backends would come with that suite as
/// a public conformance test.
///
/// # The stores, and what each operation costs
///
/// | operation | [`MemoryStore`](crate::MemoryStore) (default) | `RedisStore` (feature `redis`) |
/// |---|---|---|
/// | the check of every protected request | one atomic load while nothing is revoked; else a read lock and up to three hash lookups | the same, on the instance's in-process mirror: no network |
/// | login (reads the subject's version) | a read lock | the mirror: no network |
/// | refresh (rotate the session's one record; on reuse, revoke the family) | a lock on the sessions (not the one checks read) | one round trip (a Lua script), plus `WAIT` if replicas are awaited |
/// | logout, logout-all, `revoke*` | a write lock | one round trip (a Lua script that also publishes), plus `WAIT` if replicas are awaited |
/// | a login attempt (throttling) | a lock on a bounded cache | one round trip (a Lua script) |
///
/// What the stores hold grows with sessions and revocations, never with refreshes: one record
/// per refreshed session (its current refresh token's id and the one before), one entry per
/// revocation.
///
/// `RedisStore`'s mirror is loaded in batches from sorted sets of its own when it subscribes
/// and kept current by the scripts' pub/sub messages: a revocation made on one instance is
/// enforced on the others within milliseconds (the tests hold it to under 1 s); if the events
/// stop arriving, the revision every write moves gives it away at the next heartbeat and the
/// mirror reloads (about 2 s in all). It fails closed: before the mirror has loaded, while its
/// subscription is down or silent (pinged every second), and while Redis cannot be reached,
/// every request that needs the store is answered 503 with `Retry-After`, never with a guess;
/// it reconnects and reloads by itself, merging, never forgetting. Every entry, in both
/// stores, outlives what it guards by the larger of the leeway and the clock skew plus a
/// minute, then expires.
pub trait Store: Sealed + Send + Sync + 'static {
    /// The check every verification makes, from memory: `Ok` when the token is live.
    fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal>;

    /// The subject's current token version, written into new tokens (0 until bumped).
    fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError>;

    /// Revokes one token by its `jti`, until `until` (its `exp` plus the leeway).
    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()>;

    /// Revokes a refresh family, until `until` (its end plus the leeway).
    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()>;

    /// Moves the subject's version past every token issued so far. `lifetime`: the longest,
    /// in seconds from now, that a token issued before may still be accepted (the entry
    /// lives that long; a shared store keeps the longest any instance asked for).
    fn bump_version<'a>(&'a self, sub: &'a str, lifetime: i64, now: i64) -> StoreFuture<'a, u64>;

    /// Rotates a session's refresh token atomically: of N concurrent calls with one token,
    /// one gets [`Consumed::First`], the others [`Consumed::Duplicate`] within the grace
    /// window. A reuse revokes the family until `until`.
    fn consume<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, Consumed>;

    /// Told once, when an `Auth` is built on the store: the longest, in seconds, that a
    /// token it issues may be accepted. A shared store keeps the longest any instance gives,
    /// so that a version bump outlives every token it covers.
    fn lifetime(&self, _seconds: i64) {}

    /// Charges a login attempt to every counter atomically, before the password is checked:
    /// of N concurrent attempts, no more pass than the budget allows. A charge marked
    /// [`unless_known`](Charge::unless_known) is skipped when any of `known` is remembered
    /// (a client the user has logged in from before).
    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        known: &'a [&'a str],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict>;

    /// A login succeeded: forgets its (user, client) counter, takes back the attempt charged
    /// to its address, and remembers its client as known.
    fn succeeded<'a>(&'a self, success: &'a Success<'a>) -> StoreFuture<'a, ()>;
}
