//! What every attribute does with the item: parse it, check it is an `async fn` handler, and
//! on any error emit the errors *and the unchanged function*, so one mistake does not cascade
//! into "cannot find function" errors everywhere it is routed.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::errors::Errors;

pub(crate) type Expand = fn(TokenStream, ItemFn) -> syn::Result<TokenStream>;

pub(crate) fn attribute(
    args: TokenStream,
    item: TokenStream,
    expand: Expand,
    name: &str,
) -> TokenStream {
    let func = match syn::parse2::<syn::Item>(item.clone()) {
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
    match expand(args, func.clone()) {
        Ok(expanded) => expanded,
        Err(error) => {
            let mut out = error.to_compile_error();
            out.extend(func.into_token_stream());
            out
        }
    }
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

/// The checks shared by all three attributes.
pub(crate) fn check_signature(func: &ItemFn, name: &str, errors: &mut Errors) {
    let sig = &func.sig;
    if let Some(constness) = &sig.constness {
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
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        errors.push(syn::Error::new_spanned(
            receiver,
            format!("`#[{name}]` handlers take no `self`: remove it (an associated function without `self` is a handler, routed as `Type::handler`)"),
        ));
    }
}

/// The return type of a `#[login]`/`#[refresh]` handler: `Grant` or `Result<Grant, E>`.
pub(crate) fn grant_return(func: &ItemFn, name: &str) -> syn::Result<Type> {
    let message = format!(
        "`#[{name}]` handlers must return `Grant` or `Result<Grant, E>` (with `E: IntoResponse`)"
    );
    match &func.sig.output {
        ReturnType::Default => Err(syn::Error::new_spanned(&func.sig.ident, message)),
        ReturnType::Type(_, ty) if is_grant(ty) || result_of_grant(ty) => Ok((**ty).clone()),
        ReturnType::Type(_, ty) => Err(syn::Error::new_spanned(ty, message)),
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

fn is_grant(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Grant" && s.arguments.is_none())
}

fn result_of_grant(ty: &Type) -> bool {
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return false;
    };
    segment.ident == "Result"
        && matches!(args.args.first(), Some(syn::GenericArgument::Type(ok)) if is_grant(ok))
}

/// Whether a type's last path segment is `name` (macros see names, not types).
pub(crate) fn last_segment_is(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// Whether a parameter's type is jwtguard's `Claims` (by its last path segment: macros see
/// names, not types).
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
