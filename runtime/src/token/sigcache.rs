//! An optional, bounded cache of verified asymmetric signatures.
//!
//! RS256/ES256 verification costs 150–250× an HS256 one here (BENCHMARKS.md). A client sends the same access token
//! many times, so remembering "this exact token's signature was valid" saves the public-key
//! operation on repeats. Only the signature is skipped: time claims, type and scopes are
//! checked on every request. Entries are keyed on the SHA-256 of the whole
//! token (collision-resistant, so no forged token can hit an entry, and no bearer token sits
//! in memory), and leave when the token expires.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest as _, Sha256};

/// The SHA-256 of a whole token: what an entry is keyed on.
pub(crate) type Digest = [u8; 32];

pub(crate) struct SignatureCache {
    capacity: usize,
    state: Mutex<State>,
}

struct State {
    entries: HashMap<Digest, i64>,
    /// When expired entries were last swept; a full cache sweeps at most once a second, so a
    /// flood of new tokens cannot make every verification scan the whole map.
    swept: i64,
}

pub(crate) fn digest(token: &str) -> Digest {
    Sha256::digest(token.as_bytes()).into()
}

impl SignatureCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State {
                entries: HashMap::with_capacity(capacity.min(4096)),
                swept: i64::MIN,
            }),
        }
    }

    /// Whether the token with this digest was verified before and has not expired.
    pub(crate) fn contains(&self, digest: &Digest, now: i64) -> bool {
        let Ok(state) = self.state.lock() else {
            return false;
        };
        state.entries.get(digest).is_some_and(|&exp| now < exp)
    }

    /// Remembers a verified token until `exp`. When full, expired entries are dropped (at
    /// most once a second); if that frees nothing the token is simply not cached.
    pub(crate) fn insert(&self, digest: Digest, exp: i64, now: i64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if state.entries.len() >= self.capacity {
            if now <= state.swept {
                return;
            }
            state.swept = now;
            state.entries.retain(|_, &mut e| now < e);
            if state.entries.len() >= self.capacity {
                return;
            }
        }
        state.entries.insert(digest, exp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_token_and_the_cache_stays_bounded() {
        let cache = SignatureCache::new(2);
        let (a, b, c) = (digest("a"), digest("b"), digest("c"));
        cache.insert(a, 100, 0);
        cache.insert(b, 10, 0);
        cache.insert(c, 100, 0); // full: swept, nothing expired, not cached
        assert!(cache.contains(&a, 50));
        assert!(!cache.contains(&c, 50));
        assert!(!cache.contains(&b, 10), "expired at exp");
        cache.insert(c, 100, 0); // swept this second already: not cached
        assert!(!cache.contains(&c, 50));
        cache.insert(c, 100, 20); // a second later "b" has expired and makes room
        assert!(cache.contains(&c, 50));
    }
}
