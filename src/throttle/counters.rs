//! The arithmetic of login throttling, shared by the stores: a counter of attempts per key
//! (a username, a client address) in a window, a lock when the budget is spent, and a lock
//! that doubles on each further round, up to a ceiling. `RedisStore` runs the same rules in
//! Lua (`store/redis.rs`); the tests hold both to them.

/// What an attempt is charged to: a key and its budget per window.
#[derive(Debug, Clone, Copy)]
pub struct Charge<'a> {
    /// `pair:<user and client>`, `addr:<ip>` or `user:<name>`.
    pub key: &'a str,
    /// Attempts allowed per window.
    pub limit: u32,
    /// Skipped (neither checked nor counted) for a client the user has logged in from.
    pub unless_known: bool,
}

/// What a successful login tells the store.
#[derive(Debug, Clone, Copy)]
pub struct Success<'a> {
    /// The (user, client) counters to forget.
    pub forgive: &'a [&'a str],
    /// The counters (address, user) to take the attempt back from: a success spends no
    /// budget but its (user, client) one, which it clears.
    pub refund: &'a [&'a str],
    /// The clients (device, address) to remember as known for this user...
    pub remember: &'a [&'a str],
    /// ...until then.
    pub until: i64,
}

/// The window and the longest lock, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Attempts are counted in windows of this length; the first lock lasts as long.
    pub window: i64,
    /// No lock lasts longer.
    pub ceiling: i64,
}

/// Whether an attempt may go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted: go on and check the password.
    Allowed,
    /// Counted, from a client the user has logged in from before (the per-user budget for
    /// unknown clients was not charged): go on and check the password.
    KnownClient,
    /// Too many attempts: try again in this many seconds (`Retry-After`).
    Locked {
        /// Seconds until the lock ends.
        retry_after: i64,
    },
}

/// One key's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counter {
    pub(crate) count: u32,
    pub(crate) start: i64,
    pub(crate) locked_until: i64,
    pub(crate) rounds: u32,
}

impl Counter {
    /// The lock this counter is under at `now`, or the lock that spending its budget starts
    /// (recorded); `None`: the attempt fits the budget (not yet counted, see [`count`]).
    pub(crate) fn lock(&mut self, limit: u32, limits: Limits, now: i64) -> Option<i64> {
        if self.locked_until > now {
            return Some(self.locked_until - now);
        }
        if now - self.start >= limits.window {
            self.count = 0;
            self.start = now;
        }
        if self.count < limit {
            return None;
        }
        let lock = limits
            .window
            .saturating_mul(1 << self.rounds.min(30))
            .min(limits.ceiling)
            .max(1);
        self.rounds = self.rounds.saturating_add(1);
        self.locked_until = now + lock;
        self.count = 0;
        self.start = now;
        Some(lock)
    }

    /// Counts an attempt that every charge allowed.
    pub(crate) fn count(&mut self) {
        self.count = self.count.saturating_add(1);
    }

    /// Takes one attempt back (it turned out to be a success).
    pub(crate) fn refund(&mut self) {
        self.count = self.count.saturating_sub(1);
    }

    /// When the counter may be forgotten: after its window and its lock, plus the ceiling (so
    /// that a returning attacker's rounds, and so the doubling, are remembered).
    pub(crate) fn until(&self, limits: Limits) -> i64 {
        (self.start + limits.window)
            .max(self.locked_until)
            .saturating_add(limits.ceiling)
    }
}

/// Charges an attempt to every counter: locked if any of them is, else counted on all.
pub(crate) fn charge(counters: &mut [(&mut Counter, u32)], limits: Limits, now: i64) -> Verdict {
    let mut retry_after = 0;
    for (counter, limit) in counters.iter_mut() {
        if let Some(lock) = counter.lock(*limit, limits, now) {
            retry_after = retry_after.max(lock);
        }
    }
    if retry_after > 0 {
        return Verdict::Locked { retry_after };
    }
    for (counter, _) in counters.iter_mut() {
        counter.count();
    }
    Verdict::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        window: 60,
        ceiling: 3600,
    };

    fn attempt(counter: &mut Counter, now: i64) -> Verdict {
        charge(&mut [(counter, 5)], LIMITS, now)
    }

    #[test]
    fn five_attempts_then_a_lock_that_doubles_up_to_the_ceiling() {
        let mut counter = Counter::default();
        for _ in 0..5 {
            assert_eq!(attempt(&mut counter, 100), Verdict::Allowed);
        }
        assert_eq!(
            attempt(&mut counter, 100),
            Verdict::Locked { retry_after: 60 }
        );
        assert_eq!(
            attempt(&mut counter, 130),
            Verdict::Locked { retry_after: 30 }
        );
        let mut now = 160;
        let mut expected = 120;
        for _ in 0..8 {
            for _ in 0..5 {
                assert_eq!(attempt(&mut counter, now), Verdict::Allowed);
            }
            assert_eq!(
                attempt(&mut counter, now),
                Verdict::Locked {
                    retry_after: expected.min(3600)
                }
            );
            now += expected.min(3600);
            expected *= 2;
        }
    }

    #[test]
    fn a_new_window_starts_a_new_count() {
        let mut counter = Counter::default();
        for _ in 0..4 {
            assert_eq!(attempt(&mut counter, 100), Verdict::Allowed);
        }
        for _ in 0..5 {
            assert_eq!(attempt(&mut counter, 161), Verdict::Allowed);
        }
    }

    #[test]
    fn any_locked_counter_locks_and_nothing_is_counted() {
        let (mut user, mut address) = (Counter::default(), Counter::default());
        for _ in 0..3 {
            charge(&mut [(&mut user, 5), (&mut address, 3)], LIMITS, 100);
        }
        let verdict = charge(&mut [(&mut user, 5), (&mut address, 3)], LIMITS, 100);
        assert_eq!(verdict, Verdict::Locked { retry_after: 60 });
        assert_eq!(
            user.count, 3,
            "the refused attempt is not charged to the user"
        );
    }
}
