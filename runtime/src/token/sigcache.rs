//! An optional, bounded cache of verified asymmetric signatures.
//!
//! RS256/ES256 verification costs 20–100× an HS256 one. A client sends the same access token
//! many times, so remembering "this exact token's signature was valid" saves the public-key
//! operation on repeats. Only the signature is skipped: time claims, type, scopes and
//! revocation are checked on every request. Entries are keyed on the whole token (not a hash
//! of it, so no collision can smuggle a forged token in) and leave when the token expires.

use std::collections::HashMap;
use std::sync::Mutex;

pub(crate) struct SignatureCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, i64>>,
}

impl SignatureCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::with_capacity(capacity.min(4096))),
        }
    }

    /// Whether `token`'s signature was verified before and the token has not expired.
    pub(crate) fn contains(&self, token: &str, now: i64) -> bool {
        let Ok(entries) = self.entries.lock() else {
            return false;
        };
        entries.get(token).is_some_and(|&exp| now < exp)
    }

    /// Remembers a verified token until `exp`. When full, expired entries are dropped first;
    /// if that frees nothing the token is simply not cached (never an unbounded map).
    pub(crate) fn insert(&self, token: &str, exp: i64, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, &mut e| now < e);
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(token.into(), exp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_token_and_the_cache_stays_bounded() {
        let cache = SignatureCache::new(2);
        cache.insert("a", 100, 0);
        cache.insert("b", 10, 0);
        cache.insert("c", 100, 0); // full: not cached
        assert!(cache.contains("a", 50));
        assert!(!cache.contains("c", 50));
        assert!(!cache.contains("b", 10), "expired at exp");
        cache.insert("c", 100, 20); // "b" has expired and makes room
        assert!(cache.contains("c", 50));
    }
}
