//! `scopes! { NAME = "scope", ... }`: the crate's one declaration of its scopes.
//!
//! It emits a `jwtguard::Scope` constant per item, `SCOPES` (the runtime registry), and the
//! hidden `__JwtguardScopeRegistry` type through which the attribute macros check scope names
//! at compile time (see `registry.rs`).

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token};

use crate::errors::Errors;
use crate::scope_name::{SYNTAX, is_valid};

struct Item {
    attrs: Vec<Attribute>,
    name: Ident,
    scope: LitStr,
}

impl Parse for Item {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        const FORM: &str = "`scopes!` items are written `NAME = \"scope\"`";
        let attrs = input.call(Attribute::parse_outer)?;
        let name: Ident = input
            .parse()
            .map_err(|e| syn::Error::new(e.span(), format!("expected a constant name: {FORM}")))?;
        input.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(e.span(), format!("expected `=` after `{name}`: {FORM}"))
        })?;
        let scope = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected a string literal after `{name} =`: {FORM}"),
            )
        })?;
        Ok(Self { attrs, name, scope })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    match expand_items(input) {
        Ok(tokens) => tokens,
        Err(error) => error.to_compile_error(),
    }
}

fn expand_items(input: TokenStream) -> syn::Result<TokenStream> {
    let items = syn::parse::Parser::parse2(Punctuated::<Item, Token![,]>::parse_terminated, input)?;
    let items: Vec<Item> = items.into_iter().collect();
    let mut errors = Errors::default();
    if items.is_empty() {
        errors.at(
            Span::call_site(),
            "`scopes!` declares no scope: write `scopes! { REPORTS_READ = \"reports:read\" }`",
        );
    }
    if items.len() > usize::from(u16::MAX) {
        errors.at(
            Span::call_site(),
            "`scopes!` declares more than 65535 scopes",
        );
    }
    let values: Vec<String> = items.iter().map(|i| i.scope.value()).collect();
    let (mut names, mut scopes) = (HashSet::new(), HashSet::new());
    for (item, value) in items.iter().zip(&values) {
        for attr in &item.attrs {
            if !attr.path().is_ident("doc") {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "`scopes!` items take only doc comments: other attributes (such as `#[cfg]`) would change the registry between builds",
                ));
            }
        }
        if !is_valid(value) {
            errors.at(
                item.scope.span(),
                format!("{value:?} in `scopes!` is not a valid scope: {SYNTAX}"),
            );
        }
        if !names.insert(&item.name) {
            errors.push(syn::Error::new_spanned(
                &item.name,
                format!("duplicate name `{}` in `scopes!`", item.name),
            ));
        }
        if !scopes.insert(value) {
            errors.at(
                item.scope.span(),
                format!("duplicate scope {value:?} in `scopes!`"),
            );
        }
    }
    errors.finish()?;

    let fingerprint = fingerprint(&values);
    let constants = items.iter().enumerate().map(|(index, item)| {
        let (attrs, name, scope) = (&item.attrs, &item.name, &item.scope);
        let index = u16::try_from(index).unwrap_or(u16::MAX);
        let doc = format!(" The scope `{}`.", scope.value());
        let doc = if attrs.is_empty() { quote!(#[doc = #doc]) } else { quote!(#(#attrs)*) };
        quote! {
            #doc
            #[allow(dead_code)]
            pub const #name: ::jwtguard::Scope = ::jwtguard::Scope::__declared(#scope, #index, #fingerprint);
        }
    });
    let names = items.iter().map(|i| &i.name);
    let mut sorted: Vec<(String, u16)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.clone(), u16::try_from(i).unwrap_or(u16::MAX)))
        .collect();
    sorted.sort();
    let sorted = sorted.iter().map(|(v, i)| quote!((#v, #i)));
    Ok(quote! {
        #(#constants)*

        /// Every scope this crate declared with `scopes!`, for lookups at run time.
        #[allow(dead_code)]
        pub const SCOPES: &::jwtguard::Registry =
            &::jwtguard::Registry::__new(&[#(#names),*], &[#(#sorted),*], #fingerprint);

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        pub struct __JwtguardScopeRegistry;

        impl ::jwtguard::__private::ScopeRegistry for __JwtguardScopeRegistry {
            const DECLARED: bool = true;
            const NAMES: &'static [&'static str] = &[#(#values),*];
            const REGISTRY: ::core::option::Option<&'static ::jwtguard::__private::Registry> =
                ::core::option::Option::Some(SCOPES);
        }
    })
}

/// FNV-1a over the names: tells registries apart at run time (never 0, which means "none").
fn fingerprint(values: &[String]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for value in values {
        for byte in value.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash | 1
}
