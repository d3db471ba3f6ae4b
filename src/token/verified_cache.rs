//! The verified-token cache: opt-in, bounded, for access tokens.
//!
//! A client sends the same access token with every request until it expires, and each time
//! the verifier decodes it, computes an HMAC (or a public-key operation, 150–250× dearer) and
//! parses the claims again, to reach the same answer. Remembering the verified claims of
//! exactly this token turns a repeat into a lookup. What a hit does and does not skip:
//!
//! - Filled only after the signature, every claim check **and** the revocation check passed,
//!   and only for access tokens (a refresh token comes back once, to be consumed).
//! - A hit checks `exp`, `nbf` and `iat` again (with the leeway and skew: the system clock
//!   can step back) and asks the revocation store, so a revoked token is refused on its next
//!   request whether it is cached or not. What a hit skips cannot change for the same token
//!   bytes: the signature, the header, the issuer, audience and type.
//! - An entry holds the token's signing input (`header.payload`: claims, not a credential) and a
//!   128-bit digest of its signature under two independent 128-bit keys drawn from the
//!   operating system's random source when the cache is made, never the signature itself: a
//!   dump of the process's memory finds no token it could replay. A hit needs the whole
//!   signing input equal (compared in constant time) and both digests equal: a forged token
//!   differs in one or the other, and a signature colliding on 128 keyed bits cannot be
//!   computed without the keys. The lookup hashes the signature
//!   (43 characters for HS256), not the whole token: SHA-256 of the whole token would cost
//!   about what the HMAC it saves does.
//! - Bounded with real eviction: `quick_cache`'s CLOCK-Pro, sharded, O(1) per operation. It
//!   is scan-resistant: a flood of new tokens churns the cold queue while the tokens that
//!   keep coming back stay. An expired or revoked entry is dropped when it is next looked up.

use std::hash::{DefaultHasher, Hash, Hasher};

use subtle::ConstantTimeEq as _;

use super::claims::Verified;

/// Equal signing inputs in constant time (the length is not secret: it is in every request).
/// The differences of 8-byte words are OR-ed without a branch and the accumulator passes an
/// optimisation barrier, so no early exit can be compiled in; only the total is compared.
/// (`subtle`'s slice comparison, byte by byte through a barrier, cost half a microsecond.)
fn same(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut diff = 0u64;
    let (words_a, words_b) = (a.chunks_exact(8), b.chunks_exact(8));
    for (x, y) in words_a.remainder().iter().zip(words_b.remainder()) {
        diff |= u64::from(x ^ y);
    }
    for (x, y) in words_a.zip(words_b) {
        let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
        diff = std::hint::black_box(diff | (word(x) ^ word(y)));
    }
    bool::from(diff.ct_eq(&0))
}

/// A token split for the cache: what is compared, and its signature's keyed digest.
struct Split<'a> {
    input: &'a str,
    digest: [u64; 2],
}

/// A cached token: its signing input and its signature's digest. Hashed on the digest.
struct Entry {
    input: Box<str>,
    digest: [u64; 2],
}

impl Hash for Entry {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest[0]);
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.digest == other.digest && same(&self.input, &other.input)
    }
}

impl Eq for Entry {}

impl Hash for Split<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.digest[0]);
    }
}

impl quick_cache::Equivalent<Entry> for Split<'_> {
    fn equivalent(&self, entry: &Entry) -> bool {
        // Both halves always compared: no shortcut that would time the first.
        let digest = (self.digest[0] ^ entry.digest[0]) | (self.digest[1] ^ entry.digest[1]);
        let input = same(self.input, &entry.input);
        bool::from(digest.ct_eq(&0)) & input
    }
}

pub(crate) struct VerifiedCache {
    entries: quick_cache::sync::Cache<Entry, Verified>,
    /// The two digest functions: SipHash states that have absorbed a secret key each.
    keys: [DefaultHasher; 2],
}

impl VerifiedCache {
    /// A cache of `capacity` entries, keyed from [`crate::random`]; `None` (run without the
    /// cache, verifying every token in full) when that source fails.
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        let mut seed = [0u8; 32];
        if let Err(error) = crate::random::fill(&mut seed) {
            tracing::warn!(
                %error,
                "jwtguard: no randomness for the verified-token cache; running without it"
            );
            return None;
        }
        Some(Self::with_seed(capacity, seed))
    }

    /// The cache with its digest keys taken from `seed`: the first 16 bytes key the first
    /// digest, the last 16 the second.
    ///
    /// Why not two `RandomState`s: std draws its SipHash keys from the OS once per thread and
    /// then only increments one of them for each new `RandomState`, so two made in a row are
    /// related keys, not the independent pair the 128-bit digest is meant to have. And std
    /// has no public constructor for a SipHash with keys of our own. So each key is written
    /// into an unkeyed SipHash-1-3 (`DefaultHasher::new()`, the same function for the whole
    /// process) as a secret prefix of every input: what an attacker must predict is then the
    /// internal state after that prefix, a function of 128 unknown random bits. The state is
    /// computed once here and cloned per digest, so the prefix costs nothing per lookup.
    fn with_seed(capacity: usize, seed: [u8; 32]) -> Self {
        let keyed = |key: &[u8]| {
            let mut state = DefaultHasher::new();
            state.write(key);
            state
        };
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            keys: [keyed(&seed[..16]), keyed(&seed[16..])],
        }
    }

    /// `None` for a string with no `.`: never a token, never cached.
    fn split<'a>(&self, token: &'a str) -> Option<Split<'a>> {
        let (input, signature) = token.rsplit_once('.')?;
        let digest = |key: &DefaultHasher| {
            let mut state = key.clone();
            state.write(signature.as_bytes());
            // The terminator `str`'s own `Hash` writes: no input is a prefix of another.
            state.write_u8(0xff);
            state.finish()
        };
        Some(Split {
            input,
            digest: self.keys.each_ref().map(digest),
        })
    }

    /// The verified claims of exactly `token`, if it was verified before (a reference count,
    /// no allocation). The caller checks time and revocation.
    pub(crate) fn get(&self, token: &str) -> Option<Verified> {
        self.entries.get(&self.split(token)?)
    }

    /// Remembers `token`'s verified claims, evicting a cold entry when full.
    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        if let Some(split) = self.split(token) {
            let entry = Entry {
                input: split.input.into(),
                digest: split.digest,
            };
            self.entries.insert(entry, verified);
        }
    }

    pub(crate) fn remove(&self, token: &str) {
        if let Some(split) = self.split(token) {
            self.entries.remove(&split);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
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
    fn a_hit_needs_the_whole_token() {
        let cache = VerifiedCache::new(8).unwrap();
        let token = "header.payload.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        cache.insert(token, verified("ann"));
        assert_eq!(cache.get(token).unwrap().sub(), "ann");
        // Same signature (same digest, same bucket), another payload: found, compared, refused.
        let forged = "header.PAYLOAD.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        assert!(cache.get(forged).is_none());
        // Same signing input, another signature.
        let resigned = "header.payload.signature-of-43-characters-ABCDEFGHIJKLMNOQ";
        assert!(cache.get(resigned).is_none());
        assert!(
            cache.get(&token[1..]).is_none(),
            "a suffix is not the token"
        );
        assert!(cache.get("no-dot-at-all").is_none());
        cache.remove(token);
        assert!(cache.get(token).is_none());
    }

    #[test]
    fn no_entry_holds_the_signature() {
        let cache = VerifiedCache::new(8).unwrap();
        let token = "header.payload.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        cache.insert(token, verified("ann"));
        let split = cache.split(token).unwrap();
        let (entry, _) = cache.entries.remove(&split).unwrap();
        assert_eq!(&*entry.input, "header.payload");
    }

    #[test]
    fn each_digest_half_has_its_own_key_from_the_seed() {
        let signature = "h.p.signature-of-43-characters-ABCDEFGHIJKLMNOP";
        let digest = |seed: [u8; 32]| {
            VerifiedCache::with_seed(1, seed)
                .split(signature)
                .unwrap()
                .digest
        };
        let mut seed = [7u8; 32];
        let base = digest(seed);
        // Keyed by the seed alone, not by the thread or the order caches were made in.
        assert_eq!(digest(seed), base);
        // The same key in both halves gives the same half: the halves differ only by key.
        assert_eq!(base[0], base[1]);
        // Each 16-byte key moves its own half and only that one.
        seed[3] ^= 1;
        let first = digest(seed);
        assert_ne!(first[0], base[0]);
        assert_eq!(first[1], base[1]);
        seed[3] ^= 1;
        seed[16 + 3] ^= 1;
        let second = digest(seed);
        assert_eq!(second[0], base[0]);
        assert_ne!(second[1], base[1]);
        // Two caches from the OS source do not share keys.
        let (a, b) = (
            VerifiedCache::new(1).unwrap(),
            VerifiedCache::new(1).unwrap(),
        );
        let (a, b) = (a.split(signature).unwrap(), b.split(signature).unwrap());
        assert_ne!(a.digest, b.digest);
        assert_ne!(a.digest[0], a.digest[1]);
    }

    #[test]
    fn the_comparison_sees_every_byte() {
        let text = "0123456789abcdefghijklmnopqrstuvwxyz-_ABCDEFGHIJK";
        for at in 0..text.len() {
            let mut changed = text.as_bytes().to_vec();
            changed[at] ^= 1;
            let changed = String::from_utf8(changed).unwrap();
            assert!(!same(text, &changed), "byte {at}");
        }
        assert!(same(text, text));
        assert!(!same(text, &text[1..]));
    }

    #[test]
    fn a_flood_of_new_tokens_keeps_the_cache_bounded_and_the_hot_tokens_in() {
        let cache = VerifiedCache::new(64).unwrap();
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

#[cfg(test)]
#[path = "verified_cache_tests.rs"]
mod through_the_verifier;
