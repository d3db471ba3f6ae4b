//! `RedisStore`: revocations and sessions shared by every instance through one Redis.
//!
//! - Writes (revoke, bump a version, rotate a refresh token) are one Lua script each
//!   (`scripts.rs`): atomic on the server, one round trip, published to the instances.
//! - Reads never leave the process: each instance keeps a mirror of the live revocations
//!   (`mirror.rs`), loaded in batches from structures of their own and kept current by the
//!   published changes.
//! - Fail closed: while the mirror is not current, every check and write answers 503.

mod checks;
mod mirror;
mod scripts;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::revocations::{Kind, Revocations};
use crate::clock::now;
use crate::token::revocation::{
    Charge, Consumed, Limits, Presented, Refusal, Rotation, Sealed, Store, StoreError, StoreFuture,
    Success, Verdict,
};
use scripts::SCRIPTS;

/// How long a Redis operation may take before the request gets its 503.
const TIMEOUT: Duration = Duration::from_secs(1);

/// Revocations and sessions in Redis, shared by every instance (feature `redis`).
///
/// - **Writes** (revoke, bump a version, rotate a refresh token) are one Lua script each:
///   atomic on the server, one round trip, published to the other instances by the same
///   script, judged on Redis's clock.
/// - **Checks never leave the process**: each instance keeps a mirror of the live
///   revocations, kept current by pub/sub. A revocation made on one instance is enforced on
///   the others within milliseconds; if its events stop arriving (a dead or misrouted
///   subscription), the revision each write moves gives it away at the next heartbeat (every
///   second) and the mirror reloads: within about 2 s.
/// - **Size.** Revocations (logouts) and one record per refreshed session, each expiring with
///   what it guards: the store grows with sessions, never with refreshes.
/// - **Reload in bounded time.** The mirror reads its own sorted sets in batches, never a walk
///   of the keyspace: other keys in the same database cost it nothing.
/// - **Never un-revokes.** A reload merges into the mirror, never clears it. If Redis lost
///   data (a restart without persistence, `FLUSHALL`, a failover to a replica that missed
///   writes), the instances notice (an epoch key, and the revision going back), log it as an
///   error, keep refusing everything they had seen revoked and write it back to Redis;
///   refresh tokens issued before the loss are refused (the user logs in again), because a
///   rotated one can no longer be told from the current one.
/// - **Durable where replicas exist**: with
///   [`wait_for_replicas`](RedisStoreBuilder::wait_for_replicas), a write is acknowledged only
///   once that many replicas hold it (`WAIT`), so an acknowledged logout survives a failover.
/// - **Fail closed**: while the mirror is not current (starting, subscription down, Redis
///   unreachable), every check and every write answers 503 with `Retry-After`; it reconnects
///   and reloads by itself.
///
/// At connect it refuses a Redis older than 7 and an evicting `maxmemory-policy` (an evicted
/// session record would let a rotated refresh token work again; use `noeviction`), and warns
/// when persistence is off.
///
/// ```no_run
/// # async fn start() -> Result<(), Box<dyn std::error::Error>> {
/// use jwtguard::{Auth, RedisStore};
/// let store = RedisStore::connect("redis://127.0.0.1:6379", "myapp").await?;
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .store(store)
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    shared: Arc<Shared>,
    /// Held by the handles only (not by the mirror task): when the last one is dropped, the
    /// task is told to stop.
    _owner: Arc<Owner>,
}

struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.alive.store(false, Ordering::Relaxed);
    }
}

/// The names of the keys under the prefix.
struct Keys {
    epoch: String,
    rev: String,
    tokens: String,
    families: String,
    versions: String,
    version_ends: String,
    longest: String,
    channel: String,
    prefix: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let key = |name: &str| format!("{prefix}:{name}");
        Self {
            epoch: key("epoch"),
            rev: key("rev"),
            tokens: key("revoked:jti"),
            families: key("revoked:fam"),
            versions: key("versions"),
            version_ends: key("versions:until"),
            longest: key("longest"),
            channel: key("events"),
            prefix: prefix.to_owned(),
        }
    }

    fn session(&self, family: &str) -> String {
        format!("{}:session:{family}", self.prefix)
    }

    fn attempts(&self, key: &str) -> String {
        format!("{}:try:{key}", self.prefix)
    }
}

struct Shared {
    client: redis::Client,
    writer: OnceCell<ConnectionManager>,
    keys: Keys,
    mirror: Revocations,
    replicas: Option<(u32, Duration)>,
    /// Whether the mirror holds everything Redis holds: set after a load on a live
    /// subscription, cleared the moment the subscription drops.
    current: AtomicBool,
    /// Tells the mirror task to stop when the last handle is dropped.
    alive: AtomicBool,
    /// The epoch this instance has seen Redis in (`None` before its first load).
    epoch: Mutex<Option<String>>,
    /// The highest revision the mirror has applied.
    seen: AtomicU64,
    /// The longest lifetime this instance's `Auth` gives a token, announced at every load.
    longest: AtomicI64,
    /// Why the mirror refuses to become current, when the server itself is the reason
    /// (too old, evicting): `connect` reports it.
    fault: Mutex<Option<StoreError>>,
    /// Whether the connect-time warnings were logged already.
    warned: AtomicBool,
    /// The last reason the mirror could not load (its source the client's error), for
    /// `connect` to report when it gives up.
    last_error: Mutex<Option<StoreError>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.shared.keys.prefix)
            .field("current", &self.is_current())
            .field("mirrored", &self.mirrored())
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisStore`]; see [`RedisStore::builder`].
#[derive(Debug)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    replicas: Option<(u32, Duration)>,
    #[cfg(feature = "redis-tls")]
    root_certificate: Option<Vec<u8>>,
}

impl RedisStoreBuilder {
    /// Acknowledge a write (a revocation, a version bump, a rotation) only once `count`
    /// replicas hold it, waiting at most `timeout` (`WAIT`); otherwise the request gets a
    /// 503 and the client retries. Set it when Redis has replicas that can be promoted, so
    /// that an acknowledged logout survives a failover. Off by default.
    pub fn wait_for_replicas(mut self, count: u32, timeout: Duration) -> Self {
        self.replicas = (count > 0).then_some((count, timeout));
        self
    }

    /// For `rediss://`: trust this CA (PEM) instead of the system's roots (feature
    /// `redis-tls`).
    #[cfg(feature = "redis-tls")]
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    /// The store, returned at once: the mirror loads in the background, and until it has,
    /// checks answer 503. Must be called inside a tokio runtime.
    pub fn build(self) -> Result<RedisStore, StoreError> {
        let client = self.client()?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::new("RedisStore needs a tokio runtime"))?;
        let shared = Arc::new(Shared {
            client,
            writer: OnceCell::new(),
            keys: Keys::new(&self.prefix),
            mirror: Revocations::default(),
            replicas: self.replicas,
            current: AtomicBool::new(false),
            alive: AtomicBool::new(true),
            epoch: Mutex::new(None),
            seen: AtomicU64::new(0),
            longest: AtomicI64::new(0),
            fault: Mutex::new(None),
            warned: AtomicBool::new(false),
            last_error: Mutex::new(None),
        });
        runtime.spawn(mirror::run(shared.clone()));
        Ok(RedisStore {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        })
    }

    /// [`build`](Self::build), then waits (up to 5 s) until the mirror is current, so that
    /// the first requests are not answered 503; a server that cannot be used (older than
    /// Redis 7, an evicting `maxmemory-policy`) is an error here.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let store = self.build()?;
        for _ in 0..100 {
            if store.is_current() {
                return Ok(store);
            }
            if let Some(fault) = store.shared.fault.lock().ok().and_then(|f| f.clone()) {
                return Err(fault);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let last = store.shared.last_error.lock().ok().and_then(|e| e.clone());
        Err(last.unwrap_or(StoreError::new("Redis did not answer within 5 s")))
    }

    fn client(&self) -> Result<redis::Client, StoreError> {
        let bad_url = |e| StoreError::caused_by("REDIS_URL is not a usable Redis URL", e);
        #[cfg(feature = "redis-tls")]
        {
            // rustls needs a process-wide provider; keep one the application installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
            if let Some(root) = &self.root_certificate {
                return redis::Client::build_with_tls(
                    self.url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(root.clone()),
                    },
                )
                .map_err(bad_url);
            }
        }
        redis::Client::open(self.url.as_str()).map_err(bad_url)
    }
}

impl RedisStore {
    /// A builder for the store on the Redis at `url` (`redis://[user:password@]host:port/db`,
    /// or `rediss://` with the `redis-tls` feature), its keys under `prefix:`.
    pub fn builder(url: &str, prefix: &str) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            replicas: None,
            #[cfg(feature = "redis-tls")]
            root_certificate: None,
        }
    }

    /// A store on the Redis at `url`, its keys under `prefix:`, with the defaults. Returns
    /// at once: the mirror loads in the background, and until it has, checks answer 503.
    /// Must be called inside a tokio runtime.
    pub fn new(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Self::builder(url, prefix).build()
    }

    /// [`new`](Self::new), then waits (up to 5 s) until the mirror is current; see
    /// [`RedisStoreBuilder::connect`].
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        Self::builder(url, prefix).connect().await
    }

    /// Whether this instance's mirror is current (false: requests are answered 503).
    pub fn is_current(&self) -> bool {
        self.shared.current.load(Ordering::Acquire)
    }

    /// How many revocations (tokens, sessions, subjects' versions) this instance's mirror
    /// holds: a figure to watch (about 124 bytes each).
    pub fn mirrored(&self) -> usize {
        self.shared.mirror.held()
    }

    /// Runs a script with a bounded wait, then waits for the replicas if configured: an
    /// unreachable Redis is an error, never a hang.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<T, StoreError> {
        let mut connection = self.shared.writer().await?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        bounded(invocation.invoke_async(&mut connection)).await
    }

    /// `WAIT` for the configured replicas after a write on the writer connection (whose
    /// replication offset covers the write).
    async fn replicated(&self) -> Result<(), StoreError> {
        let Some((count, timeout)) = self.shared.replicas else {
            return Ok(());
        };
        let mut connection = self.shared.writer().await?;
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let acknowledged: u32 = tokio::time::timeout(
            timeout.saturating_add(TIMEOUT),
            redis::cmd("WAIT")
                .arg(count)
                .arg(millis)
                .query_async(&mut connection),
        )
        .await
        .map_err(|_| TIMED_OUT)?
        .map_err(|e| StoreError::caused_by("Redis refused WAIT", e))?;
        if acknowledged < count {
            tracing::warn!(
                acknowledged,
                wanted = count,
                "jwtguard: Redis replicas did not acknowledge a write in time"
            );
            return Err(StoreError::new(
                "Redis replicas did not acknowledge the write in time",
            ));
        }
        Ok(())
    }

    fn ready(&self) -> Result<(), StoreError> {
        if self.is_current() {
            Ok(())
        } else {
            Err(NOT_CURRENT)
        }
    }
}

impl Shared {
    async fn writer(&self) -> Result<ConnectionManager, StoreError> {
        self.writer
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                bounded(self.client.get_connection_manager_with_config(config)).await
            })
            .await
            .cloned()
    }
}

const TIMED_OUT: StoreError = StoreError::new("Redis did not answer within 1 s");
const NOT_CURRENT: StoreError =
    StoreError::new("this instance's mirror of Redis is not current (starting or reconnecting)");

/// A Redis call bounded by [`TIMEOUT`], its error kept as the source.
async fn bounded<T>(call: impl Future<Output = redis::RedisResult<T>>) -> Result<T, StoreError> {
    tokio::time::timeout(TIMEOUT, call)
        .await
        .map_err(|_| TIMED_OUT)?
        .map_err(|e| StoreError::caused_by("Redis failed", e))
}

impl Sealed for RedisStore {}

impl Store for RedisStore {
    fn check(&self, token: &Presented<'_>, now: i64) -> Result<(), Refusal> {
        if !self.is_current() {
            return Err(Refusal::Unavailable);
        }
        self.shared.mirror.check(token, now)
    }

    fn version(&self, sub: &str, now: i64) -> Result<u64, StoreError> {
        self.ready()?;
        self.shared.mirror.version(sub, now)
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()> {
        Box::pin(self.revoke(Kind::Token, jti, until))
    }

    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()> {
        Box::pin(self.revoke(Kind::Family, family, until))
    }

    fn bump_version<'a>(&'a self, sub: &'a str, lifetime: i64, now: i64) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            self.ready()?;
            let keys = &self.shared.keys;
            self.shared.longest.fetch_max(lifetime, Ordering::Relaxed);
            let floor = super::revocations::next_version(0, now).to_string();
            let lifetime = lifetime.to_string();
            let (version, until): (String, i64) = self
                .run(
                    &SCRIPTS.bump,
                    &[
                        &keys.versions,
                        &keys.version_ends,
                        &keys.longest,
                        &keys.rev,
                        &keys.channel,
                    ],
                    &[&lifetime, &floor, sub],
                )
                .await?;
            let version = version
                .parse()
                .map_err(|_| StoreError::new("Redis answered a version that is not a number"))?;
            // Read your own writes: do not wait for the published event.
            self.shared.mirror.put_version(sub, version, until, now)?;
            self.replicated().await?;
            Ok(version)
        })
    }

    fn consume<'a>(&'a self, r: &'a Rotation<'a>) -> StoreFuture<'a, Consumed> {
        Box::pin(async move {
            self.ready()?;
            let keys = &self.shared.keys;
            let session = keys.session(r.family);
            let (issued_at, until, grace) = (
                r.issued_at.to_string(),
                r.until.to_string(),
                r.grace.to_string(),
            );
            let answer: Vec<redis::Value> = self
                .run(
                    &SCRIPTS.consume,
                    &[
                        &session,
                        &keys.families,
                        &keys.epoch,
                        &keys.rev,
                        &keys.channel,
                    ],
                    &[
                        r.presented,
                        r.successor,
                        &issued_at,
                        &until,
                        &grace,
                        r.family,
                    ],
                )
                .await?;
            let code: Option<i64> = answer
                .first()
                .and_then(|v| redis::FromRedisValue::from_redis_value_ref(v).ok());
            let consumed = match code {
                Some(0) => Consumed::First,
                Some(1) => Consumed::Duplicate {
                    current: answer
                        .get(1)
                        .and_then(|v| redis::FromRedisValue::from_redis_value_ref(v).ok())
                        .ok_or(StoreError::new("Redis answered a retry without an id"))?,
                },
                Some(2) => {
                    self.shared
                        .mirror
                        .revoke(Kind::Family, r.family, r.until, r.now)?;
                    Consumed::Reused
                }
                Some(3) => return Ok(Consumed::Unknown),
                _ => return Err(StoreError::new("Redis answered a rotation with nonsense")),
            };
            if matches!(consumed, Consumed::First | Consumed::Reused) {
                self.replicated().await?;
            }
            Ok(consumed)
        })
    }

    fn lifetime(&self, seconds: i64) {
        self.shared.longest.fetch_max(seconds, Ordering::Relaxed);
    }

    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        known: &'a [&'a str],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict> {
        Box::pin(self.charge(charges, known, limits, now))
    }

    fn succeeded<'a>(&'a self, success: &'a Success<'a>) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let keys = &self.shared.keys;
            let mut names: Vec<String> = success
                .forgive
                .iter()
                .map(|key| keys.attempts(key))
                .collect();
            names.extend(success.refund.iter().map(|key| keys.attempts(key)));
            names.extend(success.remember.iter().map(|key| keys.attempts(key)));
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let until = success.until.to_string();
            let forgiven = success.forgive.len().to_string();
            let refunds = success.refund.len().to_string();
            self.run::<i64>(&SCRIPTS.succeeded, &names, &[&until, &forgiven, &refunds])
                .await
                .map(|_| ())
        })
    }
}

impl RedisStore {
    async fn revoke(&self, kind: Kind, id: &str, until: i64) -> Result<(), StoreError> {
        self.ready()?;
        let keys = &self.shared.keys;
        let (set, letter) = match kind {
            Kind::Token => (&keys.tokens, "j"),
            Kind::Family => (&keys.families, "f"),
        };
        let until_arg = until.to_string();
        self.run::<i64>(
            &SCRIPTS.revoke,
            &[set, &keys.rev, &keys.channel],
            &[&until_arg, letter, id],
        )
        .await?;
        // Read your own writes: do not wait for the published event.
        self.shared.mirror.revoke(kind, id, until, now())?;
        self.replicated().await
    }

    async fn charge(
        &self,
        charges: &[Charge<'_>],
        known: &[&str],
        limits: Limits,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let keys: Vec<String> = charges
            .iter()
            .map(|c| c.key)
            .chain(known.iter().copied())
            .map(|key| self.shared.keys.attempts(key))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut args = vec![
            now.to_string(),
            limits.window.to_string(),
            limits.ceiling.to_string(),
            charges.len().to_string(),
        ];
        for charge in charges {
            args.push(charge.limit.to_string());
            args.push(u8::from(charge.unless_known).to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let retry_after: i64 = self.run(&SCRIPTS.attempt, &keys, &args).await?;
        Ok(match retry_after {
            1.. => Verdict::Locked { retry_after },
            -1 => Verdict::KnownClient,
            _ => Verdict::Allowed,
        })
    }
}
