//! Keeping an issuer's keys current: a background refresh that follows `Cache-Control`
//! within bounds (with jitter, `ETag` honoured), one more for an unknown `kid` (single flight,
//! then a cooldown, and a negative cache per `kid`), backoff on failure, and the keys already
//! known served for a bounded time while refreshes fail. Requests read the current set
//! through a read lock held for a reference count's copy; no lock is ever held across a
//! fetch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use super::config::{KeySource, TrustedIssuer};
use super::fetch::Client;
use super::keys::{KeySet, RemoteKey};

/// The most unknown `kid`s remembered (pending or negative): attacker-chosen `kid`s cost a
/// bounded map, then nothing.
const MAX_REMEMBERED_KIDS: usize = 4096;

/// One trusted issuer at run time: its configuration, its current keys, its refresh state.
pub(crate) struct IssuerState {
    pub(crate) config: TrustedIssuer,
    client: Option<Client>,
    keys: RwLock<Option<Arc<KeySet>>>,
    refresh: Mutex<Refresh>,
    /// The background task runs (started once, when a runtime is at hand). Atomics, so that
    /// the request path takes no mutex while the keys are known and fresh.
    started: AtomicBool,
    /// When the last refresh succeeded, in milliseconds after `born` (0: never).
    fresh_at_ms: AtomicU64,
    born: Instant,
}

#[derive(Default)]
struct Refresh {
    in_flight: bool,
    /// The last refresh an unknown `kid` asked for: the next waits a cooldown after it.
    last_for_kid: Option<Instant>,
    last_failure: Option<Instant>,
    last_error: Option<String>,
    failures: u32,
    next_in: Option<Duration>,
    jwks_url: Option<String>,
    etag: Option<String>,
    /// The last `max-age` given (a 304 need not repeat it).
    max_age: Option<Duration>,
    /// Unknown `kid`s waiting for the refresh in flight.
    pending: Vec<String>,
    /// `kid`s a refresh did not find, until when they are refused outright.
    negative: HashMap<String, Instant>,
}

/// What the keys say about a token's `kid`.
pub(crate) enum Lookup {
    Found(Arc<KeySet>),
    /// Unknown, and known to be unknown (a refresh looked): refuse (401).
    Unknown,
    /// Cannot tell yet (never loaded, refreshing, stale): 503 with `Retry-After`.
    Unavailable,
}

impl IssuerState {
    pub(crate) fn new(config: TrustedIssuer) -> Result<Self, String> {
        let (keys, client) = match &config.source {
            KeySource::Static(keys) => {
                let mut set = KeySet::default();
                for key in keys {
                    let verify = crate::token::key::verify_key(key).map_err(|e| e.to_string())?;
                    let crate::token::key::Verifying::Public(public) = verify.verifying else {
                        return Err("an issuer's keys are public keys, never shared secrets".into());
                    };
                    set.insert(RemoteKey {
                        key: *public,
                        algorithms: vec![verify.algorithm],
                        kid: verify.kid.as_deref().map(Arc::from),
                    });
                }
                (Some(Arc::new(set)), None)
            }
            KeySource::Discovery | KeySource::Jwks(_) => {
                let timeouts = config.timeouts;
                let client = Client::new(
                    &config.root_certificates,
                    config.allow_http,
                    timeouts.fetch,
                    timeouts.max_body,
                    config.proxy.as_deref(),
                )?;
                let first = match &config.source {
                    KeySource::Jwks(url) => url.clone(),
                    _ => discovery_url(&config.issuer),
                };
                client.check_url(&first)?;
                (None, Some(client))
            }
        };
        Ok(Self {
            config,
            client,
            keys: RwLock::new(keys),
            refresh: Mutex::new(Refresh::default()),
            started: AtomicBool::new(false),
            fresh_at_ms: AtomicU64::new(0),
            born: Instant::now(),
        })
    }

    /// Starts the background refresh when a tokio runtime is at hand (at `build`, or at the
    /// first token of this issuer).
    pub(crate) fn start(self: &Arc<Self>) {
        if self.client.is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        runtime.spawn(background(Arc::downgrade(self)));
    }

    /// The keys for a token whose header names `kid`.
    pub(crate) fn lookup(self: &Arc<Self>, kid: Option<&str>) -> Lookup {
        self.start();
        let keys = self.keys.read().map(|k| k.clone()).unwrap_or_default();
        let stale = self.client.is_some() && self.stale();
        match keys {
            Some(keys) if !stale && keys.get(kid).is_some() => Lookup::Found(keys),
            Some(_) if !stale => self.unknown_kid(kid.unwrap_or_default()),
            // Never loaded, or served too long without a successful refresh.
            _ => {
                self.refresh_now();
                Lookup::Unavailable
            }
        }
    }

    /// An unknown `kid`: refused when a refresh just looked for it, or when another unknown
    /// `kid` asked for a refresh too recently (a cooldown); otherwise one refresh for it,
    /// shared by every request that comes meanwhile (503 until it is done).
    fn unknown_kid(self: &Arc<Self>, kid: &str) -> Lookup {
        if self.client.is_none() {
            return Lookup::Unknown;
        }
        let now = Instant::now();
        let mut refresh = self.lock();
        if refresh.negative.get(kid).is_some_and(|until| *until > now) {
            return Lookup::Unknown;
        }
        if refresh.in_flight {
            remember(&mut refresh.pending, kid);
            return Lookup::Unavailable;
        }
        let cooling = refresh
            .last_for_kid
            .is_some_and(|at| now.duration_since(at) < self.config.timeouts.cooldown);
        if cooling {
            return Lookup::Unknown;
        }
        refresh.last_for_kid = Some(now);
        remember(&mut refresh.pending, kid);
        drop(refresh);
        self.refresh_now();
        Lookup::Unavailable
    }

    /// One refresh in the background, unless one is in flight.
    fn refresh_now(self: &Arc<Self>) {
        if self.client.is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if !self.begin() {
            return;
        }
        let state = self.clone();
        runtime.spawn(async move { state.refresh_once().await });
    }

    /// Takes the single flight; `false` when a refresh is already running, or when the last
    /// one failed and its backoff has not passed (requests never drive fetches faster than
    /// the background task would).
    fn begin(&self) -> bool {
        let mut refresh = self.lock();
        let backing_off = refresh.failures > 0
            && refresh
                .last_failure
                .is_some_and(|at| at.elapsed() < self.backoff(refresh.failures));
        if refresh.in_flight || backing_off {
            return false;
        }
        refresh.in_flight = true;
        true
    }

    /// 1 s, 2 s, 4 s, ... after `failures` failures, at most the shortest refresh interval.
    fn backoff(&self, failures: u32) -> Duration {
        Duration::from_secs(1u64 << failures.min(16)).min(self.config.timeouts.min_refresh)
    }

    /// Whether the keys have been served too long without a successful refresh.
    fn stale(&self) -> bool {
        let at = self.fresh_at_ms.load(Ordering::Acquire);
        at != 0
            && self
                .born
                .elapsed()
                .saturating_sub(Duration::from_millis(at))
                > self.config.timeouts.max_stale
    }

    /// Records a successful refresh, for [`stale`](Self::stale).
    fn refreshed(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.fresh_at_ms.store(ms.max(1), Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Refresh> {
        // A panic while holding this lock leaves plain data behind: keep using it.
        self.refresh
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fetches (discovery when needed, then the JWKS) and swaps the key set in; on failure
    /// keeps the keys it has. Ends the single flight taken by [`begin`](Self::begin).
    async fn refresh_once(&self) {
        let started = Instant::now();
        let outcome = self.fetch_keys().await;
        let mut refresh = self.lock();
        refresh.in_flight = false;
        let outcome = outcome.map(|(keys, max_age)| {
            refresh.max_age = max_age.or(refresh.max_age);
            (keys, refresh.max_age)
        });
        let issuer = self.config.issuer.as_str();
        match outcome {
            Ok((Some((set, skipped)), max_age)) => {
                let known: Vec<String> = set.kids().map(str::to_owned).collect();
                let added = self.swap(set);
                // No longer than the cooldown: a key the provider signs with a moment before
                // its JWKS shows it is found by the next refresh an unknown kid may ask for.
                let until = Instant::now() + self.config.timeouts.cooldown;
                let pending = std::mem::take(&mut refresh.pending);
                for kid in pending.into_iter().filter(|kid| !known.contains(kid)) {
                    if refresh.negative.len() < MAX_REMEMBERED_KIDS {
                        refresh.negative.insert(kid, until);
                    }
                }
                refresh.negative.retain(|_, until| *until > Instant::now());
                self.refreshed();
                refresh.last_error = None;
                refresh.failures = 0;
                refresh.next_in = Some(self.next_refresh(max_age));
                tracing::info!(
                    target: "jwtguard::issuers",
                    issuer,
                    keys = known.len(),
                    added,
                    skipped,
                    elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    "keys refreshed"
                );
            }
            Ok((None, max_age)) => {
                // 304: the keys did not change.
                refresh.pending.clear();
                self.refreshed();
                refresh.last_error = None;
                refresh.failures = 0;
                refresh.next_in = Some(self.next_refresh(max_age));
                tracing::debug!(target: "jwtguard::issuers", issuer, "keys unchanged");
            }
            Err(error) => {
                refresh.pending.clear();
                refresh.failures = refresh.failures.saturating_add(1);
                refresh.last_failure = Some(Instant::now());
                let backoff = self.backoff(refresh.failures);
                refresh.next_in = Some(backoff);
                tracing::warn!(
                    target: "jwtguard::issuers",
                    issuer,
                    %error,
                    failures = refresh.failures,
                    retry_in_s = backoff.as_secs(),
                    "keys could not be refreshed; the keys already known stay in use"
                );
                refresh.last_error = Some(error);
            }
        }
    }

    /// Swaps in a new set; returns how many `kid`s it adds (a rotation, logged).
    fn swap(&self, set: KeySet) -> usize {
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let added = match keys.as_ref() {
            Some(old) => set
                .kids()
                .filter(|kid| old.get(Some(kid)).is_none())
                .count(),
            None => set.len(),
        };
        *keys = Some(Arc::new(set));
        added
    }

    /// The new key set and how many keys it skipped, `None` when unchanged (304); and the
    /// answer's `max-age`.
    async fn fetch_keys(&self) -> Result<Fetch, String> {
        let client = self.client.as_ref().ok_or("no client")?;
        let loaded = self.loaded();
        let (jwks_url, etag) = {
            let refresh = self.lock();
            // Without keys, a 304 would keep nothing: ask for the whole document.
            (
                refresh.jwks_url.clone(),
                refresh.etag.clone().filter(|_| loaded),
            )
        };
        let jwks_url = match (jwks_url, &self.config.source) {
            (Some(url), _) => url,
            (None, KeySource::Jwks(url)) => url.clone(),
            (None, _) => self.discover(client).await?,
        };
        let fetched = client
            .get(&jwks_url, etag.as_deref())
            .await
            .map_err(|e| format!("JWKS {jwks_url}: {e}"))?;
        self.lock().jwks_url = Some(jwks_url.clone());
        let Some(body) = fetched.body else {
            return Ok((None, fetched.max_age));
        };
        let (set, skipped) = KeySet::from_jwks(&body, &self.config.algorithms)
            .map_err(|e| format!("JWKS {jwks_url}: {e}"))?;
        if set.len() == 0 {
            return Err(format!(
                "JWKS {jwks_url}: no key this issuer's algorithms can use"
            ));
        }
        // Remembered only for a document that was accepted: a 304 then means "still these".
        self.lock().etag = fetched.etag;
        Ok((Some((set, skipped)), fetched.max_age))
    }

    /// OIDC discovery: the document's `issuer` must be exactly the configured one (OIDC
    /// Discovery §4.3), its `jwks_uri` is where the keys are.
    async fn discover(&self, client: &Client) -> Result<String, String> {
        #[derive(serde::Deserialize)]
        struct Document {
            issuer: String,
            jwks_uri: String,
        }
        let url = discovery_url(&self.config.issuer);
        let fetched = client
            .get(&url, None)
            .await
            .map_err(|e| format!("discovery {url}: {e}"))?;
        let body = fetched.body.unwrap_or_default();
        let document: Document = serde_json::from_slice(&body)
            .map_err(|e| format!("discovery {url}: not an OpenID configuration: {e}"))?;
        if document.issuer != self.config.issuer {
            return Err(format!(
                "discovery {url}: the document names the issuer `{}`, not `{}`",
                document.issuer, self.config.issuer
            ));
        }
        client.check_url(&document.jwks_uri)?;
        Ok(document.jwks_uri)
    }

    /// `max-age` within the bounds, with ±10 % jitter so that a fleet does not fetch at once.
    fn next_refresh(&self, max_age: Option<Duration>) -> Duration {
        use rand::Rng as _;
        let bounds = self.config.timeouts;
        let base = max_age
            .unwrap_or(bounds.max_refresh)
            .clamp(bounds.min_refresh, bounds.max_refresh);
        let jittered = base.as_secs_f64() * rand::thread_rng().gen_range(0.9..1.1);
        Duration::try_from_secs_f64(jittered).unwrap_or(base)
    }

    /// Loaded once at least (or given in code).
    pub(crate) fn loaded(&self) -> bool {
        self.keys.read().is_ok_and(|keys| keys.is_some())
    }

    /// Why the keys are not loaded, when a fetch failed.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }
}

/// What a refresh brought: the new keys (and how many were skipped) unless unchanged, and
/// the `max-age` of the answer.
type Fetch = (Option<(KeySet, usize)>, Option<Duration>);

fn remember(kids: &mut Vec<String>, kid: &str) {
    if kids.len() < MAX_REMEMBERED_KIDS && !kids.iter().any(|k| k == kid) {
        kids.push(kid.to_owned());
    }
}

/// `<issuer>/.well-known/openid-configuration`, whether the issuer ends with `/` or not.
fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The background refresh of one issuer, until its `Auth` is dropped.
async fn background(state: Weak<IssuerState>) {
    loop {
        let wait = {
            let Some(state) = state.upgrade() else {
                return;
            };
            if state.begin() {
                state.refresh_once().await;
            }
            let next = state.lock().next_in.take();
            next.unwrap_or(Duration::from_secs(1))
        };
        tokio::time::sleep(wait).await;
    }
}
