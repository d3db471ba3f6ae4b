//! `#[protected]`: a guard extractor in front of the handler.
//!
//! The handler gains a first parameter `__jwtguard_guard: Guard<Route<...>, Auth>`, where the
//! route type spells out what the route requires with jwtguard's generic types (token kind,
//! freshness, and the scope indices as const blocks looked up in the crate's registry). The
//! expansion is the function alone, with no item beside it, so that it works as well inside
//! an `impl` block (an associated-function handler) as at module level; the scope checks are
//! `const _` items at the top of its body. Parameters whose type is named `Claims` (without
//! type arguments) become `let` bindings from the guard, with their attributes, through
//! `__private::FromClaimsGuard`, which only `jwtguard::Claims` implements; everything else
//! (attributes, visibility, generics, where clause, other parameters, body, return type) stays
//! as written, except that `check = ...` wraps the return type in `Checked<...>`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{FnArg, ItemFn};

use crate::args::{self, Macro};
use crate::errors::Errors;
use crate::handler::{is_claims, is_optional_claims, is_plain_claims, last_segment_is};
use crate::registry;

pub(crate) fn expand(
    args: TokenStream,
    mut func: ItemFn,
    errors: &mut Errors,
) -> Option<TokenStream> {
    let args = args::parse(args, Macro::Protected, errors);
    if args.crate_unknown {
        return None;
    }
    let jwtguard = &args.jwtguard;

    // Parameters whose type is named `Claims` (without arguments) are bound from the guard
    // itself; whatever other extractors remain may want the verified claims too, so only then
    // are they cached in the request.
    let mut bindings = Vec::new();
    let inputs = std::mem::take(&mut func.sig.inputs);
    for input in inputs {
        match input {
            FnArg::Typed(typed) if is_plain_claims(&typed.ty) => bindings.push(typed),
            other => func.sig.inputs.push(other),
        }
    }
    // Only jwtguard's `Claims<E>`/`Option<Claims<E>>`/`CurrentUser<U>` extractors read the
    // request cache; an extractor of your own built on `Claims` verifies again (correct,
    // only slower).
    let share = func.sig.inputs.iter().any(|input| {
        matches!(input, FnArg::Typed(typed) if is_claims(&typed.ty)
            || is_optional_claims(&typed.ty)
            || last_segment_is(&typed.ty, "CurrentUser"))
    });
    let route = route(&args, share, true);
    crate::openapi::security(
        &mut func.attrs,
        args.scopes.as_deref().unwrap_or_default(),
        args.any.as_deref().unwrap_or_default(),
    );
    let checks = registry::checks(args.all_names(), Macro::Protected, jwtguard);

    let guard = if bindings.is_empty() && args.check.is_none() {
        quote!(Guard)
    } else {
        quote!(ClaimsGuard)
    };
    func.sig.inputs.insert(
        0,
        syn::parse_quote!(__jwtguard_guard: #jwtguard::__private::#guard<#route, #jwtguard::Auth>),
    );
    // After the body's leading items, so that clippy's `items_after_statements` stays quiet.
    let items = func
        .block
        .stmts
        .iter()
        .take_while(|stmt| matches!(stmt, syn::Stmt::Item(_)))
        .count();
    for (at, typed) in bindings.iter().enumerate() {
        // Through a trait implemented for `jwtguard::Claims` only: a type of the user's own
        // named `Claims` is refused at its name, by `FromClaimsGuard`'s message.
        let (attrs, pat, ty) = (&typed.attrs, &typed.pat, &typed.ty);
        func.block.stmts.insert(
            items + at,
            syn::parse_quote! {
                #(#attrs)*
                let #pat: #ty = <#ty as #jwtguard::__private::FromClaimsGuard>::from_guard(&__jwtguard_guard);
            },
        );
    }
    if let Some(check) = &args.check {
        wrap_in_check(&mut func, check, jwtguard);
    }
    let checks: syn::Block = syn::parse_quote!({ #checks });
    func.block.stmts.splice(0..0, checks.stmts);
    Some(quote!(#func))
}

/// `check = path`: the head of the request as a second extractor, the check called with the
/// claims and that head before the body, the answer `Checked<T>` of the body's `T`.
fn wrap_in_check(func: &mut ItemFn, check: &syn::Path, jwtguard: &crate::crate_path::CratePath) {
    func.sig.inputs.insert(
        1,
        syn::parse_quote!(__jwtguard_head: #jwtguard::__private::RequestHead),
    );
    let output = match &func.sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    let name = quote!(#check).to_string().replace(' ', "");
    let block = &func.block;
    // Spanned on the path: a function that does not fit is reported where it is named.
    let call =
        quote_spanned!(check.span()=> #check(&__jwtguard_checked_claims, &__jwtguard_head.parts));
    let resolve =
        quote_spanned!(check.span()=> (&&#jwtguard::__private::CheckCall::new(#call)).resolve());
    let body = quote! {{
        let __jwtguard_checked_claims = #jwtguard::__private::ClaimsGuard::claims(&__jwtguard_guard);
        #[allow(unused_imports)]
        use #jwtguard::__private::{AsyncCheck as _, SyncCheck as _};
        // The call is taken out of its wrapper here, so that nothing !Sync lives across the await.
        let __jwtguard_pending = #resolve;
        let __jwtguard_outcome = __jwtguard_pending.await;
        if let ::core::result::Result::Err(refusal) = #jwtguard::__private::checked(__jwtguard_outcome, #name, &__jwtguard_head) {
            return #jwtguard::__private::Checked::Refused(refusal);
        }
        #jwtguard::__private::Checked::Passed(async move #block.await)
    }};
    func.sig.output = syn::parse_quote!(-> #jwtguard::__private::Checked<#output>);
    *func.block = syn::parse_quote!(#body);
}

/// The route type of a requirement: `Route<REFRESH, FRESH, SHARE[, Scopes<...>]>`.
/// `in_signature`: the type goes in a signature, where the registry is named at the crate root
/// (see [`registry::registry_type`]); otherwise it goes in an expression that [`registry::resolve`]
/// wraps, and names the registry as the blocks resolve it.
pub(crate) fn route(args: &args::Args, share: bool, in_signature: bool) -> TokenStream {
    let jwtguard = &args.jwtguard;
    let all = args.scopes.clone().unwrap_or_default();
    let any = args.any.clone().unwrap_or_default();
    let refresh = args.refresh.is_some();
    let fresh = args.fresh.is_some();
    match all.iter().chain(&any).next() {
        None => quote!(#jwtguard::__private::Route<#refresh, #fresh, #share>),
        Some(first) => {
            let scope_len = all
                .iter()
                .chain(&any)
                .map(|name| name.value.len() + 1)
                .sum::<usize>()
                .saturating_sub(1);
            let (n_all, n_any) = (all.len(), any.len());
            let (all, any) = (
                registry::index_list(&all, jwtguard),
                registry::index_list(&any, jwtguard),
            );
            let registry = if in_signature {
                registry::registry_type(first.span)
            } else {
                quote_spanned!(first.span=> __JwtguardScopeRegistry)
            };
            quote! {
                #jwtguard::__private::Route<#refresh, #fresh, #share, #jwtguard::__private::Scopes<
                    #registry, #n_all, #all, #n_any, #any, #scope_len,
                >>
            }
        }
    }
}
