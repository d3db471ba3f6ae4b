//! The revocations one process holds in memory: revoked token ids and families, subjects'
//! versions. `MemoryStore` keeps its own here; `RedisStore` keeps each instance's mirror of
//! Redis here. Every protected request reads them; writes are rare.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::expiring::Expiring;
use crate::token::revocation::{Presented, Refusal, StoreError};

#[derive(Default)]
struct Sets {
    tokens: Expiring<()>,
    families: Expiring<()>,
    /// `sub` -> its version.
    versions: Expiring<u64>,
}

impl Sets {
    fn version(&self, sub: &str, now: i64) -> u64 {
        self.versions.get(sub, now).copied().unwrap_or(0)
    }

    fn len(&self) -> usize {
        self.tokens.len() + self.families.len() + self.versions.len()
    }
}

pub(crate) const POISONED: StoreError = StoreError::new("the memory store's lock is poisoned");

pub(crate) struct Revocations {
    sets: RwLock<Sets>,
    /// Whether any revocation is live: while none is, the check is one atomic load.
    any: AtomicBool,
    /// Entries held, readable without the lock (the capacity is shared with sessions).
    held: AtomicUsize,
}

impl Default for Revocations {
    fn default() -> Self {
        Self {
            sets: RwLock::default(),
            any: AtomicBool::new(false),
            held: AtomicUsize::new(0),
        }
    }
}

/// Which set an entry goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Token,
    Family,
}

impl Revocations {
    /// The check every verification makes.
    pub(crate) fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(());
        }
        let sets = self.sets.read().map_err(|_| Refusal::Unavailable)?;
        if sets.tokens.get(token.jti, now).is_some()
            || (!token.family.is_empty() && sets.families.get(token.family, now).is_some())
            || token.version < sets.version(token.sub, now)
        {
            return Err(Refusal::Revoked);
        }
        Ok(())
    }

    pub(crate) fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(0);
        }
        Ok(self.sets.read().map_err(|_| POISONED)?.version(sub, now))
    }

    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Records a revoked token or family until `until` (a later end already recorded wins).
    /// Never refused for size: a revocation that could not be recorded would leave a stolen
    /// session alive (the size is bounded by the sessions that can be revoked, and each entry
    /// leaves with them).
    pub(crate) fn revoke(
        &self,
        kind: Kind,
        id: &str,
        until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut sets = self.lock(now)?;
        let set = match kind {
            Kind::Token => &mut sets.tokens,
            Kind::Family => &mut sets.families,
        };
        set.merge(id, (), until, |(), ()| {});
        self.publish(&sets);
        Ok(())
    }

    /// Whether `family` is revoked at `now`.
    pub(crate) fn family_revoked(&self, family: &str, now: i64) -> Result<bool, StoreError> {
        if !self.any.load(Ordering::Acquire) {
            return Ok(false);
        }
        let sets = self.sets.read().map_err(|_| POISONED)?;
        Ok(sets.families.get(family, now).is_some())
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
        let mut sets = self.lock(now)?;
        sets.versions
            .merge(sub, version, until, |old, new| *old = (*old).max(new));
        self.publish(&sets);
        Ok(())
    }

    /// Moves `sub` to its next version, recorded until `until`, and returns it.
    pub(crate) fn bump(&self, sub: &str, until: i64, now: i64) -> Result<u64, StoreError> {
        let mut sets = self.lock(now)?;
        let next = next_version(sets.version(sub, now), now);
        sets.versions.merge(sub, next, until, |old, new| *old = new);
        self.publish(&sets);
        Ok(next)
    }

    /// Every live entry, for writing back to a shared store that lost its data: tokens,
    /// families, and versions with their values.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn snapshot(&self, now: i64) -> Result<Snapshot, StoreError> {
        let sets = self.sets.read().map_err(|_| POISONED)?;
        let live = |set: &Expiring<()>| {
            set.iter()
                .filter(|&(_, (), until)| until > now)
                .map(|(id, (), until)| (id.to_owned(), until))
                .collect()
        };
        Ok(Snapshot {
            tokens: live(&sets.tokens),
            families: live(&sets.families),
            versions: sets
                .versions
                .iter()
                .filter(|&(_, _, until)| until > now)
                .map(|(sub, version, until)| (sub.to_owned(), *version, until))
                .collect(),
        })
    }

    /// The write lock, once expired entries are swept. A poisoned lock (a panic elsewhere
    /// while writing) fails closed.
    fn lock(&self, now: i64) -> Result<std::sync::RwLockWriteGuard<'_, Sets>, StoreError> {
        let mut sets = self.sets.write().map_err(|_| POISONED)?;
        sets.tokens.sweep(now);
        sets.families.sweep(now);
        sets.versions.sweep(now);
        self.held.store(sets.len(), Ordering::Relaxed);
        Ok(sets)
    }

    /// Makes a write visible to the lock-free reads.
    fn publish(&self, sets: &Sets) {
        self.held.store(sets.len(), Ordering::Relaxed);
        self.any.store(sets.len() > 0, Ordering::Release);
    }
}

/// What a [`Revocations`] holds, as plain data.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) struct Snapshot {
    pub(crate) tokens: Vec<(String, i64)>,
    pub(crate) families: Vec<(String, i64)>,
    pub(crate) versions: Vec<(String, u64, i64)>,
}

/// The version after `current`: milliseconds since the epoch when that is larger, so that a
/// version is never reused even after its entry expired and was forgotten (a token issued
/// under an old, forgotten version is older than the entry's lifetime, hence expired).
pub(crate) fn next_version(current: u64, now: i64) -> u64 {
    let millis = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
    (current + 1).max(millis)
}
