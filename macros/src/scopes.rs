//! `scopes! { NAME = "scope", ... }`: the crate's one declaration of its scopes, optionally
//! opened by `crate = path;` for a renamed dependency.
//!
//! It emits a `jwtguard::Scope` constant per item, `SCOPES` (the runtime registry), and the
//! hidden `__JwtguardScopeRegistry` type through which the attribute macros check scope names
//! at compile time (see `registry.rs`). For those checks to stay cheap with thousands of
//! scopes, the macro also hands the const evaluator what it would be slow to compute: the
//! names sorted (lookups are a binary search), and how long a prefix each shares with the
//! one before (the "did you mean" search walks them as a trie).

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token};

use crate::crate_path::{self, CratePath};
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

/// `crate = path;` before the items, or the default `::jwtguard`.
fn parse_crate_path(input: ParseStream<'_>) -> syn::Result<CratePath> {
    if !input.peek(Token![crate]) {
        return Ok(CratePath::default());
    }
    let keyword: Token![crate] = input.parse()?;
    if !input.peek(Token![=]) {
        return Err(syn::Error::new_spanned(
            keyword,
            crate_path::missing_value("`scopes!`"),
        ));
    }
    input.parse::<Token![=]>()?;
    let path = crate_path::parse_value(input, "`scopes!`")?;
    input.parse::<Token![;]>().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected `;` after `crate = path` in `scopes!`: write `scopes! { crate = jwt; NAME = \"scope\", ... }`",
        )
    })?;
    Ok(path)
}

fn expand_items(input: TokenStream) -> syn::Result<TokenStream> {
    let (jwtguard, items) = syn::parse::Parser::parse2(
        |input: ParseStream<'_>| {
            let jwtguard = parse_crate_path(input)?;
            let items = Punctuated::<Item, Token![,]>::parse_terminated(input)?;
            Ok((jwtguard, items))
        },
        input,
    )?;
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
            pub const #name: #jwtguard::Scope = #jwtguard::Scope::__declared(#scope, #index, #fingerprint);
        }
    });
    let names = items.iter().map(|i| &i.name);
    // The doc comments, for the descriptions an OpenAPI document shows.
    let descriptions = items.iter().map(description);
    let mut sorted: Vec<(&String, u16)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (v, u16::try_from(i).unwrap_or(u16::MAX)))
        .collect();
    sorted.sort();
    let shared_prefixes = shared_prefixes(sorted.iter().map(|(v, _)| v.as_str()));
    let sorted = sorted.iter().map(|(v, i)| quote!((#v, #i)));
    Ok(quote! {
        #(#constants)*

        /// Every scope this crate declared with `scopes!`, for lookups at run time.
        // Clippy takes the long constant arrays of a big registry for stack arrays.
        #[allow(dead_code, clippy::large_stack_arrays)]
        pub const SCOPES: &#jwtguard::Registry = &#jwtguard::Registry::__new(
            &[#(#names),*],
            <__JwtguardScopeRegistry as #jwtguard::__private::ScopeRegistry>::SORTED,
            #fingerprint,
            &[#(#descriptions),*],
        );

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        pub struct __JwtguardScopeRegistry;

        #[allow(clippy::large_stack_arrays)]
        impl #jwtguard::__private::ScopeRegistry for __JwtguardScopeRegistry {
            const DECLARED: bool = true;
            const NAMES: &'static [&'static str] = &[#(#values),*];
            const SORTED: &'static [(&'static str, u16)] = &[#(#sorted),*];
            const SHARED_PREFIXES: &'static [u8] = &[#(#shared_prefixes),*];
            const REGISTRY: ::core::option::Option<&'static #jwtguard::__private::Registry> =
                ::core::option::Option::Some(SCOPES);
        }
    })
}

/// For each sorted name, how many leading bytes it shares with the one before (at most 255).
fn shared_prefixes<'a>(sorted: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut before = "";
    sorted
        .map(|name| {
            let shared = before
                .bytes()
                .zip(name.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            before = name;
            u8::try_from(shared).unwrap_or(u8::MAX)
        })
        .collect()
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

/// An item's doc comment, its lines joined: the scope's description in an OpenAPI document.
fn description(item: &Item) -> String {
    item.attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(doc) => match &doc.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) => Some(text.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}
