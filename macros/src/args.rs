//! The arguments of `#[protected]`, `#[login]` and `#[refresh]`, parsed with
//! `syn::meta::parser`, each key at most once, every mistake reported.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;

use crate::crate_path::{self, CratePath};
use crate::errors::Errors;
use crate::scope_name::{ScopeName, parse_list};

/// The arguments an attribute accepts.
#[derive(Clone, Copy)]
pub(crate) enum Accepts {
    /// `scopes`, `any`, `fresh`, `refresh`, `crate`.
    Protected,
    /// `scopes` (the ceiling of `#[refresh]` / `#[token_endpoint]`) and `crate`.
    Ceiling,
    /// `scopes`, `throttle = <username expression>` and `crate`: `#[login]`.
    Login,
}

#[derive(Default)]
pub(crate) struct Args {
    pub(crate) scopes: Option<Vec<ScopeName>>,
    pub(crate) any: Option<Vec<ScopeName>>,
    pub(crate) fresh: Option<Span>,
    pub(crate) refresh: Option<Span>,
    /// `#[login(throttle = form.username)]`: the attempted username, an expression over the
    /// handler's parameters.
    pub(crate) throttle: Option<syn::Expr>,
    /// `#[protected(check = path::to::function)]`: the application's own check.
    pub(crate) check: Option<syn::Path>,
    /// `crate = path`, or `::jwtguard`.
    pub(crate) jwtguard: CratePath,
    jwtguard_given: bool,
}

impl Args {
    /// Every scope named, for the compile-time registry check.
    pub(crate) fn all_names(&self) -> impl Iterator<Item = &ScopeName> {
        self.scopes.iter().chain(self.any.iter()).flatten()
    }
}

pub(crate) fn parse(
    tokens: TokenStream,
    attribute: &str,
    accepts: Accepts,
    errors: &mut Errors,
) -> Args {
    let mut args = Args::default();
    let valid = match accepts {
        Accepts::Protected => "`scopes`, `any`, `fresh`, `refresh`, `check` or `crate`",
        Accepts::Ceiling => "`scopes` or `crate`",
        Accepts::Login => "`scopes`, `throttle` or `crate`",
    };
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match (key.as_str(), accepts) {
            ("scopes", _) | ("any", Accepts::Protected) => {
                let list = parse_list(meta.value()?, attribute, &key, errors)?;
                let slot = if key == "scopes" {
                    &mut args.scopes
                } else {
                    &mut args.any
                };
                if slot.is_some() {
                    errors.push(
                        meta.error(format!("duplicate argument `{key}` in `#[{attribute}]`")),
                    );
                } else {
                    *slot = Some(list);
                }
            }
            ("throttle", Accepts::Login) => {
                let value = meta.value().map_err(|_| {
                    meta.error(
                        "`throttle` in `#[login]` names the attempted username: write `throttle = form.username`",
                    )
                })?;
                let username: syn::Expr = value.parse()?;
                if args.throttle.is_some() {
                    errors.push(meta.error("duplicate argument `throttle` in `#[login]`"));
                } else {
                    args.throttle = Some(username);
                }
            }
            ("crate", _) => parse_crate(&meta, attribute, &mut args, errors)?,
            ("check", Accepts::Protected) => parse_check(&meta, attribute, &mut args, errors)?,
            ("fresh" | "refresh", Accepts::Protected) => {
                if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                    errors.push(meta.error(format!(
                        "`{key}` in `#[{attribute}]` is a flag and takes no value: write `{key}`"
                    )));
                    skip_value(&meta)?;
                }
                let slot = if key == "fresh" {
                    &mut args.fresh
                } else {
                    &mut args.refresh
                };
                if slot.is_some() {
                    errors.push(
                        meta.error(format!("duplicate argument `{key}` in `#[{attribute}]`")),
                    );
                } else {
                    *slot = Some(syn::spanned::Spanned::span(&meta.path));
                }
            }
            _ => {
                let shown = if key.is_empty() {
                    "this argument".to_owned()
                } else {
                    format!("argument `{key}`")
                };
                errors.push(meta.error(format!(
                    "unknown {shown} in `#[{attribute}]`: expected {valid}"
                )));
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
        errors.push(error);
    }
    if let (Some(fresh), Some(_)) = (args.fresh, args.refresh) {
        errors.at(
            fresh,
            format!("`fresh` and `refresh` cannot be combined in `#[{attribute}]`: a refresh token is never fresh"),
        );
    }
    args
}

/// `check = path::to::function`.
fn parse_check(
    meta: &ParseNestedMeta<'_>,
    attribute: &str,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    let value = meta.value().map_err(|_| {
        meta.error(format!(
            "`check` in `#[{attribute}]` names a function: write `check = path::to::function`"
        ))
    })?;
    let path: syn::Path = value.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "`check` in `#[{attribute}]` names a function by its path, such as `check = owns_tenant`"
            ),
        )
    })?;
    if args.check.is_some() {
        errors.push(meta.error(format!("duplicate argument `check` in `#[{attribute}]`")));
    } else {
        args.check = Some(path);
    }
    Ok(())
}

/// `crate = path`: where the expansion finds jwtguard (see `crate_path.rs`).
fn parse_crate(
    meta: &ParseNestedMeta<'_>,
    attribute: &str,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    let place = format!("`#[{attribute}]`");
    if !meta.input.peek(syn::Token![=]) {
        errors.push(meta.error(crate_path::missing_value(&place)));
        skip_value(meta)?;
    } else if args.jwtguard_given {
        errors.push(meta.error(format!("duplicate argument `crate` in {place}")));
        skip_value(meta)?;
    } else {
        args.jwtguard_given = true;
        match crate_path::parse_value(meta.value()?, &place) {
            Ok(path) => args.jwtguard = path,
            Err(error) => errors.push(error),
        }
    }
    Ok(())
}

/// Consumes `= value` or `(...)` after a key so parsing can go on to the next argument.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}
