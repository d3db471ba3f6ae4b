//! `#[token_endpoint]`: an RFC 6749 token endpoint from a password-checking handler.
//!
//! The handler takes a `PasswordGrant` (username, password) and returns a `Grant`, like a
//! `#[login]` handler. The expansion reads the form itself: a `grant_type=refresh_token`
//! request is answered by the runtime with the checks of `#[refresh]` and never reaches the
//! handler; a password grant runs the handler and is answered as `#[login]` would, narrowed
//! to the requested `scope`, with every error in OAuth 2's format.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, PatType};

use crate::args::{self, Macro};
use crate::errors::Errors;
use crate::handler::{grant_return, last_segment_is};
use crate::registry;

pub(crate) fn expand(
    args: TokenStream,
    mut func: ItemFn,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let args = args::parse(args, Macro::TokenEndpoint, errors);
    let ret = grant_return(&func, "token_endpoint", errors);
    // The parameter whose type is named `PasswordGrant` gets the grant, through a trait
    // implemented for `jwtguard::PasswordGrant` only.
    let mut grants: Vec<PatType> = Vec::new();
    let mut others = syn::punctuated::Punctuated::<FnArg, syn::Token![,]>::new();
    for input in std::mem::take(&mut func.sig.inputs) {
        match input {
            FnArg::Typed(typed) if last_segment_is(&typed.ty, "PasswordGrant") => {
                grants.push(typed);
            }
            other => others.push(other),
        }
    }
    func.sig.inputs = others;
    if grants.is_empty() {
        // Still expanded, with the grant unused, so that the function routes.
        errors.push(syn::Error::new_spanned(
            &func.sig.ident,
            "`#[token_endpoint]` handlers take a `jwtguard::PasswordGrant` parameter: the username and password to check",
        ));
    }
    for extra in grants.iter().skip(1) {
        errors.push(syn::Error::new_spanned(
            extra,
            "`#[token_endpoint]` handlers take one `PasswordGrant` parameter",
        ));
    }
    let ret = ret.filter(|_| !args.crate_unknown && grants.len() <= 1)?;
    let jwtguard = &args.jwtguard;
    let binding = grants.first().map(|grant| {
        let (attrs, pat, ty) = (&grant.attrs, &grant.pat, &grant.ty);
        quote! {
            #(#attrs)*
            let #pat: #ty = <#ty as #jwtguard::__private::FromPasswordGrant>::from_password_grant(__jwtguard_grant);
        }
    });

    let checks = registry::checks(args.all_names(), Macro::TokenEndpoint, jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    let runtime = jwtguard.spanned(ret.span());
    let outcome = crate::issue::outcome(&ret, &runtime, block);
    let answer = quote_spanned!(ret.span()=> #runtime::__private::token_answer(__jwtguard_context, __jwtguard_outcome, #ceiling).await);
    let body = quote! {{
        #checks
        #[allow(unused_variables)]
        let (__jwtguard_context, __jwtguard_grant) =
            match #jwtguard::__private::token_request(__jwtguard_token, #ceiling).await {
                ::core::result::Result::Ok(request) => request,
                ::core::result::Result::Err(response) => return response,
            };
        #binding
        let __jwtguard_outcome = #outcome;
        #answer
    }};
    // Last: the form is the request body.
    func.sig.inputs.push(
        syn::parse_quote!(__jwtguard_token: #jwtguard::__private::TokenRequest<#jwtguard::Auth>),
    );
    crate::openapi::responses(&mut func.attrs, jwtguard, true);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse_quote!(#body);
    Some(quote!(#func))
}
