//! `require!(auth, scopes = "admin")`: the requirement of `#[protected]` as a layer in front of
//! every route of a router (`Router::route_layer`), checked against `scopes!` the same way.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{ParseStream, Parser as _};

use crate::args::{self, Accepts};
use crate::errors::Errors;
use crate::protected::route;
use crate::registry;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match expand_inner(input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn expand_inner(input: TokenStream) -> syn::Result<TokenStream> {
    let (auth, rest) = (|stream: ParseStream<'_>| {
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
    .parse2(input)?;
    let mut errors = Errors::default();
    let args = args::parse(rest, "require", Accepts::Protected, &mut errors);
    if let Some(check) = &args.check {
        errors.push(syn::Error::new_spanned(
            check,
            "`check` belongs on `#[protected]` handlers: a router-wide layer runs before any handler's arguments exist",
        ));
    }
    errors.finish().map_err(as_macro)?;
    let jwtguard = &args.jwtguard;
    // Nothing after the layer can read what it verified: it keeps nothing.
    let route = route(&args, false);
    let checks = registry::checks(args.all_names(), "require!", jwtguard);
    Ok(quote! {{
        #checks
        #jwtguard::__private::require::<#route>(::core::clone::Clone::clone(&#auth))
    }})
}

/// The argument errors are worded for attributes (`#[require]`): name the macro as it is
/// written instead.
fn as_macro(errors: syn::Error) -> syn::Error {
    errors
        .into_iter()
        .map(|error| {
            let message = error.to_string().replace("`#[require]`", "`require!`");
            syn::Error::new(error.span(), message)
        })
        .reduce(|mut all, error| {
            all.combine(error);
            all
        })
        .unwrap_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                "invalid `require!` arguments",
            )
        })
}
