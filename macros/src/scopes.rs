//! `scopes! { NAME = "scope", ... }`: the crate's one declaration of its scopes, at the crate
//! root, optionally opened by `crate = path;` for a renamed dependency.
//!
//! It emits a `jwtguard::Scope` constant per item, `SCOPES` (the runtime registry), and the
//! hidden `__JwtguardScopeRegistry` type through which the attribute macros check scope names
//! at compile time (see `registry.rs`). For those checks to stay cheap with thousands of
//! scopes, the macro also hands the const evaluator what it would be slow to compute: the
//! names sorted (lookups are a binary search), and how long a prefix each shares with the
//! one before (the "did you mean" search walks them as a trie).
//!
//! A mistake in one item leaves the others declared (thiserror's fallback). A `scopes!` in a
//! module or a function is a registry of its own, for run-time lookups (`SCOPES`): the
//! macros see only the crate root's, and a route naming a scope says so when there is none.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
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
    let mut errors = Errors::default();
    let parsed = syn::parse::Parser::parse2(
        |input: ParseStream<'_>| Ok(parse_input(input, &mut errors)),
        input,
    );
    let registry = match parsed {
        Ok((jwtguard, items, written)) => {
            let items = valid(items, written, &mut errors);
            jwtguard.map(|jwtguard| registry(&jwtguard, &items))
        }
        Err(error) => {
            errors.push(error);
            None
        }
    };
    // thiserror's fallback: the registry of the entries that are right, beside the errors
    // about the others, so that routes naming a valid scope are not refused for the wrong
    // reason ("this crate declares no scopes").
    let mut out = errors.into_compile_errors();
    out.extend(registry);
    out
}

/// `crate = path;` (when given) and the items, every mistake reported: an item that does not
/// parse is skipped up to the next `,`. The path is `None` when `crate = ...` names none: the
/// registry would name a crate that may not be there. Also how many items were written, right
/// or not.
fn parse_input(
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> (Option<CratePath>, Vec<Item>, usize) {
    let jwtguard = parse_crate_path(input, errors);
    let mut items = Vec::new();
    let mut written = 0;
    while !input.is_empty() {
        written += 1;
        match input.parse::<Item>() {
            Ok(item) => items.push(item),
            Err(error) => {
                errors.push(error);
                skip_to_comma(input);
            }
        }
        if input.is_empty() {
            break;
        }
        if input.parse::<Token![,]>().is_err() {
            errors.at(
                input.span(),
                "expected `,` between `scopes!` items: write `A = \"a\", B = \"b\"`",
            );
            skip_to_comma(input);
            let _ = input.parse::<Token![,]>();
        }
    }
    (jwtguard, items, written)
}

/// Skips tokens up to (not past) the next `,`.
fn skip_to_comma(input: ParseStream<'_>) {
    while !input.is_empty() && !input.peek(Token![,]) {
        if input.parse::<proc_macro2::TokenTree>().is_err() {
            break;
        }
    }
}

/// `crate = path;` before the items, or the default `::jwtguard`.
fn parse_crate_path(input: ParseStream<'_>, errors: &mut Errors) -> Option<CratePath> {
    if !input.peek(Token![crate]) {
        return Some(CratePath::default());
    }
    let keyword = input.parse::<Token![crate]>().ok()?;
    let path = if input.peek(Token![=]) {
        let _ = input.parse::<Token![=]>();
        match crate_path::parse_value(input, "`scopes!`") {
            Ok(path) => Some(path),
            Err(refused) => {
                errors.push(refused.error);
                refused.meant
            }
        }
    } else {
        errors.push(syn::Error::new_spanned(
            keyword,
            crate_path::missing_value("`scopes!`"),
        ));
        None
    };
    if input.parse::<Token![;]>().is_err() {
        errors.at(
            input.span(),
            "expected `;` after `crate = path` in `scopes!`: write `scopes! { crate = jwt; NAME = \"scope\", ... }`",
        );
        // Up to the end of the header: a `;`, or the `,` written in its place.
        skip_to_comma(input);
        let _ = input.parse::<Token![,]>();
    }
    path
}

/// The items that are right: every mistake is reported, and an item with one is left out
/// (a later duplicate, not the first), except an attribute other than a doc comment, which
/// is dropped from an item that is otherwise right.
fn valid(items: Vec<Item>, written: usize, errors: &mut Errors) -> Vec<Item> {
    if written == 0 {
        errors.at(
            Span::call_site(),
            "`scopes!` declares no scope: write `scopes! { REPORTS_READ = \"reports:read\" }`",
        );
    }
    if written > usize::from(u16::MAX) {
        errors.at(
            Span::call_site(),
            "`scopes!` declares more than 65535 scopes",
        );
    }
    let (mut names, mut scopes) = (HashSet::new(), HashSet::new());
    let mut kept = Vec::new();
    for mut item in items {
        item.attrs.retain(|attr| {
            let doc = attr.path().is_ident("doc");
            if !doc {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "`scopes!` items take only doc comments: other attributes (such as `#[cfg]`) would change the registry between builds",
                ));
            }
            doc
        });
        let value = item.scope.value();
        if !is_valid(&value) {
            errors.at(
                item.scope.span(),
                format!("{value:?} in `scopes!` is not a valid scope: {SYNTAX}"),
            );
            continue;
        }
        if names.contains(&item.name) {
            errors.push(syn::Error::new_spanned(
                &item.name,
                format!("duplicate name `{}` in `scopes!`", item.name),
            ));
            continue;
        }
        if scopes.contains(&value) {
            errors.at(
                item.scope.span(),
                format!("duplicate scope {value:?} in `scopes!`"),
            );
            continue;
        }
        names.insert(item.name.clone());
        scopes.insert(value);
        kept.push(item);
    }
    kept.truncate(usize::from(u16::MAX));
    kept
}

/// The constants, `SCOPES` and the hidden registry type of `items`.
fn registry(jwtguard: &CratePath, items: &[Item]) -> TokenStream {
    let values: Vec<String> = items.iter().map(|i| i.scope.value()).collect();
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
    quote! {
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
    }
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
