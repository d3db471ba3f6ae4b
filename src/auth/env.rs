//! The environment as configuration: the one place that reads it, [`AuthBuilder::from_env`].

use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::AuthBuilder;
use crate::token::errors::ConfigError;
use crate::token::key::{self, Key};

impl AuthBuilder {
    /// The configuration the environment gives, as a builder to add the rest in code (cookie
    /// mode, throttling limits); the one place jwtguard reads the environment:
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
    /// ```no_run
    /// use jwtguard::{AuthBuilder, Cookies};
    /// let auth = AuthBuilder::from_env()?.cookies(Cookies::default()).build()?;
    /// # Ok::<(), jwtguard::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) reading from any source (tests, a configuration file).
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
