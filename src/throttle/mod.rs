//! Login throttling: failures counted in the same store as revocations, so that spreading
//! guesses over instances buys nothing, with locks an attacker cannot aim at the user.
//!
//! Three counters, each charged *before* the password is checked (of 100 concurrent guesses,
//! at most the budget reach the password check):
//!
//! - **(user, client)**: the lock. The client is the device (a device cookie set at a login,
//!   in cookie mode) and the address; a device the user has logged in from is not held back
//!   by its address's pair, and a made-up device id is held back by it.
//! - **address**: failures only (a success takes its attempt back), across usernames, from
//!   clients the user has never logged in from: one address guessing many users.
//! - **user**, from clients the user has never logged in from: distributed guessing over many
//!   addresses, bounded per user, while the user's known devices and addresses go on.
//!
//! A success forgets the (user, client) counter and remembers the client as known.

pub(crate) mod counters;
pub(crate) mod limits;
pub(crate) mod username;

pub use limits::Throttle;

use std::net::IpAddr;

use crate::auth::Auth;
use crate::clock::now;
use crate::token::errors::TokenError;
use crate::token::revocation::{Charge, Success, Verdict};
use crate::web::error::{AuthError, AuthErrorKind};

/// `prefix` and the base64url SHA-256 of `parts` joined: a megabyte of username costs a
/// counter of 43 bytes like any other, and no key shows a username.
fn hashed(prefix: &str, parts: &[&str]) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut digest = sha2::Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            digest.update([0]);
        }
        digest.update(part.as_bytes());
    }
    format!(
        "{prefix}:{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.finalize())
    )
}

/// The counter of a username, in its canonical form (see `username.rs`): `Ann`, `ANN`,
/// ` ann `, full-width `ａｎｎ` and `an\u{200B}n` share one budget.
fn user_key(username: &str) -> String {
    hashed("user", &[&crate::throttle::username::canonical(username)])
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

/// Who is logging in, for throttling: the client's address and, in cookie mode, the device
/// cookie a browser got at an earlier login. `From<Option<IpAddr>>` and `From<IpAddr>` for the
/// address alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginClient {
    /// The client's address (the TCP peer, or what a trusted proxy says).
    pub address: Option<IpAddr>,
    /// The device id from the device cookie, if the browser sent one.
    pub device: Option<String>,
}

impl From<Option<IpAddr>> for LoginClient {
    fn from(address: Option<IpAddr>) -> Self {
        Self {
            address,
            device: None,
        }
    }
}

impl From<IpAddr> for LoginClient {
    fn from(address: IpAddr) -> Self {
        Some(address).into()
    }
}

/// A login attempt that was counted and may go on to the password check. Say how it ended
/// with [`succeeded`](Self::succeeded); a failure needs nothing (it was counted already).
#[derive(Debug)]
#[must_use = "call `succeeded` when the password was right, or the attempt stays counted"]
pub struct Attempt {
    auth: Auth,
    /// The (user, client) counters a success clears.
    forgive: Vec<String>,
    /// The counters a success takes its attempt back from: the address's, the user's.
    refund: Vec<String>,
    known: Vec<String>,
    /// The device id to hand the browser (in cookie mode): the one it sent, or a new one.
    device: Option<String>,
}

impl Attempt {
    /// The password was right: the (user, client) counter is cleared, the address gets its
    /// attempt back, and the client becomes known to the user.
    pub async fn succeeded(self) -> Result<(), AuthError> {
        self.record().await.map(|_| ())
    }

    /// [`succeeded`](Self::succeeded), returning the device id to set in the device cookie.
    pub(crate) async fn record(self) -> Result<Option<String>, AuthError> {
        if self.forgive.is_empty() && self.refund.is_empty() && self.known.is_empty() {
            // Nothing was counted (no address to count): nothing to give back.
            return Ok(self.device);
        }
        let remember = self.auth.inner.throttle.remembered_for();
        let known: Vec<&str> = self.known.iter().map(String::as_str).collect();
        let refund: Vec<&str> = self.refund.iter().map(String::as_str).collect();
        let forgive: Vec<&str> = self.forgive.iter().map(String::as_str).collect();
        let success = Success {
            forgive: &forgive,
            refund: &refund,
            remember: &known,
            until: now().saturating_add(remember),
        };
        self.auth
            .inner
            .store
            .succeeded(&success)
            .await
            .map_err(|_| AuthError::from(TokenError::StoreUnavailable).with_auth(&self.auth))?;
        Ok(self.device)
    }
}

/// Without `ConnectInfo` (a server not made with `into_make_service_with_connect_info`) no
/// client has an address: only usernames (and devices) are counted. Said once.
fn no_address_warning() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "jwtguard: a login without a client address: serve the app with \
             `into_make_service_with_connect_info::<SocketAddr>()` (and name your proxies with \
             `AuthBuilder::trusted_proxies`), or login throttling counts usernames only"
        );
    }
}

impl Auth {
    /// The 429 of a locked attempt, with `Retry-After`.
    fn locked(&self, retry_after: i64) -> AuthError {
        AuthError::new(AuthErrorKind::TooManyAttempts(
            u64::try_from(retry_after).unwrap_or(1),
        ))
        .with_auth(self)
    }

    /// A login attempt whose username the application does not name (`#[login]` without
    /// `throttle = ...`): charged to the client's address alone, failures only (a success
    /// takes its attempt back), [`Throttle::per_address`] per window. Without an address
    /// nothing can be counted: it is allowed, and the missing `ConnectInfo` is warned about.
    // Called by `#[login]` without `throttle = ...` (wired in the macros' next step).
    #[allow(dead_code)]
    pub(crate) async fn attempt_unnamed(
        &self,
        client: impl Into<LoginClient>,
    ) -> Result<Attempt, AuthError> {
        let unnamed = |refund: Vec<String>| Attempt {
            auth: self.clone(),
            forgive: Vec::new(),
            refund,
            known: Vec::new(),
            device: None,
        };
        let Some(address) = client.into().address.map(address_key) else {
            no_address_warning();
            return Ok(unnamed(Vec::new()));
        };
        let throttle = &self.inner.throttle;
        let charges = [Charge {
            key: &address,
            limit: throttle.per_address,
            unless_known: false,
        }];
        let verdict = self
            .inner
            .store
            .attempt(&charges, &[], throttle.limits(), now())
            .await
            .map_err(|_| AuthError::from(TokenError::StoreUnavailable).with_auth(self))?;
        match verdict {
            Verdict::Allowed | Verdict::KnownClient => Ok(unnamed(vec![address])),
            Verdict::Locked { retry_after } => Err(self.locked(retry_after)),
        }
    }

    /// Charges a login attempt for `username` from `client` (its address, `None` when
    /// unknown, or a [`LoginClient`] with the device cookie) **before** the password is
    /// checked. A locked (username, client), address or username is a 429 with
    /// `Retry-After`, the same whether the user exists or not; an unreachable store is a 503
    /// (never an unthrottled login). What `#[login(throttle = ...)]` and `#[token_endpoint]`
    /// do for you.
    ///
    /// `username` is compared in its Unicode canonical form (case folded, compatibility
    /// normalised, invisible characters removed); an application with other rules can pass
    /// its own canonical user id instead.
    pub async fn attempt(
        &self,
        username: &str,
        client: impl Into<LoginClient>,
    ) -> Result<Attempt, AuthError> {
        let client = client.into();
        let throttle = &self.inner.throttle;
        let user = user_key(username);
        let device = client
            .device
            .as_deref()
            .filter(|d| crate::token::issue::Id::parse(d).is_some());
        let address = client.address.map(address_key);
        let device_id = device.map(|d| hashed("dev", &[d]));
        if device_id.is_none() && address.is_none() {
            no_address_warning();
        }
        // Who vouches for the client: its device when it shows one (an id it made up is merely
        // unknown), else its address.
        let known: Vec<String> = device_id
            .as_ref()
            .or(address.as_ref())
            .map(|id| hashed("known", &[&user, id]))
            .into_iter()
            .collect();
        let device_pair = device_id.as_ref().map(|id| hashed("pair", &[&user, id]));
        let address_pair = address.as_ref().map(|a| hashed("pair", &[&user, a]));
        let mut charges = Vec::new();
        if let Some(pair) = &device_pair {
            charges.push(Charge {
                key: pair,
                limit: throttle.per_user,
                unless_known: false,
            });
        }
        if let Some(pair) = &address_pair {
            // Beside a device, the address's pair holds back made-up device ids, and is no
            // concern of a device the user has logged in from.
            charges.push(Charge {
                key: pair,
                limit: throttle.per_user,
                unless_known: device_pair.is_some(),
            });
        }
        if let Some(address) = &address {
            charges.push(Charge {
                key: address,
                limit: throttle.per_address,
                unless_known: true,
            });
        }
        charges.push(Charge {
            key: &user,
            limit: throttle.per_account,
            unless_known: true,
        });
        let known_keys: Vec<&str> = known.iter().map(String::as_str).collect();
        let verdict = self
            .inner
            .store
            .attempt(&charges, &known_keys, throttle.limits(), now())
            .await
            .map_err(|_| AuthError::from(TokenError::StoreUnavailable).with_auth(self))?;
        match verdict {
            Verdict::Allowed | Verdict::KnownClient => {
                // Remembered on success: the device and the address, for this user.
                let mut known: Vec<String> = device_id
                    .iter()
                    .chain(&address)
                    .map(|id| hashed("known", &[&user, id]))
                    .collect();
                let device = match (device, &self.inner.cookies) {
                    (Some(device), _) => Some(device.to_owned()),
                    // A browser without a device cookie gets one with its first login here.
                    (None, Some(_)) => {
                        let [id] = crate::token::issue::ids()
                            .map_err(|e| AuthError::from(e).with_auth(self))?;
                        known.push(hashed("known", &[&user, &hashed("dev", &[id.as_str()])]));
                        Some(id.as_str().to_owned())
                    }
                    (None, None) => None,
                };
                Ok(Attempt {
                    auth: self.clone(),
                    forgive: device_pair.into_iter().chain(address_pair).collect(),
                    // The address's and the user's budgets were charged only for an unknown
                    // client.
                    refund: if verdict == Verdict::Allowed {
                        address.into_iter().chain([user]).collect()
                    } else {
                        Vec::new()
                    },
                    known,
                    device,
                })
            }
            Verdict::Locked { retry_after } => Err(self.locked(retry_after)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_that_name_the_same_user_share_a_counter() {
        assert_eq!(user_key("Ann@x.com"), user_key(" ann@X.COM "));
        assert_eq!(user_key("admin"), user_key("ａｄｍｉｎ"));
        assert_eq!(user_key("admin"), user_key("ad\u{200B}min"));
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
