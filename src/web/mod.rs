//! The axum glue: extractors, RFC 6750 answers, token-pair responses.

pub(crate) mod authorize;
pub(crate) mod bearer;
pub(crate) mod client;
pub(crate) mod cookies;
pub(crate) mod current_user;
pub(crate) mod error;
pub(crate) mod error_body;
pub(crate) mod extract;
pub(crate) mod implicit;
pub(crate) mod locate;
pub(crate) mod refresh_body;
pub(crate) mod respond;
pub(crate) mod token_endpoint;
