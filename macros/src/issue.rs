//! `#[login]` and `#[refresh]`: handlers that return a `Grant` and answer with a token pair.
//!
//! The body runs as written inside `async move { ... }` (so `return` and `?` keep their
//! meaning); its `Grant` is then cut to the ceiling and signed by `__private::login` or
//! `__private::refresh`. The return type becomes `Response`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn};

use crate::args::{self, Accepts};
use crate::errors::Errors;
use crate::handler::{check_signature, grant_return, is_claims, is_optional_claims};
use crate::registry;

pub(crate) fn expand_login(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = args::parse(args, "login", Accepts::Login, &mut errors);
    check_signature(&func, "login", &mut errors);
    let ret = grant_return(&func, "login");
    if let Err(error) = &ret {
        errors.push(error.clone());
    }
    errors.finish()?;
    // Reported with the others above; `?` only unwraps what cannot fail here.
    let ret = ret?;

    let jwtguard = &args.jwtguard;
    let checks = registry::checks(args.all_names(), "login", jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    // Spanned on the return type, so a type that is not a grant is reported there.
    let runtime = jwtguard.spanned(ret.span());
    // The checks are items inside the body rather than beside the function, which may sit in
    // an `impl` block.
    let body = if let Some(username) = &args.throttle {
        // Charged before the body (and its password check) runs; the username expression is
        // borrowed only until then.
        let answer = quote_spanned!(ret.span()=> #runtime::__private::login_throttled(&__jwtguard_signer, __jwtguard_attempt, __jwtguard_outcome, #ceiling).await);
        quote! {{
            #checks
            let __jwtguard_attempt =
                match #jwtguard::__private::attempt(&__jwtguard_signer, ::core::convert::AsRef::<str>::as_ref(&#username)).await {
                    ::core::result::Result::Ok(attempt) => attempt,
                    ::core::result::Result::Err(response) => return response,
                };
            let __jwtguard_outcome: #ret = async move #block.await;
            #answer
        }}
    } else {
        let answer = quote_spanned!(ret.span()=> #runtime::__private::login(&__jwtguard_signer, __jwtguard_outcome, #ceiling));
        quote! {{
            #checks
            let __jwtguard_outcome: #ret = async move #block.await;
            #answer
        }}
    };
    func.sig.inputs.insert(
        0,
        syn::parse_quote!(__jwtguard_signer: #jwtguard::__private::Signer),
    );
    crate::openapi::responses(&mut func.attrs, jwtguard, false);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse2(body)?;
    Ok(quote!(#func))
}

pub(crate) fn expand_refresh(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = args::parse(args, "refresh", Accepts::Ceiling, &mut errors);
    check_signature(&func, "refresh", &mut errors);
    let ret = grant_return(&func, "refresh");
    if let Err(error) = &ret {
        errors.push(error.clone());
    }
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input
            && is_optional_claims(&typed.ty)
        {
            errors.push(syn::Error::new_spanned(
                &typed.ty,
                "`#[refresh]` handlers take `Claims`, not `Option<Claims>`: the handler only runs with a valid refresh token",
            ));
        }
    }
    errors.finish()?;
    // Reported with the others above; `?` only unwraps what cannot fail here.
    let ret = ret?;

    // `Claims` parameters are the refresh token's: they are bound from the guard, which has to
    // be the last parameter because it may read the body (`{"refresh_token": "..."}`). A
    // parameter's attributes (such as `#[allow(unused_variables)]`) go on its binding.
    let jwtguard = &args.jwtguard;
    let mut bindings = Vec::new();
    let inputs = std::mem::take(&mut func.sig.inputs);
    for input in inputs {
        match input {
            FnArg::Typed(typed) if is_claims(&typed.ty) => {
                let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
                bindings.push(quote! {
                    #(#attrs)*
                    let #pat: #ty = match #jwtguard::__private::RefreshGuard::claims(&__jwtguard_refresh) {
                        ::core::result::Result::Ok(claims) => claims,
                        ::core::result::Result::Err(response) => return response,
                    };
                });
            }
            other => func.sig.inputs.push(other),
        }
    }
    func.sig
        .inputs
        .push(syn::parse_quote!(__jwtguard_refresh: #jwtguard::__private::RefreshGuard));

    let checks = registry::checks(args.all_names(), "refresh", jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    let runtime = jwtguard.spanned(ret.span());
    let answer = quote_spanned!(ret.span()=> #runtime::__private::refresh(&__jwtguard_refresh, __jwtguard_outcome, #ceiling).await);
    let body = quote! {{
        #checks
        #(#bindings)*
        let __jwtguard_outcome: #ret = async move #block.await;
        #answer
    }};
    crate::openapi::responses(&mut func.attrs, jwtguard, false);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse2(body)?;
    Ok(quote!(#func))
}
