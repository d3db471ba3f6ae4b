//! `crate = path`: where the expansions find the runtime. `::jwtguard` unless the dependency is
//! renamed in Cargo.toml (`jwt = { package = "jwtguard", ... }`), then `crate = jwt`; like
//! serde's `#[serde(crate = "...")]`, but a path rather than a string, as paths are written
//! everywhere else in Rust.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::ParseStream;

/// The path every emitted `__private` item, `Auth` or `Scope` is reached through: the one
/// the user wrote, or `None` for `::jwtguard`.
#[derive(Clone, Default)]
pub(crate) struct CratePath(Option<TokenStream>);

impl CratePath {
    /// The path, with `::jwtguard` spanned on `span`: where an expression built on it is
    /// reported (the user's own path keeps its spans).
    pub(crate) fn spanned(&self, span: Span) -> TokenStream {
        self.0
            .clone()
            .unwrap_or_else(|| quote_spanned!(span=> ::jwtguard))
    }
}

impl ToTokens for CratePath {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.0.clone().unwrap_or_else(|| quote!(::jwtguard)));
    }
}

const EXAMPLE: &str =
    "such as `crate = jwt` for `jwt = { package = \"jwtguard\", ... }` in Cargo.toml";

/// A `crate = ...` value that is refused, and the path it most likely means (the contents of
/// a string), with which the expansion can still be emitted beside the error.
pub(crate) struct Refused {
    pub(crate) error: syn::Error,
    pub(crate) meant: Option<CratePath>,
}

impl From<syn::Error> for Refused {
    fn from(error: syn::Error) -> Self {
        Self { error, meant: None }
    }
}

/// Parses the value after `crate =` in `place` (`` `#[protected]` ``, `` `scopes!` ``): a path
/// without generic arguments.
pub(crate) fn parse_value(input: ParseStream<'_>, place: &str) -> Result<CratePath, Refused> {
    let value: syn::Expr = input.parse()?;
    match &value {
        syn::Expr::Path(path)
            if path.qself.is_none()
                && path.attrs.is_empty()
                && path
                    .path
                    .segments
                    .iter()
                    .all(|segment| segment.arguments.is_none()) =>
        {
            Ok(CratePath(Some(path.path.to_token_stream())))
        }
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) => Err(Refused {
            error: syn::Error::new_spanned(
                &value,
                format!(
                    "`crate` in {place} takes a path, not a string: write `crate = {}`",
                    text.value()
                ),
            ),
            meant: text
                .parse::<syn::Path>()
                .ok()
                .map(|path| CratePath(Some(path.to_token_stream()))),
        }),
        _ => Err(syn::Error::new_spanned(
            &value,
            format!("`crate` in {place} expects the path of the jwtguard crate, {EXAMPLE}"),
        )
        .into()),
    }
}

/// The error for `crate` written without a value.
pub(crate) fn missing_value(place: &str) -> String {
    format!("`crate` in {place} needs the path of the jwtguard crate, {EXAMPLE}")
}
