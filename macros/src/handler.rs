//! What every attribute does with the item: parse it, check it is an `async fn` handler, and
//! emit the errors beside a function that leaves no second error where it is used.
//!
//! A rejected attribute must not cascade: a mistake the expansion can do without (an unknown
//! argument, a missing `async`, a scope that is not valid) is reported and the function is
//! still expanded as if it had been written right, so that routing it raises nothing more;
//! a mistake that leaves nothing to expand (a `#[login]` that returns nothing, a `self`
//! parameter, a `crate = ...` that names no path) emits the function as written, made `async`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::errors::Errors;

/// An attribute's expansion of a function already made `async`: the new function, or `None`
/// when the errors (reported to `errors`) leave nothing to expand.
pub(crate) type Expand = fn(TokenStream, ItemFn, &mut Errors) -> Option<TokenStream>;

pub(crate) fn attribute(
    args: TokenStream,
    item: TokenStream,
    expand: Expand,
    name: &str,
) -> TokenStream {
    let mut func = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(func)) => func,
        Ok(other) => {
            let error = syn::Error::new_spanned(
                item_head(&other),
                format!("`#[{name}]` can only be used on an `async fn` handler"),
            );
            let mut out = error.to_compile_error();
            out.extend(item);
            return out;
        }
        Err(error) => {
            let mut out = error.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut errors = Errors::default();
    let expandable = check_signature(&mut func, name, &mut errors);
    // Expanded even when it cannot be used, for the errors in the arguments.
    let expanded = expand(args, func.clone(), &mut errors).filter(|_| expandable);
    let mut out = errors.into_compile_errors();
    out.extend(expanded.unwrap_or_else(|| func.into_token_stream()));
    out
}

/// The tokens an error about a non-function item points at: its keyword and name, not its
/// whole body.
fn item_head(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(s) => {
            let (kw, ident) = (&s.struct_token, &s.ident);
            quote::quote!(#kw #ident)
        }
        syn::Item::Enum(e) => {
            let (kw, ident) = (&e.enum_token, &e.ident);
            quote::quote!(#kw #ident)
        }
        syn::Item::Const(c) => {
            let (kw, ident) = (&c.const_token, &c.ident);
            quote::quote!(#kw #ident)
        }
        syn::Item::Static(s) => {
            let (kw, ident) = (&s.static_token, &s.ident);
            quote::quote!(#kw #ident)
        }
        other => other.to_token_stream(),
    }
}

/// The checks shared by every attribute. A `const fn` or a missing `async` is reported and
/// mended (`async fn`), so the expansion, or the function as written, is still a handler;
/// `false` when the function cannot be expanded (a `self` parameter).
fn check_signature(func: &mut ItemFn, name: &str, errors: &mut Errors) -> bool {
    let sig = &mut func.sig;
    if let Some(constness) = sig.constness.take() {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("`#[{name}]` cannot be used on a `const fn`: handlers are `async fn`"),
        ));
    } else if sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            sig.fn_token,
            format!("`#[{name}]` handlers must be `async fn`: add `async`"),
        ));
    }
    if sig.asyncness.is_none() {
        sig.asyncness = Some(syn::Token![async](sig.fn_token.span));
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        errors.push(syn::Error::new_spanned(
            receiver,
            format!("`#[{name}]` handlers take no `self`: remove it (an associated function without `self` is a handler, routed as `Type::handler`)"),
        ));
        return false;
    }
    true
}

/// The return type of a `#[login]`/`#[refresh]`/`#[token_endpoint]` handler. Whether it is a
/// `Grant` or `Result<Grant, E>` is settled by the runtime's `IntoGrant` trait, whose message
/// is spanned on this type, so that a type alias or a path of any form is accepted and
/// anything else refused where it is written. A handler that returns nothing is refused here
/// (`None`: the function as written returns `()`, so it still routes).
pub(crate) fn grant_return(func: &ItemFn, name: &str, errors: &mut Errors) -> Option<Type> {
    match &func.sig.output {
        ReturnType::Default => {
            errors.push(syn::Error::new_spanned(
                &func.sig.ident,
                format!("`#[{name}]` handlers must return `Grant` or `Result<Grant, E>` (with `E: IntoResponse`)"),
            ));
            None
        }
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Paren(inner) => last_segment(&inner.elem),
        Type::Group(inner) => last_segment(&inner.elem),
        _ => None,
    }
}

/// Whether a type's last path segment is `name`. Macros see names, not types: a parameter is
/// picked out by its type's name, and what it then is gets settled by a trait at compile time.
pub(crate) fn last_segment_is(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// Whether a parameter's type is named `Claims` (by its last path segment): the parameters an
/// attribute binds from its guard, through a `__private` trait (`FromClaimsGuard`, ...) that
/// refuses any type but jwtguard's.
pub(crate) fn is_claims(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Claims")
}

/// Whether a parameter's type is `Claims` without type arguments (the standard claims only).
pub(crate) fn is_plain_claims(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Claims" && s.arguments.is_none())
}

/// Whether a parameter's type is `Option<Claims>` (or `Option<Claims<E>>`).
pub(crate) fn is_optional_claims(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return false;
    };
    segment.ident == "Option"
        && matches!(args.args.first(), Some(syn::GenericArgument::Type(inner)) if is_claims(inner))
}
