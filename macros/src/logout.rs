//! `#[logout]`: a handler that ends the presented session.
//!
//! The expansion verifies the caller's access token with a guard, revokes its session (or,
//! with `everywhere`, every session of its subject) before the body runs, binds `Claims`
//! parameters from the guard, and answers 204 when the handler returns nothing.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{FnArg, ItemFn, ReturnType};

use crate::crate_path::{self, CratePath};
use crate::errors::Errors;
use crate::handler::{check_signature, is_optional_claims, is_plain_claims};

const NAME: &str = "logout";

/// `everywhere` and `crate = path`.
fn parse_args(tokens: TokenStream, errors: &mut Errors) -> (bool, CratePath) {
    let mut everywhere: Option<Span> = None;
    let mut jwtguard: Option<CratePath> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("everywhere") {
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                return Err(meta.error(
                    "`everywhere` in `#[logout]` is a flag and takes no value: write `everywhere`",
                ));
            }
            if everywhere.is_some() {
                errors.push(meta.error("duplicate argument `everywhere` in `#[logout]`"));
            }
            everywhere = Some(syn::spanned::Spanned::span(&meta.path));
            Ok(())
        } else if meta.path.is_ident("crate") {
            if !meta.input.peek(syn::Token![=]) {
                return Err(meta.error(crate_path::missing_value("`#[logout]`")));
            }
            let path = crate_path::parse_value(meta.value()?, "`#[logout]`")?;
            if jwtguard.is_some() {
                errors.push(meta.error("duplicate argument `crate` in `#[logout]`"));
            }
            jwtguard = Some(path);
            Ok(())
        } else {
            Err(meta.error("unknown argument in `#[logout]`: expected `everywhere` or `crate`"))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
        errors.push(error);
    }
    (everywhere.is_some(), jwtguard.unwrap_or_default())
}

pub(crate) fn expand(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let (everywhere, jwtguard) = parse_args(args, &mut errors);
    check_signature(&func, NAME, &mut errors);
    for input in &func.sig.inputs {
        if let FnArg::Typed(typed) = input
            && is_optional_claims(&typed.ty)
        {
            errors.push(syn::Error::new_spanned(
                &typed.ty,
                "`#[logout]` handlers take `Claims`, not `Option<Claims>`: the handler only runs with a valid access token",
            ));
        }
    }
    errors.finish()?;

    let mut bindings = Vec::new();
    for input in std::mem::take(&mut func.sig.inputs) {
        match input {
            FnArg::Typed(typed) if is_plain_claims(&typed.ty) => {
                let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
                bindings.push(quote! {
                    #(#attrs)*
                    let #pat: #ty = #jwtguard::__private::LogoutGuard::claims(&__jwtguard_logout);
                });
            }
            other => func.sig.inputs.push(other),
        }
    }
    // Alone, the guard may read the body (a refresh token in JSON); beside parameters of the
    // handler's own, it leaves the body to them.
    let guard: syn::Type = if func.sig.inputs.is_empty() {
        syn::parse_quote!(#jwtguard::__private::LogoutBody)
    } else {
        syn::parse_quote!(#jwtguard::__private::LogoutGuard)
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
    *func.block = syn::parse2(body)?;
    Ok(quote!(#func))
}
