//! Collects every error of one macro call, so the user sees them all at once.

use proc_macro2::{Span, TokenStream};

#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// One `compile_error!` per error (nothing when there is none), to emit beside whatever
    /// the macro could still produce.
    pub(crate) fn into_compile_errors(self) -> TokenStream {
        self.0
            .map(|errors| errors.to_compile_error())
            .unwrap_or_default()
    }
}
