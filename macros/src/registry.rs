//! Code that reaches the crate's `scopes!` registry at compile time.
//!
//! `scopes!` declares a hidden type `__JwtguardScopeRegistry` at the crate root. An expansion
//! anywhere in the crate finds it through `use crate::*;` in an inner block; when the crate has
//! no `scopes!`, the glob import of an outer block supplies jwtguard's fallback type instead
//! (an inner block's names shadow an outer block's, so the two never clash). That `crate::*`
//! glob is the one path into the user's crate an expansion names.
//!
//! Each scope is then checked by a `const` evaluated at compile time: an unknown scope fails
//! the build with a message built by `__private::check_scope`, spanned on the literal.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};

use crate::scope_name::ScopeName;

/// Wraps `inner` in the two blocks that resolve `__JwtguardScopeRegistry`.
pub(crate) fn resolve(inner: &TokenStream) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use ::jwtguard::__private::fallback::*;
            {
                #[allow(unused_imports)]
                use crate::*;
                #inner
            }
        }
    }
}

/// The registry type's associated item `item` (`NAMES`, `DECLARED`, `REGISTRY`).
pub(crate) fn item(name: &str) -> TokenStream {
    let ident = syn::Ident::new(name, proc_macro2::Span::call_site());
    quote!(<__JwtguardScopeRegistry as ::jwtguard::__private::ScopeRegistry>::#ident)
}

/// One compile-time check per scope, each failing on its own literal.
pub(crate) fn checks<'a>(
    names: impl Iterator<Item = &'a ScopeName>,
    attribute: &str,
) -> TokenStream {
    let (declared, list) = (item("DECLARED"), item("NAMES"));
    names
        .map(|name| {
            let value = &name.value;
            // Emitted code: a const panic fails the user's build; the macro itself never panics.
            let fail = quote_spanned!(name.span=> ::core::panic!("{}", CHECK.message())); // emitted
            let inner = quote! {
                const CHECK: ::jwtguard::__private::ScopeCheck =
                    ::jwtguard::__private::check_scope(#declared, #list, #attribute, #value);
                if !CHECK.ok() {
                    #fail
                }
            };
            let body = resolve(&inner);
            quote!(const _: () = #body;)
        })
        .collect()
}

/// `&[index, ...]` of the names, resolved against the registry (inside [`resolve`]).
pub(crate) fn indices(names: &[ScopeName]) -> TokenStream {
    let list = item("NAMES");
    let values = names.iter().map(|n| &n.value);
    quote!(&[#(::jwtguard::__private::scope_index(#list, #values)),*])
}

/// `Some(&["a", "b"])` for a ceiling, `None` without one.
pub(crate) fn ceiling(names: Option<&Vec<ScopeName>>) -> TokenStream {
    let Some(names) = names else {
        return quote!(::core::option::Option::None);
    };
    let values = names.iter().map(|n| &n.value);
    quote!(::core::option::Option::Some::<&'static [&'static str]>(&[#(#values),*]))
}
