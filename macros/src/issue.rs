//! `#[login]` and `#[refresh]`: handlers that return a `Grant` and answer with a token pair.
//!
//! The body runs as written inside `async move { ... }` (so `return` and `?` keep their
//! meaning); its `Grant` is then cut to the ceiling and signed by `__private::login` or
//! `__private::refresh`. The return type becomes `Response`. A login is throttled unless it
//! says `unthrottled`: the attempt is charged before the body runs, by the username of
//! `throttle = ...`, or by the client's address alone.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn};

use crate::args::{self, Macro};
use crate::errors::Errors;
use crate::handler::{grant_return, is_claims, is_optional_claims};
use crate::registry;

pub(crate) fn expand_login(
    args: TokenStream,
    mut func: ItemFn,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let args = args::parse(args, Macro::Login, errors);
    let ret = grant_return(&func, "login", errors);
    let ret = ret.filter(|_| !args.crate_unknown)?;

    let jwtguard = &args.jwtguard;
    let checks = registry::checks(args.all_names(), Macro::Login, jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    // Spanned on the return type, so a type that is not a grant is reported there.
    let runtime = jwtguard.spanned(ret.span());
    let outcome = outcome(&ret, &runtime, block);
    // The checks are items inside the body rather than beside the function, which may sit in
    // an `impl` block.
    let body = if args.unthrottled.is_some() {
        let answer = quote_spanned!(ret.span()=> #runtime::__private::login(&__jwtguard_signer, __jwtguard_outcome, #ceiling));
        quote! {{
            #checks
            let __jwtguard_outcome = #outcome;
            #answer
        }}
    } else {
        // Charged before the body (and its password check) runs: by the username of
        // `throttle = ...` (borrowed only until then), or by the client's address alone.
        let username = if let Some(username) = &args.throttle {
            quote!(::core::option::Option::Some(::core::convert::AsRef::<str>::as_ref(&#username)))
        } else {
            quote!(::core::option::Option::None)
        };
        let answer = quote_spanned!(ret.span()=> #runtime::__private::login_throttled(&__jwtguard_signer, __jwtguard_attempt, __jwtguard_outcome, #ceiling).await);
        quote! {{
            #checks
            let __jwtguard_attempt =
                match #jwtguard::__private::attempt(&__jwtguard_signer, #username).await {
                    ::core::result::Result::Ok(attempt) => attempt,
                    ::core::result::Result::Err(response) => return response,
                };
            let __jwtguard_outcome = #outcome;
            #answer
        }}
    };
    func.sig.inputs.insert(
        0,
        syn::parse_quote!(__jwtguard_signer: #jwtguard::__private::Signer<#jwtguard::Auth>),
    );
    crate::openapi::responses(&mut func.attrs, jwtguard, false);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse_quote!(#body);
    Some(quote!(#func))
}

pub(crate) fn expand_refresh(
    args: TokenStream,
    mut func: ItemFn,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let args = args::parse(args, Macro::Refresh, errors);
    let ret = grant_return(&func, "refresh", errors);
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input
            && is_optional_claims(&typed.ty)
        {
            // Then left to jwtguard's own extractor, so that the function still routes.
            errors.push(syn::Error::new_spanned(
                &typed.ty,
                "`#[refresh]` handlers take `Claims`, not `Option<Claims>`: the handler only runs with a valid refresh token",
            ));
        }
    }

    let ret = ret.filter(|_| !args.crate_unknown)?;

    // Parameters whose type is named `Claims` are the refresh token's: they are bound from
    // the guard, which has to be the last parameter because it may read the body
    // (`{"refresh_token": "..."}`), through a trait implemented for `jwtguard::Claims<E>` only.
    // A parameter's attributes (such as `#[allow(unused_variables)]`) go on its binding.
    let jwtguard = &args.jwtguard;
    let mut bindings = Vec::new();
    let inputs = std::mem::take(&mut func.sig.inputs);
    for input in inputs {
        match input {
            FnArg::Typed(typed) if is_claims(&typed.ty) => {
                let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
                bindings.push(quote! {
                    #(#attrs)*
                    let #pat: #ty = match <#ty as #jwtguard::__private::FromRefreshGuard>::from_guard(&__jwtguard_refresh) {
                        ::core::result::Result::Ok(claims) => claims,
                        ::core::result::Result::Err(response) => return response,
                    };
                });
            }
            other => func.sig.inputs.push(other),
        }
    }
    func.sig.inputs.push(
        syn::parse_quote!(__jwtguard_refresh: #jwtguard::__private::RefreshGuard<#jwtguard::Auth>),
    );

    let checks = registry::checks(args.all_names(), Macro::Refresh, jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    let runtime = jwtguard.spanned(ret.span());
    let outcome = outcome(&ret, &runtime, block);
    let answer = quote_spanned!(ret.span()=> #runtime::__private::refresh(&__jwtguard_refresh, __jwtguard_outcome, #ceiling).await);
    let body = quote! {{
        #checks
        #(#bindings)*
        let __jwtguard_outcome = #outcome;
        #answer
    }};
    crate::openapi::responses(&mut func.attrs, jwtguard, false);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse_quote!(#body);
    Some(quote!(#func))
}

/// The body's value as `Result<Grant, Response>`, through the runtime's `IntoGrant`: spanned
/// on the return type, where a type that is not a grant is refused (`runtime` is spanned
/// there too). The body is first bound at the type written, which it is inferred against.
pub(crate) fn outcome(ret: &syn::Type, runtime: &TokenStream, block: &syn::Block) -> TokenStream {
    let convert = quote_spanned!(ret.span()=> <#ret as #runtime::__private::IntoGrant>::into_grant);
    quote! {{
        let __jwtguard_body: #ret = async move #block.await;
        #convert(__jwtguard_body)
    }}
}
