//! The errors of the token core: a refused token, a token that could not be issued, a
//! configuration that could not start.

use jsonwebtoken::Algorithm;

/// Why a token was refused. The variants are stable; their text is safe to show to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not three base64url segments, not JSON, a claim of the wrong type or duplicated.
    #[error("the token is malformed")]
    Malformed,
    /// Longer than [`MAX_TOKEN_LEN`](crate::MAX_TOKEN_LEN) or a part too large to decode.
    #[error("the token is too large")]
    TooLarge,
    /// The header names an algorithm other than the key's (including `none`).
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// The header's `kid` names no configured key.
    #[error("the token's key id is unknown")]
    UnknownKey,
    /// The header has `crit`: extensions this verifier does not implement.
    #[error("the token requires unsupported extensions")]
    Critical,
    /// The signature does not match.
    #[error("the token's signature is invalid")]
    Signature,
    /// A required claim is missing.
    #[error("the token lacks a required claim")]
    MissingClaim(&'static str),
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// An access token where a refresh token is required, or the reverse.
    #[error("the token is of the wrong type for this endpoint")]
    WrongType,
    /// `aud` does not name this service (or is present when none is configured).
    #[error("the token is not meant for this audience")]
    Audience,
    /// `iss` is not the configured issuer (or the one its key is bound to).
    #[error("the token's issuer is not accepted")]
    Issuer,
    /// A refresh token signed by a foreign key: only this application's own tokens are
    /// renewed (see [`Key::own`](crate::Key::own)).
    #[error("the token was not issued by this application and cannot be renewed")]
    NotRenewable,
    /// Revoked: by its `jti`, with its refresh family, or by a newer version of its subject
    /// (a logout, a password change, a reused refresh token).
    #[error("the token has been revoked")]
    Revoked,
    /// A refresh token presented again after it was replaced (rotation), past the grace window
    /// or older than the token that replaced it: the whole session is revoked.
    #[error("the refresh token has already been used")]
    Reused,
    /// The token verified, but the user it names no longer exists
    /// ([`CurrentUser`](crate::CurrentUser)).
    #[error("the token's user no longer exists")]
    UnknownUser,
    /// The revocation store cannot tell whether the token is revoked (unreachable, or this
    /// instance's view may be stale): answered 503, never a guess.
    #[error("the revocation store is unavailable")]
    StoreUnavailable,
    /// The keys of the token's issuer (an identity provider) are not loaded yet, or are being
    /// fetched for a new `kid`, or have been served too long without a refresh: answered 503,
    /// never a 401 for a token that may be valid.
    #[error("the issuer's keys are unavailable")]
    KeysUnavailable,
}

impl TokenError {
    /// A stable, machine-readable name for the reason, as the JSON body of a refusal carries
    /// it in `reason` (`"expired"`, `"signature"`, `"revoked"`, ...): what a client shows or
    /// branches on without parsing `WWW-Authenticate`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::Algorithm => "algorithm",
            Self::UnknownKey => "unknown_key",
            Self::Critical => "critical",
            Self::Signature => "signature",
            Self::MissingClaim(_) => "missing_claim",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::WrongType => "wrong_type",
            Self::Audience => "audience",
            Self::Issuer => "issuer",
            Self::NotRenewable => "not_renewable",
            Self::Revoked => "revoked",
            Self::Reused => "reused",
            Self::UnknownUser => "unknown_user",
            Self::StoreUnavailable => "store_unavailable",
            Self::KeysUnavailable => "keys_unavailable",
        }
    }
}

/// Why a token could not be issued. These are server-side mistakes (a grant asking for a
/// reserved claim, say), answered with a 500 that reveals nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// Extra data tried to set a registered claim such as `sub` or `scopes`.
    #[error("extra data may not set the registered claim `{0}`")]
    ReservedClaim(String),
    /// An extra header tried to set `alg`, `kid`, `crit`, a key, or the like.
    #[error("an extra header may not set `{0}`")]
    ReservedHeader(String),
    /// Extra data did not serialize to a JSON object.
    #[error("extra data must serialize to a JSON object")]
    ExtraNotAnObject,
    /// Extra data or a header failed to serialize.
    #[error("extra data or a header failed to serialize")]
    Serialize,
    /// The signing backend failed.
    #[error("signing failed")]
    Sign,
    /// A `#[refresh]` handler returned a grant for another subject than the refresh token's.
    #[error("a refresh may only renew the refresh token's own subject")]
    SubjectChanged,
    /// The token would exceed the size every verifier refuses (8 KiB, 6 KiB of payload).
    #[error("the token would be larger than verification accepts")]
    TooLarge,
    /// The operating system's random source failed.
    #[error("no randomness available for the token id")]
    Random,
    /// An empty subject: verification refuses a token without `sub`.
    #[error("a grant needs a non-empty subject")]
    EmptySubject,
    /// A lifetime under one second (the token would expire as it is issued) or one that ends
    /// past year 9999 (verification refuses such an `exp`).
    #[error("a token lifetime must be at least one second and end before year 10000")]
    Lifetime,
    /// The refresh family has reached its absolute lifetime: the user must log in again.
    #[error("the session has reached its absolute lifetime")]
    FamilyEnded,
    /// The revocation store could not be asked for the subject's version, or could not
    /// record a revocation.
    #[error("the revocation store is unavailable")]
    StoreUnavailable,
}

/// Why `Auth` refused to start. Each message says what to do.
///
/// `Debug` writes the same message as `Display`: a `main` that returns
/// `Result<(), Box<dyn Error>>` prints the `Debug` form, and that is where a newcomer reads it.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key at all.
    #[error(
        "no signing key: set JWT_SECRET_KEY to a random secret of at least 32 bytes \
         (e.g. `openssl rand -base64 48`), or give AuthBuilder::secret / signing_key a key"
    )]
    MissingKey,
    /// An HMAC secret shorter than the algorithm's hash.
    #[error(
        "the {algorithm:?} secret is {got} bytes; it must be at least {min} (RFC 7518 §3.2): \
         use a random secret such as `openssl rand -base64 48`"
    )]
    SecretTooShort {
        /// The algorithm.
        algorithm: Algorithm,
        /// The least length accepted.
        min: usize,
        /// The length given.
        got: usize,
    },
    /// `JWT_ALGORITHM` names an asymmetric algorithm but `JWT_SECRET_KEY` holds no PEM.
    #[error(
        "JWT_ALGORITHM={0:?} signs with a private key: put its PEM (-----BEGIN PRIVATE KEY-----...) \
         in JWT_SECRET_KEY, or set JWT_ALGORITHM=HS256 to use an HMAC secret"
    )]
    SecretIsNotPem(Algorithm),
    /// A PEM that does not parse.
    #[error("the PEM key does not parse as {0}: give a PKCS#8 (or PKCS#1 RSA) PEM of that kind")]
    BadPem(&'static str),
    /// A key that does not suit its algorithm.
    #[error(
        "algorithm {0:?} needs {1}; the key given is not one: choose the algorithm that fits the key"
    )]
    KeyDoesNotFit(Algorithm, &'static str),
    /// An RSA key whose modulus is shorter than 2048 bits (NIST SP 800-131A, RFC 7518 §3.3).
    #[error(
        "RSA keys must be at least 2048 bits; this one has {bits}: generate one with \
         `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072` (its public half with \
         `openssl pkey -pubout`)"
    )]
    WeakKey {
        /// The modulus length of the key given, in bits.
        bits: usize,
    },
    /// An algorithm this crate does not accept.
    #[error(
        "algorithm {0:?} is not supported: use HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA"
    )]
    UnsupportedAlgorithm(Algorithm),
    /// `JWT_ALGORITHM` names no algorithm.
    #[error("JWT_ALGORITHM={0:?} is not an algorithm: use e.g. HS256, RS256, ES256 or EdDSA")]
    UnknownAlgorithm(String),
    /// A public key was given to sign with.
    #[error(
        "a public key cannot sign: give the private key as the signing key, the public one as a verification key"
    )]
    PublicKeyCannotSign,
    /// Two verification keys share a `kid`, or two have none.
    #[error(
        "two verification keys have the same kid {0:?}: every key needs its own kid (at most one may have none)"
    )]
    DuplicateKid(Option<String>),
    /// `TokenLocation::Cookie` without cookie mode.
    #[error(
        "token_locations names the cookie, but cookie mode is off: call AuthBuilder::cookies(Cookies::default())"
    )]
    CookiesNotConfigured,
    /// The revocation store named by the configuration cannot be used.
    #[error("the revocation store cannot be used: {0}")]
    Store(&'static str),
    /// A trusted proxy network is not an address or CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
    #[error("trusted proxies: `{0}` is not an address or CIDR block such as 10.0.0.0/8")]
    Proxy(String),
    /// A header name given in the configuration is not a valid HTTP header name.
    #[error("`{0}` is not a valid HTTP header name")]
    HeaderName(String),
    /// A trusted issuer (`TrustedIssuer`) cannot be used: no audience, its URL, its keys...
    #[error("trusted issuer `{issuer}`: {why}")]
    TrustedIssuer {
        /// The issuer, as configured.
        issuer: String,
        /// What is wrong, and what to do.
        why: String,
    },
    /// An environment variable holds something that is not what it should be.
    #[error("{name} must be {expected}")]
    BadVariable {
        /// The variable.
        name: &'static str,
        /// What it must hold.
        expected: &'static str,
    },
}

impl std::fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
