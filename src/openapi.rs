//! OpenAPI documents with utoipa 5 (feature `utoipa`): the security scheme of the crate's
//! scopes, and the schemas of jwtguard's answers. The macros add the rest to the
//! `#[utoipa::path]` below them: each `#[protected]` operation's security requirement, and
//! the answers of `#[login]`, `#[refresh]` and `#[token_endpoint]`.
//!
//! ```
//! use jwtguard::{openapi::Security, protected, scopes, Claims};
//! use utoipa::OpenApi;
//!
//! scopes! {
//!     /// Read the quarterly reports.
//!     REPORTS_READ = "reports:read",
//! }
//!
//! #[protected(scopes = "reports:read")]
//! #[utoipa::path(get, path = "/reports", responses((status = 200, description = "The reports")))]
//! async fn reports() -> &'static str { "q3" }
//!
//! static SECURITY: Security = Security::new(SCOPES, "/token");
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(reports), modifiers(&SECURITY))]
//! struct ApiDoc;
//!
//! fn main() {
//!     let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
//!     assert_eq!(doc["paths"]["/reports"]["get"]["security"][0]["jwtguard"][0], "reports:read");
//!     let scopes = &doc["components"]["securitySchemes"]["jwtguard"]["flows"]["password"]["scopes"];
//!     assert_eq!(scopes["reports:read"], "Read the quarterly reports.");
//! }
//! ```
//!
//! | macro | what it adds to the `#[utoipa::path]` below it |
//! |---|---|
//! | `#[protected(scopes = "a b")]` | `security(("jwtguard" = ["a", "b"]))`: all of them |
//! | `#[protected(any = "a b")]` | `security(("jwtguard" = ["a"]), ("jwtguard" = ["b"]))`: OpenAPI's alternatives, one of them (each with the `scopes` too) |
//! | `#[protected]` | `security(("jwtguard" = []))`: any valid token |
//! | `#[login]`, `#[refresh]` | `responses(200 TokenResponse, 401 ErrorAnswer)` |
//! | `#[token_endpoint]` | `responses(200 TokenResponse, 400 OAuthErrorAnswer)` |
//!
//! A `security(...)` or `responses(...)` written in the attribute is left as written. Put the
//! jwtguard attribute above `#[utoipa::path]`.
//!
//! Without the macros: write `security(("jwtguard" = ["reports:read"]))` in the
//! `#[utoipa::path]` yourself, and add [`Security`] as a modifier.

use serde::Serialize;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityScheme};

use crate::token::scope::Registry;

/// The name of jwtguard's security scheme in the document.
pub const SCHEME: &str = "jwtguard";

/// A `utoipa::Modify` that adds the security scheme `"jwtguard"`: OAuth 2's password flow at
/// `token_url` (a `#[token_endpoint]`), whose scopes are the crate's declared scopes with
/// their doc comments as descriptions. Clients may also send the token as a plain
/// `Authorization: Bearer`: an OAuth 2 scheme is read that way by every OpenAPI tool.
#[derive(Debug, Clone, Copy)]
pub struct Security {
    registry: &'static Registry,
    token_url: &'static str,
}

impl Security {
    /// The scheme for `registry` (the `SCOPES` of `scopes!`) with its token endpoint.
    pub const fn new(registry: &'static Registry, token_url: &'static str) -> Self {
        Self {
            registry,
            token_url,
        }
    }
}

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let scopes: Scopes = self
            .registry
            .scopes()
            .iter()
            .map(|scope| {
                (
                    scope.name().to_owned(),
                    self.registry.description(*scope).to_owned(),
                )
            })
            .collect();
        let flow = Flow::Password(Password::with_refresh_url(
            self.token_url,
            scopes,
            self.token_url,
        ));
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(SCHEME, SecurityScheme::OAuth2(OAuth2::new([flow])));
    }
}

/// The JSON body of a refusal (401, 403, 400, 429, 503), as documented.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorAnswer {
    /// The stable code, e.g. `invalid_token`, `insufficient_scope`.
    pub error: String,
    /// The human message, e.g. "Invalid token".
    pub message: String,
    /// Why a token was refused, e.g. `expired`, `signature`, `revoked` (refusals of a token
    /// only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The JSON body of a token endpoint's refusal (RFC 6749 §5.2), as documented.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthErrorAnswer {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`, ...
    pub error: String,
    /// What went wrong, for a human.
    pub error_description: String,
}
