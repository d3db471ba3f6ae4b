//! `Grant`: what a login or refresh handler decides, before anything is signed.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{Claims, Verified};
use super::errors::IssueError;
use super::kind::TokenKind;
use super::scope::{Scope, covers};

/// Claim names a grant's extra data may not set: they are the token's own.
pub(crate) const RESERVED_CLAIMS: &[&str] = &[
    "sub", "iat", "nbf", "exp", "jti", "type", "fresh", "scopes", "iss", "aud", "ver", "csrf",
    "fam", "fam_exp", "att",
];
/// Header names a grant may not set: they decide how the token is verified.
pub(crate) const RESERVED_HEADERS: &[&str] = &[
    "alg", "typ", "kid", "crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "b64", "zip",
    "enc", "cty",
];

/// What a `#[login]` or `#[refresh]` handler returns: who gets a token pair, with which scopes
/// and data. The macro signs it and answers with a [`TokenResponse`](crate::TokenResponse).
///
/// The options mirror AuthX's `create_token_pair`: subject, freshness, extra headers, access
/// and refresh expiry, extra data, audience, access and refresh scopes.
///
/// ```
/// use std::time::Duration;
/// use jwtguard::{scopes, Grant};
///
/// scopes! { REPORTS_READ = "reports:read" }
///
/// #[derive(serde::Serialize)]
/// struct Profile { tenant: &'static str }
///
/// let grant = Grant::to("user-42")
///     .scopes([REPORTS_READ])
///     .extra(Profile { tenant: "acme" })
///     .access_ttl(Duration::from_secs(600));
/// assert_eq!(grant.sub(), "user-42");
/// ```
#[derive(Clone)]
pub struct Grant {
    pub(crate) sub: String,
    pub(crate) fresh: bool,
    pub(crate) scopes: Vec<Cow<'static, str>>,
    pub(crate) refresh_scopes: Option<Vec<Cow<'static, str>>>,
    pub(crate) extra: Result<Option<Map<String, Value>>, IssueError>,
    pub(crate) headers: Result<Map<String, Value>, IssueError>,
    pub(crate) access_ttl: Option<Duration>,
    pub(crate) refresh_ttl: Option<Duration>,
    pub(crate) audience: Option<Audience>,
}

/// A grant's `aud`: one audience, or the several a renewed token carried (AuthX may write a
/// list); written as it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Grant {
    /// A grant for the subject `sub` (a user id: anything that displays, e.g. a `String` or
    /// a `u64`), with no scopes.
    pub fn to(sub: impl fmt::Display) -> Self {
        Self {
            sub: sub.to_string(),
            fresh: true,
            scopes: Vec::new(),
            refresh_scopes: None,
            extra: Ok(None),
            headers: Ok(Map::new()),
            access_ttl: None,
            refresh_ttl: None,
            audience: None,
        }
    }

    /// A grant that renews what a token carries: its subject, its scopes and its extra claims,
    /// and the terms its session was started with at login. The `#[refresh]` macro makes the
    /// new access token non-fresh.
    ///
    /// # The session's terms
    ///
    /// A refresh never widens a session. The renewed tokens keep:
    ///
    /// - the **audience**: the token's `aud` (what the login's [`audience`](Self::audience)
    ///   chose, or the configured one it was issued with), never switched to the default;
    /// - the **access-token lifetime** chosen at login ([`access_ttl`](Self::access_ttl), or
    ///   the default of that time): a refresh token carries it in its `att` claim (seconds);
    ///   renewing from an access token keeps that token's own `exp - iat`;
    /// - the **refresh-token lifetime** chosen at login ([`refresh_ttl`](Self::refresh_ttl),
    ///   or the default): a refresh token's own `exp - iat`;
    /// - the **session's end** (`fam_exp`): no token of the session outlives it, whatever the
    ///   lifetimes say.
    ///
    /// `#[refresh]`, the token endpoint's refresh grant, [`Auth::refresh_token_pair`] and
    /// implicit refresh all renew this way; a `#[refresh]` handler that builds its grant
    /// with [`Grant::to`] instead still gets the refresh token's terms for whatever it leaves
    /// unset. Changing a term on refresh takes an explicit call, which wins:
    ///
    /// ```
    /// use std::time::Duration;
    /// use jwtguard::{refresh, Claims, Grant};
    ///
    /// #[refresh]
    /// async fn renew(claims: Claims) -> Grant {
    ///     // The login's audience and refresh lifetime, but 5-minute access tokens from now on.
    ///     Grant::renew(&claims).access_ttl(Duration::from_secs(300))
    /// }
    /// ```
    ///
    /// [`Auth::refresh_token_pair`]: crate::Auth::refresh_token_pair
    pub fn renew<E>(claims: &Claims<E>) -> Self {
        let mut grant = Self::to(claims.sub());
        grant.scopes = claims.scopes().into_iter().map(Cow::Owned).collect();
        let mut extra = serde_json::from_str::<Map<String, Value>>(claims.verified.payload())
            .unwrap_or_default();
        grant.audience = extra
            .get("aud")
            .and_then(|aud| Audience::deserialize(aud).ok());
        extra.retain(|name, _| !RESERVED_CLAIMS.contains(&name.as_str()));
        if !extra.is_empty() {
            grant.extra = Ok(Some(extra));
        }
        grant.keep_lifetimes(&claims.verified);
        grant
    }

    /// Gives whatever of the session's terms the grant leaves unset (audience, access and
    /// refresh lifetimes) the values `token` carries, as [`renew`](Self::renew) does: what a
    /// refresh handler did not change explicitly stays the login's.
    pub(crate) fn keep_terms(&mut self, token: &Verified) {
        #[derive(Deserialize)]
        struct Aud {
            #[serde(default)]
            aud: Option<Audience>,
        }
        if self.audience.is_none() {
            self.audience = serde_json::from_str::<Aud>(token.payload())
                .ok()
                .and_then(|read| read.aud);
        }
        self.keep_lifetimes(token);
    }

    /// The lifetimes `token` says its session was given, where the grant sets none: a refresh
    /// token's own (`exp - iat`) and the access tokens' (`att`); an access token's own. A
    /// lifetime cut by the session's end still ends there next time: `now >= iat`.
    fn keep_lifetimes(&mut self, token: &Verified) {
        let own = u64::try_from(token.exp.saturating_sub(token.iat))
            .ok()
            .filter(|secs| *secs > 0)
            .map(Duration::from_secs);
        match token.kind {
            TokenKind::Access => {
                self.access_ttl = self.access_ttl.or(own);
            }
            TokenKind::Refresh => {
                self.access_ttl = self
                    .access_ttl
                    .or(token.att.map(|secs| Duration::from_secs(u64::from(secs))));
                self.refresh_ttl = self.refresh_ttl.or(own);
            }
        }
    }

    /// The scopes of the access token (and of the refresh token, unless
    /// [`refresh_scopes`](Self::refresh_scopes) says otherwise), replacing any set before.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.scopes = scopes
            .into_iter()
            .map(|s| Cow::Borrowed(s.name()))
            .collect();
        self
    }

    /// The scopes of the refresh token only: the most a refresh may ever grant again.
    pub fn refresh_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
        self.refresh_scopes = Some(
            scopes
                .into_iter()
                .map(|s| Cow::Borrowed(s.name()))
                .collect(),
        );
        self
    }

    /// Keeps only the scopes named in `requested`, an OAuth 2 space-separated `scope`
    /// parameter: a client may narrow its grant, never widen it. A held wildcard `ns:*`
    /// narrows to the requested scopes under it (`reports:*` asked for `reports:read` gives
    /// `reports:read`); a requested wildcard keeps the held scopes it covers.
    pub fn narrow_to(mut self, requested: &str) -> Self {
        self.restrict(&scope_list(requested));
        self
    }

    /// Marks the access token fresh or not. A grant is fresh unless set to `false` here,
    /// wherever it is signed (`#[login]`, the token endpoint, [`Auth::create_token_pair`],
    /// [`Auth::create_access_token`]): signing a grant is a login. A renewal (`#[refresh]`,
    /// implicit refresh) is never fresh, whatever its grant says.
    ///
    /// [`Auth::create_token_pair`]: crate::Auth::create_token_pair
    /// [`Auth::create_access_token`]: crate::Auth::create_access_token
    pub fn fresh(mut self, fresh: bool) -> Self {
        self.fresh = fresh;
        self
    }

    /// Extra claims, added to both tokens: any `Serialize` type that serializes to a JSON
    /// object. Names of registered claims (`sub`, `exp`, `scopes`, ...) are refused when the
    /// pair is issued, never silently overwritten.
    pub fn extra(mut self, data: impl Serialize) -> Self {
        self.extra = match serde_json::to_value(data) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(IssueError::ExtraNotAnObject),
            Err(_) => Err(IssueError::Serialize),
        };
        self
    }

    /// An extra JOSE header member for both tokens. `alg`, `kid`, `typ`, `crit`, `jwk`,
    /// `jku`, `x5u`, `x5c` and the like are refused when the pair is issued.
    pub fn header(mut self, name: impl Into<String>, value: impl Serialize) -> Self {
        if let Ok(headers) = &mut self.headers {
            match serde_json::to_value(value) {
                Ok(value) => {
                    headers.insert(name.into(), value);
                }
                Err(_) => self.headers = Err(IssueError::Serialize),
            }
        }
        self
    }

    /// How long the access token lives, instead of the configured default (on a refresh,
    /// instead of the session's: see [`renew`](Self::renew)).
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access_ttl = Some(ttl);
        self
    }

    /// How long the refresh token lives, instead of the configured default (on a refresh,
    /// instead of the session's). Never past the session's end.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = Some(ttl);
        self
    }

    /// The `aud` of both tokens, instead of the configured audience (on a refresh, instead
    /// of the session's).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(Audience::One(audience.into()));
        self
    }

    /// The subject.
    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// The access token's scope names.
    pub fn scope_names(&self) -> impl Iterator<Item = &str> {
        self.scopes.iter().map(|s| &**s)
    }

    /// What a refresh of `token` may issue: this grant, for the token's own subject only (a
    /// grant for another subject would let any refresh token mint tokens for anyone the
    /// handler names), with no scope the refresh token does not hold nor `ceiling` allows, and
    /// the session's audience and lifetimes (see [`renew`](Self::renew)). The one rule of
    /// every refresh: `#[refresh]`, the token endpoint's refresh grant.
    pub(crate) fn renewing(
        mut self,
        token: &Verified,
        ceiling: Option<&'static [&'static str]>,
    ) -> Result<Self, IssueError> {
        if self.sub() != token.sub() {
            return Err(IssueError::SubjectChanged);
        }
        let held: Vec<Cow<'static, str>> =
            token.scope_names().into_iter().map(Cow::Owned).collect();
        self.restrict(&held);
        self.clamp_to(ceiling);
        self.keep_terms(token);
        Ok(self)
    }

    /// Whether `requested` (an RFC 6749 `scope`) asks for a scope this grant does not hold.
    pub(crate) fn exceeds(&self, requested: &str) -> bool {
        scope_list(requested)
            .iter()
            .any(|want| !self.scopes.iter().any(|held| covers(held, want)))
    }

    /// Cuts every scope (access and refresh) down to what `allowed` permits; see
    /// [`intersect`].
    pub(crate) fn restrict(&mut self, allowed: &[Cow<'static, str>]) {
        self.scopes = intersect(&self.scopes, allowed);
        if let Some(refresh) = &mut self.refresh_scopes {
            *refresh = intersect(refresh, allowed);
        }
    }

    /// [`restrict`](Self::restrict) to an attribute's ceiling, when it has one.
    pub(crate) fn clamp_to(&mut self, ceiling: Option<&[&'static str]>) {
        if let Some(ceiling) = ceiling {
            let allowed: Vec<Cow<'static, str>> =
                ceiling.iter().map(|s| Cow::Borrowed(*s)).collect();
            self.restrict(&allowed);
        }
    }
}

/// The scopes of an OAuth 2 `scope` parameter (space-separated).
pub(crate) fn scope_list(requested: &str) -> Vec<Cow<'static, str>> {
    requested
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| Cow::Owned(s.to_owned()))
        .collect()
}

/// The scopes both `held` and `allowed` grant, wildcards on either side understood: a held
/// scope that `allowed` covers stays as it is; a held wildcard that `allowed` does not cover
/// becomes the allowed scopes under it. Order is `held`'s, without duplicates.
pub(crate) fn intersect(
    held: &[Cow<'static, str>],
    allowed: &[Cow<'static, str>],
) -> Vec<Cow<'static, str>> {
    let mut out: Vec<Cow<'static, str>> = Vec::new();
    let mut keep = |scope: &Cow<'static, str>| {
        if !out.contains(scope) {
            out.push(scope.clone());
        }
    };
    for h in held {
        if allowed.iter().any(|a| covers(a, h)) {
            keep(h);
        } else {
            allowed.iter().filter(|a| covers(h, a)).for_each(&mut keep);
        }
    }
    out
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("sub", &self.sub)
            .field("fresh", &self.fresh)
            .field("scopes", &self.scopes)
            .field("refresh_scopes", &self.refresh_scopes)
            .finish_non_exhaustive()
    }
}
