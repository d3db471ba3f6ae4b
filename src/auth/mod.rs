//! `Auth`: the configuration every extractor and macro reads, built once at startup
//! (`builder.rs`, from the environment in `env.rs`), and what it does with tokens: verify and
//! issue here, sessions in `crate::sessions`, login throttling in `crate::throttle`.

mod builder;
mod env;

pub use builder::AuthBuilder;
pub(crate) use builder::STORE_MARGIN;

use std::fmt;
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;

use crate::clock::now;
use crate::throttle::limits::Throttle;
use crate::token::claims::{Claims, Verified};
use crate::token::errors::{IssueError, TokenError};
use crate::token::grant::Grant;
use crate::token::issue::{Id, Issuer, Session, TokenResponse};
use crate::token::kind::TokenKind;
use crate::token::revocation::Store;
use crate::token::scope::Registry;
use crate::token::verify::Checked;
use crate::token::verify::Verifier;
use crate::web::client::TrustedProxies;
use crate::web::cookies::{Cookies, TokenLocation};
use crate::web::error_body::ErrorBody;

/// The JWT configuration: keys, lifetimes, issuer, audience, leeway. Cheap to clone (one
/// reference count); give it to the router as its state, or make it reachable with
/// `FromRef` from your own state.
///
/// ```
/// use std::time::Duration;
/// use jwtguard::Auth;
///
/// let auth = Auth::builder()
///     .secret("change-me-to-a-random-secret-of-32-bytes-or-more")
///     .access_ttl(Duration::from_secs(15 * 60))
///     .issuer("https://api.example.com")
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Auth {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) verifier: Verifier,
    pub(crate) issuer: Issuer,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) throttle: Throttle,
    /// Cookie mode, when enabled.
    pub(crate) cookies: Option<Cookies>,
    /// Where tokens are looked for, in order.
    pub(crate) locations: Vec<TokenLocation>,
    /// The reverse proxies whose forwarding header names the client (never trusted unless
    /// configured).
    pub(crate) proxies: Option<TrustedProxies>,
    /// The absolute lifetime of a refresh family, seconds.
    pub(crate) session_ttl: i64,
    /// How long a replaced refresh token presented again is a retry, seconds.
    pub(crate) refresh_grace: i64,
    pub(crate) realm: String,
    pub(crate) error_body: Option<ErrorBody>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("algorithm", &self.inner.issuer.key.algorithm)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Store")
    }
}

impl Auth {
    /// Waits until the keys of every [`TrustedIssuer`](crate::TrustedIssuer) are loaded, at
    /// most `timeout`: call it at startup to fail fast when a provider cannot be reached (its
    /// error says which issuer and why). Without it the application starts at once and loads
    /// in the background; until an issuer's keys are loaded its tokens are answered 503 with
    /// `Retry-After`, never 401.
    #[cfg(feature = "oidc")]
    pub async fn issuers_ready(
        &self,
        timeout: std::time::Duration,
    ) -> Result<(), crate::ConfigError> {
        match &self.inner.verifier.trusted {
            Some(trusted) => trusted.ready(timeout).await,
            None => Ok(()),
        }
    }

    /// A builder: give it at least a key ([`AuthBuilder::secret`] or
    /// [`AuthBuilder::signing_key`]), or start from [`AuthBuilder::from_env`].
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }
}

impl Auth {
    /// Verifies an access token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_kind(token, TokenKind::Access)
    }

    /// Verifies a refresh token and returns its claims.
    pub fn verify_refresh(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_kind(token, TokenKind::Refresh)
    }

    fn verify_kind(&self, token: &str, kind: TokenKind) -> Result<Claims, TokenError> {
        self.verified(token, kind, None).map(Claims::standard)
    }

    pub(crate) fn verified(
        &self,
        token: &str,
        kind: TokenKind,
        registry: Option<&Registry>,
    ) -> Result<Verified, TokenError> {
        self.inner.verifier.verify(token, kind, registry, now())
    }

    /// Verifies a refresh token that this application may renew: signed by one of its own
    /// keys, never by a foreign verification key.
    pub(crate) fn renewable(&self, token: &str) -> Result<Verified, TokenError> {
        let verified = self.verified(token, TokenKind::Refresh, None)?;
        if !verified.own_key {
            return Err(TokenError::NotRenewable);
        }
        Ok(verified)
    }

    /// Identifies this configuration (not a copy with other keys or rules): what a verified
    /// token cached in a request is bound to.
    pub(crate) fn origin(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// Verifies and hands the checked payload to `finish` without keeping the claims.
    pub(crate) fn verify_with<T>(
        &self,
        token: &str,
        kind: TokenKind,
        registry: Option<&Registry>,
        finish: impl FnOnce(Checked<'_>) -> T,
    ) -> Result<T, TokenError> {
        self.inner
            .verifier
            .verify_with(token, kind, registry, now(), finish)
    }

    /// An access token for `grant` (AuthX's `create_access_token`), fresh unless the grant
    /// says [`fresh(false)`](Grant::fresh). It starts a session of its own.
    pub fn create_access_token(&self, grant: &Grant) -> Result<String, IssueError> {
        self.first_of_session(grant, TokenKind::Access, grant.fresh)
    }

    /// A refresh token for `grant` (AuthX's `create_refresh_token`), starting a session.
    pub fn create_refresh_token(&self, grant: &Grant) -> Result<String, IssueError> {
        self.first_of_session(grant, TokenKind::Refresh, false)
    }

    /// One token of `kind` that starts a new session.
    fn first_of_session(
        &self,
        grant: &Grant,
        kind: TokenKind,
        fresh: bool,
    ) -> Result<String, IssueError> {
        let now = now();
        let (version, family, family_exp) = self.new_session(grant, now)?;
        let session = Session {
            version,
            family: family.as_str(),
            family_exp,
        };
        self.inner.issuer.token(grant, kind, fresh, now, session)
    }

    /// An access + refresh pair for `grant` (AuthX's `create_token_pair`), starting a session;
    /// the access token is fresh unless the grant says [`fresh(false)`](Grant::fresh), as
    /// with `#[login]`.
    pub fn create_token_pair(&self, grant: &Grant) -> Result<TokenResponse, IssueError> {
        self.issue_pair(grant, grant.fresh)
    }

    /// The subject's current version and a new family, ending `session_ttl` from now.
    fn new_session(&self, grant: &Grant, now: i64) -> Result<(u64, Id, i64), IssueError> {
        let version = self
            .inner
            .store
            .version(grant.sub(), now)
            .map_err(|_| IssueError::StoreUnavailable)?;
        let [family] = crate::token::issue::ids()?;
        Ok((version, family, now.saturating_add(self.inner.session_ttl)))
    }

    /// A pair that starts a session: what a login issues.
    pub(crate) fn issue_pair(
        &self,
        grant: &Grant,
        fresh: bool,
    ) -> Result<TokenResponse, IssueError> {
        let now = now();
        let version = self
            .inner
            .store
            .version(grant.sub(), now)
            .map_err(|_| IssueError::StoreUnavailable)?;
        let [family, access_id, refresh_id] = crate::token::issue::ids()?;
        let session = Session {
            version,
            family: family.as_str(),
            family_exp: now.saturating_add(self.inner.session_ttl),
        };
        self.inner
            .issuer
            .pair_with(grant, fresh, now, session, [access_id, refresh_id])
    }

    /// This application's public keys as a JWKS document (`{"keys": [...]}`), to serve at
    /// `/.well-known/jwks.json`: the signing key's public half and those of verification keys
    /// marked [`Key::own`](crate::Key::own). HMAC secrets and foreign keys are never included.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .inner
                .verifier
                .keys
                .iter()
                .filter(|k| k.own)
                .filter_map(|k| k.jwk.clone())
                .collect(),
        }
    }

    /// The realm of `WWW-Authenticate`.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }
}

#[cfg(test)]
pub(crate) mod tests;
