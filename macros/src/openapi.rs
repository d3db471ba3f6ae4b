//! What the macros add to a `#[utoipa::path]` below them: a `#[protected]` route's security
//! requirement, the answers of the issuing endpoints. Only the tokens of that attribute are
//! touched, and a `security(...)` or `responses(...)` the user wrote is left alone.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;
use syn::{Attribute, Meta};

use crate::crate_path::CratePath;
use crate::scope_name::ScopeName;

/// `#[utoipa::path(...)]` (or `#[path(...)]` imported from utoipa is not recognised: the
/// macro sees names, and a bare `path` is too common to guess).
fn is_utoipa_path(attr: &Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments == ["utoipa", "path"]
}

/// Whether the attribute's top-level arguments already hold `name(...)`.
fn has_argument(tokens: &TokenStream, name: &str) -> bool {
    let mut at_start = true;
    for tree in tokens.clone() {
        match &tree {
            TokenTree::Punct(p) if p.as_char() == ',' => at_start = true,
            TokenTree::Ident(ident) if at_start && ident == name => return true,
            _ => at_start = false,
        }
    }
    false
}

/// Appends `argument` to every `#[utoipa::path]` that lacks an argument named `name`.
fn amend(attrs: &mut [Attribute], name: &str, argument: &TokenStream) {
    for attr in attrs.iter_mut().filter(|a| is_utoipa_path(a)) {
        let Meta::List(list) = &mut attr.meta else {
            continue;
        };
        if has_argument(&list.tokens, name) {
            continue;
        }
        let existing = &list.tokens;
        let ends_with_comma = existing
            .clone()
            .into_iter()
            .last()
            .is_some_and(|tree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ','));
        list.tokens = if existing.is_empty() || ends_with_comma {
            quote!(#existing #argument)
        } else {
            quote!(#existing, #argument)
        };
    }
}

/// `security(...)` for a `#[protected]` route: all of `all`, and one of `any` when given (one
/// alternative per any-of scope, OpenAPI's "or").
pub(crate) fn security(attrs: &mut [Attribute], all: &[ScopeName], any: &[ScopeName]) {
    let all: Vec<&str> = all.iter().map(|s| s.value.as_str()).collect();
    let alternatives: Vec<TokenStream> = if any.is_empty() {
        vec![quote!(("jwtguard" = [#(#all),*]))]
    } else {
        any.iter()
            .map(|one| {
                let one = one.value.as_str();
                quote!(("jwtguard" = [#(#all,)* #one]))
            })
            .collect()
    };
    amend(attrs, "security", &quote!(security(#(#alternatives),*)));
}

/// `responses(...)` for a login, refresh or token endpoint.
pub(crate) fn responses(attrs: &mut [Attribute], jwtguard: &CratePath, oauth: bool) {
    let refusal = if oauth {
        quote!((status = 400, description = "The request, the grant or the scope is refused (RFC 6749 §5.2)", body = #jwtguard::openapi::OAuthErrorAnswer))
    } else {
        quote!((status = 401, description = "Refused: bad credentials, or a bad, expired or revoked refresh token", body = #jwtguard::openapi::ErrorAnswer))
    };
    amend(
        attrs,
        "responses",
        &quote!(responses(
            (status = 200, description = "An access and refresh token pair", body = #jwtguard::TokenResponse),
            #refusal
        )),
    );
}
