//! What a Redis must be to hold sessions safely, checked at every (re)connect: version 7 or
//! later, no eviction; persistence off is warned about.

use std::sync::atomic::Ordering;

use redis::aio::ConnectionManager;

use super::{Shared, bounded};
use crate::token::revocation::StoreError;

/// `Err`: this server must not be used (the mirror stays not current, `connect` fails).
pub(super) async fn server(
    shared: &Shared,
    connection: &mut ConnectionManager,
) -> Result<(), StoreError> {
    let info: String = bounded(redis::cmd("INFO").arg("server").query_async(connection)).await?;
    let major = field(&info, "redis_version")
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse::<u32>().ok());
    if major.is_none_or(|major| major < 7) {
        return Err(StoreError::new(
            "RedisStore needs Redis 7 or later (its scripts use TIME, ZADD GT, and Redis 7's \
             script replication by effects)",
        ));
    }
    // CONFIG is renamed or disabled on some managed services: not knowing is a warning.
    match config(connection, "maxmemory-policy").await.as_deref() {
        Some("noeviction") => {}
        Some(_) => {
            return Err(StoreError::new(
                "Redis evicts keys (maxmemory-policy is not noeviction): an evicted session \
                 record would let a rotated refresh token work again, an evicted revocation \
                 would un-revoke a token. Set maxmemory-policy to noeviction",
            ));
        }
        None => once(shared, || {
            tracing::warn!(
                "jwtguard: cannot read Redis's maxmemory-policy (CONFIG is disabled here): \
                 make sure it is noeviction, or evicted keys will un-revoke tokens"
            );
        }),
    }
    let persistence: String = bounded(
        redis::cmd("INFO")
            .arg("persistence")
            .query_async(connection),
    )
    .await?;
    let aof = field(&persistence, "aof_enabled") == Some("1");
    let snapshots = config(connection, "save")
        .await
        .is_none_or(|save| !save.is_empty());
    if !aof && !snapshots {
        once(shared, || {
            tracing::warn!(
                "jwtguard: Redis persistence is off: a restart loses every session record \
                 (users log in again) and relies on running instances to restore \
                 revocations. Enable appendonly (appendfsync everysec or always)"
            );
        });
    }
    Ok(())
}

/// `CONFIG GET name`, or `None` when it cannot be read.
async fn config(connection: &mut ConnectionManager, name: &str) -> Option<String> {
    let answer: Vec<String> = bounded(
        redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query_async(connection),
    )
    .await
    .ok()?;
    answer.into_iter().nth(1)
}

/// `name:value` from an `INFO` answer.
fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Runs `warn` the first time only (a reconnecting instance does not repeat its warnings).
fn once(shared: &Shared, warn: impl FnOnce()) {
    if !shared.warned.swap(true, Ordering::Relaxed) {
        warn();
    }
}
