//! An optional, bounded cache of verified asymmetric signatures.
//!
//! RS256/ES256 verification costs 150–250× an HS256 one here (BENCHMARKS.md). A client sends
//! the same access token many times, so remembering "this exact token's signature was valid"
//! saves the public-key operation on repeats. Only the signature is skipped: time claims, type
//! and scopes are checked on every request.
//!
//! - Keyed on the SHA-256 of the whole token: collision-resistant, so no forged token can hit
//!   an entry, and no bearer token sits in memory.
//! - Filled only after the signature *and* the claims passed, and only for access tokens
//!   (refresh tokens come back once, weeks later: caching them only evicts useful entries).
//! - Bounded with real eviction: `quick_cache`'s CLOCK-Pro, O(1) per operation, sharded,
//!   no global sweep. It is scan-resistant: a client that sends a flood of new tokens fills
//!   the cold queue, and the tokens that keep coming back stay.
//! - An entry carries its token's `exp` and is ignored once that passed.

use sha2::{Digest as _, Sha256};

/// The SHA-256 of a whole token: what an entry is keyed on.
pub(crate) type Digest = [u8; 32];

pub(crate) struct SignatureCache {
    entries: quick_cache::sync::Cache<Digest, i64>,
}

pub(crate) fn digest(token: &str) -> Digest {
    Sha256::digest(token.as_bytes()).into()
}

impl SignatureCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// Whether the token with this digest was verified before and has not expired.
    pub(crate) fn contains(&self, digest: &Digest, now: i64) -> bool {
        self.entries.get(digest).is_some_and(|exp| now < exp)
    }

    /// Remembers a verified token until `exp`, evicting a cold entry when full.
    pub(crate) fn insert(&self, digest: Digest, exp: i64) {
        self.entries.insert(digest, exp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_token() {
        let cache = SignatureCache::new(8);
        cache.insert(digest("a"), 100);
        assert!(cache.contains(&digest("a"), 50));
        assert!(!cache.contains(&digest("a"), 100), "expired at exp");
        assert!(!cache.contains(&digest("b"), 50));
    }

    #[test]
    fn a_flood_of_new_tokens_keeps_the_cache_working_and_bounded() {
        let cache = SignatureCache::new(64);
        let hot: Vec<Digest> = (0..16).map(|i| digest(&format!("hot{i}"))).collect();
        for round in 0..50 {
            for d in &hot {
                if !cache.contains(d, 0) {
                    cache.insert(*d, 100);
                }
            }
            // One client floods the cache with tokens it never sends again.
            for i in 0..200 {
                cache.insert(digest(&format!("flood{round}-{i}")), 100);
            }
        }
        assert!(
            cache.entries.len() <= 64 + 64 / 8,
            "bounded: {}",
            cache.entries.len()
        );
        // New tokens still get in (no "full, stop caching")...
        cache.insert(digest("late"), 100);
        assert!(cache.contains(&digest("late"), 0));
        // ...and the tokens that keep coming back survive the flood.
        let kept = hot.iter().filter(|d| cache.contains(d, 0)).count();
        assert!(kept >= 12, "only {kept} of 16 hot entries survived");
    }
}
