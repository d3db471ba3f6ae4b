//! Compile-time scope checks: the `const fn`s the expansions evaluate to refuse an
//! undeclared scope, with a "did you mean".

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
        const REGISTRY: Option<&'static super::Registry> = None;
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The index of `scope` among `names`, or `u16::MAX` (the build then fails in
/// [`check_scope`], so the value is never used).
pub const fn scope_index(names: &[&str], scope: &str) -> u16 {
    let mut i = 0;
    while i < names.len() {
        if same(names[i], scope) {
            // `scopes!` refuses more than u16::MAX scopes, so the index fits.
            #[allow(clippy::cast_possible_truncation)]
            return i as u16;
        }
        i += 1;
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

/// Checks at compile time that `scope`, named in `#[attribute]`, is declared; builds the
/// error message (with a "did you mean") when it is not.
pub const fn check_scope(
    declared: bool,
    names: &[&str],
    attribute: &str,
    scope: &str,
) -> ScopeCheck {
    let mut out = ScopeCheck {
        ok: false,
        buf: [0; MESSAGE],
        len: 0,
    };
    if !declared {
        return out
            .push("`#[")
            .push(attribute)
            .push("]` names the scope \"")
            .push(scope)
            .push("\", but this crate declares no scopes: add `jwtguard::scopes! { ")
            .push_const_name(scope)
            .push(" = \"")
            .push(scope)
            .push("\" }` at the crate root (main.rs or lib.rs)");
    }
    if scope_index(names, scope) != u16::MAX {
        out.ok = true;
        return out;
    }
    out = out
        .push("unknown scope \"")
        .push(scope)
        .push("\" in `#[")
        .push(attribute)
        .push("]`");
    let mut best = usize::MAX;
    let mut best_at = 0;
    let mut i = 0;
    while i < names.len() {
        let d = distance(names[i].as_bytes(), scope.as_bytes());
        if d < best {
            best = d;
            best_at = i;
        }
        i += 1;
    }
    let limit = if scope.len() / 3 > 2 {
        scope.len() / 3
    } else {
        2
    };
    out = if best <= limit {
        out.push(": did you mean \"")
            .push(names[best_at])
            .push("\"? declared scopes: ")
    } else {
        out.push("; declared scopes: ")
    };
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

/// Levenshtein distance for names up to 64 bytes (longer ones are never "close").
const fn distance(a: &[u8], b: &[u8]) -> usize {
    const MAX: usize = 64;
    if a.len() > MAX || b.len() > MAX {
        return usize::MAX;
    }
    let mut prev = [0usize; MAX + 1];
    let mut cur = [0usize; MAX + 1];
    let mut j = 0;
    while j <= b.len() {
        prev[j] = j;
        j += 1;
    }
    let mut i = 1;
    while i <= a.len() {
        cur[0] = i;
        let mut j = 1;
        while j <= b.len() {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { 1 };
            let mut best = prev[j - 1] + cost;
            if prev[j] + 1 < best {
                best = prev[j] + 1;
            }
            if cur[j - 1] + 1 < best {
                best = cur[j - 1] + 1;
            }
            cur[j] = best;
            j += 1;
        }
        prev = cur;
        i += 1;
    }
    prev[b.len()]
}
