//! Scope names as written in attributes: `"a b"` (OAuth 2 space-separated) or `["a", "b"]`.

use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::{LitStr, Token, bracketed, punctuated::Punctuated};

use crate::errors::Errors;

/// One scope and the literal it came from (sub-spans of a literal are unstable, so an error
/// about one scope of `"a b"` points at the whole literal and quotes the scope).
#[derive(Clone)]
pub(crate) struct ScopeName {
    pub(crate) value: String,
    pub(crate) span: Span,
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_valid(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

pub(crate) const SYNTAX: &str =
    "scopes are printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3)";

/// Parses the value of `scopes = ...` or `any = ...` in `place` (`` `#[protected]` ``,
/// `` `require!` ``), reporting every problem to `errors`. Only the valid, distinct names are
/// returned: the expansion emitted beside the errors then checks nothing twice.
pub(crate) fn parse_list(
    input: ParseStream<'_>,
    place: &str,
    key: &str,
    errors: &mut Errors,
) -> syn::Result<Vec<ScopeName>> {
    let mut names = Vec::new();
    let list_span;
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        list_span = lit.span();
        let text = lit.value();
        for piece in text.split(' ') {
            if piece.is_empty() {
                if !text.is_empty() {
                    errors.at(
                        lit.span(),
                        format!("`{key}` in {place} separates scopes with single spaces: {text:?} has an empty one"),
                    );
                }
                continue;
            }
            names.push(ScopeName {
                value: piece.to_owned(),
                span: lit.span(),
            });
        }
    } else if input.peek(syn::token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        list_span = bracket.span.join();
        let items = Punctuated::<syn::Expr, Token![,]>::parse_terminated(&content)?;
        for item in items {
            match item {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                }) => names.push(ScopeName {
                    value: lit.value(),
                    span: lit.span(),
                }),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    format!("`{key}` in {place} lists scopes as string literals, such as [\"reports:read\", \"admin\"]"),
                )),
            }
        }
    } else {
        let expr: syn::Expr = input.parse()?;
        errors.push(syn::Error::new_spanned(
            expr,
            format!("`{key}` in {place} expects a string such as \"reports:read admin\" or an array such as [\"reports:read\", \"admin\"]"),
        ));
        return Ok(names);
    }
    if names.is_empty() {
        errors.at(
            list_span,
            format!("`{key}` in {place} names no scope: name at least one, or remove `{key}`"),
        );
    }
    let mut kept: Vec<ScopeName> = Vec::new();
    for name in names {
        if !is_valid(&name.value) {
            errors.at(
                name.span,
                format!("{:?} in {place} is not a valid scope: {SYNTAX}", name.value),
            );
        } else if kept.iter().any(|seen| seen.value == name.value) {
            errors.at(
                name.span,
                format!("duplicate scope {:?} in {place}", name.value),
            );
        } else {
            kept.push(name);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn rfc_6749_scope_syntax() {
        for ok in ["reports:read", "a", "https://x/y", "ns:*", "!#[]~"] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }
}
