//! `Auth`: the configuration every extractor and macro reads, built once at startup.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum_core::response::Response;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;

use http::StatusCode;

use crate::http::client::TrustedProxies;
use crate::http::cookies::{Cookies, TokenLocation};
use crate::throttle::Throttle;
use crate::token::claims::{Claims, Verified};
use crate::token::errors::{ConfigError, IssueError, TokenError};
use crate::token::grant::Grant;
use crate::token::issue::{Id, Issuer, Session, TokenResponse, secs};
use crate::token::key::{self, Key};
use crate::token::kind::TokenKind;
use crate::token::revocation::Store;
use crate::token::scope::Registry;
use crate::token::verified_cache::VerifiedCache;
use crate::token::verify::Checked;
use crate::token::verify::{Verifier, now};

/// What a custom error body may show: the status and the stable code and message of the
/// default JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorParts {
    /// The status of the answer.
    pub status: StatusCode,
    /// The stable machine-readable code, e.g. `"token_expired"`.
    pub code: &'static str,
    /// The human message, e.g. `"Token expired"`.
    pub message: &'static str,
    /// Why a token was refused, e.g. `"signature"` ([`TokenError::reason`]); `None` for a
    /// refusal that is not about a token's content.
    pub reason: Option<&'static str>,
}

/// A hook that renders the body of every error answer. Status, `WWW-Authenticate` and
/// `Cache-Control` are set by jwtguard afterwards, so RFC 6750 holds whatever it returns.
///
/// ```
/// use axum::{response::IntoResponse, Json};
/// use jwtguard::{Auth, ErrorParts};
///
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .error_body(|e: ErrorParts| Json(serde_json::json!({ "detail": e.message })).into_response())
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
pub type ErrorBody = fn(ErrorParts) -> Response;

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
    pub(crate) family_ttl: i64,
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

/// Builds an [`Auth`]; see [`Auth::builder`].
#[derive(Debug, Clone)]
pub struct AuthBuilder {
    signing: Option<Key>,
    algorithm: Option<Algorithm>,
    verification: Vec<Key>,
    access_ttl: Duration,
    refresh_ttl: Duration,
    issuer: Option<String>,
    audience: Vec<String>,
    leeway: Duration,
    clock_skew: Duration,
    realm: String,
    error_body: Option<ErrorBody>,
    verified_token_cache: usize,
    store: Option<Arc<dyn Store>>,
    family_ttl: Option<Duration>,
    refresh_grace: Duration,
    throttle: Throttle,
    proxies: Option<TrustedProxies>,
    cookies: Option<Cookies>,
    locations: Option<Vec<TokenLocation>>,
}

impl fmt::Debug for dyn Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Store")
    }
}

/// How much longer than what it guards a store entry lives, beyond the leeway and clock
/// skew: the store's clock (Redis's) may differ from the instances'.
pub(crate) const STORE_MARGIN: i64 = 60;

/// Default access-token lifetime: 15 minutes (AuthX's default).
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How far ahead of this instance's clock an issuer's clock may be, by default: 5 s (see
/// [`AuthBuilder::clock_skew`]).
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);
/// How long a replaced refresh token presented again is a retry, by default: 10 s (see [`AuthBuilder::refresh_grace`]).
pub const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(10);
/// Default refresh-token lifetime: 30 days.
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl Default for AuthBuilder {
    fn default() -> Self {
        Self {
            signing: None,
            algorithm: None,
            verification: Vec::new(),
            access_ttl: DEFAULT_ACCESS_TTL,
            refresh_ttl: DEFAULT_REFRESH_TTL,
            issuer: None,
            audience: Vec::new(),
            leeway: Duration::ZERO,
            clock_skew: DEFAULT_CLOCK_SKEW,
            realm: "api".to_owned(),
            error_body: None,
            verified_token_cache: 0,
            store: None,
            family_ttl: None,
            refresh_grace: DEFAULT_REFRESH_GRACE,
            throttle: Throttle::default(),
            proxies: None,
            cookies: None,
            locations: None,
        }
    }
}

impl AuthBuilder {
    /// An HMAC secret that signs and verifies (HS256 unless [`algorithm`](Self::algorithm)
    /// says HS384 or HS512).
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.signing = Some(Key::hmac(Algorithm::HS256, secret));
        self
    }

    /// A random 64-byte HS256 secret, for development only: tokens die with the process and
    /// several instances do not accept each other's tokens.
    pub fn random_secret(mut self) -> Self {
        let mut secret = [0u8; 64];
        // A failing OS random source leaves the key empty, which `build` refuses.
        let secret: &[u8] = if getrandom::getrandom(&mut secret).is_ok() {
            &secret
        } else {
            &[]
        };
        self.signing = Some(Key::hmac(Algorithm::HS256, secret));
        self
    }

    /// The algorithm of the key given with [`secret`](Self::secret).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = Some(algorithm);
        self
    }

    /// The key that signs new tokens (and verifies them).
    pub fn signing_key(mut self, key: Key) -> Self {
        self.signing = Some(key);
        self
    }

    /// A key that only verifies, selected by its `kid`. It is foreign unless marked
    /// [`Key::own`] (the previous signing key during a rotation): a foreign key's tokens are
    /// accepted as access tokens, never renewed by `#[refresh]`, and its public half is not
    /// published by [`Auth::jwks`]. Bind another issuer's key to that issuer with
    /// [`Key::for_issuer`], so that its tokens must carry that `iss`.
    pub fn verification_key(mut self, key: Key) -> Self {
        self.verification.push(key);
        self
    }

    /// Access-token lifetime (default 15 minutes).
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = ttl;
        self
    }

    /// Refresh-token lifetime (default 30 days).
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// `iss` written into tokens and required on verification.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An accepted `aud`; the first one is written into tokens. When none is set, a token
    /// carrying `aud` is refused.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience.push(audience.into());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default 0 s, like AuthX): an expired
    /// token is refused the second it expires.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How far ahead of this instance's clock the issuing instance's clock may be (default
    /// 5 s): a token whose `iat` or `nbf` lies up to this far in the future is accepted, so
    /// that a brand-new token from an instance a second ahead verifies everywhere. It never
    /// extends `exp` (that is [`leeway`](Self::leeway)); the larger of the two applies to
    /// `iat` and `nbf`. `Duration::ZERO` makes them strict.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// The `realm` of `WWW-Authenticate` (default `"api"`).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Replaces the JSON body of every error answer.
    pub fn error_body(mut self, render: ErrorBody) -> Self {
        self.error_body = Some(render);
        self
    }

    /// Remembers up to `capacity` verified access tokens, so that a token sent again (a
    /// client sends the same one until it expires) costs a lookup instead of a signature
    /// check and a parse. Off (0) by default.
    ///
    /// - Entries are filled only after the signature, every claim and the revocation check
    ///   passed; a hit still checks the time claims and **asks the revocation store**, so
    ///   revoking a token takes effect on its next request, cached or not.
    /// - A hit compares the whole signing input (in constant time) and a 128-bit keyed digest
    ///   of the signature, so a forged token never takes another's entry; a lookup hashes the
    ///   signature (43 characters for HS256), not the whole token.
    /// - Bounded: a full cache evicts cold entries (CLOCK-Pro, scan-resistant: a flood of
    ///   new tokens does not push out the ones that keep coming back). An entry costs the
    ///   token's header and payload twice (encoded and decoded), about 0.6 KiB for a typical
    ///   token and at most about 20 KiB for one at the 8 KiB cap. No entry holds a signature,
    ///   so the cache holds no token that could be replayed.
    /// - Refresh tokens are never cached.
    ///
    /// What it buys (BENCHMARKS.md): an HS256 repeat costs about a sixth of a verification,
    /// an RS256/ES256 repeat under 1/500 of one.
    ///
    /// ```
    /// use jwtguard::{Auth, Grant};
    /// let auth = Auth::builder()
    ///     .secret("a-secret-of-at-least-32-bytes-long!!")
    ///     .verified_token_cache(10_000)
    ///     .build()?;
    /// let token = auth.create_access_token(&Grant::to("ann"))?;
    /// assert_eq!(auth.verify(&token)?.sub(), "ann"); // verified, then remembered
    /// assert_eq!(auth.verify(&token)?.sub(), "ann"); // a lookup
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verified_token_cache(mut self, capacity: usize) -> Self {
        self.verified_token_cache = capacity;
        self
    }

    /// The former name of [`verified_token_cache`](Self::verified_token_cache), which now
    /// also skips the parse, and works for every algorithm. Mind the memory: an entry used to
    /// be a 40-byte digest and is now the token's claims (about 0.6 KiB, at most 20 KiB), so
    /// a capacity sized for digests may need to come down.
    #[deprecated(
        note = "use `verified_token_cache`: it caches the verified token, not only its signature"
    )]
    pub fn signature_cache(self, capacity: usize) -> Self {
        self.verified_token_cache(capacity)
    }

    /// Where revocations live: [`MemoryStore`](crate::MemoryStore) (the default, one
    /// instance) or, with the `redis` feature, `RedisStore` (shared by every instance).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The absolute lifetime of a session (a refresh family, started by a login): refreshing
    /// never issues a token that outlives it, so a stolen refresh token cannot keep a session
    /// alive forever. Default: the refresh-token lifetime.
    pub fn family_ttl(mut self, ttl: Duration) -> Self {
        self.family_ttl = Some(ttl);
        self
    }

    /// How long a refresh token that was just replaced may be presented again as a retry
    /// (default 10 s): a client whose answer was lost, or two tabs refreshing at once, gets a
    /// working pair of the same session, whose refresh token carries the id of the one that
    /// replaced it (the session keeps one line of tokens). After the window, or for any older
    /// token, a reuse is treated as theft (RFC 9700 §4.14.2): the whole family is revoked.
    /// `Duration::ZERO` turns the window off. The window is judged on the store's clock
    /// (Redis's, with `RedisStore`).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }

    /// The limits of login throttling (`#[login(throttle = ...)]`, `#[token_endpoint]`,
    /// [`Auth::attempt`]); see [`Throttle`] for the defaults.
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = throttle;
        self
    }

    /// The application sits behind reverse proxies that write the client's address into a
    /// forwarding header: login throttling then counts the client, not the proxy (see
    /// [`TrustedProxies`]). Without this call, the address is the TCP peer's and forwarding
    /// headers are ignored (a client can write any address there).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = Some(proxies);
        self
    }

    /// Cookie mode, for browsers: `#[login]` and `#[refresh]` also set the token cookies and
    /// their CSRF cookies (a `#[token_endpoint]` never does: it answers API clients, and a
    /// cross-site form must not log a browser in), `#[logout]` clears them, the refresh route
    /// reads the refresh cookie, and a token from a cookie on an unsafe method needs the
    /// CSRF header. Unless [`token_locations`](Self::token_locations) says otherwise, tokens
    /// are then looked for in `Authorization: Bearer` first, then in the cookie. See
    /// [`Cookies`].
    pub fn cookies(mut self, cookies: Cookies) -> Self {
        self.cookies = Some(cookies);
        self
    }

    /// Where tokens are looked for, in order; **the first location that holds a token
    /// decides** (a bad token there is refused, never replaced by one from a later location).
    /// Default: `Authorization: Bearer`, and the cookie in cookie mode.
    pub fn token_locations(mut self, locations: impl IntoIterator<Item = TokenLocation>) -> Self {
        self.locations = Some(locations.into_iter().collect());
        self
    }

    /// Checks every key and builds the configuration.
    pub fn build(self) -> Result<Auth, ConfigError> {
        let mut signing = self.signing.ok_or(ConfigError::MissingKey)?;
        if let (Some(algorithm), key::Material::Secret(_)) = (self.algorithm, &signing.material) {
            signing.algorithm = algorithm;
        }
        let sign_key = key::sign_key(&signing)?;
        let mut own = key::verify_key(&signing)?;
        own.own = true;
        let mut keys = vec![own];
        for extra in &self.verification {
            let verify_key = key::verify_key(extra)?;
            if keys.iter().any(|k| k.kid == verify_key.kid) {
                return Err(ConfigError::DuplicateKid(verify_key.kid));
            }
            keys.push(verify_key);
        }
        let (leeway, skew) = (secs(self.leeway), secs(self.clock_skew));
        let store: Arc<dyn Store> = self
            .store
            .unwrap_or_else(|| Arc::new(crate::store::memory::MemoryStore::new()));
        let family_ttl = secs(self.family_ttl.unwrap_or(self.refresh_ttl));
        store.lifetime(
            family_ttl
                .max(secs(self.access_ttl))
                .saturating_add(leeway.max(skew))
                .saturating_add(STORE_MARGIN),
        );
        let refresh_grace = secs(self.refresh_grace);
        let locations = self.locations.unwrap_or_else(|| {
            let mut default = vec![TokenLocation::Header];
            if self.cookies.is_some() {
                default.push(TokenLocation::Cookie);
            }
            default
        });
        if locations.contains(&TokenLocation::Cookie) && self.cookies.is_none() {
            return Err(ConfigError::CookiesNotConfigured);
        }
        if self.cookies.as_ref().is_some_and(|c| !c.secure) {
            tracing::warn!("jwtguard: cookies are not Secure (local development over http only)");
            eprintln!(
                "warning: jwtguard token cookies are sent without `Secure`: for local \
                 development over plain http only, never in production"
            );
        }
        Ok(Auth {
            inner: Arc::new(Inner {
                verifier: Verifier {
                    keys,
                    leeway,
                    skew,
                    issuer: self.issuer.clone(),
                    audience: self.audience.clone(),
                    // `None` also when the OS random source fails: no cache, full checks.
                    cache: (self.verified_token_cache > 0)
                        .then(|| VerifiedCache::new(self.verified_token_cache))
                        .flatten(),
                    store: store.clone(),
                },
                issuer: Issuer {
                    key: sign_key,
                    access_ttl: self.access_ttl,
                    refresh_ttl: self.refresh_ttl,
                    iss: self.issuer,
                    audience: self.audience.into_iter().next(),
                    csrf: self.cookies.is_some(),
                },
                realm: self.realm,
                error_body: self.error_body,
                store,
                throttle: self.throttle,
                cookies: self.cookies.map(Cookies::finish),
                locations,
                proxies: self.proxies,
                family_ttl,
                refresh_grace,
            }),
        })
    }
}

#[cfg(feature = "redis")]
fn redis_store(
    builder: AuthBuilder,
    url: &str,
    prefix: Option<String>,
    replicas: Option<String>,
) -> Result<AuthBuilder, ConfigError> {
    let prefix = prefix.filter(|p| !p.is_empty());
    let mut store =
        crate::store::redis::RedisStore::builder(url, prefix.as_deref().unwrap_or("jwtguard"));
    if let Some(replicas) = replicas.filter(|r| !r.is_empty()) {
        let count = replicas.trim().parse().map_err(|_| {
            ConfigError::Store("JWT_REDIS_WAIT_REPLICAS is not a number of replicas")
        })?;
        store = store.wait_for_replicas(count, Duration::from_secs(1));
    }
    let store = store.build().map_err(|e| ConfigError::Store(e.reason()))?;
    Ok(builder.store(store))
}

#[cfg(not(feature = "redis"))]
fn redis_store(
    _: AuthBuilder,
    _: &str,
    _: Option<String>,
    _: Option<String>,
) -> Result<AuthBuilder, ConfigError> {
    Err(ConfigError::Store(
        "REDIS_URL is set, but jwtguard was built without its `redis` feature",
    ))
}

impl Auth {
    /// A builder: give it at least a key.
    pub fn builder() -> AuthBuilder {
        AuthBuilder::default()
    }

    /// Configuration from the environment:
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `JWT_SECRET_KEY` | HMAC secret (≥ 32 bytes), or a private key PEM for RS/PS/ES/EdDSA | required |
    /// | `JWT_ALGORITHM` | `HS256`, `HS384`, `HS512`, `RS256`, `PS256`, `ES256`, `EdDSA`, ... | `HS256` |
    /// | `JWT_ACCESS_TOKEN_EXPIRES` | access lifetime, seconds | 900 |
    /// | `JWT_REFRESH_TOKEN_EXPIRES` | refresh lifetime, seconds | 2592000 |
    /// | `JWT_ISSUER` | `iss` written and required | none |
    /// | `JWT_AUDIENCE` | `aud` written and required | none |
    /// | `JWT_LEEWAY` | clock skew tolerated, seconds | 0 |
    /// | `JWT_VERIFIED_TOKEN_CACHE` | entries of the [verified-token cache](AuthBuilder::verified_token_cache) | 0 (off) |
    /// | `REDIS_URL` | revocations in Redis (`RedisStore`, feature `redis`), shared by every instance | in memory |
    /// | `JWT_REDIS_PREFIX` | the prefix of the Redis keys | `jwtguard` |
    /// | `JWT_REDIS_WAIT_REPLICAS` | acknowledge a write once this many replicas hold it (`RedisStoreBuilder::wait_for_replicas`, 1 s) | 0 (off) |
    ///
    /// With `REDIS_URL` set it must be called inside a tokio runtime; without the `redis`
    /// feature a `REDIS_URL` is refused rather than ignored (instances would not share
    /// revocations).
    ///
    /// To add what the environment does not say (cookie mode, throttling limits), start from
    /// [`AuthBuilder::from_env`] instead.
    pub fn from_env() -> Result<Self, ConfigError> {
        AuthBuilder::from_env()?.build()
    }

    /// [`from_env`](Self::from_env) reading from any source (tests, a config file).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        AuthBuilder::from_vars(var)?.build()
    }
}

impl AuthBuilder {
    /// A builder holding what [`Auth::from_env`] reads, to add the rest in code:
    ///
    /// ```no_run
    /// use jwtguard::{AuthBuilder, Cookies};
    /// let auth = AuthBuilder::from_env()?.cookies(Cookies::default()).build()?;
    /// # Ok::<(), jwtguard::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading from any source.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = var("JWT_SECRET_KEY")
            .filter(|s| !s.is_empty())
            .ok_or(ConfigError::MissingKey)?;
        let algorithm = match var("JWT_ALGORITHM") {
            None => Algorithm::HS256,
            Some(name) => name
                .parse::<Algorithm>()
                .map_err(|_| ConfigError::UnknownAlgorithm(name))?,
        };
        let key = if key::is_hmac(algorithm) {
            Key::hmac(algorithm, secret)
        } else if secret.contains("-----BEGIN") {
            Key::private_pem(algorithm, secret)
        } else {
            return Err(ConfigError::SecretIsNotPem(algorithm));
        };
        let seconds = |name: &'static str| -> Result<Option<Duration>, ConfigError> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map(Duration::from_secs)
                        .map_err(|_| ConfigError::BadVariable {
                            name,
                            expected: "a whole number of seconds",
                        })
                })
                .transpose()
        };
        let mut builder = Self::default().signing_key(key);
        if let Some(ttl) = seconds("JWT_ACCESS_TOKEN_EXPIRES")? {
            builder = builder.access_ttl(ttl);
        }
        if let Some(ttl) = seconds("JWT_REFRESH_TOKEN_EXPIRES")? {
            builder = builder.refresh_ttl(ttl);
        }
        if let Some(leeway) = seconds("JWT_LEEWAY")? {
            builder = builder.leeway(leeway);
        }
        if let Some(entries) = var("JWT_VERIFIED_TOKEN_CACHE") {
            let entries =
                entries
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| ConfigError::BadVariable {
                        name: "JWT_VERIFIED_TOKEN_CACHE",
                        expected: "a whole number of entries (0: off)",
                    })?;
            builder = builder.verified_token_cache(entries);
        }
        if let Some(issuer) = var("JWT_ISSUER").filter(|s| !s.is_empty()) {
            builder = builder.issuer(issuer);
        }
        if let Some(audience) = var("JWT_AUDIENCE").filter(|s| !s.is_empty()) {
            builder = builder.audience(audience);
        }
        if let Some(url) = var("REDIS_URL").filter(|s| !s.is_empty()) {
            builder = redis_store(
                builder,
                &url,
                var("JWT_REDIS_PREFIX"),
                var("JWT_REDIS_WAIT_REPLICAS"),
            )?;
        }
        Ok(builder)
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

    /// An access token for `grant` (AuthX's `create_access_token`); fresh only if the grant
    /// says so. It starts a session (refresh family) of its own.
    pub fn create_access_token(&self, grant: &Grant) -> Result<String, IssueError> {
        let fresh = grant.fresh.unwrap_or(false);
        let now = now();
        let (version, family, family_exp) = self.new_session(grant, now)?;
        let session = Session {
            version,
            family: family.as_str(),
            family_exp,
        };
        self.inner
            .issuer
            .token(grant, TokenKind::Access, fresh, now, session)
    }

    /// A refresh token for `grant` (AuthX's `create_refresh_token`), starting a session.
    pub fn create_refresh_token(&self, grant: &Grant) -> Result<String, IssueError> {
        let now = now();
        let (version, family, family_exp) = self.new_session(grant, now)?;
        let session = Session {
            version,
            family: family.as_str(),
            family_exp,
        };
        self.inner
            .issuer
            .token(grant, TokenKind::Refresh, false, now, session)
    }

    /// An access + refresh pair for `grant` (AuthX's `create_token_pair`), starting a session
    /// (a refresh family); the access token is fresh only if the grant says so.
    pub fn create_token_pair(&self, grant: &Grant) -> Result<TokenResponse, IssueError> {
        let fresh = grant.fresh.unwrap_or(false);
        self.issue_pair(grant, fresh)
    }

    /// The subject's current version and a new family, ending `family_ttl` from now.
    fn new_session(&self, grant: &Grant, now: i64) -> Result<(u64, Id, i64), IssueError> {
        let version = self
            .inner
            .store
            .version(grant.sub(), now)
            .map_err(|_| IssueError::StoreUnavailable)?;
        let [family] = crate::token::issue::ids()?;
        Ok((version, family, now.saturating_add(self.inner.family_ttl)))
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
            family_exp: now.saturating_add(self.inner.family_ttl),
        };
        self.inner
            .issuer
            .pair_with(grant, fresh, now, session, [access_id, refresh_id])
    }

    /// This application's public keys as a JWKS document (`{"keys": [...]}`), to serve at
    /// `/.well-known/jwks.json`: the signing key's public half and those of verification keys
    /// marked [`Key::own`]. HMAC secrets and foreign keys are never included.
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
