//! Each instance's mirror of the revocations in Redis: subscribe, check the server, make sure
//! no data was lost since the last look, load in batches, then apply every published change;
//! a heartbeat each second checks the subscription, the epoch and the revision. On any doubt
//! the mirror stops vouching for itself (503) and starts over. It only ever adds: nothing
//! Redis forgets is forgotten here before it expires.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::ConnectionManager;

use super::scripts::SCRIPTS;
use super::{Shared, bounded, checks};
use crate::clock::now;
use crate::store::revocations::Kind;
use crate::token::revocation::StoreError;

/// How often the subscription, the epoch and the revision are checked.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// Seconds the epoch started after a loss lies ahead of Redis's clock: one, plus the default
/// clock skew between instances.
const LOSS_MARGIN: u64 = 6;
/// Members read per round trip when loading, written per command when writing back.
const BATCH: usize = 1000;

/// Why a subscription's life ended.
enum Restart {
    /// The epoch changed or vanished: Redis lost data (or another instance saw it lose some).
    EpochChanged,
    /// The revision went back under the same epoch: a failover to a replica that missed
    /// writes.
    RevisionWentBack,
    /// A write's revision was seen without its event: the subscription misses events.
    Stale,
    Failed(StoreError),
}

impl From<StoreError> for Restart {
    fn from(error: StoreError) -> Self {
        Self::Failed(error)
    }
}

/// Keeps the mirror current for as long as a handle to the store lives.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut delay = Duration::from_millis(50);
    let mut revision_went_back = false;
    while shared.alive.load(Ordering::Relaxed) {
        revision_went_back = match follow(&shared, revision_went_back).await {
            Ok(()) => false,
            Err(Restart::EpochChanged) => {
                delay = Duration::from_millis(50);
                false
            }
            Err(Restart::RevisionWentBack) => {
                delay = Duration::from_millis(50);
                true
            }
            Err(Restart::Stale) => {
                tracing::warn!(
                    "jwtguard: the Redis subscription missed events (a write's revision \
                     arrived without them); reloading the mirror"
                );
                delay = Duration::from_millis(50);
                false
            }
            Err(Restart::Failed(error)) => {
                if let Ok(mut last) = shared.last_error.lock() {
                    *last = Some(error.clone());
                }
                if shared.current.load(Ordering::Relaxed) {
                    tracing::warn!(%error, source = ?std::error::Error::source(&error),
                            "jwtguard: lost Redis; answering 503 until the mirror is current again");
                } else {
                    tracing::debug!(%error, source = ?std::error::Error::source(&error),
                            "jwtguard: Redis is still not usable");
                }
                false
            }
        };
        shared.current.store(false, Ordering::Release);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(HEARTBEAT);
    }
}

/// One subscription's life. Subscribes before loading, so no change can fall between the two.
async fn follow(shared: &Shared, revision_went_back: bool) -> Result<(), Restart> {
    let pubsub = bounded(shared.client.get_async_pubsub()).await?;
    let (mut sink, mut messages) = pubsub.split();
    bounded(sink.subscribe(&shared.keys.channel)).await?;
    let mut connection = shared.writer().await?;
    if let Err(fault) = checks::server(shared, &mut connection).await {
        let mut slot = shared.fault.lock().map_err(|_| POISONED)?;
        if slot.as_ref() != Some(&fault) {
            tracing::error!(%fault, "jwtguard: this Redis cannot hold sessions safely");
        }
        *slot = Some(fault.clone());
        return Err(Restart::Failed(fault));
    }
    reconcile(shared, &mut connection, revision_went_back).await?;
    let revision = load(shared, &mut connection).await?;
    shared.seen.fetch_max(revision, Ordering::AcqRel);
    *shared.fault.lock().map_err(|_| POISONED)? = None;
    shared.current.store(true, Ordering::Release);

    let mut expected = revision;
    // Events arrive in revision order, one apart (each script moves the revision and
    // publishes in one step): a gap is a missed event, a step back a counter that went back.
    let mut last = revision;
    let mut beat = tokio::time::Instant::now() + HEARTBEAT;
    loop {
        match tokio::time::timeout_at(beat, messages.next()).await {
            Ok(Some(message)) => {
                let payload: String = message
                    .get_payload()
                    .map_err(|e| StoreError::caused_by("an event was not text", e))?;
                match apply(shared, &payload)? {
                    // Published before the load read the revision: the load has it.
                    Some(event) if event <= revision => {}
                    Some(event) if event <= last => return Err(Restart::RevisionWentBack),
                    Some(event) if event > last + 1 => return Err(Restart::Stale),
                    Some(event) => last = event,
                    None => {}
                }
            }
            Ok(None) => return Err(StoreError::new("the Redis subscription closed").into()),
            Err(_) => {
                if !shared.alive.load(Ordering::Relaxed) {
                    return Ok(());
                }
                beat += HEARTBEAT;
                // A quiet channel may be a dead one that no packet will ever close (a NAT
                // dropping idle connections).
                bounded(sink.ping::<redis::Value>()).await?;
                let (epoch, revision): (Option<String>, Option<u64>) = bounded(
                    redis::pipe()
                        .get(&shared.keys.epoch)
                        .get(&shared.keys.rev)
                        .query_async(&mut connection),
                )
                .await?;
                let known = shared.epoch.lock().map_err(|_| POISONED)?.clone();
                if epoch != known {
                    return Err(Restart::EpochChanged);
                }
                let revision = revision.unwrap_or(0);
                let seen = shared.seen.load(Ordering::Acquire);
                if revision < seen {
                    return Err(Restart::RevisionWentBack);
                }
                // Revisions read a heartbeat ago have had a second to arrive as events.
                if seen < expected {
                    return Err(Restart::Stale);
                }
                expected = revision;
            }
        }
    }
}

const POISONED: StoreError = StoreError::new("the mirror's lock is poisoned");

/// Makes sure Redis still holds what this instance saw it hold. The first look writes the
/// epoch if there is none; a later look that finds another one (or none), or a revision
/// that went back, means Redis lost data: say so loudly, write back every revocation this
/// instance holds, and start a new epoch, before which sessions Redis has no record of are
/// refused.
async fn reconcile(
    shared: &Shared,
    connection: &mut ConnectionManager,
    revision_went_back: bool,
) -> Result<(), StoreError> {
    let known = shared.epoch.lock().map_err(|_| POISONED)?.clone();
    let replace = if revision_went_back {
        known.clone().unwrap_or_default()
    } else {
        String::new()
    };
    let [id] = crate::token::issue::ids().map_err(|_| StoreError::new("no randomness"))?;
    let epoch: String = bounded(
        SCRIPTS
            .epoch
            .key(&shared.keys.epoch)
            .arg(id.as_str())
            .arg(&replace)
            // After a loss, the new epoch starts late by a second and the default clock
            // skew: a token issued in the second the loss was noticed, by an instance whose
            // clock runs ahead of Redis's, is still counted as issued before it.
            .arg(if known.is_some() { LOSS_MARGIN } else { 0 })
            .invoke_async(connection),
    )
    .await?;
    if known.as_ref().is_some_and(|known| *known != epoch) {
        let snapshot = shared.mirror.snapshot(now())?;
        tracing::error!(
            revoked_tokens = snapshot.tokens.len(),
            revoked_sessions = snapshot.families.len(),
            versions = snapshot.versions.len(),
            "jwtguard: Redis lost data (restarted without persistence, flushed, or failed over \
             to a replica that missed writes). This instance keeps refusing everything it had \
             seen revoked and writes it back; refresh tokens issued before now are refused \
             (users log in again). Check Redis's persistence and replication."
        );
        write_back(shared, connection, &snapshot).await?;
        // Revisions start again from whatever Redis holds now.
        shared.seen.store(0, Ordering::Release);
    }
    *shared.epoch.lock().map_err(|_| POISONED)? = Some(epoch);
    let longest = shared.longest.load(Ordering::Relaxed);
    if longest > 0 {
        bounded(
            SCRIPTS
                .longest
                .key(&shared.keys.longest)
                .arg(longest)
                .invoke_async::<i64>(connection),
        )
        .await?;
    }
    Ok(())
}

/// Writes what the mirror holds back into Redis, never lowering what is there.
async fn write_back(
    shared: &Shared,
    connection: &mut ConnectionManager,
    snapshot: &crate::store::revocations::Snapshot,
) -> Result<(), StoreError> {
    let keys = &shared.keys;
    for (set, entries) in [
        (&keys.tokens, &snapshot.tokens),
        (&keys.families, &snapshot.families),
    ] {
        for chunk in entries.chunks(BATCH) {
            let mut add = redis::cmd("ZADD");
            add.arg(set).arg("GT");
            for (id, until) in chunk {
                add.arg(*until).arg(id);
            }
            bounded(add.query_async::<()>(connection)).await?;
        }
    }
    for chunk in snapshot.versions.chunks(BATCH / 3) {
        let mut merge = SCRIPTS.merge_versions.key(&keys.versions);
        merge.key(&keys.version_ends);
        for (sub, version, until) in chunk {
            merge.arg(sub).arg(*version).arg(*until);
        }
        bounded(merge.invoke_async::<i64>(connection)).await?;
    }
    // Instances that loaded between the loss and now see the revision move without an event,
    // and reload what was written back.
    bounded(
        redis::cmd("INCR")
            .arg(&keys.rev)
            .query_async::<u64>(connection),
    )
    .await?;
    Ok(())
}

/// Merges what Redis holds into the mirror, in batches; returns the revision read before.
async fn load(shared: &Shared, connection: &mut ConnectionManager) -> Result<u64, StoreError> {
    let keys = &shared.keys;
    let revision: Option<u64> =
        bounded(redis::cmd("GET").arg(&keys.rev).query_async(connection)).await?;
    for (set, kind) in [(&keys.tokens, Kind::Token), (&keys.families, Kind::Family)] {
        scan(connection, set, |batch| {
            let now = now();
            for (id, until) in batch {
                shared.mirror.revoke(kind, &id, until, now)?;
            }
            Ok(())
        })
        .await?;
    }
    let mut ends = Vec::new();
    scan(connection, &keys.version_ends, |batch| {
        ends.push(batch);
        Ok(())
    })
    .await?;
    for batch in ends {
        let subs: Vec<&str> = batch.iter().map(|(sub, _)| sub.as_str()).collect();
        if subs.is_empty() {
            continue;
        }
        let versions: Vec<Option<u64>> = bounded(
            redis::cmd("HMGET")
                .arg(&keys.versions)
                .arg(&subs)
                .query_async(connection),
        )
        .await?;
        let now = now();
        for ((sub, until), version) in batch.iter().zip(versions) {
            if let Some(version) = version {
                shared.mirror.put_version(sub, version, *until, now)?;
            }
        }
    }
    Ok(revision.unwrap_or(0))
}

/// Reads a sorted set with `ZSCAN`, `BATCH` members a round trip, handing each batch of
/// (member, score) to `each`.
async fn scan(
    connection: &mut ConnectionManager,
    set: &str,
    mut each: impl FnMut(Vec<(String, i64)>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut cursor = String::from("0");
    loop {
        let (next, flat): (String, Vec<String>) = bounded(
            redis::cmd("ZSCAN")
                .arg(set)
                .arg(&cursor)
                .arg("COUNT")
                .arg(BATCH)
                .query_async(connection),
        )
        .await?;
        let batch = flat
            .chunks_exact(2)
            .filter_map(|pair| {
                let score: f64 = pair[1].parse().ok()?;
                #[allow(clippy::cast_possible_truncation)]
                Some((pair[0].clone(), score as i64))
            })
            .collect();
        each(batch)?;
        if next == "0" {
            return Ok(());
        }
        cursor = next;
    }
}

/// Applies one published change: `<rev> j <until> <jti>`, `<rev> f <until> <family>` or
/// `<rev> v <until> <version> <sub>`, and returns its revision. Anything else is ignored.
fn apply(shared: &Shared, event: &str) -> Result<Option<u64>, StoreError> {
    let mut parts = event.splitn(4, ' ');
    let (Some(revision), Some(kind), Some(until), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let (Ok(revision), Ok(until)) = (revision.parse::<u64>(), until.parse::<i64>()) else {
        return Ok(None);
    };
    let now = now();
    match kind {
        "j" => shared.mirror.revoke(Kind::Token, rest, until, now)?,
        "f" => shared.mirror.revoke(Kind::Family, rest, until, now)?,
        "v" => {
            if let Some((version, sub)) = rest.split_once(' ')
                && let Ok(version) = version.parse()
            {
                shared.mirror.put_version(sub, version, until, now)?;
            }
        }
        _ => return Ok(None),
    }
    shared.seen.fetch_max(revision, Ordering::AcqRel);
    Ok(Some(revision))
}
