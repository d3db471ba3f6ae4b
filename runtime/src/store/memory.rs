//! `MemoryStore`: revocations in this process's memory. The default: one instance needs no
//! server. Several instances do not see each other's revocations: use `RedisStore` then.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::token::revocation::{
    Charge, Consumed, Limits, Presented, Refusal, Sealed, Store, StoreError, StoreFuture, Verdict,
};
use crate::token::throttle::{Counter, charge};

/// The most login-attempt counters a `MemoryStore` keeps (usernames and addresses together);
/// beyond, the coldest are evicted. About 10 MB at most.
pub(crate) const THROTTLE_ENTRIES: usize = 100_000;

impl Default for Memory {
    fn default() -> Self {
        Self {
            state: RwLock::default(),
            attempts: Mutex::new(quick_cache::unsync::Cache::new(THROTTLE_ENTRIES)),
            any: AtomicBool::new(false),
        }
    }
}

/// Revocations kept in memory: revoked token ids and families, subjects' token versions, and
/// consumed refresh tokens. Every entry leaves when the token it concerns would have expired
/// (plus the leeway), so nothing grows without bound; expired entries are swept at most once a
/// second, on writes (revocations and refreshes), never on the request path.
///
/// The check every request makes costs one atomic load while nothing is revoked, and a read
/// lock with up to three hash lookups otherwise.
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
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

struct Memory {
    state: RwLock<State>,
    /// Login attempts per key: bounded, the coldest entries evicted first (a flood of new
    /// usernames or addresses cannot grow memory past `THROTTLE_ENTRIES`).
    attempts: Mutex<quick_cache::unsync::Cache<Box<str>, (Counter, i64)>>,
    /// Whether any revocation (token, family, version) is live: while none is, the check is
    /// one atomic load.
    any: AtomicBool,
}

/// `until`: the second the entry may be forgotten.
#[derive(Default)]
struct State {
    tokens: HashMap<Box<str>, i64>,
    families: HashMap<Box<str>, i64>,
    /// `sub` -> (version, until).
    versions: HashMap<Box<str>, (u64, i64)>,
    /// `jti` -> (first use, until).
    consumed: HashMap<Box<str>, (i64, i64)>,
    swept: i64,
}

impl State {
    fn live(map: &HashMap<Box<str>, i64>, key: &str, now: i64) -> bool {
        map.get(key).is_some_and(|&until| now < until)
    }

    fn version(&self, sub: &str, now: i64) -> u64 {
        self.versions
            .get(sub)
            .filter(|(_, until)| now < *until)
            .map_or(0, |(version, _)| *version)
    }

    /// Drops expired entries, at most once a second.
    fn sweep(&mut self, now: i64) {
        if now <= self.swept {
            return;
        }
        self.swept = now;
        self.tokens.retain(|_, until| now < *until);
        self.families.retain(|_, until| now < *until);
        self.versions.retain(|_, (_, until)| now < *until);
        self.consumed.retain(|_, (_, until)| now < *until);
    }

    fn any(&self) -> bool {
        !(self.tokens.is_empty() && self.families.is_empty() && self.versions.is_empty())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a revoked token (the mirror of a shared store applies what it hears this way).
    pub(crate) fn put_token(&self, jti: &str, until: i64, now: i64) -> Result<(), StoreError> {
        self.write(now, |state| raise(&mut state.tokens, jti, until))
    }

    /// Records a revoked family.
    pub(crate) fn put_family(&self, family: &str, until: i64, now: i64) -> Result<(), StoreError> {
        self.write(now, |state| raise(&mut state.families, family, until))
    }

    /// Records a subject's version (never lowering a newer one).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn put_version(
        &self,
        sub: &str,
        version: u64,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.write(now, |state| {
            let entry = state.versions.entry(sub.into()).or_insert((version, until));
            *entry = (entry.0.max(version), entry.1.max(until));
        })
    }

    /// Forgets everything (before a mirror reloads its snapshot).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn clear(&self, now: i64) -> Result<(), StoreError> {
        self.write(now, |state| {
            state.tokens.clear();
            state.families.clear();
            state.versions.clear();
        })
    }

    /// Runs `change` under the write lock, then sweeps and republishes whether anything is
    /// revoked. A poisoned lock (a panic elsewhere while writing) fails closed.
    fn write<T>(&self, now: i64, change: impl FnOnce(&mut State) -> T) -> Result<T, StoreError> {
        let mut state = self
            .inner
            .state
            .write()
            .map_err(|_| StoreError("the memory store's lock is poisoned"))?;
        state.sweep(now);
        let out = change(&mut state);
        self.inner.any.store(state.any(), Ordering::Release);
        Ok(out)
    }
}

fn ready<'a, T: Send + 'a>(value: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

fn now() -> i64 {
    crate::token::verify::now()
}

impl Sealed for MemoryStore {}

impl Store for MemoryStore {
    fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal> {
        if !self.inner.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let state = self.inner.state.read().map_err(|_| Refusal::Unavailable)?;
        if State::live(&state.tokens, token.jti, now)
            || (!token.family.is_empty() && State::live(&state.families, token.family, now))
            || token.version < state.version(token.sub, now)
        {
            return Err(Refusal::Revoked);
        }
        Ok(())
    }

    fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        if !self.inner.any.load(Ordering::Acquire) {
            return Ok(0);
        }
        let state = self
            .inner
            .state
            .read()
            .map_err(|_| StoreError("the memory store's lock is poisoned"))?;
        Ok(state.version(sub, now))
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()> {
        ready(self.put_token(jti, until, now()))
    }

    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()> {
        ready(self.put_family(family, until, now()))
    }

    fn bump_version<'a>(&'a self, sub: &'a str, until: i64, now: i64) -> StoreFuture<'a, u64> {
        ready(self.write(now, |state| {
            let next = next_version(state.version(sub, now), now);
            state.versions.insert(sub.into(), (next, until));
            next
        }))
    }

    fn consume<'a>(
        &'a self,
        jti: &'a str,
        family: &'a str,
        until: i64,
        grace: i64,
        now: i64,
    ) -> StoreFuture<'a, Consumed> {
        ready(self.write(now, |state| match state.consumed.get(jti) {
            None => {
                state.consumed.insert(jti.into(), (now, until));
                Consumed::First
            }
            Some(&(first, _)) if now - first < grace => Consumed::Duplicate,
            Some(_) => {
                if !family.is_empty() {
                    raise(&mut state.families, family, until);
                }
                Consumed::Reused
            }
        }))
    }

    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict> {
        ready(self.charge(charges, limits, now))
    }

    fn forgive<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let forgotten = self
            .inner
            .attempts
            .lock()
            .map(|mut attempts| {
                attempts.remove(key);
            })
            .map_err(|_| StoreError("the memory store's lock is poisoned"));
        ready(forgotten)
    }
}

impl MemoryStore {
    fn charge(
        &self,
        charges: &[Charge<'_>],
        limits: Limits,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let mut attempts = self
            .inner
            .attempts
            .lock()
            .map_err(|_| StoreError("the memory store's lock is poisoned"))?;
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
        Ok(verdict)
    }
}

/// Records `key` until `until`, keeping a later end already recorded.
fn raise(map: &mut HashMap<Box<str>, i64>, key: &str, until: i64) {
    let entry = map.entry(key.into()).or_insert(until);
    *entry = (*entry).max(until);
}

/// The version after `current`: milliseconds since the epoch when that is larger, so that a
/// version is never reused even after its entry expired and was forgotten (a token issued
/// under an old, forgotten version is older than the entry's lifetime, hence expired).
pub(crate) fn next_version(current: u64, now: i64) -> u64 {
    let millis = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
    (current + 1).max(millis)
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
        store.write(at + 200, |_| ()).unwrap();
        assert!(store.inner.state.read().unwrap().tokens.is_empty());
        assert!(
            !store.inner.any.load(Ordering::Acquire),
            "back to the fast path"
        );
    }

    #[tokio::test]
    async fn versions_never_repeat_even_once_forgotten() {
        let store = MemoryStore::new();
        let v1 = store.bump_version("ann", 100, 10).await.unwrap();
        assert_eq!(v1, 10_000);
        assert_eq!(store.check(&token("j", "", 0), 50), Err(Refusal::Revoked));
        assert_eq!(store.check(&token("j", "", v1), 50), Ok(()));
        let v2 = store.bump_version("ann", 300, 200).await.unwrap();
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
                    }],
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
    async fn a_refresh_token_is_consumed_once_then_duplicate_then_reused() {
        let store = MemoryStore::new();
        let consume = |now| store.consume("r1", "fam", 1000, 10, now);
        assert_eq!(consume(100).await.unwrap(), Consumed::First);
        assert_eq!(consume(105).await.unwrap(), Consumed::Duplicate);
        assert_eq!(store.check(&token("a", "fam", 0), 105), Ok(()));
        assert_eq!(consume(111).await.unwrap(), Consumed::Reused);
        assert_eq!(
            store.check(&token("a", "fam", 0), 111),
            Err(Refusal::Revoked)
        );
    }
}
