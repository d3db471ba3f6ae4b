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

use crate::args::{self, Accepts};
use crate::errors::Errors;
use crate::handler::{check_signature, grant_return, last_segment_is};
use crate::registry;

const NAME: &str = "token_endpoint";

pub(crate) fn expand(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = args::parse(args, NAME, Accepts::Ceiling, &mut errors);
    check_signature(&func, NAME, &mut errors);
    let ret = grant_return(&func, NAME);
    if let Err(error) = &ret {
        errors.push(error.clone());
    }
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
    // On an error the caller emits the function as written, not this half-rewritten copy.
    errors.finish()?;
    let ret = ret?;
    let grant = &grants[0];
    let (pat, ty) = (&grant.pat, &grant.ty);
    let attrs = &grant.attrs;

    let jwtguard = &args.jwtguard;
    let checks = registry::checks(args.all_names(), NAME, jwtguard);
    let ceiling = registry::ceiling(args.scopes.as_ref());
    let block = &func.block;
    let runtime = jwtguard.spanned(ret.span());
    let answer = quote_spanned!(ret.span()=> #runtime::__private::token_answer(__jwtguard_context, __jwtguard_outcome, #ceiling).await);
    let body = quote! {{
        #checks
        #(#attrs)*
        let (__jwtguard_context, #pat): (#jwtguard::__private::TokenContext, #ty) =
            match #jwtguard::__private::token_request(__jwtguard_token, #ceiling).await {
                ::core::result::Result::Ok(request) => request,
                ::core::result::Result::Err(response) => return response,
            };
        let __jwtguard_outcome: #ret = async move #block.await;
        #answer
    }};
    // Last: the form is the request body.
    func.sig
        .inputs
        .push(syn::parse_quote!(__jwtguard_token: #jwtguard::__private::TokenRequest));
    crate::openapi::responses(&mut func.attrs, jwtguard, true);
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Response);
    *func.block = syn::parse2(body)?;
    Ok(quote!(#func))
}
