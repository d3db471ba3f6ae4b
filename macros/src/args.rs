//! The arguments of every attribute and of `require!`, parsed by one parser: each key at most
//! once, every mistake reported (a value that does not parse skips to the next `,`), and what
//! could be understood kept, so that the expansion can still be emitted beside the errors.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned as _;

use crate::crate_path::{self, CratePath};
use crate::errors::Errors;
use crate::scope_name::{ScopeName, parse_list};

/// The macro whose arguments are parsed: which keys it takes, and how messages name it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    Protected,
    Login,
    Refresh,
    TokenEndpoint,
    Logout,
    Require,
}

impl Macro {
    /// The attribute's name (`protected`), or the macro's (`require`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Protected => "protected",
            Self::Login => "login",
            Self::Refresh => "refresh",
            Self::TokenEndpoint => "token_endpoint",
            Self::Logout => "logout",
            Self::Require => "require",
        }
    }

    /// How messages name it: `` `#[protected]` ``, `` `require!` ``.
    pub(crate) fn shown(self) -> String {
        match self {
            Self::Require => "`require!`".to_owned(),
            other => format!("`#[{}]`", other.name()),
        }
    }

    /// The keys it takes, in the order the "expected" list names them.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Self::Protected => &["scopes", "any", "fresh", "refresh", "check", "crate"],
            Self::Require => &["scopes", "any", "fresh", "refresh", "crate"],
            Self::Login => &["scopes", "throttle", "unthrottled", "crate"],
            Self::Refresh | Self::TokenEndpoint => &["scopes", "crate"],
            Self::Logout => &["everywhere", "crate"],
        }
    }

    /// "`scopes`, `any` or `crate`".
    fn expected(self) -> String {
        let keys: Vec<String> = self.keys().iter().map(|k| format!("`{k}`")).collect();
        match keys.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

#[derive(Default)]
pub(crate) struct Args {
    /// `scopes = ...`: the required scopes, or the ceiling of an issuing endpoint. Only valid,
    /// distinct names are kept.
    pub(crate) scopes: Option<Vec<ScopeName>>,
    pub(crate) any: Option<Vec<ScopeName>>,
    pub(crate) fresh: Option<Span>,
    pub(crate) refresh: Option<Span>,
    /// `#[login(throttle = form.username)]`: the attempted username, an expression over the
    /// handler's parameters.
    pub(crate) throttle: Option<syn::Expr>,
    /// `#[login(unthrottled)]`: no throttling at all.
    pub(crate) unthrottled: Option<Span>,
    /// `#[logout(everywhere)]`.
    pub(crate) everywhere: Option<Span>,
    /// `#[protected(check = path::to::function)]`: the application's own check.
    pub(crate) check: Option<syn::Path>,
    /// `crate = path`, or `::jwtguard`.
    pub(crate) jwtguard: CratePath,
    jwtguard_given: bool,
    /// A `crate = ...` that could not be read: the expansion would name a crate that may not
    /// be there, so the caller emits the item as written instead.
    pub(crate) crate_unknown: bool,
}

impl Args {
    /// Every scope named, for the compile-time registry check.
    pub(crate) fn all_names(&self) -> impl Iterator<Item = &ScopeName> {
        self.scopes.iter().chain(self.any.iter()).flatten()
    }
}

/// Parses `tokens` as the arguments of `mac`, reporting every mistake to `errors`.
pub(crate) fn parse(tokens: TokenStream, mac: Macro, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let shown = mac.shown();
    let parser = syn::meta::parser(|meta| {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let known = mac.keys().contains(&key.as_str());
        let result = match key.as_str() {
            "scopes" | "any" if known => parse_scopes(&meta, &key, &shown, &mut args, errors),
            "fresh" | "refresh" | "unthrottled" | "everywhere" if known => {
                let slot = match key.as_str() {
                    "fresh" => &mut args.fresh,
                    "refresh" => &mut args.refresh,
                    "unthrottled" => &mut args.unthrottled,
                    _ => &mut args.everywhere,
                };
                flag(&meta, &key, &shown, slot, errors);
                Ok(())
            }
            "throttle" if known => parse_throttle(&meta, &mut args, errors),
            "check" if known => parse_check(&meta, &shown, &mut args, errors),
            "check" if mac == Macro::Require => {
                // Read for its span: the message points at the function named.
                let span = match meta
                    .value()
                    .and_then(syn::parse::ParseBuffer::parse::<syn::Path>)
                {
                    Ok(path) => path.span(),
                    Err(_) => meta.path.span(),
                };
                errors.at(
                    span,
                    "`check` belongs on `#[protected]` handlers: a router-wide layer runs before any handler's arguments exist",
                );
                Ok(())
            }
            "crate" => parse_crate(&meta, &shown, &mut args, errors),
            _ => {
                let what = if key.is_empty() {
                    "this argument".to_owned()
                } else {
                    format!("argument `{key}`")
                };
                errors.push(meta.error(format!(
                    "unknown {what} in {shown}: expected {}",
                    mac.expected()
                )));
                Ok(())
            }
        };
        if let Err(error) = result {
            errors.push(error);
        }
        // Whatever is left of this argument (a value that did not parse, or the value of an
        // unknown key) is skipped, and parsing goes on after the next `,`.
        skip_to_comma(&meta)
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, tokens) {
        errors.push(error);
    }
    if let (Some(fresh), Some(_)) = (args.fresh, args.refresh) {
        errors.at(
            fresh,
            format!(
                "`fresh` and `refresh` cannot be combined in {shown}: a refresh token is never fresh"
            ),
        );
    }
    if let (Some(unthrottled), Some(_)) = (args.unthrottled, &args.throttle) {
        errors.at(
            unthrottled,
            format!(
                "`unthrottled` and `throttle` cannot be combined in {shown}: `throttle = ...` names the username to throttle by, `unthrottled` turns throttling off"
            ),
        );
    }
    args
}

/// A key that takes no value: `fresh`, `refresh`, `unthrottled`, `everywhere`.
fn flag(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    shown: &str,
    slot: &mut Option<Span>,
    errors: &mut Errors,
) {
    if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
        errors.push(meta.error(format!(
            "`{key}` in {shown} is a flag and takes no value: write `{key}`"
        )));
    }
    set_once(meta, key, shown, slot, meta.path.span(), errors);
}

/// Fills `slot` with `value` the first time; a second occurrence is reported and ignored.
fn set_once<T>(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    shown: &str,
    slot: &mut Option<T>,
    value: T,
    errors: &mut Errors,
) {
    if slot.is_some() {
        errors.push(meta.error(format!("duplicate argument `{key}` in {shown}")));
    } else {
        *slot = Some(value);
    }
}

/// `scopes = ...` or `any = ...`.
fn parse_scopes(
    meta: &ParseNestedMeta<'_>,
    key: &str,
    shown: &str,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    let value = meta.value().map_err(|_| {
        meta.error(format!(
            "`{key}` in {shown} names scopes: write `{key} = \"reports:read admin\"` or `{key} = [\"reports:read\", \"admin\"]`"
        ))
    })?;
    let list = parse_list(value, shown, key, errors)?;
    let slot = if key == "scopes" {
        &mut args.scopes
    } else {
        &mut args.any
    };
    set_once(meta, key, shown, slot, list, errors);
    Ok(())
}

/// `throttle = <username expression>`.
fn parse_throttle(
    meta: &ParseNestedMeta<'_>,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    let value = meta.value().map_err(|_| {
        meta.error(
            "`throttle` in `#[login]` names the attempted username: write `throttle = form.username`",
        )
    })?;
    let username: syn::Expr = value.parse()?;
    set_once(
        meta,
        "throttle",
        "`#[login]`",
        &mut args.throttle,
        username,
        errors,
    );
    Ok(())
}

/// `check = path::to::function`.
fn parse_check(
    meta: &ParseNestedMeta<'_>,
    shown: &str,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    let value = meta.value().map_err(|_| {
        meta.error(format!(
            "`check` in {shown} names a function: write `check = path::to::function`"
        ))
    })?;
    let path: syn::Path = value.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!(
                "`check` in {shown} names a function by its path, such as `check = owns_tenant`"
            ),
        )
    })?;
    set_once(meta, "check", shown, &mut args.check, path, errors);
    Ok(())
}

/// `crate = path`: where the expansion finds jwtguard (see `crate_path.rs`).
fn parse_crate(
    meta: &ParseNestedMeta<'_>,
    shown: &str,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    if !meta.input.peek(syn::Token![=]) {
        args.crate_unknown = true;
        errors.push(meta.error(crate_path::missing_value(shown)));
    } else if args.jwtguard_given {
        errors.push(meta.error(format!("duplicate argument `crate` in {shown}")));
    } else {
        args.jwtguard_given = true;
        match crate_path::parse_value(meta.value()?, shown) {
            Ok(path) => args.jwtguard = path,
            Err(refused) => {
                errors.push(refused.error);
                match refused.meant {
                    Some(path) => args.jwtguard = path,
                    None => args.crate_unknown = true,
                }
            }
        }
    }
    Ok(())
}

/// Skips the rest of the current argument, up to (not past) the next top-level `,`.
fn skip_to_comma(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    while !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(())
}
