//! `MemoryStore`: revocations in this process's memory. The default: one instance needs no
//! server. Several instances do not see each other's revocations: use `RedisStore` then.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::expiring::Expiring;
use super::revocations::{Kind, POISONED, Revocations};
use crate::throttle::counters::{Counter, charge};
use crate::token::revocation::{
    Charge, Consumed, Limits, Presented, Refusal, Rotation, Sealed, Store, StoreError, StoreFuture,
    Success, Verdict,
};

/// The most login-attempt counters a `MemoryStore` keeps (usernames and addresses together);
/// beyond, the coldest are evicted. About 10 MB at most.
pub(crate) const THROTTLE_ENTRIES: usize = 100_000;

/// How many entries (sessions and revocations together) a `MemoryStore` holds before it
/// refuses to record new sessions, by default.
pub(crate) const DEFAULT_CAPACITY: usize = 1_000_000;

const FULL: StoreError = StoreError::new(
    "the memory store holds as many sessions as it may (see MemoryStore::with_capacity)",
);

/// Revocations and sessions kept in memory: revoked token ids and families, subjects' token
/// versions, and one rotation record per session that has been refreshed (its current
/// refresh token's id and the one before). Nothing grows per refresh: a session refreshed
/// 10 000 times holds one record, as one refreshed once does.
///
/// - **Bounded.** Once it holds 1 000 000 entries (sessions and revocations together;
///   [`with_capacity`](Self::with_capacity) to change it) it refuses to record a
///   new session: that session's first refresh is a 503, never an eviction (an evicted record
///   would let a rotated refresh token work again). Revocations are never refused: a logout
///   that could not be recorded would leave a stolen session alive. Measured
///   (`benchmarks/tests/allocations.rs`): 233 bytes per session record, 124 per revocation, so about
///   230 MB at the bound. A refresh of a session already recorded adds nothing, so a refresh
///   loop costs CPU only.
/// - **Expiry.** Every entry leaves when what it guards could no longer be accepted (plus the
///   leeway and a margin), swept in time order on writes, never on the request path.
/// - **A restart forgets everything.** Revoked access tokens are accepted again until they
///   expire (minutes), and every refresh token issued before the restart is refused: the
///   store cannot tell a rotated one from the current one. Use `RedisStore` when that matters
///   or when there are several instances.
///
/// The check every request makes costs one atomic load while nothing is revoked, and a read
/// lock with up to three hash lookups otherwise; the rotation records sit behind a lock of
/// their own, which the check never takes.
///
/// ```
/// use jwtguard::{Auth, MemoryStore};
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .store(MemoryStore::new())   // the default; shown for clarity
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Memory>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.entries())
            .field("capacity", &self.inner.capacity)
            .finish_non_exhaustive()
    }
}

struct Memory {
    revocations: Revocations,
    /// One rotation record per refreshed session.
    sessions: Mutex<Expiring<Session>>,
    /// `sessions`' size, readable without its lock.
    sessions_held: AtomicUsize,
    capacity: usize,
    /// When this store's data begins: a session it has no record of, whose token is older,
    /// was refreshed before a restart, and is refused.
    started: i64,
    /// Login attempts per key: bounded, the coldest entries evicted first (a flood of new
    /// usernames or addresses cannot grow memory past `THROTTLE_ENTRIES`).
    attempts: Mutex<quick_cache::unsync::Cache<Box<str>, (Counter, i64)>>,
    /// Clients users have logged in from, until when: bounded the same way (a forgotten one
    /// is merely unknown again, which costs its user the smaller budget).
    known: Mutex<quick_cache::unsync::Cache<Box<str>, i64>>,
}

impl Default for Memory {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Memory {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            revocations: Revocations::default(),
            sessions: Mutex::new(Expiring::default()),
            sessions_held: AtomicUsize::new(0),
            capacity,
            started: now(),
            attempts: Mutex::new(quick_cache::unsync::Cache::new(THROTTLE_ENTRIES)),
            known: Mutex::new(quick_cache::unsync::Cache::new(THROTTLE_ENTRIES)),
        }
    }
}

/// A session's rotation record.
struct Session {
    current: Box<str>,
    previous: Box<str>,
    /// When `current` replaced `previous`.
    at: i64,
}

impl MemoryStore {
    /// An empty store holding at most 1 000 000 entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that records no new session once it holds `entries` sessions and
    /// revocations together (233 and 124 bytes each): such a session's refresh is a 503.
    pub fn with_capacity(entries: usize) -> Self {
        Self {
            inner: Arc::new(Memory::with_capacity(entries)),
        }
    }

    /// How many sessions and revocations it holds now.
    pub fn entries(&self) -> usize {
        self.inner.revocations.held() + self.inner.sessions_held.load(Ordering::Relaxed)
    }

    fn rotate(&self, r: &Rotation<'_>) -> Result<Consumed, StoreError> {
        let memory = &self.inner;
        let mut sessions = memory.sessions.lock().map_err(|_| POISONED)?;
        sessions.sweep(r.now);
        let outcome = match sessions.get(r.family, r.now) {
            // A session revoked (a logout, a reuse) whose record is gone: still refused.
            None if memory.revocations.family_revoked(r.family, r.now)? => Ok(Consumed::Reused),
            None if r.issued_at < memory.started => Ok(Consumed::Unknown),
            None if sessions.len() + memory.revocations.held() >= memory.capacity => Err(FULL),
            Some(session) if *session.previous == *r.presented && r.now - session.at < r.grace => {
                Ok(Consumed::Duplicate {
                    current: session.current.to_string(),
                })
            }
            Some(session) if *session.current != *r.presented => {
                sessions.remove(r.family);
                // Never refused for room: it takes the place of the record just removed.
                memory
                    .revocations
                    .revoke(Kind::Family, r.family, r.until, r.now)?;
                Ok(Consumed::Reused)
            }
            // The current token (or the first refresh of a session): its successor takes over.
            _ => {
                let session = Session {
                    current: r.successor.into(),
                    previous: r.presented.into(),
                    at: r.now,
                };
                sessions.merge(r.family, session, r.until, |old, new| *old = new);
                Ok(Consumed::First)
            }
        };
        memory
            .sessions_held
            .store(sessions.len(), Ordering::Relaxed);
        outcome
    }
}

fn ready<'a, T: Send + 'a>(value: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

fn now() -> i64 {
    crate::clock::now()
}

impl Sealed for MemoryStore {}

impl Store for MemoryStore {
    fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal> {
        self.inner.revocations.check(token, now)
    }

    fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        self.inner.revocations.version(sub, now)
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()> {
        ready(
            self.inner
                .revocations
                .revoke(Kind::Token, jti, until, now()),
        )
    }

    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()> {
        ready(
            self.inner
                .revocations
                .revoke(Kind::Family, family, until, now()),
        )
    }

    fn bump_version<'a>(&'a self, sub: &'a str, lifetime: i64, now: i64) -> StoreFuture<'a, u64> {
        let until = now.saturating_add(lifetime);
        ready(self.inner.revocations.bump(sub, until, now))
    }

    fn consume<'a>(&'a self, rotation: &'a Rotation<'a>) -> StoreFuture<'a, Consumed> {
        ready(self.rotate(rotation))
    }

    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        known: &'a [&'a str],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict> {
        ready(self.charge(charges, known, limits, now))
    }

    fn succeeded<'a>(&'a self, success: &'a Success<'a>) -> StoreFuture<'a, ()> {
        ready(self.success(success))
    }
}

impl MemoryStore {
    fn charge(
        &self,
        charges: &[Charge<'_>],
        known: &[&str],
        limits: Limits,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let is_known = {
            let remembered = self.inner.known.lock().map_err(|_| POISONED)?;
            known
                .iter()
                .any(|key| remembered.get(*key).is_some_and(|until| now < *until))
        };
        let charges: Vec<&Charge<'_>> = charges
            .iter()
            .filter(|c| !(is_known && c.unless_known))
            .collect();
        let mut attempts = self.inner.attempts.lock().map_err(|_| POISONED)?;
        let mut counters: Vec<(Counter, u32)> = charges
            .iter()
            .map(|c| {
                let counter = attempts
                    .get(c.key)
                    .filter(|(_, until)| now < *until)
                    .map_or_else(Counter::default, |(counter, _)| *counter);
                (counter, c.limit)
            })
            .collect();
        let verdict = {
            let mut refs: Vec<(&mut Counter, u32)> =
                counters.iter_mut().map(|(c, l)| (c, *l)).collect();
            charge(&mut refs, limits, now)
        };
        for (c, (counter, _)) in charges.iter().zip(counters) {
            attempts.insert(c.key.into(), (counter, counter.until(limits)));
        }
        Ok(match verdict {
            Verdict::Allowed if is_known => Verdict::KnownClient,
            other => other,
        })
    }

    fn success(&self, success: &Success<'_>) -> Result<(), StoreError> {
        {
            let mut attempts = self.inner.attempts.lock().map_err(|_| POISONED)?;
            for key in success.forgive {
                attempts.remove(*key);
            }
            for key in success.refund {
                if let Some((mut counter, until)) = attempts.get(*key).copied() {
                    counter.refund();
                    attempts.insert((*key).into(), (counter, until));
                }
            }
        }
        let mut known = self.inner.known.lock().map_err(|_| POISONED)?;
        for key in success.remember {
            known.insert((*key).into(), success.until);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token<'a>(jti: &'a str, family: &'a str, version: u64) -> Presented<'a> {
        Presented {
            sub: "ann",
            jti,
            family,
            version,
        }
    }

    fn rotation<'a>(presented: &'a str, successor: &'a str, now: i64) -> Rotation<'a> {
        Rotation {
            family: "fam",
            presented,
            successor,
            issued_at: now,
            until: now + 1000,
            grace: 10,
            now,
        }
    }

    #[tokio::test]
    async fn entries_expire_and_are_swept_on_writes() {
        let store = MemoryStore::new();
        let at = now();
        store.revoke_token("j1", at + 100).await.unwrap();
        assert_eq!(
            store.check(&token("j1", "f", 0), at + 50),
            Err(Refusal::Revoked)
        );
        assert_eq!(store.check(&token("j1", "f", 0), at + 100), Ok(()));
        store
            .inner
            .revocations
            .revoke(Kind::Token, "j2", at + 300, at + 200)
            .unwrap();
        assert_eq!(store.entries(), 1, "j1 swept, j2 held");
    }

    #[tokio::test]
    async fn versions_never_repeat_even_once_forgotten() {
        let store = MemoryStore::new();
        let v1 = store.bump_version("ann", 90, 10).await.unwrap();
        assert_eq!(v1, 10_000);
        assert_eq!(store.check(&token("j", "", 0), 50), Err(Refusal::Revoked));
        assert_eq!(store.check(&token("j", "", v1), 50), Ok(()));
        let v2 = store.bump_version("ann", 100, 200).await.unwrap();
        assert!(v2 > v1);
    }

    #[tokio::test]
    async fn a_flood_of_new_usernames_cannot_grow_the_counters_past_the_bound() {
        let store = MemoryStore::new();
        let limits = Limits {
            window: 60,
            ceiling: 3600,
        };
        for i in 0..THROTTLE_ENTRIES + 50_000 {
            let key = format!("user:flood{i}");
            store
                .attempt(
                    &[Charge {
                        key: &key,
                        limit: 5,
                        unless_known: false,
                    }],
                    &[],
                    limits,
                    100,
                )
                .await
                .unwrap();
        }
        let kept = store.inner.attempts.lock().unwrap().len();
        assert!(kept <= THROTTLE_ENTRIES, "{kept} counters kept");
    }

    #[tokio::test]
    async fn rotation_first_retry_then_reuse() {
        let store = MemoryStore::new();
        let at = now();
        let consume = |presented, successor, now| {
            let store = store.clone();
            async move { store.rotate(&rotation(presented, successor, now)) }
        };
        assert_eq!(consume("r0", "r1", at).await, Ok(Consumed::First));
        assert_eq!(
            consume("r0", "r1b", at + 5).await,
            Ok(Consumed::Duplicate {
                current: "r1".into()
            }),
            "a retry within the grace window learns the current id"
        );
        assert_eq!(consume("r1", "r2", at + 6).await, Ok(Consumed::First));
        assert_eq!(store.check(&token("a", "fam", 0), at + 6), Ok(()));
        assert_eq!(consume("r0", "x", at + 7).await, Ok(Consumed::Reused));
        assert_eq!(
            store.check(&token("a", "fam", 0), at + 7),
            Err(Refusal::Revoked)
        );
    }

    #[tokio::test]
    async fn the_replaced_token_after_the_grace_window_is_a_reuse() {
        let store = MemoryStore::new();
        let at = now();
        assert_eq!(store.rotate(&rotation("r0", "r1", at)), Ok(Consumed::First));
        assert_eq!(
            store.rotate(&rotation("r0", "r1", at + 10)),
            Ok(Consumed::Reused)
        );
    }

    #[tokio::test]
    async fn ten_thousand_refreshes_hold_one_record() {
        let store = MemoryStore::new();
        let at = now();
        let ids: Vec<String> = (0..=10_000).map(|i| format!("r{i}")).collect();
        for pair in ids.windows(2) {
            let outcome = store.rotate(&rotation(&pair[0], &pair[1], at));
            assert_eq!(outcome, Ok(Consumed::First));
        }
        assert_eq!(store.entries(), 1);
    }

    #[tokio::test]
    async fn a_session_older_than_the_store_is_unknown() {
        let store = MemoryStore::new();
        let at = now();
        let mut old = rotation("r0", "r1", at);
        old.issued_at = at - 3600;
        assert_eq!(store.rotate(&old), Ok(Consumed::Unknown));
    }

    #[tokio::test]
    async fn a_full_store_refuses_new_sessions_never_a_revocation() {
        let store = MemoryStore::with_capacity(2);
        let at = now();
        store.revoke_token("j1", at + 100).await.unwrap();
        assert_eq!(store.rotate(&rotation("r0", "r1", at)), Ok(Consumed::First));
        let mut other = rotation("s0", "s1", at);
        other.family = "other";
        assert_eq!(store.rotate(&other), Err(FULL), "no room for a new session");
        assert_eq!(store.rotate(&rotation("r1", "r2", at)), Ok(Consumed::First));
        store.revoke_token("j2", at + 100).await.unwrap();
        store.revoke_family("other", at + 100).await.unwrap();
        assert_eq!(
            store.entries(),
            4,
            "revocations are recorded past the bound"
        );
    }

    #[tokio::test]
    async fn a_revoked_session_without_a_record_stays_refused() {
        let store = MemoryStore::new();
        let at = now();
        store.revoke_family("fam", at + 100).await.unwrap();
        let mut replay = rotation("r0", "r1", at);
        replay.issued_at = i64::MAX;
        assert_eq!(store.rotate(&replay), Ok(Consumed::Reused));
    }
}
