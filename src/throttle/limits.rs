//! `Throttle`: the limits of login throttling, configuration only (what counts them is in
//! `mod.rs`).

use std::time::Duration;

use crate::throttle::counters::Limits;
use crate::token::issue::secs;

/// The limits of login throttling (set with
/// [`AuthBuilder::throttle`](crate::AuthBuilder::throttle)).
///
/// ```
/// use std::time::Duration;
/// use jwtguard::{Auth, Throttle};
/// let auth = Auth::builder()
///     .secret("a-secret-of-at-least-32-bytes-long!!")
///     .throttle(Throttle::default().per_user(3).window(Duration::from_secs(300)))
///     .build()?;
/// # Ok::<(), jwtguard::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub(super) per_user: u32,
    pub(super) per_address: u32,
    pub(super) per_account: u32,
    pub(super) window: Duration,
    pub(super) ceiling: Duration,
    pub(super) remember: Duration,
}

impl Default for Throttle {
    /// Per minute: 5 attempts per (username, client), 20 failures per address, 50 attempts
    /// per username from clients it has never logged in from. The first lock lasts a minute
    /// and doubles on each further round, up to an hour. A client is known for 90 days after
    /// a successful login.
    fn default() -> Self {
        Self {
            per_user: 5,
            per_address: 20,
            per_account: 50,
            window: Duration::from_secs(60),
            ceiling: Duration::from_secs(3600),
            remember: Duration::from_secs(90 * 24 * 3600),
        }
    }
}

impl Throttle {
    /// Attempts per username from one client (device or address) per window (default 5).
    pub fn per_user(mut self, attempts: u32) -> Self {
        self.per_user = attempts;
        self
    }

    /// Failed attempts per client address per window, whatever the username (default 20).
    /// Successful logins never spend it: an office behind one address logs in all day.
    pub fn per_address(mut self, attempts: u32) -> Self {
        self.per_address = attempts;
        self
    }

    /// Attempts per username per window from clients the user has never logged in from
    /// (default 50): guessing spread over many addresses. The user's own devices and
    /// addresses are not held back by it.
    pub fn per_account(mut self, attempts: u32) -> Self {
        self.per_account = attempts;
        self
    }

    /// How long a device or address stays known to a user after a successful login
    /// (default 90 days).
    pub fn remember_clients(mut self, duration: Duration) -> Self {
        self.remember = duration;
        self
    }

    /// The window attempts are counted in, and the first lock's length (default 60 s).
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// The longest lock (default 1 h).
    pub fn ceiling(mut self, ceiling: Duration) -> Self {
        self.ceiling = ceiling;
        self
    }

    /// How long a client stays known, seconds (the device cookie's `Max-Age`).
    pub(crate) fn remembered_for(&self) -> i64 {
        secs(self.remember)
    }

    pub(super) fn limits(&self) -> Limits {
        // At most a year: the arithmetic of locks stays far from overflowing.
        const YEAR: i64 = 365 * 24 * 3600;
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(YEAR).clamp(1, YEAR);
        Limits {
            window: secs(self.window),
            ceiling: secs(self.ceiling).max(secs(self.window)),
        }
    }
}
