//! `#[logout]`: a handler that ends the presented session.
//!
//! The expansion verifies the caller's access token with a guard, revokes its session (or,
//! with `everywhere`, every session of its subject) before the body runs, binds `Claims`
//! parameters from the guard, and answers 204 when the handler returns nothing.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{FnArg, ItemFn, ReturnType};

use crate::args::{self, Macro};
use crate::errors::Errors;
use crate::handler::{is_optional_claims, is_plain_claims};

pub(crate) fn expand(
    args: TokenStream,
    mut func: ItemFn,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let args = args::parse(args, Macro::Logout, errors);
    if args.crate_unknown {
        return None;
    }
    let (everywhere, jwtguard) = (args.everywhere.is_some(), &args.jwtguard);
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input
            && is_optional_claims(&typed.ty)
        {
            // Then left to jwtguard's own extractor, so that the function still routes.
            errors.push(syn::Error::new_spanned(
                &typed.ty,
                "`#[logout]` handlers take `Claims`, not `Option<Claims>`: the handler only runs with a valid access token",
            ));
        }
    }

    // Parameters whose type is named `Claims` are bound from the guard, through a trait
    // implemented for `jwtguard::Claims` only.
    let mut bindings = Vec::new();
    for input in std::mem::take(&mut func.sig.inputs) {
        match input {
            FnArg::Typed(typed) if is_plain_claims(&typed.ty) => {
                let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
                bindings.push(quote! {
                    #(#attrs)*
                    let #pat: #ty = <#ty as #jwtguard::__private::FromLogoutGuard>::from_guard(&__jwtguard_logout);
                });
            }
            other => func.sig.inputs.push(other),
        }
    }
    // Alone, the guard may read the body (a refresh token in JSON); beside parameters of the
    // handler's own, it leaves the body to them.
    let guard: syn::Type = if func.sig.inputs.is_empty() {
        syn::parse_quote!(#jwtguard::__private::LogoutBody<#jwtguard::Auth>)
    } else {
        syn::parse_quote!(#jwtguard::__private::LogoutGuard<#jwtguard::Auth>)
    };
    func.sig
        .inputs
        .insert(0, syn::parse_quote!(__jwtguard_logout: #guard));
    let block = &func.block;
    let answer = match &func.sig.output {
        ReturnType::Default => quote! {
            async move #block.await;
            #jwtguard::__private::LogoutGuard::finish(&__jwtguard_logout, #jwtguard::__private::no_content())
        },
        ReturnType::Type(_, ty) => quote! {
            let __jwtguard_outcome: #ty = async move #block.await;
            #jwtguard::__private::LogoutGuard::finish(
                &__jwtguard_logout,
                #jwtguard::__private::IntoResponse::into_response(__jwtguard_outcome),
            )
        },
    };
    let body = quote! {{
        if let ::core::result::Result::Err(__jwtguard_refusal) =
            #jwtguard::__private::LogoutGuard::end(&__jwtguard_logout, #everywhere).await
        {
            return __jwtguard_refusal;
        }
        #(#bindings)*
        #answer
    }};
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse_quote!(#body);
    Some(quote!(#func))
}
