//! `TrustedIssuer`: what the application trusts an identity provider for, as configuration.

use std::time::Duration;

use jsonwebtoken::Algorithm;

use crate::token::key::Key;

/// An identity provider (Keycloak, Auth0, Okta, Entra ID, Cognito, ...) whose access tokens
/// this application accepts, given to [`AuthBuilder::trust`](crate::AuthBuilder::trust).
///
/// A token is routed by its `iss` to exactly one issuer (an unknown `iss` is refused without
/// any network request); the issuer's keys, fetched from its JWKS and kept current in the
/// background, verify it; its audience, algorithms, `typ` and times are checked; its claims
/// are mapped into the scopes the crate declared with [`scopes!`](crate::scopes). Such a
/// token is an access token that is never fresh and never renewed here: logins and refreshes
/// stay with the provider.
///
/// ```no_run
/// use jwtguard::{Auth, ScopeClaim, TrustedIssuer};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = Auth::builder()
///     .trust(
///         TrustedIssuer::discover("https://sso.example.com/realms/shop")
///             .audience("orders-api")
///             .scopes_from(ScopeClaim::named("scope"))
///             .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:")),
///     )
///     .build()?;
/// auth.issuers_ready(std::time::Duration::from_secs(10)).await?; // fail fast at startup
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct TrustedIssuer {
    pub(crate) issuer: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) source: KeySource,
    pub(crate) audiences: Vec<String>,
    pub(crate) audience_claim: String,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) typing: Typing,
    pub(crate) leeway: Duration,
    pub(crate) scope_claims: Vec<ScopeClaim>,
    pub(crate) allow_http: bool,
    pub(crate) root_certificates: Vec<Vec<u8>>,
    pub(crate) proxy: Option<String>,
    pub(crate) timeouts: Timeouts,
}

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// `<issuer>/.well-known/openid-configuration`, then its `jwks_uri`.
    Discovery,
    /// A JWKS at this URL.
    Jwks(String),
    /// Keys given in code, never fetched.
    Static(Vec<Key>),
}

/// The bounds of fetching and refreshing an issuer's keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    /// One fetch, connection to last byte.
    pub(crate) fetch: Duration,
    /// The largest document read.
    pub(crate) max_body: usize,
    /// The shortest and longest time between two background refreshes (`Cache-Control`
    /// decides within them).
    pub(crate) min_refresh: Duration,
    pub(crate) max_refresh: Duration,
    /// After a refresh, how long an unknown `kid` waits for the next one.
    pub(crate) cooldown: Duration,
    /// How long keys are served without a successful refresh.
    pub(crate) max_stale: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            fetch: Duration::from_secs(10),
            max_body: 512 * 1024,
            min_refresh: Duration::from_secs(5 * 60),
            max_refresh: Duration::from_secs(60 * 60),
            cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// What an issuer's tokens must say in their `typ` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Typing {
    /// `at+jwt` (RFC 9068 access tokens), `JWT`, or no `typ` (the default).
    #[default]
    Accept,
    /// `at+jwt` only: an issuer that follows RFC 9068 (Auth0's profile, Okta), so that an ID
    /// token is never taken for an access token.
    RequireAtJwt,
    /// `JWT` or no `typ` only.
    Jwt,
}

/// A claim of an issuer's tokens that grants scopes: a space-separated string (`scope`,
/// Entra's `scp`) or an array of strings (`permissions`, `roles`, Okta's `scp`,
/// `cognito:groups`), found by its path (`realm_access.roles`), each name optionally prefixed
/// (Keycloak role `admin` → scope `role:admin`). Names the crate did not declare with
/// [`scopes!`](crate::scopes) grant nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeClaim {
    pub(crate) path: Vec<String>,
    pub(crate) prefix: String,
}

impl ScopeClaim {
    /// The claim at `path`, its segments separated by dots: `scope`, `realm_access.roles`.
    pub fn named(path: &str) -> Self {
        Self::at(path.split('.'))
    }

    /// The claim at these path segments, for a segment that holds a dot itself:
    /// `ScopeClaim::at(["resource_access", "shop.api", "roles"])`.
    pub fn at(segments: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            path: segments.into_iter().map(Into::into).collect(),
            prefix: String::new(),
        }
    }

    /// Every name of this claim becomes `prefix` + name.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }
}

impl TrustedIssuer {
    fn new(issuer: &str, source: KeySource) -> Self {
        Self {
            issuer: issuer.to_owned(),
            aliases: Vec::new(),
            source,
            audiences: Vec::new(),
            audience_claim: "aud".to_owned(),
            algorithms: vec![
                Algorithm::RS256,
                Algorithm::RS384,
                Algorithm::RS512,
                Algorithm::PS256,
                Algorithm::PS384,
                Algorithm::PS512,
                Algorithm::ES256,
                Algorithm::ES384,
                Algorithm::EdDSA,
            ],
            typing: Typing::Accept,
            leeway: Duration::from_secs(30),
            scope_claims: Vec::new(),
            allow_http: false,
            root_certificates: Vec::new(),
            proxy: None,
            timeouts: Timeouts::default(),
        }
    }

    /// The issuer `issuer` (exactly as its tokens write `iss`, trailing slash included), its
    /// keys found through OIDC discovery: `<issuer>/.well-known/openid-configuration`, whose
    /// `issuer` must be exactly this one (OIDC Discovery §4.3), then its `jwks_uri`.
    pub fn discover(issuer: &str) -> Self {
        Self::new(issuer, KeySource::Discovery)
    }

    /// The issuer `issuer`, its keys from the JWKS at `jwks_url`.
    pub fn jwks(issuer: &str, jwks_url: &str) -> Self {
        Self::new(issuer, KeySource::Jwks(jwks_url.to_owned()))
    }

    /// The issuer `issuer`, verified with these keys only (never fetched). Each key's
    /// algorithm is the one its tokens must name.
    pub fn with_keys(issuer: &str, keys: impl IntoIterator<Item = Key>) -> Self {
        Self::new(issuer, KeySource::Static(keys.into_iter().collect()))
    }

    /// Another `iss` the same issuer writes (a second host name, say): listed, never guessed.
    pub fn alias(mut self, issuer: impl Into<String>) -> Self {
        self.aliases.push(issuer.into());
        self
    }

    /// An audience this service accepts (one of them must be in the token's `aud`, or in the
    /// claim named by [`audience_claim`](Self::audience_claim)). At least one is required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// The claim that holds the audience instead of `aud`: Cognito's access tokens name the
    /// app client in `client_id`.
    pub fn audience_claim(mut self, claim: impl Into<String>) -> Self {
        self.audience_claim = claim.into();
        self
    }

    /// The algorithms accepted from this issuer (default: the asymmetric ones, RS, PS, ES256,
    /// ES384, EdDSA; never an HMAC). Each key verifies only its own: the `alg` its JWK names,
    /// or those of its type when it names none. Never taken from the token alone.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// What the token's `typ` header must say (default [`Typing::Accept`]).
    pub fn typing(mut self, typing: Typing) -> Self {
        self.typing = typing;
        self
    }

    /// Tolerated clock difference with the issuer on `exp`, `nbf` and `iat` (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// A claim that grants scopes (default: `scope` and `scp`, as strings or arrays).
    pub fn scopes_from(mut self, claim: ScopeClaim) -> Self {
        self.scope_claims.push(claim);
        self
    }

    /// Fetch over plain `http` from hosts other than loopback (which is always allowed): for
    /// a provider inside a trusted network only. Keys fetched over plain http can be replaced
    /// by anyone on the path.
    pub fn allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// A root certificate (PEM) trusted for this issuer's fetches besides the system's: a
    /// provider behind a private CA.
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Fetch through this HTTP proxy, which tunnels with `CONNECT` (`http://host:port`, or
    /// `http://user:password@host:port` for `Proxy-Authorization: Basic`). No proxy is taken
    /// from the environment: name it here.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// The time one fetch may take (default 10 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.fetch = timeout;
        self
    }

    /// The bounds of background refreshes (default 5 min to 1 h; the JWKS answer's
    /// `Cache-Control: max-age` decides within them, with ±10 % jitter).
    pub fn refresh_between(mut self, min: Duration, max: Duration) -> Self {
        self.timeouts.min_refresh = min;
        self.timeouts.max_refresh = max.max(min);
        self
    }

    /// After a refresh, how long a token with an unknown `kid` is refused before the keys
    /// are fetched again for one (default 30 s).
    pub fn unknown_key_cooldown(mut self, cooldown: Duration) -> Self {
        self.timeouts.cooldown = cooldown;
        self
    }

    /// How long the keys already known are served while refreshes fail (default 24 h); after
    /// that this issuer's tokens get 503 until a refresh succeeds.
    pub fn serve_stale_for(mut self, duration: Duration) -> Self {
        self.timeouts.max_stale = duration;
        self
    }

    /// The default scope claims when none were named.
    pub(crate) fn scope_claims(&self) -> Vec<ScopeClaim> {
        if self.scope_claims.is_empty() {
            vec![ScopeClaim::named("scope"), ScopeClaim::named("scp")]
        } else {
            self.scope_claims.clone()
        }
    }
}
