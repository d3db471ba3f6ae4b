//! The Lua scripts: every write is one script, atomic on the server and one round trip.
//! Each script that changes what the instances mirror also moves the revision (`rev`) and
//! publishes the change with it. Times are Redis's own (`TIME`): one clock for every instance.
//!
//! The layout under `prefix:` (no key is ever found by walking the keyspace):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `epoch` | string, no expiry | `<random id> <second it was written>`: gone or changed means Redis lost data |
//! | `rev` | counter, no expiry | moved by every mirrored write |
//! | `revoked:jti`, `revoked:fam` | sorted sets | revoked token ids and families, scored by when they may be forgotten |
//! | `versions` + `versions:until` | hash + sorted set | each subject's token version, and until when it must be kept |
//! | `longest` | integer, no expiry | the longest lifetime, seconds, any instance gives a token |
//! | `session:<family>` | hash, expiring with the session | `current`, `previous`: refresh token ids; `at`: when `current` took over |
//! | `try:<key>` | hash, expiring | a login-attempt counter (`pair:`, `addr:`, `user:`), or a known client (`known:`, a string) |
//! | `events` | pub/sub channel | `<rev> j <until> <id>` (`f` for a family), `<rev> v <until> <version> <sub>` |

use std::sync::LazyLock;

pub(super) struct Scripts {
    pub(super) revoke: redis::Script,
    pub(super) bump: redis::Script,
    pub(super) consume: redis::Script,
    pub(super) attempt: redis::Script,
    pub(super) succeeded: redis::Script,
    pub(super) epoch: redis::Script,
    pub(super) merge_versions: redis::Script,
    pub(super) longest: redis::Script,
}

/// Built once: a script's SHA-1 is computed here, and Redis loads each once (`EVALSHA`, then
/// `SCRIPT LOAD` only if the server does not know it, as after a failover).
pub(super) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    revoke: redis::Script::new(REVOKE),
    bump: redis::Script::new(BUMP),
    consume: redis::Script::new(CONSUME),
    attempt: redis::Script::new(ATTEMPT),
    succeeded: redis::Script::new(SUCCEEDED),
    epoch: redis::Script::new(EPOCH),
    merge_versions: redis::Script::new(MERGE_VERSIONS),
    longest: redis::Script::new(LONGEST),
});

/// KEYS: the set, `rev`, the channel. ARGV: until, kind (`j` or `f`), id. Adds the id (a
/// later end already recorded wins), drops the set's expired members, publishes. Returns the
/// end recorded. An end already past stores nothing (it guards nothing any more).
const REVOKE: &str = r"
local now = tonumber(redis.call('TIME')[1])
local ends = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if ends > now then
  redis.call('ZADD', KEYS[1], 'GT', ends, ARGV[3])
end
local rev = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', KEYS[3], string.format('%d', rev) .. ' ' .. ARGV[2] .. ' ' .. string.format('%d', ends) .. ' ' .. ARGV[3])
return ends
";

/// KEYS: `versions`, `versions:until`, `longest`, `rev`, the channel. ARGV: lifetime
/// (seconds from now a token issued before may live), the version floor (this instance's
/// milliseconds), sub. Moves the version past the current one and past both clocks' now in
/// milliseconds, keeps it until the longest lifetime any instance asked for from now.
/// Returns {version, until}.
const BUMP: &str = r"
local now = tonumber(redis.call('TIME')[1])
local longest = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(ARGV[1]))
redis.call('SET', KEYS[3], string.format('%d', longest))
local ends = now + longest
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
for _, sub in ipairs(old) do
  redis.call('HDEL', KEYS[1], sub)
  redis.call('ZREM', KEYS[2], sub)
end
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
local next = math.max(current + 1, tonumber(ARGV[2]), now * 1000)
local version = string.format('%d', next)
redis.call('HSET', KEYS[1], ARGV[3], version)
redis.call('ZADD', KEYS[2], 'GT', ends, ARGV[3])
local rev = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', KEYS[5], string.format('%d', rev) .. ' v ' .. string.format('%d', ends) .. ' ' .. version .. ' ' .. ARGV[3])
return {version, ends}
";

/// KEYS: `session:<family>`, `revoked:fam`, `epoch`, `rev`, the channel. ARGV: presented
/// id, successor id, the presented token's iat, until, grace, family. Returns {0} first use
/// (the successor is now current), {1, current} a retry within the grace window, {2} a reuse
/// (the family is revoked and published) or a session already revoked, {3} a session the store should know but does not
/// (its token is older than the epoch: Redis lost data since).
const CONSUME: &str = r"
local now = tonumber(redis.call('TIME')[1])
local s = redis.call('HMGET', KEYS[1], 'current', 'previous', 'at')
if not s[1] then
  local revoked = redis.call('ZSCORE', KEYS[2], ARGV[6])
  if revoked and tonumber(revoked) > now then
    return {2}
  end
  local epoch = redis.call('GET', KEYS[3])
  local start = epoch and tonumber(string.match(epoch, '(%d+)$'))
  if not start or tonumber(ARGV[3]) < start then
    return {3}
  end
elseif s[1] ~= ARGV[1] then
  if s[2] == ARGV[1] and now - tonumber(s[3]) < tonumber(ARGV[5]) then
    return {1, s[1]}
  end
  redis.call('DEL', KEYS[1])
  local ends = tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if ends > now then
    redis.call('ZADD', KEYS[2], 'GT', ends, ARGV[6])
  end
  local rev = redis.call('INCR', KEYS[4])
  redis.call('PUBLISH', KEYS[5], string.format('%d', rev) .. ' f ' .. string.format('%d', ends) .. ' ' .. ARGV[6])
  return {2}
end
redis.call('HSET', KEYS[1], 'current', ARGV[2], 'previous', ARGV[1], 'at', string.format('%d', now))
redis.call('EXPIREAT', KEYS[1], string.format('%d', math.max(tonumber(ARGV[4]), now + 1)))
return {0}
";

/// KEYS: `epoch`. ARGV: a new random id, the epoch to replace ('' for none), seconds to add
/// to the start. Writes a new epoch when there is none, or when the one there is the one to
/// replace; returns the epoch now in force.
const EPOCH: &str = r"
local e = redis.call('GET', KEYS[1])
if (not e) or (ARGV[2] ~= '' and e == ARGV[2]) then
  e = ARGV[1] .. ' ' .. string.format('%d', tonumber(redis.call('TIME')[1]) + tonumber(ARGV[3]))
  redis.call('SET', KEYS[1], e)
end
return e
";

/// KEYS: `versions`, `versions:until`. ARGV: triples sub, version, until. Writes back
/// versions an instance still holds, never lowering one.
const MERGE_VERSIONS: &str = r"
for i = 1, #ARGV, 3 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > current then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  redis.call('ZADD', KEYS[2], 'GT', ARGV[i + 2], ARGV[i])
end
return 1
";

/// KEYS: `longest`. ARGV: this instance's longest token lifetime, seconds.
const LONGEST: &str = r"
local longest = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%d', longest))
return longest
";

/// Charges a login attempt, with the rules of `token/throttle.rs`. KEYS: the `n` charged
/// counters, then the known-client keys. ARGV: now, window, ceiling, n, then a limit and an
/// `unless_known` flag (`1`/`0`) per counter. A counter flagged `unless_known` is skipped when
/// any known-client key exists. Returns 0 when counted, -1 when counted for a known client,
/// else the seconds until the lock ends.
const ATTEMPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ceiling = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local known = false
for i = n + 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then known = true end
end
local state = {}
local retry = 0
for i = 1, n do
  if not (known and ARGV[4 + 2 * i] == '1') then
    local key = KEYS[i]
    local v = redis.call('HMGET', key, 'count', 'start', 'lock', 'rounds')
    local c = { key = key, count = tonumber(v[1]) or 0, start = tonumber(v[2]) or 0,
                lock = tonumber(v[3]) or 0, rounds = tonumber(v[4]) or 0 }
    local limit = tonumber(ARGV[3 + 2 * i])
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
    table.insert(state, c)
  end
end
for _, c in ipairs(state) do
  if retry == 0 then c.count = c.count + 1 end
  redis.call('HSET', c.key, 'count', string.format('%d', c.count), 'start', string.format('%d', c.start),
    'lock', string.format('%d', c.lock), 'rounds', string.format('%d', c.rounds))
  redis.call('EXPIREAT', c.key, string.format('%d', math.max(c.start + window, c.lock) + ceiling))
end
if retry == 0 and known then return -1 end
return retry
";

/// A successful login. KEYS: the `f` (user, client) counters to forget, the `r` counters to
/// take the attempt back from, then the known-client keys to remember. ARGV: until, `f`, `r`.
const SUCCEEDED: &str = r"
local forgiven = tonumber(ARGV[2])
local refunds = tonumber(ARGV[3])
for i = 1, forgiven do
  redis.call('DEL', KEYS[i])
end
for i = forgiven + 1, forgiven + refunds do
  local count = tonumber(redis.call('HGET', KEYS[i], 'count') or '0')
  if count > 0 then
    redis.call('HSET', KEYS[i], 'count', string.format('%d', count - 1))
  end
end
for i = forgiven + refunds + 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'EXAT', ARGV[1])
end
return 1
";
