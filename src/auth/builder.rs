//! `AuthBuilder`: every setting of an [`Auth`], checked once by [`AuthBuilder::build`].

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::{Auth, Inner};
use crate::throttle::limits::Throttle;
use crate::token::errors::ConfigError;
use crate::token::issue::{Issuer, secs};
use crate::token::key::{self, Key};
use crate::token::revocation::Store;
use crate::token::verified_cache::VerifiedCache;
use crate::token::verify::Verifier;
use crate::web::client::TrustedProxies;
use crate::web::cookies::{Cookies, TokenLocation};
use crate::web::error_body::ErrorBody;

/// Builds an [`Auth`]; see [`Auth::builder`].
#[derive(Debug, Clone)]
pub struct AuthBuilder {
    signing: Option<Key>,
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
    session_ttl: Option<Duration>,
    refresh_grace: Duration,
    throttle: Throttle,
    proxies: Option<TrustedProxies>,
    cookies: Option<Cookies>,
    locations: Option<Vec<TokenLocation>>,
    #[cfg(feature = "oidc")]
    trusted: Vec<crate::issuers::TrustedIssuer>,
}

/// How much longer than what it guards a store entry lives, beyond the leeway and clock
/// skew: the store's clock (Redis's) may differ from the instances'.
pub(crate) const STORE_MARGIN: i64 = 60;

/// Default access-token lifetime: 15 minutes (AuthX's default).
const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How far ahead of this instance's clock an issuer's clock may be, by default: 5 s (see
/// [`AuthBuilder::clock_skew`]).
const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);
/// How long a replaced refresh token presented again is a retry, by default: 10 s (see [`AuthBuilder::refresh_grace`]).
const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(10);
/// Default refresh-token lifetime: 30 days.
const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl Default for AuthBuilder {
    fn default() -> Self {
        Self {
            signing: None,
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
            session_ttl: None,
            refresh_grace: DEFAULT_REFRESH_GRACE,
            throttle: Throttle::default(),
            proxies: None,
            cookies: None,
            locations: None,
            #[cfg(feature = "oidc")]
            trusted: Vec::new(),
        }
    }
}

impl AuthBuilder {
    /// An HMAC secret that signs and verifies with HS256: the shorthand of
    /// `.signing_key(Key::hmac(Algorithm::HS256, secret))`. Another algorithm or a key pair:
    /// [`signing_key`](Self::signing_key).
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.signing = Some(Key::hmac(Algorithm::HS256, secret));
        self
    }

    /// A random 64-byte HS256 secret, for development only: tokens die with the process and
    /// several instances do not accept each other's tokens.
    pub fn random_secret(mut self) -> Self {
        let mut secret = [0u8; 64];
        // A failing random source leaves the key empty, which `build` refuses.
        let secret: &[u8] = if crate::random::fill(&mut secret).is_ok() {
            &secret
        } else {
            &[]
        };
        self.signing = Some(Key::hmac(Algorithm::HS256, secret));
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

    /// Accepts the access tokens of an identity provider (feature `oidc`): see
    /// [`TrustedIssuer`](crate::TrustedIssuer). Without a key of its own
    /// ([`secret`](Self::secret), [`signing_key`](Self::signing_key)), an `Auth` that trusts
    /// issuers signs with a random key: it verifies its providers' tokens and issues nothing
    /// anyone else can verify.
    #[cfg(feature = "oidc")]
    pub fn trust(mut self, issuer: crate::issuers::TrustedIssuer) -> Self {
        self.trusted.push(issuer);
        self
    }

    /// Where revocations live: [`MemoryStore`](crate::MemoryStore) (the default, one
    /// instance) or, with the `redis` feature, `RedisStore` (shared by every instance).
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The absolute lifetime of a session (started by a login, carried on by refreshes): refreshing
    /// never issues a token that outlives it, so a stolen refresh token cannot keep a session
    /// alive forever. Default: the refresh-token lifetime.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = Some(ttl);
        self
    }

    /// How long a refresh token that was just replaced may be presented again as a retry
    /// (default 10 s): a client whose answer was lost, or two tabs refreshing at once, gets a
    /// working pair of the same session, whose refresh token carries the id of the one that
    /// replaced it (the session keeps one line of tokens). After the window, or for any older
    /// token, a reuse is treated as theft (RFC 9700 §4.14.2): the whole session is revoked.
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
        #[cfg(feature = "oidc")]
        let trusted = if self.trusted.is_empty() {
            None
        } else {
            Some(Arc::new(crate::issuers::Trusted::new(
                self.trusted,
                self.issuer.as_deref(),
            )?))
        };
        #[cfg(feature = "oidc")]
        let signing = match (self.signing, &trusted) {
            (Some(key), _) => key,
            // A service that only verifies its providers' tokens signs nothing anyone could
            // know: its own key is a random one, as in development.
            (None, Some(_)) => Self::default()
                .random_secret()
                .signing
                .ok_or(ConfigError::MissingKey)?,
            (None, None) => return Err(ConfigError::MissingKey),
        };
        #[cfg(not(feature = "oidc"))]
        let signing = self.signing.ok_or(ConfigError::MissingKey)?;
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
        let session_ttl = secs(self.session_ttl.unwrap_or(self.refresh_ttl));
        store.lifetime(
            session_ttl
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
                    #[cfg(feature = "oidc")]
                    trusted,
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
                cookies: self.cookies.map(Cookies::finish).transpose()?,
                locations,
                proxies: self.proxies,
                session_ttl,
                refresh_grace,
            }),
        })
    }
}
