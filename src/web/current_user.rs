//! `CurrentUser<U>`: the application's user for the verified token, loaded once per request
//! (AuthX's `subject_getter`).

use std::future::Future;

use axum_core::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use super::error::{AuthError, AuthErrorKind};
use crate::auth::Auth;
use crate::token::claims::Claims;
use crate::token::errors::TokenError;

/// How the application loads its user from a verified token, registered once by implementing
/// it for the user type; `S` is the router's state (your database pool lives there).
///
/// ```
/// use axum::{extract::FromRef, routing::get, Router};
/// use jwtguard::{Auth, Claims, CurrentUser, LoadUser};
///
/// #[derive(Clone)]
/// struct AppState { auth: Auth, db: Db }
///
/// impl FromRef<AppState> for Auth {   // or #[derive(FromRef)] with axum's `macros` feature
///     fn from_ref(state: &AppState) -> Auth { state.auth.clone() }
/// }
///
/// #[derive(Clone)]
/// struct Db;
/// impl Db {
///     async fn user(&self, id: &str) -> Result<Option<User>, std::io::Error> {
///         Ok((id == "ann").then(|| User { name: "Ann".into() }))
///     }
/// }
///
/// #[derive(Clone)]
/// struct User { name: String }
///
/// impl LoadUser<AppState> for User {
///     type Error = std::io::Error;
///     async fn load(claims: &Claims, state: &AppState) -> Result<Option<Self>, Self::Error> {
///         state.db.user(claims.sub()).await
///     }
/// }
///
/// async fn profile(CurrentUser(user): CurrentUser<User>) -> String {
///     format!("hello, {}", user.name)
/// }
///
/// # fn main() {
/// # let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build().unwrap();
/// let app: Router = Router::new()
///     .route("/profile", get(profile))
///     .with_state(AppState { auth, db: Db });
/// # }
/// ```
pub trait LoadUser<S>: Clone + Send + Sync + Sized + 'static {
    /// What a failed lookup reports (logged, never shown to the client).
    type Error: std::fmt::Display + Send;

    /// The user the token speaks for: `Ok(None)` when it no longer exists.
    fn load(
        claims: &Claims,
        state: &S,
    ) -> impl Future<Output = Result<Option<Self>, Self::Error>> + Send;
}

/// The user of the request's verified access token, loaded with its [`LoadUser`]: an
/// extractor. It verifies the token as [`Claims`] does (or takes the claims a
/// `#[protected]` guard verified), then loads the user **at most once per request**, however
/// many extractors ask for it.
///
/// | situation | answer |
/// |---|---|
/// | no token, a bad token | as [`Claims`]: 401 |
/// | the token's user no longer exists (`Ok(None)`) | 401 `invalid_token`, "The token's user no longer exists" |
/// | the loader fails (`Err`) | 500, logged with `tracing::error!`, nothing said to the client |
///
/// Without it: take [`Claims`] and call your loader in the handler (once per handler, and the
/// 401/500 answers are yours to write).
#[derive(Debug, Clone)]
pub struct CurrentUser<U>(pub U);

/// The user once loaded, kept in the request for the next extractor that asks, with the
/// `Auth` that verified its token: another configuration (a nested router's) verifies again.
#[derive(Clone)]
struct Loaded<U> {
    origin: usize,
    user: U,
}

impl<S, U> FromRequestParts<S> for CurrentUser<U>
where
    U: LoadUser<S>,
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        if let Some(loaded) = parts
            .extensions
            .get::<Loaded<U>>()
            .filter(|loaded| loaded.origin == auth.origin())
        {
            return Ok(Self(loaded.user.clone()));
        }
        let claims = Claims::<()>::from_request_parts(parts, state).await?;
        match U::load(&claims, state).await {
            Ok(Some(user)) => {
                parts.extensions.insert(Loaded {
                    origin: auth.origin(),
                    user: user.clone(),
                });
                Ok(Self(user))
            }
            Ok(None) => Err(AuthError::from(TokenError::UnknownUser).with_auth(&auth)),
            Err(error) => {
                tracing::error!(
                    user_type = std::any::type_name::<U>(),
                    error = %error,
                    "jwtguard: loading the current user failed"
                );
                Err(AuthError::new(AuthErrorKind::Internal).with_auth(&auth))
            }
        }
    }
}
