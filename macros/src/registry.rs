//! Code that reaches the crate's `scopes!` registry at compile time.
//!
//! `scopes!` declares a hidden type `__JwtguardScopeRegistry` at the crate root. An expansion
//! anywhere in the crate finds it through `use crate::*;` in an inner block; when the crate has
//! no `scopes!`, the glob import of an outer block supplies jwtguard's fallback type instead
//! (an inner block's names shadow an outer block's, so the two never clash). That `crate::*`
//! glob, and the registry type a `#[protected]` route names in its guard (see
//! [`registry_type`]), are the paths into the user's crate an expansion writes.
//!
//! Each scope is then checked by a `const` evaluated at compile time: an unknown scope fails
//! the build with a message built by `__private::check_scope`, spanned on the literal. The
//! checks are items at the top of the handler's body, never beside the function: a handler
//! may be an associated function, and an `impl` block takes no `const _` item.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::args::Macro;
use crate::crate_path::CratePath;
use crate::scope_name::ScopeName;

/// Wraps `inner` in the two blocks that resolve `__JwtguardScopeRegistry`.
pub(crate) fn resolve(jwtguard: &CratePath, inner: &TokenStream) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use #jwtguard::__private::fallback::*;
            {
                #[allow(unused_imports)]
                use crate::*;
                #inner
            }
        }
    }
}

/// The registry type itself, for a route's guard. A type in a signature cannot go through
/// [`resolve`]'s blocks, so this names the crate root directly: a crate without `scopes!` gets
/// "cannot find type `__JwtguardScopeRegistry`" here, next to the check's own message that
/// says what to add. Spanned on `span`, the route's first scope.
pub(crate) fn registry_type(span: Span) -> TokenStream {
    quote_spanned!(span=> crate::__JwtguardScopeRegistry)
}

/// One compile-time check per scope, each failing on its own literal: `const _` items for
/// the top of the handler's body.
pub(crate) fn checks<'a>(
    names: impl Iterator<Item = &'a ScopeName>,
    mac: Macro,
    jwtguard: &CratePath,
) -> TokenStream {
    // How the message names the caller: `#[protected]`, or `require!` for a function-like macro.
    let attribute = mac.shown().trim_matches('`').to_owned();
    names
        .map(|name| {
            let value = &name.value;
            // Emitted code: a const panic fails the user's build; the macro itself never panics.
            let fail = quote_spanned!(name.span=> ::core::panic!("{}", CHECK.message())); // emitted
            let inner = quote! {
                const CHECK: #jwtguard::__private::ScopeCheck =
                    #jwtguard::__private::check_scope::<__JwtguardScopeRegistry>(#attribute, #value);
                if !CHECK.ok() {
                    #fail
                }
            };
            let body = resolve(jwtguard, &inner);
            quote!(const _: () = #body;)
        })
        .collect()
}

/// The type-level list `At<{index}, At<{index}, End>>` of the names' declared indices, each
/// looked up at compile time in a block that goes through [`resolve`].
pub(crate) fn index_list(names: &[ScopeName], jwtguard: &CratePath) -> TokenStream {
    let end = quote!(#jwtguard::__private::End);
    names.iter().rev().fold(end, |tail, name| {
        let value = &name.value;
        let index = resolve(
            jwtguard,
            &quote! {
                #jwtguard::__private::scope_index(
                    <__JwtguardScopeRegistry as #jwtguard::__private::ScopeRegistry>::SORTED,
                    #value,
                )
            },
        );
        quote!(#jwtguard::__private::At<#index, #tail>)
    })
}

/// `Some(&["a", "b"])` for a ceiling, `None` without one.
pub(crate) fn ceiling(names: Option<&Vec<ScopeName>>) -> TokenStream {
    let Some(names) = names else {
        return quote!(::core::option::Option::None);
    };
    let values = names.iter().map(|n| &n.value);
    quote!(::core::option::Option::Some::<&'static [&'static str]>(&[#(#values),*]))
}
