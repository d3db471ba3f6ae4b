//! A `#[protected]` route's requirement written as a type, from jwtguard's own generic types.
//!
//! The guard's policy parameter has to name the requirement, and the macro may not emit a
//! `struct` and `impl` beside the handler: inside an `impl` block (an associated-function
//! handler) those items are not allowed. So the requirement is spelled out in the signature:
//!
//! ```text
//! Guard<Route<REFRESH, FRESH, SHARE, Scopes<Registry, 2, At<{index}, At<{index}, End>>, 0, End, 19>>, Auth>
//! ```
//!
//! `Route`'s flags are `bool` const parameters; the scope indices are const blocks the macro
//! writes, each looking its scope up in the crate's registry at compile time; the registry is
//! the hidden type `scopes!` declared at the crate root. From those, the impls below rebuild
//! the [`PolicySpec`] as constants, exactly as a hand-written policy would hold it.

use core::marker::PhantomData;

use super::guard::{Policy, PolicySpec};
use super::scope_check::ScopeRegistry;
use crate::token::kind::TokenKind;
use crate::token::scope::Registry;

/// A route's requirement: the token kind (`REFRESH`), freshness, whether the verified claims
/// are shared with the handler's other extractors (`SHARE`), and the scopes `S`.
pub struct Route<const REFRESH: bool, const FRESH: bool, const SHARE: bool, S = NoScopes>(
    PhantomData<fn() -> S>,
);

impl<const REFRESH: bool, const FRESH: bool, const SHARE: bool, S> core::fmt::Debug
    for Route<REFRESH, FRESH, SHARE, S>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Route")
    }
}

impl<const REFRESH: bool, const FRESH: bool, const SHARE: bool, S: RouteScopes> Policy
    for Route<REFRESH, FRESH, SHARE, S>
{
    const SPEC: PolicySpec = PolicySpec {
        kind: if REFRESH {
            TokenKind::Refresh
        } else {
            TokenKind::Access
        },
        fresh: FRESH,
        all: S::ALL,
        any: S::ANY,
        registry: S::REGISTRY,
        scope: S::SCOPE,
        share: SHARE,
    };
}

/// The scopes part of a [`Route`].
pub trait RouteScopes: 'static {
    /// Declared indices that must all be held.
    const ALL: &'static [u16];
    /// Declared indices of which one must be held (none: no any-of requirement).
    const ANY: &'static [u16];
    /// The registry the indices refer to.
    const REGISTRY: Option<&'static Registry>;
    /// The `scope` of the 403 challenge: the required names, space-separated.
    const SCOPE: &'static str;
}

/// No scope required.
#[derive(Debug)]
pub struct NoScopes;

impl RouteScopes for NoScopes {
    const ALL: &'static [u16] = &[];
    const ANY: &'static [u16] = &[];
    const REGISTRY: Option<&'static Registry> = None;
    const SCOPE: &'static str = "";
}

/// Scopes from the registry `R`: `N_ALL` indices in the list `A` (all of them), `N_ANY` in
/// `Y` (any of them), and the challenge `scope`, `SCOPE_LEN` bytes long.
pub struct Scopes<R, const N_ALL: usize, A, const N_ANY: usize, Y, const SCOPE_LEN: usize>(
    PhantomData<fn() -> R>,
    PhantomData<fn() -> A>,
    PhantomData<fn() -> Y>,
);

impl<R, const N_ALL: usize, A, const N_ANY: usize, Y, const SCOPE_LEN: usize> core::fmt::Debug
    for Scopes<R, N_ALL, A, N_ANY, Y, SCOPE_LEN>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Scopes")
    }
}

impl<R, const N_ALL: usize, A, const N_ANY: usize, Y, const SCOPE_LEN: usize>
    Scopes<R, N_ALL, A, N_ANY, Y, SCOPE_LEN>
where
    R: ScopeRegistry + 'static,
    A: Indices<N_ALL>,
    Y: Indices<N_ANY>,
{
    const CHALLENGE: &'static [u8; SCOPE_LEN] = &join(R::NAMES, &A::ARRAY, &Y::ARRAY);
}

impl<R, const N_ALL: usize, A, const N_ANY: usize, Y, const SCOPE_LEN: usize> RouteScopes
    for Scopes<R, N_ALL, A, N_ANY, Y, SCOPE_LEN>
where
    R: ScopeRegistry + 'static,
    A: Indices<N_ALL>,
    Y: Indices<N_ANY>,
{
    const ALL: &'static [u16] = &A::ARRAY;
    const ANY: &'static [u16] = &Y::ARRAY;
    const REGISTRY: Option<&'static Registry> = R::REGISTRY;
    const SCOPE: &'static str = match core::str::from_utf8(Self::CHALLENGE) {
        Ok(scope) => scope,
        Err(_) => "",
    };
}

/// The names at `all` then `any`, space-separated, in exactly `LEN` bytes (the macro counted
/// them). An index that is not declared is skipped: the build fails on it in `check_scope`,
/// and that message is the one to read.
const fn join<const LEN: usize>(names: &[&str], all: &[u16], any: &[u16]) -> [u8; LEN] {
    let mut out = [b' '; LEN];
    let mut at = 0;
    let mut k = 0;
    while k < all.len() + any.len() {
        let index = if k < all.len() {
            all[k]
        } else {
            any[k - all.len()]
        } as usize;
        if index < names.len() {
            if at > 0 {
                at += 1;
            }
            let name = names[index].as_bytes();
            let mut i = 0;
            while i < name.len() && at < LEN {
                out[at] = name[i];
                at += 1;
                i += 1;
            }
        }
        k += 1;
    }
    out
}

/// A list of `N` declared scope indices, as a type: `At<3, At<7, End>>` is `[3, 7]`.
pub trait Indices<const N: usize>: 'static {
    /// How many `At` the list has.
    const DEPTH: usize;
    /// The indices, first `At` first.
    const ARRAY: [u16; N];
}

/// The end of an index list.
#[derive(Debug)]
pub struct End;

impl<const N: usize> Indices<N> for End {
    const DEPTH: usize = 0;
    const ARRAY: [u16; N] = [u16::MAX; N];
}

/// The declared index `INDEX`, then the list `T`.
pub struct At<const INDEX: u16, T>(PhantomData<fn() -> T>);

impl<const INDEX: u16, T> core::fmt::Debug for At<INDEX, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("At")
    }
}

impl<const N: usize, const INDEX: u16, T: Indices<N>> Indices<N> for At<INDEX, T> {
    const DEPTH: usize = T::DEPTH + 1;
    const ARRAY: [u16; N] = {
        let mut array = T::ARRAY;
        if Self::DEPTH <= N {
            array[N - Self::DEPTH] = INDEX;
        }
        array
    };
}

#[cfg(test)]
mod tests {
    use super::{At, End, Indices, Route, Scopes};
    use crate::__private::{Policy, ScopeRegistry};
    use crate::token::kind::TokenKind;
    use crate::token::scope::Registry;

    struct Declared;

    impl ScopeRegistry for Declared {
        const DECLARED: bool = true;
        const NAMES: &'static [&'static str] = &["reports:read", "admin", "profile"];
        const SORTED: &'static [(&'static str, u16)] =
            &[("admin", 1), ("profile", 2), ("reports:read", 0)];
        const SHARED_PREFIXES: &'static [u8] = &[];
        const REGISTRY: Option<&'static Registry> = None;
    }

    #[test]
    fn index_lists_are_in_order() {
        assert_eq!(<At<4, At<0, At<9, End>>> as Indices<3>>::ARRAY, [4, 0, 9]);
        assert_eq!(<End as Indices<0>>::ARRAY, [0u16; 0]);
    }

    #[test]
    fn a_route_type_holds_the_whole_requirement() {
        type Both = Scopes<Declared, 2, At<1, At<0, End>>, 1, At<2, End>, 26>;
        let spec = <Route<false, true, false> as Policy>::SPEC;
        assert_eq!(spec.kind, TokenKind::Access);
        assert!(spec.fresh && !spec.share);
        assert!(spec.all.is_empty() && spec.any.is_empty() && spec.scope.is_empty());

        let spec = <Route<true, false, true, Both> as Policy>::SPEC;
        assert_eq!(spec.kind, TokenKind::Refresh);
        assert!(!spec.fresh && spec.share);
        assert_eq!((spec.all, spec.any), (&[1, 0][..], &[2][..]));
        assert_eq!(spec.scope, "admin reports:read profile");
    }
}
