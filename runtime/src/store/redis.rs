//! `RedisStore`: revocations shared by every instance through one Redis.
//!
//! - Writes (revoke, bump a version, consume a refresh token) are one Lua script each: atomic
//!   on the server, one round trip, and the same script `PUBLISH`es the change.
//! - Reads never leave the process: each instance keeps a mirror of the live revocations (a
//!   [`MemoryStore`]), loaded with `SCAN` when it (re)subscribes and kept current by the
//!   published changes, so a revocation made anywhere is enforced everywhere within the
//!   pub/sub delay (milliseconds; the tests hold it to under 1 s).
//! - Fail closed: while the subscription is down, or before the mirror has loaded, the mirror
//!   is not current and every check answers "unavailable" (503); writes that cannot reach
//!   Redis fail the same way. A background task reconnects and reloads by itself.
//! - Every key carries an expiry (`EXAT`): the token's or the session's end plus the leeway.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use tokio::sync::OnceCell;

use super::memory::MemoryStore;
use crate::token::revocation::{
    Charge, Consumed, Limits, Presented, Refusal, Sealed, Store, StoreError, StoreFuture, Verdict,
};
use crate::token::verify::now;

/// How long a Redis operation may take before the request gets its 503.
const TIMEOUT: Duration = Duration::from_secs(1);
/// How long the subscription may stay silent before it is pinged.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// Revocations in Redis, shared by every instance (feature `redis`).
///
/// - Writes (revoke, bump a version, consume a refresh token) are one Lua script each: atomic
///   on the server, one round trip, published to the other instances by the same script.
/// - Checks never leave the process: each instance keeps a mirror of the live revocations,
///   loaded when it (re)subscribes and kept current by pub/sub; a revocation made on one
///   instance is enforced on the others within milliseconds (tested under 1 s).
/// - Fail closed: while its subscription is down or before the mirror has loaded, every check
///   and every write answers 503 with `Retry-After`; it reconnects and reloads by itself.
/// - Keys live under `prefix:` (`jti:`, `fam:`, `ver:`, `used:`, and the `events` channel),
///   each with an expiry: the end of the token or session it concerns, plus the leeway.
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

struct Shared {
    client: redis::Client,
    writer: OnceCell<ConnectionManager>,
    prefix: String,
    mirror: MemoryStore,
    /// Whether the mirror holds everything Redis holds: set after a snapshot load on a live
    /// subscription, cleared the moment the subscription drops.
    current: AtomicBool,
    /// Tells the mirror task to stop when the last handle is dropped.
    alive: AtomicBool,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.shared.prefix)
            .field("current", &self.shared.current.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis at `url` (`redis://host:port/db`), its keys under `prefix:`.
    /// Returns at once: the mirror loads in the background, and until it has, checks answer
    /// 503. Must be called inside a tokio runtime.
    pub fn new(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client =
            redis::Client::open(url).map_err(|_| StoreError("REDIS_URL is not a Redis URL"))?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError("RedisStore needs a tokio runtime"))?;
        let shared = Arc::new(Shared {
            client,
            writer: OnceCell::new(),
            prefix: prefix.to_owned(),
            mirror: MemoryStore::new(),
            current: AtomicBool::new(false),
            alive: AtomicBool::new(true),
        });
        runtime.spawn(mirror(shared.clone()));
        Ok(Self {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        })
    }

    /// [`new`](Self::new), then waits (up to 5 s) until the mirror is current, so that the
    /// first requests are not answered 503.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let store = Self::new(url, prefix)?;
        for _ in 0..100 {
            if store.is_current() {
                return Ok(store);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(StoreError("Redis did not answer within 5 s"))
    }

    /// Whether this instance's mirror is current (false: requests are answered 503).
    pub fn is_current(&self) -> bool {
        self.shared.current.load(Ordering::Acquire)
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}:{kind}:{id}", self.shared.prefix)
    }

    fn channel(&self) -> String {
        channel(&self.shared.prefix)
    }

    async fn writer(&self) -> Result<ConnectionManager, StoreError> {
        let shared = &self.shared;
        shared
            .writer
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(TIMEOUT))
                    .set_response_timeout(Some(TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(200));
                tokio::time::timeout(
                    TIMEOUT,
                    shared.client.get_connection_manager_with_config(config),
                )
                .await
                .map_err(|_| UNREACHABLE)?
                .map_err(|_| UNREACHABLE)
            })
            .await
            .cloned()
    }

    /// Runs a script with a bounded wait: an unreachable Redis is an error, never a hang.
    async fn run<T: redis::FromRedisValue>(
        &self,
        script: &redis::Script,
        keys: &[&str],
        args: &[String],
    ) -> Result<T, StoreError> {
        let mut connection = self.writer().await?;
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        tokio::time::timeout(TIMEOUT, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| UNREACHABLE)?
            .map_err(|_| UNREACHABLE)
    }
}

const UNREACHABLE: StoreError = StoreError("Redis is unreachable");

fn channel(prefix: &str) -> String {
    format!("{prefix}:events")
}

/// `SET key 1`, keeping the later of two expiries, then publishes `event`.
const REVOKE: &str = r"
local ends = tonumber(ARGV[1])
local current = redis.call('EXPIRETIME', KEYS[1])
if current > ends then ends = current end
redis.call('SET', KEYS[1], '1', 'EXAT', ends)
redis.call('PUBLISH', KEYS[2], ARGV[2] .. ' ' .. ends .. ' ' .. ARGV[3])
return 1
";

/// Moves the version past the current one (and past `now` in milliseconds), publishes it.
const BUMP: &str = r"
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local next = math.max(current + 1, tonumber(ARGV[2]))
local ends = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', next), 'EXAT', ends)
redis.call('PUBLISH', KEYS[2], 'v ' .. ends .. ' ' .. string.format('%d', next) .. ' ' .. ARGV[3])
return string.format('%d', next)
";

/// Consumes a refresh token: 0 first use, 1 duplicate within the grace, 2 reuse (the family
/// is revoked and the revocation published).
const CONSUME: &str = r"
local now = tonumber(ARGV[1])
local ends = tonumber(ARGV[2])
local first = redis.call('GET', KEYS[1])
if not first then
  redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ends)
  return 0
end
if now - tonumber(first) < tonumber(ARGV[3]) then
  return 1
end
if ARGV[4] ~= '' then
  local current = redis.call('EXPIRETIME', KEYS[2])
  if current > ends then ends = current end
  redis.call('SET', KEYS[2], '1', 'EXAT', ends)
  redis.call('PUBLISH', KEYS[3], 'f ' .. ends .. ' ' .. ARGV[4])
end
return 2
";

/// Charges a login attempt to every key (`KEYS`), with the rules of `token/throttle.rs`:
/// returns 0 when counted, else the seconds until the lock ends. ARGV: now, window, ceiling,
/// then one limit per key.
const ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ceiling = tonumber(ARGV[3])
local state = {}
local retry = 0
for i, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'count', 'start', 'lock', 'rounds')
  local c = { count = tonumber(v[1]) or 0, start = tonumber(v[2]) or 0,
              lock = tonumber(v[3]) or 0, rounds = tonumber(v[4]) or 0 }
  local limit = tonumber(ARGV[3 + i])
  if c.lock > now then
    retry = math.max(retry, c.lock - now)
  else
    if now - c.start >= window then
      c.count = 0
      c.start = now
    end
    if c.count >= limit then
      local lock = math.min(window * (2 ^ math.min(c.rounds, 30)), ceiling)
      if lock < 1 then lock = 1 end
      c.rounds = c.rounds + 1
      c.lock = now + lock
      c.count = 0
      c.start = now
      retry = math.max(retry, lock)
    end
  end
  state[i] = c
end
for i, key in ipairs(KEYS) do
  local c = state[i]
  if retry == 0 then c.count = c.count + 1 end
  redis.call('HSET', key, 'count', string.format('%d', c.count), 'start', string.format('%d', c.start),
    'lock', string.format('%d', c.lock), 'rounds', string.format('%d', c.rounds))
  redis.call('EXPIREAT', key, string.format('%d', math.max(c.start + window, c.lock) + ceiling))
end
return retry
";

fn script(source: &'static str) -> redis::Script {
    redis::Script::new(source)
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
        if !self.is_current() {
            return Err(UNREACHABLE);
        }
        self.shared.mirror.version(sub, now)
    }

    fn revoke_token<'a>(&'a self, jti: &'a str, until: i64) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key("jti", jti);
            let args = [until.to_string(), "j".to_owned(), jti.to_owned()];
            self.run::<i64>(&script(REVOKE), &[&key, &self.channel()], &args)
                .await?;
            // Read your own writes: do not wait for the published event.
            self.shared.mirror.put_token(jti, until, now())
        })
    }

    fn revoke_family<'a>(&'a self, family: &'a str, until: i64) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let key = self.key("fam", family);
            let args = [until.to_string(), "f".to_owned(), family.to_owned()];
            self.run::<i64>(&script(REVOKE), &[&key, &self.channel()], &args)
                .await?;
            self.shared.mirror.put_family(family, until, now())
        })
    }

    fn bump_version<'a>(&'a self, sub: &'a str, until: i64, now: i64) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let key = self.key("ver", sub);
            let floor = super::memory::next_version(0, now);
            let args = [until.to_string(), floor.to_string(), sub.to_owned()];
            let version: String = self
                .run(&script(BUMP), &[&key, &self.channel()], &args)
                .await?;
            let version = version.parse().map_err(|_| UNREACHABLE)?;
            self.shared.mirror.put_version(sub, version, until, now)?;
            Ok(version)
        })
    }

    fn consume<'a>(
        &'a self,
        jti: &'a str,
        family: &'a str,
        until: i64,
        grace: i64,
        now: i64,
    ) -> StoreFuture<'a, Consumed> {
        Box::pin(async move {
            let (used, revoked) = (self.key("used", jti), self.key("fam", family));
            let args = [
                now.to_string(),
                until.to_string(),
                grace.to_string(),
                family.to_owned(),
            ];
            let outcome: i64 = self
                .run(&script(CONSUME), &[&used, &revoked, &self.channel()], &args)
                .await?;
            Ok(match outcome {
                0 => Consumed::First,
                1 => Consumed::Duplicate,
                _ => {
                    if !family.is_empty() {
                        self.shared.mirror.put_family(family, until, now)?;
                    }
                    Consumed::Reused
                }
            })
        })
    }

    fn attempt<'a>(
        &'a self,
        charges: &'a [Charge<'a>],
        limits: Limits,
        now: i64,
    ) -> StoreFuture<'a, Verdict> {
        Box::pin(self.charge(charges, limits, now))
    }

    fn forgive<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.writer().await?;
            let key = format!("{}:try:{key}", self.shared.prefix);
            tokio::time::timeout(TIMEOUT, connection.del::<_, ()>(key))
                .await
                .map_err(|_| UNREACHABLE)?
                .map_err(|_| UNREACHABLE)
        })
    }
}

impl RedisStore {
    async fn charge(
        &self,
        charges: &[Charge<'_>],
        limits: Limits,
        now: i64,
    ) -> Result<Verdict, StoreError> {
        let keys: Vec<String> = charges
            .iter()
            .map(|c| format!("{}:try:{}", self.shared.prefix, c.key))
            .collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut args = vec![
            now.to_string(),
            limits.window.to_string(),
            limits.ceiling.to_string(),
        ];
        args.extend(charges.iter().map(|c| c.limit.to_string()));
        let retry_after: i64 = self.run(&script(ATTEMPT), &keys, &args).await?;
        Ok(if retry_after > 0 {
            Verdict::Locked { retry_after }
        } else {
            Verdict::Allowed
        })
    }
}

/// Keeps the mirror current for as long as a handle to the store lives: subscribe, load the
/// snapshot, apply every published change; on any failure mark the mirror stale and start
/// over.
async fn mirror(store: Arc<Shared>) {
    let mut delay = Duration::from_millis(50);
    while store.alive.load(Ordering::Relaxed) {
        if follow(&store).await.is_ok() {
            delay = Duration::from_millis(50);
        }
        store.current.store(false, Ordering::Release);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
}

/// One subscription's life. Subscribes before loading, so no change can fall between the two.
async fn follow(shared: &Shared) -> Result<(), StoreError> {
    use futures_util::StreamExt as _;
    let pubsub = tokio::time::timeout(TIMEOUT, shared.client.get_async_pubsub())
        .await
        .map_err(|_| UNREACHABLE)?
        .map_err(|_| UNREACHABLE)?;
    let (mut sink, mut messages) = pubsub.split();
    tokio::time::timeout(TIMEOUT, sink.subscribe(channel(&shared.prefix)))
        .await
        .map_err(|_| UNREACHABLE)?
        .map_err(|_| UNREACHABLE)?;
    load(shared).await?;
    shared.current.store(true, Ordering::Release);
    loop {
        match tokio::time::timeout(HEARTBEAT, messages.next()).await {
            Ok(Some(message)) => {
                let payload: String = message.get_payload().map_err(|_| UNREACHABLE)?;
                apply(&shared.mirror, &payload)?;
            }
            Ok(None) => return Err(UNREACHABLE),
            Err(_) => {
                if !shared.alive.load(Ordering::Relaxed) {
                    return Ok(());
                }
                // A quiet channel may be a dead one that no packet will ever close (a NAT
                // dropping idle connections): a subscription that does not answer a PING
                // within a second is stale, and the mirror stops vouching for itself.
                tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>())
                    .await
                    .map_err(|_| UNREACHABLE)?
                    .map_err(|_| UNREACHABLE)?;
            }
        }
    }
}

/// Applies one published change: `j <until> <jti>`, `f <until> <family>` or
/// `v <until> <version> <sub>`.
fn apply(mirror: &MemoryStore, event: &str) -> Result<(), StoreError> {
    let now = now();
    let mut parts = event.splitn(3, ' ');
    let (kind, until) = (parts.next(), parts.next().and_then(|u| u.parse().ok()));
    let (Some(kind), Some(until), Some(rest)) = (kind, until, parts.next()) else {
        return Ok(());
    };
    match kind {
        "j" => mirror.put_token(rest, until, now),
        "f" => mirror.put_family(rest, until, now),
        "v" => match rest.split_once(' ') {
            Some((version, sub)) => match version.parse() {
                Ok(version) => mirror.put_version(sub, version, until, now),
                Err(_) => Ok(()),
            },
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Replaces the mirror with what Redis holds now: every revoked token and family and every
/// version under the prefix, with their expiries.
async fn load(shared: &Shared) -> Result<(), StoreError> {
    let mut connection =
        tokio::time::timeout(TIMEOUT, shared.client.get_multiplexed_async_connection())
            .await
            .map_err(|_| UNREACHABLE)?
            .map_err(|_| UNREACHABLE)?;
    // Only the mirrored kinds: the throttling counters (hashes) and the consumed refresh
    // tokens live under the same prefix and are never read here.
    let mut keys: Vec<String> = Vec::new();
    for kind in ["jti", "fam", "ver"] {
        use futures_util::StreamExt as _;
        let pattern = format!("{}:{kind}:*", shared.prefix);
        let iter = tokio::time::timeout(TIMEOUT, connection.scan_match::<_, String>(pattern))
            .await
            .map_err(|_| UNREACHABLE)?
            .map_err(|_| UNREACHABLE)?;
        let found: Vec<redis::RedisResult<String>> =
            tokio::time::timeout(Duration::from_secs(10), iter.collect())
                .await
                .map_err(|_| UNREACHABLE)?;
        for key in found {
            keys.push(key.map_err(|_| UNREACHABLE)?);
        }
    }
    let now = now();
    shared.mirror.clear(now)?;
    let head = format!("{}:", shared.prefix);
    for chunk in keys.chunks(256) {
        let mut pipe = redis::pipe();
        for key in chunk {
            pipe.cmd("GET").arg(key).cmd("EXPIRETIME").arg(key);
        }
        let values: Vec<(Option<String>, i64)> =
            tokio::time::timeout(TIMEOUT, pipe.query_async(&mut connection))
                .await
                .map_err(|_| UNREACHABLE)?
                .map_err(|_| UNREACHABLE)?;
        for (key, (value, until)) in chunk.iter().zip(values) {
            let Some((kind, id)) = key.strip_prefix(&head).and_then(|k| k.split_once(':')) else {
                continue;
            };
            match (kind, value) {
                ("jti", Some(_)) => shared.mirror.put_token(id, until, now)?,
                ("fam", Some(_)) => shared.mirror.put_family(id, until, now)?,
                ("ver", Some(version)) => {
                    if let Ok(version) = version.parse() {
                        shared.mirror.put_version(id, version, until, now)?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}
