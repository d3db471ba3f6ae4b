//! Login throttling: failures counted per username and per client address, in the same store
//! as revocations, so that spreading guesses over instances buys nothing.
//!
//! An attempt is charged *before* the password is checked: of 100 concurrent guesses for one
//! user, at most the budget (5) reach the password check. A successful login clears the
//! username's counter; the address's stays (one address guessing many usernames is the
//! pattern it catches).

use std::net::IpAddr;
use std::time::Duration;

use crate::auth::Auth;
use crate::http::error::{AuthError, AuthErrorKind};
use crate::token::errors::TokenError;
use crate::token::revocation::{Charge, Limits, Verdict};
use crate::token::verify::now;

/// The counter of a username: its SHA-256 after trimming and lowercasing, so that `Ann`,
/// `ANN` and ` ann ` share one budget (applications look users up that way) and a megabyte
/// of username costs a counter of 43 bytes like any other.
fn user_key(username: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let normalized = username.trim().to_lowercase();
    let digest = sha2::Sha256::digest(normalized.as_bytes());
    format!(
        "user:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// The counter of a client address: an IPv4 address (IPv4-mapped IPv6 included) as it is,
/// an IPv6 address by its /64, the smallest block a single host is commonly given, so that a
/// host does not get 2^64 budgets.
fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => format!("addr:{v4}"),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("addr:{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
    }
}

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
    per_user: u32,
    per_address: u32,
    window: Duration,
    ceiling: Duration,
}

impl Default for Throttle {
    /// 5 attempts per username and 20 per client address per minute; the first lock lasts a
    /// minute and doubles on each further round, up to an hour.
    fn default() -> Self {
        Self {
            per_user: 5,
            per_address: 20,
            window: Duration::from_secs(60),
            ceiling: Duration::from_secs(3600),
        }
    }
}

impl Throttle {
    /// Attempts per username per window (default 5).
    pub fn per_user(mut self, attempts: u32) -> Self {
        self.per_user = attempts;
        self
    }

    /// Attempts per client address per window (default 20).
    pub fn per_address(mut self, attempts: u32) -> Self {
        self.per_address = attempts;
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

    fn limits(&self) -> Limits {
        // At most a year: the arithmetic of locks stays far from overflowing.
        const YEAR: i64 = 365 * 24 * 3600;
        let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(YEAR).clamp(1, YEAR);
        Limits {
            window: secs(self.window),
            ceiling: secs(self.ceiling).max(secs(self.window)),
        }
    }
}

/// A login attempt that was counted and may go on to the password check. Say how it ended
/// with [`succeeded`](Self::succeeded); a failure needs nothing (it was counted already).
#[derive(Debug)]
#[must_use = "call `succeeded` when the password was right, or the username's counter stays"]
pub struct Attempt {
    auth: Auth,
    user: String,
}

impl Attempt {
    /// The password was right: the username's counter is cleared.
    pub async fn succeeded(self) -> Result<(), AuthError> {
        self.auth
            .inner
            .store
            .forgive(&self.user)
            .await
            .map_err(|_| AuthError::from(TokenError::StoreUnavailable).with_auth(&self.auth))
    }
}

impl Auth {
    /// Charges a login attempt for `username` from `client` (the caller's address, `None`
    /// when unknown: then only the username is counted) **before** the password is checked.
    /// A locked username or address is a 429 with `Retry-After`, the same whether the user
    /// exists or not; an unreachable store is a 503 (never an unthrottled login). What
    /// `#[login(throttle = ...)]` and `#[token_endpoint]` do for you.
    pub async fn attempt(
        &self,
        username: &str,
        client: Option<IpAddr>,
    ) -> Result<Attempt, AuthError> {
        let throttle = &self.inner.throttle;
        let user = user_key(username);
        let address = client.map(address_key);
        let mut charges = vec![Charge {
            key: &user,
            limit: throttle.per_user,
        }];
        if let Some(address) = &address {
            charges.push(Charge {
                key: address,
                limit: throttle.per_address,
            });
        }
        let verdict = self
            .inner
            .store
            .attempt(&charges, throttle.limits(), now())
            .await
            .map_err(|_| AuthError::from(TokenError::StoreUnavailable).with_auth(self))?;
        match verdict {
            Verdict::Allowed => Ok(Attempt {
                auth: self.clone(),
                user,
            }),
            Verdict::Locked { retry_after } => Err(AuthError::new(AuthErrorKind::TooManyAttempts(
                u64::try_from(retry_after).unwrap_or(1),
            ))
            .with_auth(self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_that_name_the_same_user_share_a_counter() {
        assert_eq!(user_key("Ann@x.com"), user_key(" ann@X.COM "));
        assert_ne!(user_key("ann"), user_key("bob"));
        assert_eq!(user_key(&"a".repeat(1 << 20)).len(), user_key("a").len());
    }

    #[test]
    fn an_ipv6_host_gets_one_budget_for_its_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_key(one), address_key(two));
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(address_key(mapped), "addr:203.0.113.9");
    }
}
