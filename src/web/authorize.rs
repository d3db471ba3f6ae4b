//! `Auth::authorize`: the check of `#[protected(scopes = ...)]` as a plain call.

use super::error::{AuthError, AuthErrorKind};
use crate::auth::Auth;
use crate::token::claims::Claims;
use crate::token::grant::Grant;
use crate::token::issue::TokenResponse;
use crate::token::kind::TokenKind;
use crate::token::scope::{Registry, Scope};

impl Auth {
    /// Verifies an access token and checks that it grants every scope in `required` (held
    /// exactly or through a `ns:*` wildcard): what `#[protected(scopes = ...)]` does, for use
    /// outside a handler. `registry` is the `SCOPES` of your `scopes!`. A missing scope is a
    /// 403 naming the first one missing.
    ///
    /// ```
    /// use jwtguard::{scopes, Auth, Grant};
    /// scopes! { REPORTS_READ = "reports:read", ADMIN = "admin" }
    ///
    /// let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build()?;
    /// let token = auth.create_access_token(&Grant::to("ann").scopes([REPORTS_READ]))?;
    /// assert!(auth.authorize(&token, SCOPES, &[REPORTS_READ]).is_ok());
    /// assert_eq!(auth.authorize(&token, SCOPES, &[ADMIN]).unwrap_err().status(), 403);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authorize(
        &self,
        token: &str,
        registry: &Registry,
        required: &[Scope],
    ) -> Result<Claims, AuthError> {
        let verified = self
            .verified(token, TokenKind::Access, Some(registry))
            .map_err(|e| AuthError::from(e).with_auth(self))?;
        if let Some(missing) = required.iter().find(|scope| {
            scope.registry() != registry.fingerprint() || !verified.scopes.contains(scope.index())
        }) {
            return Err(
                AuthError::new(AuthErrorKind::InsufficientScope(missing.name())).with_auth(self),
            );
        }
        Ok(Claims::standard(verified))
    }
}

impl Auth {
    /// What `#[refresh]` does, as a plain call: verifies `refresh_token` (this application's
    /// own), renews its subject, scopes and extra claims into the next pair of its session
    /// (never fresh, never past the session's end), and rotates it: presented again within the
    /// grace window it is a retry, answered with a pair of the same session; after the
    /// window, or older than the token it was replaced by, its whole session is revoked.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use jwtguard::{Auth, Grant};
    /// let auth = Auth::builder().secret("a-secret-of-at-least-32-bytes-long!!").build()?;
    /// let pair = auth.create_token_pair(&Grant::to("ann"))?;
    /// let next = auth.refresh_token_pair(&pair.refresh_token).await?;
    /// assert!(auth.verify(&next.access_token).is_ok());
    /// // The first refresh token again, within the grace window: a retry of a lost answer.
    /// let retry = auth.refresh_token_pair(&pair.refresh_token).await?;
    /// assert!(auth.verify(&retry.access_token).is_ok());
    /// let last = auth.refresh_token_pair(&next.refresh_token).await?;
    /// // Older than the current one: theft. The whole session is revoked.
    /// assert!(auth.refresh_token_pair(&pair.refresh_token).await.is_err());
    /// assert!(auth.verify(&last.access_token).is_err());
    /// # Ok(()) }
    /// ```
    pub async fn refresh_token_pair(
        &self,
        refresh_token: &str,
    ) -> Result<TokenResponse, AuthError> {
        let refuse = |error: AuthError| error.with_auth(self);
        let token = self
            .renewable(refresh_token)
            .map_err(|e| refuse(AuthError::from(e)))?;
        self.rotate_pair(&token, &Grant::renew(&Claims::standard(token.clone())))
            .await
            .map_err(refuse)
    }
}
