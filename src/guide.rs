//! Guides: the manual, one topic each. The API pages say what each item does; these say how the
//! pieces fit, and each topic is stated once.
//!
//! | guide | what it covers |
//! |---|---|
//! | [`vocabulary`] | the words: access and refresh token, fresh, session, scope, ceiling, realm |
//! | [`macros`] | what each macro changes in your function, and how its route answers |
//! | [`passwords`] | the argon2id helpers, the unknown-user rule, the 503 |
//! | [`throttling`] | login throttling: on by default, its counters and limits |
//! | [`sessions`] | rotation, logout, revocation, and the stores (memory, Redis) |
//! | [`cookies`] | cookie mode for browsers: CSRF, token locations, implicit refresh |
//! | [`configuration`] | development and production `Auth`, keys, your own state and claims |
//! | [`errors`] | every answer and its JSON body, and the compile errors |
//! | [`verification`] | what a token must be, limits, key trust |
//! | [`identity_providers`] | tokens from Keycloak, Auth0, Okta, Entra ID, Cognito (feature `oidc`) |
//! | [`openapi`] | OpenAPI documents with utoipa |
//! | [`quickstart`] | the quickstart example, tried with curl |
//!
//! The Rust examples in the guides are compiled and run as tests.

#[doc = include_str!("../docs/vocabulary.md")]
pub mod vocabulary {}

#[doc = include_str!("../docs/macros.md")]
pub mod macros {}

#[doc = include_str!("../docs/passwords.md")]
pub mod passwords {}

#[doc = include_str!("../docs/throttling.md")]
pub mod throttling {}

#[doc = include_str!("../docs/sessions.md")]
pub mod sessions {}

#[doc = include_str!("../docs/cookies.md")]
pub mod cookies {}

#[doc = include_str!("../docs/configuration.md")]
pub mod configuration {}

#[doc = include_str!("../docs/errors.md")]
pub mod errors {}

#[doc = include_str!("../docs/verification.md")]
pub mod verification {}

// Its links lead into `jwtguard::openapi`, which exists with the feature only.
#[cfg_attr(feature = "utoipa", doc = include_str!("../docs/openapi.md"))]
#[cfg_attr(
    not(feature = "utoipa"),
    doc = "OpenAPI documents with utoipa: see the documentation built with the feature `utoipa`."
)]
pub mod openapi {}

// Its links lead to `TrustedIssuer`, which exists with the feature only.
#[cfg_attr(feature = "oidc", doc = include_str!("../docs/identity_providers.md"))]
#[cfg_attr(
    not(feature = "oidc"),
    doc = "Tokens from identity providers: see the documentation built with the feature `oidc`."
)]
pub mod identity_providers {}

#[doc = include_str!("../docs/quickstart.md")]
pub mod quickstart {}
