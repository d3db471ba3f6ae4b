//! The verified-token cache: opt-in, bounded, for access tokens.
//!
//! A client sends the same access token with every request until it expires, and each time
//! the verifier decodes it, computes an HMAC (or a public-key operation, 150–250× dearer) and
//! parses the claims again, to reach the same answer. Remembering the verified claims of
//! exactly this token turns a repeat into a lookup. What a hit does and does not skip:
//!
//! - Filled only after the signature, every claim check **and** the revocation check passed,
//!   and only for access tokens (a refresh token comes back once, to be consumed).
//! - A hit still checks `exp` (with the leeway) and asks the revocation store, so a revoked
//!   token is refused on its next request whether it is cached or not. What a hit skips
//!   cannot change for the same token bytes: the signature, the header, the issuer, audience
//!   and type, `nbf`/`iat` (time only moves on).
//! - Keyed on the token's last 16 characters (signature bytes: uniformly random for every
//!   token that passed a signature check, the only ones that get in), with the standard
//!   library's randomly keyed SipHash, so a lookup hashes 16 bytes rather than the whole
//!   token: SHA-256 of the whole token would cost about what the HMAC it saves does.
//! - An entry holds the whole token and a hit compares it in full, in constant time: a forged
//!   token (never inserted) that copies a valid token's signature finds the entry, fails the
//!   comparison and goes through full verification.
//! - Bounded with real eviction: `quick_cache`'s CLOCK-Pro, sharded, O(1) per operation. It
//!   is scan-resistant: a flood of new tokens churns the cold queue while the tokens that
//!   keep coming back stay. An expired entry is dropped when it is next looked up.

use std::hash::{Hash, Hasher};

use subtle::ConstantTimeEq as _;

use super::claims::Verified;

/// How many trailing characters of a token its entry is hashed on.
const KEYED_TAIL: usize = 16;

fn tail(token: &str) -> &[u8] {
    let bytes = token.as_bytes();
    &bytes[bytes.len().saturating_sub(KEYED_TAIL)..]
}

/// Equal tokens in constant time (the length is not secret: it is in every request). The
/// differences are OR-ed without a branch (vectorised: a few ns for a typical token) and only
/// the total is compared; `subtle`'s slice comparison, byte by byte through an optimisation
/// barrier, cost half a microsecond here.
fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .bytes()
        .zip(b.bytes())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y));
    bool::from(diff.ct_eq(&0))
}

/// A cached token: compared whole, hashed on its tail.
struct Entry(Box<str>);

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(tail(&self.0));
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        same(&self.0, &other.0)
    }
}

impl Eq for Entry {}

/// A presented token, looked up without copying it.
struct Lookup<'a>(&'a str);

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(tail(self.0));
    }
}

impl quick_cache::Equivalent<Entry> for Lookup<'_> {
    fn equivalent(&self, entry: &Entry) -> bool {
        same(self.0, &entry.0)
    }
}

pub(crate) struct VerifiedCache {
    entries: quick_cache::sync::Cache<Entry, Verified>,
}

impl VerifiedCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
        }
    }

    /// The verified claims of exactly `token`, if it was verified before (a reference count,
    /// no allocation). The caller checks expiry and revocation.
    pub(crate) fn get(&self, token: &str) -> Option<Verified> {
        self.entries.get(&Lookup(token))
    }

    /// Remembers `token`'s verified claims, evicting a cold entry when full.
    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        self.entries.insert(Entry(token.into()), verified);
    }

    pub(crate) fn remove(&self, token: &str) {
        self.entries.remove(&Lookup(token));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::parse::{self, Expect};

    fn verified(sub: &str) -> Verified {
        let json = format!(r#"{{"sub":"{sub}","jti":"j","iat":1,"exp":100,"type":"access"}}"#);
        let expect = Expect {
            registry: None,
            issuer: None,
            audience: &[],
        };
        let payload = parse::payload(&json, &expect).unwrap();
        Verified::new(payload, &json, 0)
    }

    #[test]
    fn a_hit_needs_the_whole_token_not_only_its_tail() {
        let cache = VerifiedCache::new(8);
        let token = "header.payload.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        cache.insert(token, verified("ann"));
        assert_eq!(cache.get(token).unwrap().sub(), "ann");
        // Same signature tail (same hash), another payload: found, compared, refused.
        let forged = "header.PAYLOAD.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        assert!(cache.get(forged).is_none());
        assert!(
            cache.get(&token[1..]).is_none(),
            "a suffix is not the token"
        );
        cache.remove(token);
        assert!(cache.get(token).is_none());
    }

    #[test]
    fn a_flood_of_new_tokens_keeps_the_cache_bounded_and_the_hot_tokens_in() {
        let cache = VerifiedCache::new(64);
        let hot: Vec<String> = (0..16)
            .map(|i| format!("h.p.hot-token-{i:04}-tail"))
            .collect();
        for round in 0..50 {
            for token in &hot {
                if cache.get(token).is_none() {
                    cache.insert(token, verified("hot"));
                }
            }
            // One client floods the cache with tokens it never sends again.
            for i in 0..200 {
                cache.insert(&format!("h.p.flood-{round}-{i}-tail"), verified("flood"));
            }
        }
        assert!(cache.len() <= 64 + 64 / 8, "bounded: {}", cache.len());
        // New tokens still get in (no "full, stop caching")...
        cache.insert("h.p.late", verified("late"));
        assert!(cache.get("h.p.late").is_some());
        // ...and the tokens that keep coming back survive the flood.
        let kept = hot.iter().filter(|t| cache.get(t).is_some()).count();
        assert!(kept >= 12, "only {kept} of 16 hot entries survived");
    }
}
