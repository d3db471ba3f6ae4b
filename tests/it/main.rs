//! Behaviour tests over a real server on 127.0.0.1:0. One binary, one module per part.

mod associated;
mod check;
mod cookies;
mod current_user;
mod header_fuzz;
#[deny(warnings, clippy::pedantic)]
mod hygiene;
#[cfg(feature = "oidc")]
mod identity_providers;
mod logins_and_logouts;
mod macros;
mod oauth2_client;
mod operator_log;
#[deny(warnings)]
mod param_attributes;
mod readme;
mod require;
mod review;
mod session_terms;
mod stacking;
mod verify_http;

jwtguard::scopes! {
    /// Read the quarterly reports.
    REPORTS_READ = "reports:read",
    /// Write reports.
    REPORTS_WRITE = "reports:write",
    /// Every `reports:` scope.
    ALL_REPORTS = "reports:*",
    /// Everything.
    ADMIN = "admin",
    /// The caller's own profile.
    PROFILE = "profile",
}

/// A secret for tests (48 bytes).
const SECRET: &str = "test-secret-that-is-long-enough-for-hs256-00000";

fn auth() -> jwtguard::Auth {
    jwtguard::Auth::builder()
        .secret(SECRET)
        .build()
        .expect("test auth")
}
