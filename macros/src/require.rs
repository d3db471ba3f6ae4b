//! `require!(auth, scopes = "admin")`: the requirement of `#[protected]` as a layer in front of
//! every route of a router (`Router::route_layer`), checked against `scopes!` the same way.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{ParseStream, Parser as _};

use crate::args::{self, Macro};
use crate::errors::Errors;
use crate::protected::route;
use crate::registry;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let expanded = expand_inner(input, &mut errors);
    if errors.is_empty() {
        return expanded.unwrap_or_default();
    }
    // The errors, then the layer as if they had been written right (or, when there is none, a
    // value of any type), so that where the layer is used nothing else fails.
    let errors = errors.into_compile_errors();
    let value = expanded.unwrap_or_else(|| quote!(::core::unreachable!()));
    quote! {{
        #errors
        #value
    }}
}

fn expand_inner(input: TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    let parsed = (|stream: ParseStream<'_>| {
        let auth: syn::Expr = stream.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "`require!` starts with the `Auth` to verify with: `require!(auth, scopes = \"admin\")`",
            )
        })?;
        // `require!(scopes = "admin")` parses as an assignment: the `Auth` is missing.
        if let syn::Expr::Assign(assign) = &auth {
            return Err(syn::Error::new_spanned(
                assign,
                "`require!` starts with the `Auth` to verify with: `require!(auth, scopes = \"admin\")`",
            ));
        }
        if !stream.is_empty() {
            stream.parse::<syn::Token![,]>()?;
        }
        let rest: TokenStream = stream.parse()?;
        Ok((auth, rest))
    })
    .parse2(input);
    let (auth, rest) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            errors.push(error);
            return None;
        }
    };
    let args = args::parse(rest, Macro::Require, errors);
    let jwtguard = &args.jwtguard;
    // Nothing after the layer can read what it verified: it keeps nothing. The route names the
    // registry as the blocks of `resolve` find it: a crate without `scopes!` gets the checks'
    // message alone.
    let route = route(&args, false, false);
    let checks = registry::checks(args.all_names(), Macro::Require, jwtguard);
    let layer = registry::resolve(
        jwtguard,
        &quote!(#jwtguard::__private::require::<#route>(__jwtguard_auth)),
    );
    Some(quote! {{
        #checks
        let __jwtguard_auth = ::core::clone::Clone::clone(&#auth);
        #layer
    }})
}
