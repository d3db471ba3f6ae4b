//! Scopes: the names declared once with `scopes!`, and the per-request bitset over them.
//!
//! A route's scope check must not compare strings on every request. The `scopes!` macro gives
//! every declared scope an index; a verified token's scopes are turned into a bitset over those
//! indices while its payload is parsed, and a route's requirement is a list of indices tested
//! against that bitset.

use std::fmt;

/// One scope declared with [`scopes!`](crate::scopes): a name and its place in the crate's
/// registry. Use the constants that `scopes!` generates, never build one by hand.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope {
    name: &'static str,
    index: u16,
    registry: u64,
}

impl Scope {
    #[doc(hidden)]
    pub const fn __declared(name: &'static str, index: u16, registry: u64) -> Self {
        Self {
            name,
            index,
            registry,
        }
    }

    /// The scope's name as it travels in tokens, e.g. `"reports:read"`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether this is a token-side wildcard such as `"reports:*"`.
    pub fn is_wildcard(&self) -> bool {
        self.name.ends_with(":*")
    }

    pub(crate) fn index(self) -> u16 {
        self.index
    }

    pub(crate) fn registry(self) -> u64 {
        self.registry
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scope").field(&self.name).finish()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl AsRef<str> for Scope {
    fn as_ref(&self) -> &str {
        self.name
    }
}

/// The scopes a crate declared with [`scopes!`](crate::scopes), in declaration order.
///
/// `scopes!` emits one as `SCOPES`. It resolves scope names at run time (for example the
/// `scope` field of an OAuth 2 password form) and is what tokens are matched against.
#[derive(Debug)]
pub struct Registry {
    scopes: &'static [Scope],
    /// `(name, index)` sorted by name, so that lookups are a binary search and every scope
    /// under a wildcard prefix is one contiguous run. Sorted by the `scopes!` macro.
    sorted: &'static [(&'static str, u16)],
    fingerprint: u64,
    /// The doc comments of `scopes!`, in declaration order.
    descriptions: &'static [&'static str],
}

impl Registry {
    #[doc(hidden)]
    pub const fn __new(
        scopes: &'static [Scope],
        sorted: &'static [(&'static str, u16)],
        fingerprint: u64,
        descriptions: &'static [&'static str],
    ) -> Self {
        Self {
            scopes,
            sorted,
            fingerprint,
            descriptions,
        }
    }

    /// The scope's doc comment in `scopes!` ("" without one, or for a scope of another
    /// registry).
    pub fn description(&self, scope: Scope) -> &'static str {
        if scope.registry() != self.fingerprint {
            return "";
        }
        self.descriptions
            .get(usize::from(scope.index()))
            .copied()
            .unwrap_or_default()
    }

    /// Every declared scope, in declaration order.
    pub fn scopes(&self) -> &'static [Scope] {
        self.scopes
    }

    /// The declared scope with this exact (case-sensitive) name.
    pub fn find(&self, name: &str) -> Option<Scope> {
        self.sorted
            .binary_search_by(|(candidate, _)| candidate.cmp(&name))
            .ok()
            .map(|at| self.scopes[usize::from(self.sorted[at].1)])
    }

    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub(crate) fn len(&self) -> usize {
        self.scopes.len()
    }

    /// Sets in `set` the bits that the token-side scope `name` grants: the scope itself when
    /// declared, and for a wildcard `ns:*` every declared scope that starts with `ns:`.
    pub(crate) fn grant(&self, name: &str, set: &mut ScopeSet) {
        if let Some(prefix) = name.strip_suffix('*').filter(|p| p.ends_with(':')) {
            let start = self
                .sorted
                .partition_point(|(candidate, _)| *candidate < prefix);
            for (candidate, index) in &self.sorted[start..] {
                if !candidate.starts_with(prefix) {
                    break;
                }
                set.insert(*index);
            }
        } else if let Ok(at) = self
            .sorted
            .binary_search_by(|(candidate, _)| bytewise(candidate, name))
        {
            set.insert(self.sorted[at].1);
        }
    }
}

/// `a.cmp(b)` for `str`s (byte order), compared inline: scope names are short, and a call to
/// libc's `memcmp` per step of the search was most of the cost of a token's scopes
/// (BENCHMARKS.md, "How cost grows").
fn bytewise(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().cmp(b.bytes())
}

/// Whether the token-side scope `held` grants the scope `wanted` (exact, case-sensitive, or a
/// `ns:*` wildcard over `ns:...`). Used where no registry is at hand: issuing and clamping.
pub(crate) fn covers(held: &str, wanted: &str) -> bool {
    if held == wanted {
        return true;
    }
    match held.strip_suffix('*') {
        Some(prefix) if prefix.ends_with(':') => wanted.starts_with(prefix),
        _ => false,
    }
}

const INLINE_WORDS: usize = 4;

/// A set of scope indices. Up to 256 declared scopes it lives inline, so building it for a
/// request costs no allocation; a larger registry spills to the heap.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum ScopeSet {
    Inline([u64; INLINE_WORDS]),
    Heap(Box<[u64]>),
}

impl ScopeSet {
    pub(crate) fn with_capacity(scopes: usize) -> Self {
        let words = scopes.div_ceil(64);
        if words <= INLINE_WORDS {
            Self::Inline([0; INLINE_WORDS])
        } else {
            Self::Heap(vec![0; words].into_boxed_slice())
        }
    }

    fn words(&self) -> &[u64] {
        match self {
            Self::Inline(words) => words,
            Self::Heap(words) => words,
        }
    }

    pub(crate) fn insert(&mut self, index: u16) {
        let (word, bit) = (usize::from(index / 64), index % 64);
        let words = match self {
            Self::Inline(words) => &mut words[..],
            Self::Heap(words) => &mut words[..],
        };
        if let Some(slot) = words.get_mut(word) {
            *slot |= 1 << bit;
        }
    }

    pub(crate) fn contains(&self, index: u16) -> bool {
        let (word, bit) = (usize::from(index / 64), index % 64);
        self.words().get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    pub(crate) fn contains_all(&self, indices: &[u16]) -> bool {
        indices.iter().all(|&i| self.contains(i))
    }

    pub(crate) fn contains_any(&self, indices: &[u16]) -> bool {
        indices.iter().any(|&i| self.contains(i))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = self.words().iter().enumerate().flat_map(|(w, word)| {
            (0..64u16)
                .filter_map(move |b| (word & (1 << b) != 0).then_some(w * 64 + usize::from(b)))
        });
        f.debug_set().entries(bits).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPES: &[Scope] = &[
        Scope::__declared("reports:read", 0, 7),
        Scope::__declared("admin", 1, 7),
        Scope::__declared("reports:write", 2, 7),
        Scope::__declared("reportsx", 3, 7),
    ];
    const SORTED: &[(&str, u16)] = &[
        ("admin", 1),
        ("reports:read", 0),
        ("reports:write", 2),
        ("reportsx", 3),
    ];
    static REGISTRY: Registry = Registry::__new(SCOPES, SORTED, 7, &[]);

    fn granted(names: &[&str]) -> ScopeSet {
        let mut set = ScopeSet::with_capacity(REGISTRY.len());
        for name in names {
            REGISTRY.grant(name, &mut set);
        }
        set
    }

    #[test]
    fn exact_names_match_case_sensitively() {
        let set = granted(&["Admin", "reports:read"]);
        assert!(set.contains(0));
        assert!(!set.contains(1));
    }

    #[test]
    fn wildcard_covers_its_namespace_only() {
        let set = granted(&["reports:*"]);
        assert!(set.contains_all(&[0, 2]));
        assert!(!set.contains(3), "`reports:*` must not cover `reportsx`");
        assert!(!set.contains(1));
    }

    #[test]
    fn bare_star_is_not_a_wildcard() {
        assert!(!set_has_any(&granted(&["*"])));
        assert!(!covers("*", "admin"));
        assert!(covers("reports:*", "reports:read"));
        assert!(!covers("reports:*", "reportsx"));
    }

    fn set_has_any(set: &ScopeSet) -> bool {
        set.contains_any(&[0, 1, 2, 3])
    }

    #[test]
    fn large_registries_spill_to_the_heap_and_still_work() {
        let mut set = ScopeSet::with_capacity(300);
        assert!(matches!(set, ScopeSet::Heap(_)));
        set.insert(299);
        assert!(set.contains(299));
        assert!(!set.contains(298));
        set.insert(u16::MAX); // out of range: ignored, never a panic
    }

    #[test]
    fn find_resolves_declared_names() {
        assert_eq!(REGISTRY.find("admin").map(|s| s.name()), Some("admin"));
        assert!(REGISTRY.find("nope").is_none());
    }
}
