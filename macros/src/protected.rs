//! `#[protected]`: a guard extractor in front of the handler.
//!
//! The handler gains a first parameter `__jwtguard_guard: Guard<__jwtguard_policy_NAME, Auth>`,
//! where the policy type carries what the route requires as a constant (scope indices,
//! freshness, token type). Plain `Claims` parameters become `let` bindings from the guard at
//! the top of the body; everything else (attributes, visibility, generics, where clause, other
//! parameters, body, return type) stays as written.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{FnArg, ItemFn};

use crate::args::{self, Accepts};
use crate::errors::Errors;
use crate::handler::{check_signature, is_claims, is_optional_claims, is_plain_claims};
use crate::registry;

pub(crate) fn expand(args: TokenStream, mut func: ItemFn) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = args::parse(args, "protected", Accepts::Protected, &mut errors);
    check_signature(&func, "protected", &mut errors);
    errors.finish()?;

    let all = args.scopes.clone().unwrap_or_default();
    let any = args.any.clone().unwrap_or_default();
    let kind = if args.refresh.is_some() {
        quote!(Refresh)
    } else {
        quote!(Access)
    };
    let fresh = args.fresh.is_some();
    // Plain `Claims` parameters are bound from the guard itself; whatever other extractors
    // remain may want the verified claims too, so only then are they cached in the request.
    let mut bindings = Vec::new();
    let inputs = std::mem::take(&mut func.sig.inputs);
    for input in inputs {
        match input {
            FnArg::Typed(typed) if is_plain_claims(&typed.ty) => bindings.push(typed),
            other => func.sig.inputs.push(other),
        }
    }
    // Only jwtguard's `Claims<E>`/`Option<Claims<E>>` extractors read the request cache; an
    // extractor of your own built on `Claims` verifies again (correct, only slower).
    let share = func.sig.inputs.iter().any(|input| {
        matches!(input, FnArg::Typed(typed) if is_claims(&typed.ty) || is_optional_claims(&typed.ty))
    });
    let required: Vec<&str> = all.iter().chain(&any).map(|n| n.value.as_str()).collect();
    let scope = required.join(" ");
    let spec = |all: TokenStream, any: TokenStream, registry: TokenStream| {
        quote! {
            ::jwtguard::__private::PolicySpec {
                kind: ::jwtguard::__private::TokenKind::#kind,
                fresh: #fresh,
                all: #all,
                any: #any,
                registry: #registry,
                scope: #scope,
                share: #share,
            }
        }
    };
    let spec = if required.is_empty() {
        spec(
            quote!(&[]),
            quote!(&[]),
            quote!(::core::option::Option::None),
        )
    } else {
        registry::resolve(&spec(
            registry::indices(&all),
            registry::indices(&any),
            registry::item("REGISTRY"),
        ))
    };
    let checks = registry::checks(args.all_names(), "protected");

    let policy = format_ident!("__jwtguard_policy_{}", func.sig.ident);
    let vis = &func.vis;
    let guard = if bindings.is_empty() {
        quote!(Guard)
    } else {
        quote!(ClaimsGuard)
    };
    func.sig.inputs.insert(
        0,
        syn::parse_quote!(__jwtguard_guard: ::jwtguard::__private::#guard<#policy, ::jwtguard::Auth>),
    );
    // After the body's leading items, so that clippy's `items_after_statements` stays quiet.
    let items = func
        .block
        .stmts
        .iter()
        .take_while(|stmt| matches!(stmt, syn::Stmt::Item(_)))
        .count();
    for (at, typed) in bindings.iter().enumerate() {
        let (pat, ty) = (&typed.pat, &typed.ty);
        func.block.stmts.insert(
            items + at,
            syn::parse_quote!(let #pat: #ty = ::jwtguard::__private::ClaimsGuard::claims(&__jwtguard_guard);),
        );
    }
    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #policy;

        impl ::jwtguard::__private::Policy for #policy {
            const SPEC: ::jwtguard::__private::PolicySpec = #spec;
        }

        #checks

        #func
    })
}
