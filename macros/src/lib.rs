//! The attribute macros of [jwtguard](https://docs.rs/jwtguard). Syntax only: each macro parses
//! and validates its input and emits calls into `::jwtguard::__private`; the runtime does the
//! work. Use them through the `jwtguard` crate, which documents them.

mod args;
mod crate_path;
mod errors;
mod handler;
mod issue;
mod logout;
mod openapi;
mod protected;
mod registry;
mod require;
mod scope_name;
mod scopes;
mod token_endpoint;

use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::attribute(args.into(), item.into(), protected::expand, "protected").into()
}

#[proc_macro_attribute]
pub fn login(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::attribute(args.into(), item.into(), issue::expand_login, "login").into()
}

#[proc_macro_attribute]
pub fn refresh(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::attribute(args.into(), item.into(), issue::expand_refresh, "refresh").into()
}

#[proc_macro]
pub fn scopes(input: TokenStream) -> TokenStream {
    scopes::expand(input.into()).into()
}

#[proc_macro_attribute]
pub fn token_endpoint(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::attribute(
        args.into(),
        item.into(),
        token_endpoint::expand,
        "token_endpoint",
    )
    .into()
}

#[proc_macro_attribute]
pub fn logout(args: TokenStream, item: TokenStream) -> TokenStream {
    handler::attribute(args.into(), item.into(), logout::expand, "logout").into()
}

#[proc_macro]
pub fn require(input: TokenStream) -> TokenStream {
    require::expand(input.into()).into()
}
