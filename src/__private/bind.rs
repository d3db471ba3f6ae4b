//! The handler parameters an attribute binds from its guard instead of extracting them.
//!
//! A macro sees names, not types: it takes the parameters whose type is *named* `Claims` (or,
//! for `#[token_endpoint]`, `PasswordGrant`) out of the signature. Whether that type is
//! jwtguard's is settled here, by a trait per attribute implemented for jwtguard's type only:
//! the binding is `<Ty as FromClaimsGuard>::from_guard(&guard)`, so that a type of the
//! application's own with that name gets one error, at the parameter's type, that says what
//! to write instead.

use axum_core::response::Response;

use super::{ClaimsGuard, LogoutGuard, RefreshGuard};
use crate::auth::Auth;
use crate::web::token_endpoint::PasswordGrant;

/// A `#[protected]` handler's parameter bound from its guard.
#[diagnostic::on_unimplemented(
    message = "`#[protected]` binds a parameter whose type is named `Claims` from its guard, and `{Self}` is not `jwtguard::Claims`",
    label = "not `jwtguard::Claims`",
    note = "rename this type (a parameter of any other type is an ordinary extractor), or take `jwtguard::Claims`, or `jwtguard::Claims<E>` for extra claims of your own type `E`"
)]
pub trait FromClaimsGuard {
    /// The parameter's value.
    fn from_guard<P>(guard: &ClaimsGuard<P, Auth>) -> Self;
}

/// A `#[refresh]` handler's parameter bound from its guard: the refresh token's claims, or the
/// answer that ends the request when they do not fit.
#[diagnostic::on_unimplemented(
    message = "`#[refresh]` binds a parameter whose type is named `Claims` from its guard, and `{Self}` is not `jwtguard::Claims`",
    label = "not `jwtguard::Claims`",
    note = "rename this type (a parameter of any other type is an ordinary extractor), or take `jwtguard::Claims`, or `jwtguard::Claims<E>` for extra claims of your own type `E`"
)]
pub trait FromRefreshGuard: Sized {
    /// The parameter's value.
    fn from_guard(guard: &RefreshGuard<Auth>) -> Result<Self, Response>;
}

/// A `#[logout]` handler's parameter bound from its guard.
#[diagnostic::on_unimplemented(
    message = "`#[logout]` binds a parameter whose type is named `Claims` from its guard, and `{Self}` is not `jwtguard::Claims`",
    label = "not `jwtguard::Claims`",
    note = "rename this type (a parameter of any other type is an ordinary extractor), or take `jwtguard::Claims`"
)]
pub trait FromLogoutGuard {
    /// The parameter's value.
    fn from_guard(guard: &LogoutGuard<Auth>) -> Self;
}

/// The parameter `#[token_endpoint]` hands the password grant to.
#[diagnostic::on_unimplemented(
    message = "`#[token_endpoint]` hands the password grant to the parameter whose type is named `PasswordGrant`, and `{Self}` is not `jwtguard::PasswordGrant`",
    label = "not `jwtguard::PasswordGrant`",
    note = "rename this type (a parameter of any other type is an ordinary extractor), or take `jwtguard::PasswordGrant`"
)]
pub trait FromPasswordGrant {
    /// The parameter's value.
    fn from_password_grant(grant: PasswordGrant) -> Self;
}

impl FromPasswordGrant for PasswordGrant {
    fn from_password_grant(grant: PasswordGrant) -> Self {
        grant
    }
}
