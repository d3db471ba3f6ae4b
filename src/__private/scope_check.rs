//! Compile-time scope checks: the `const fn`s the expansions evaluate to refuse an
//! undeclared scope, with a "did you mean".
//!
//! They run inside rustc's const evaluator, which is slow (roughly a microsecond per step) and
//! refuses evaluations that take millions of steps (`long_running_const_eval`). A crate may
//! declare thousands of scopes, so a lookup is a binary search over the names `scopes!`
//! sorted, and the "did you mean" search walks that sorted list as a trie, sharing the work
//! of common prefixes and abandoning a prefix as soon as it cannot lead to a close name.

use crate::token::scope::Registry;

/// Implemented by the hidden type that `scopes!` declares at the crate root. The expansions
/// find it through `use crate::*`, and fall back to [`fallback::__JwtguardScopeRegistry`]
/// when the crate declared no scopes.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scope registry",
    note = "the registry is declared by `jwtguard::scopes! {{ NAME = \"scope\", ... }}` at the crate root"
)]
pub trait ScopeRegistry {
    /// False only for the fallback.
    const DECLARED: bool;
    /// The declared names, in declaration order.
    const NAMES: &'static [&'static str];
    /// `(name, declared index)`, sorted by name (bytewise), for [`scope_index`].
    const SORTED: &'static [(&'static str, u16)];
    /// For each entry of [`SORTED`](Self::SORTED), how many leading bytes its name shares
    /// with the entry before (0 for the first; at most 255).
    const SHARED_PREFIXES: &'static [u8];
    /// The runtime registry.
    const REGISTRY: Option<&'static Registry>;
}

/// The registry a crate without `scopes!` resolves to.
pub mod fallback {
    /// Stands in for the registry of a crate that declared no scopes.
    #[allow(non_camel_case_types, missing_debug_implementations)]
    pub struct __JwtguardScopeRegistry;

    impl super::ScopeRegistry for __JwtguardScopeRegistry {
        const DECLARED: bool = false;
        const NAMES: &'static [&'static str] = &[];
        const SORTED: &'static [(&'static str, u16)] = &[];
        const SHARED_PREFIXES: &'static [u8] = &[];
        const REGISTRY: Option<&'static super::Registry> = None;
    }
}

const fn compare(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] != b[i] {
            return if a[i] < b[i] {
                core::cmp::Ordering::Less
            } else {
                core::cmp::Ordering::Greater
            };
        }
        i += 1;
    }
    if a.len() == b.len() {
        core::cmp::Ordering::Equal
    } else if a.len() < b.len() {
        core::cmp::Ordering::Less
    } else {
        core::cmp::Ordering::Greater
    }
}

/// The declared index of `scope`, found by binary search in `sorted` (see
/// [`ScopeRegistry::SORTED`]), or `u16::MAX` when it is not declared (the build then fails in
/// [`check_scope`], so the value is never used).
pub const fn scope_index(sorted: &[(&str, u16)], scope: &str) -> u16 {
    let (mut low, mut high) = (0, sorted.len());
    while low < high {
        let middle = low + (high - low) / 2;
        match compare(sorted[middle].0.as_bytes(), scope.as_bytes()) {
            core::cmp::Ordering::Less => low = middle + 1,
            core::cmp::Ordering::Greater => high = middle,
            core::cmp::Ordering::Equal => return sorted[middle].1,
        }
    }
    u16::MAX
}

const MESSAGE: usize = 1536;

/// The outcome of a compile-time scope check, with the error text built at compile time.
#[derive(Debug)]
pub struct ScopeCheck {
    ok: bool,
    buf: [u8; MESSAGE],
    len: usize,
}

impl ScopeCheck {
    /// Whether the scope is declared.
    pub const fn ok(&self) -> bool {
        self.ok
    }

    /// The error message.
    pub const fn message(&self) -> &str {
        let (text, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "unknown scope",
        }
    }

    const fn push(mut self, text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < MESSAGE {
            self.buf[self.len] = bytes[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    const fn push_const_name(mut self, scope: &str) -> Self {
        let bytes = scope.as_bytes();
        let mut i = 0;
        while i < bytes.len() && self.len < MESSAGE {
            let b = bytes[i];
            self.buf[self.len] = if b.is_ascii_alphanumeric() {
                b.to_ascii_uppercase()
            } else {
                b'_'
            };
            self.len += 1;
            i += 1;
        }
        self
    }
}

/// Checks at compile time that `scope`, named in `attribute` (`#[protected]`, `require!`), is
/// declared in the registry
/// `R`; builds the error message (with a "did you mean") when it is not.
pub const fn check_scope<R: ScopeRegistry>(attribute: &str, scope: &str) -> ScopeCheck {
    let mut out = ScopeCheck {
        ok: false,
        buf: [0; MESSAGE],
        len: 0,
    };
    if !R::DECLARED {
        return out
            .push("`")
            .push(attribute)
            .push("` names the scope \"")
            .push(scope)
            .push("\", but the crate root (main.rs or lib.rs) declares no scopes, and the macros look them up there only: add `jwtguard::scopes! { ")
            .push_const_name(scope)
            .push(" = \"")
            .push(scope)
            .push("\" }` at the crate root (a `scopes!` in a module or a function is not seen)");
    }
    if scope_index(R::SORTED, scope) != u16::MAX {
        out.ok = true;
        return out;
    }
    out = out
        .push("unknown scope \"")
        .push(scope)
        .push("\" in `")
        .push(attribute)
        .push("`");
    if R::NAMES.is_empty() {
        // A `scopes!` whose every item is in error (reported there) declares none.
        return out.push(": the crate's `scopes!` declares no valid scope");
    }
    out = match closest(R::SORTED, R::SHARED_PREFIXES, scope.as_bytes()) {
        Some(name) => out
            .push(": did you mean \"")
            .push(name)
            .push("\"? declared scopes: "),
        None => out.push("; declared scopes: "),
    };
    let names = R::NAMES;
    let mut i = 0;
    while i < names.len() {
        if out.len + names[i].len() + 16 > MESSAGE {
            out = out.push(", ...");
            break;
        }
        if i > 0 {
            out = out.push(", ");
        }
        out = out.push("\"").push(names[i]).push("\"");
        i += 1;
    }
    out
}

/// Names and misspellings longer than this are never compared (and get no suggestion).
const LONGEST: usize = 64;

/// The name at the smallest edit distance from `wanted` (the first declared of those at that
/// distance), if that distance is at most a third of its length (at least 2).
///
/// `sorted` is walked as the paths of a trie: a name shares its first `shared[k]` bytes with
/// the one before, and with them the first rows of its edit-distance table, so only the rest
/// is computed. Rows are banded to the cells within `most` of the diagonal (farther ones
/// cannot lead to a distance within `most`), and a row with no cell within `most` rules out
/// the name and every following one with the same prefix. `most` is the limit, then the best
/// distance found so far.
const fn closest<'a>(sorted: &[(&'a str, u16)], shared: &[u8], wanted: &[u8]) -> Option<&'a str> {
    let width = wanted.len();
    if width == 0 || width > LONGEST || shared.len() != sorted.len() {
        return None;
    }
    let mut most = if width / 3 > 2 { width / 3 } else { 2 };
    let mut found: Option<(&'a str, u16)> = None;
    // rows[d][j]: the distance between the first d bytes of the current name and the first j
    // of `wanted`, or `most + 1` ("too far") for any greater value; rows[..=valid] are
    // those of the current name's prefix.
    let mut rows = [[0u8; LONGEST + 1]; LONGEST + 1];
    let mut j = 0;
    while j <= width {
        rows[0][j] = small(if j <= most { j } else { most + 1 });
        j += 1;
    }
    let mut valid = 0;
    let mut k = 0;
    while k < sorted.len() {
        let (name, index) = (sorted[k].0.as_bytes(), sorted[k].1);
        if (shared[k] as usize) < valid {
            valid = shared[k] as usize;
        }
        if name.len() > LONGEST || name.len().abs_diff(width) > most {
            k += 1;
            continue;
        }
        let mut hopeless = false;
        while valid < name.len() && !hopeless {
            hopeless = !next_row(&mut rows, valid, name[valid], wanted, most);
            valid += 1;
        }
        if hopeless {
            // Every following name with these first `valid` bytes is as far.
            k += 1;
            while k < sorted.len() && shared[k] as usize >= valid {
                k += 1;
            }
            continue;
        }
        let distance = rows[name.len()][width] as usize;
        let better = match found {
            None => distance <= most,
            Some((_, first)) => distance < most || (distance == most && index < first),
        };
        if better {
            found = Some((sorted[k].0, index));
            most = distance;
        }
        k += 1;
    }
    match found {
        Some((name, _)) => Some(name),
        None => None,
    }
}

/// Computes `rows[above + 1]` from `rows[above]` for the name's next byte, in the band
/// `|d - j| <= most`; returns whether any of its cells is within `most`.
///
/// Rows computed earlier, while `most` was larger, are still right for a smaller one: their
/// band is wider, and their "too far" values are greater than the new `most` too.
const fn next_row(
    rows: &mut [[u8; LONGEST + 1]; LONGEST + 1],
    above: usize,
    byte: u8,
    wanted: &[u8],
    most: usize,
) -> bool {
    let (d, over) = (above + 1, small(most + 1));
    let low = if d > most { d - most } else { 1 };
    let high = if d + most < wanted.len() {
        d + most
    } else {
        wanted.len()
    };
    // Left of the band: column 0 (`d` deletions) when the band reaches it, else too far.
    rows[d][low - 1] = if low == 1 && d <= most {
        small(d)
    } else {
        over
    };
    let mut row_best = rows[d][low - 1];
    let mut j = low;
    while j <= high {
        let mut best = rows[above][j - 1] + if wanted[j - 1] == byte { 0 } else { 1 };
        if rows[above][j] + 1 < best {
            best = rows[above][j] + 1;
        }
        if rows[d][j - 1] + 1 < best {
            best = rows[d][j - 1] + 1;
        }
        if best > over {
            best = over;
        }
        rows[d][j] = best;
        if best < row_best {
            row_best = best;
        }
        j += 1;
    }
    // Right of the band: too far, for the next row that reads it.
    if high < LONGEST {
        rows[d][high + 1] = over;
    }
    row_best <= small(most)
}

/// A table cell: distances stay within `LONGEST` (64), so they fit a byte.
const fn small(distance: usize) -> u8 {
    if distance > u8::MAX as usize {
        u8::MAX
    } else {
        // In range: checked just above.
        #[allow(clippy::cast_possible_truncation)]
        {
            distance as u8
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{closest, scope_index};

    /// The textbook Levenshtein distance, to check the trie walk against.
    fn levenshtein(a: &[u8], b: &[u8]) -> usize {
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, x) in a.iter().enumerate() {
            let mut cur = vec![i + 1];
            for (j, y) in b.iter().enumerate() {
                let substitute = prev[j] + usize::from(x != y);
                cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    }

    /// What `scopes!` emits: the names sorted with their declared index, and the prefix each
    /// shares with the one before.
    fn registry(names: &[String]) -> (Vec<(&str, u16)>, Vec<u8>) {
        let mut sorted: Vec<(&str, u16)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), u16::try_from(i).unwrap()))
            .collect();
        sorted.sort_unstable();
        let shared = (0..sorted.len())
            .map(|k| {
                let Some(before) = k.checked_sub(1) else {
                    return 0;
                };
                let (a, b) = (sorted[before].0.as_bytes(), sorted[k].0.as_bytes());
                let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
                u8::try_from(common.min(255)).unwrap()
            })
            .collect();
        (sorted, shared)
    }

    /// The first declared name at the smallest distance, within the limit.
    fn expected<'a>(names: &'a [String], wanted: &str) -> Option<&'a str> {
        let limit = (wanted.len() / 3).max(2);
        let (best, at) = names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.len() <= 64)
            .map(|(i, n)| (levenshtein(n.as_bytes(), wanted.as_bytes()), i))
            .min()?;
        (best <= limit && wanted.len() <= 64).then(|| names[at].as_str())
    }

    #[test]
    fn the_trie_walk_finds_what_comparing_every_name_finds() {
        // A fixed xorshift stream: the same cases on every run.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % below as u64).unwrap()
        };
        let word = |next: &mut dyn FnMut(usize) -> usize, longest: usize| -> String {
            let len = 1 + next(longest);
            (0..len).map(|_| char::from(b"ab:c"[next(4)])).collect()
        };
        for _ in 0..300 {
            let mut names: Vec<String> = Vec::new();
            while names.len() < 1 + next(40) {
                let name = word(&mut next, 12);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            let (sorted, shared) = registry(&names);
            for _ in 0..20 {
                let wanted = if next(2) == 0 {
                    word(&mut next, 14)
                } else {
                    // A near miss of a declared name.
                    let mut near = names[next(names.len())].clone().into_bytes();
                    let at = next(near.len());
                    near[at] = b"ab:cx"[next(5)];
                    String::from_utf8(near).unwrap()
                };
                assert_eq!(
                    closest(&sorted, &shared, wanted.as_bytes()),
                    expected(&names, &wanted),
                    "{wanted:?} among {names:?}"
                );
            }
        }
    }

    #[test]
    fn the_closest_name_is_the_first_declared_at_the_smallest_distance() {
        let names = ["reports:read", "reports:write", "admin", "reports:rea"].map(String::from);
        let (sorted, shared) = registry(&names);
        let closest = |wanted: &str| closest(&sorted, &shared, wanted.as_bytes());
        assert_eq!(closest("reports:raed"), Some("reports:read"));
        assert_eq!(closest("reports:wirte"), Some("reports:write"));
        assert_eq!(closest("amdin"), Some("admin"));
        assert_eq!(closest("billing:write"), None);
        assert_eq!(closest(&"x".repeat(65)), None);
    }

    #[test]
    fn lookups_are_a_binary_search_over_sorted_names() {
        let sorted = [("a", 2), ("b:x", 0), ("b:y", 1)];
        assert_eq!(scope_index(&sorted, "a"), 2);
        assert_eq!(scope_index(&sorted, "b:y"), 1);
        assert_eq!(scope_index(&sorted, "b:"), u16::MAX);
        assert_eq!(scope_index(&sorted, ""), u16::MAX);
        assert_eq!(scope_index(&[], "a"), u16::MAX);
    }
}
