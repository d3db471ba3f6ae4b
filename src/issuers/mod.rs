//! Tokens from identity providers: each trusted issuer's keys (fetched and kept current in
//! `refresh.rs`, read in `keys.rs`, over `fetch.rs`), and the verification of a token routed
//! to it by its `iss`, its claims mapped into the declared scopes.

mod config;
mod fetch;
mod keys;
mod refresh;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use config::{ScopeClaim, TrustedIssuer, Typing};
use refresh::{IssuerState, Lookup};

use crate::token::errors::{ConfigError, TokenError};
use crate::token::kind::TokenKind;
use crate::token::parse::{Header, Payload};
use crate::token::scope::{Registry, ScopeSet};

/// A token cut at its dots.
#[derive(Clone, Copy)]
pub(crate) struct Segments<'t> {
    pub(crate) header: &'t str,
    /// Header and payload with the dot between them: what the signature signs.
    pub(crate) signing_input: &'t str,
    pub(crate) signature: &'t str,
}

/// The issuers an `Auth` trusts besides itself.
pub(crate) struct Trusted {
    issuers: Vec<Arc<IssuerState>>,
}

/// A remote token that passed every check: its payload and the scope names its claims map to.
pub(crate) struct RemoteToken<'j> {
    pub(crate) payload: Payload<'j>,
    pub(crate) scope_names: Vec<String>,
    pub(crate) key_id: Option<Arc<str>>,
}

impl Trusted {
    pub(crate) fn new(
        issuers: Vec<TrustedIssuer>,
        own_issuer: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let mut states = Vec::with_capacity(issuers.len());
        for issuer in issuers {
            let name = issuer.issuer.clone();
            let refuse = |why: String| ConfigError::TrustedIssuer {
                issuer: name.clone(),
                why,
            };
            if issuer.audiences.is_empty() {
                return Err(refuse(
                    "no audience: name the audience this service accepts (.audience(..))".into(),
                ));
            }
            if issuer.algorithms.is_empty() {
                return Err(refuse("no algorithm is accepted".into()));
            }
            let names = |config: &TrustedIssuer| -> Vec<String> {
                std::iter::once(config.issuer.clone())
                    .chain(config.aliases.iter().cloned())
                    .collect()
            };
            let mine = names(&issuer);
            let taken = states
                .iter()
                .flat_map(|s: &Arc<IssuerState>| names(&s.config))
                .chain(own_issuer.map(str::to_owned))
                .find(|name| mine.contains(name));
            if let Some(name) = taken {
                return Err(refuse(format!(
                    "`{name}` is already this application's issuer or another trusted issuer's: a token must route to one issuer only"
                )));
            }
            states.push(Arc::new(IssuerState::new(issuer).map_err(refuse)?));
        }
        let trusted = Self { issuers: states };
        for state in &trusted.issuers {
            state.start();
        }
        Ok(trusted)
    }

    /// The issuer whose `iss` (or alias) this is.
    fn route(&self, iss: &str) -> Option<&Arc<IssuerState>> {
        self.issuers.iter().find(|state| {
            state.config.issuer == iss || state.config.aliases.iter().any(|a| a == iss)
        })
    }

    /// Verifies a token whose `iss` names a trusted issuer: header, key, signature, then
    /// claims. `None`: no trusted issuer has this name, the token is this application's own.
    pub(crate) fn verify<'j>(
        &self,
        iss: &str,
        token: Segments<'_>,
        json: &'j str,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
    ) -> Option<Result<RemoteToken<'j>, TokenError>> {
        let state = self.route(iss)?;
        Some(Self::verify_with(state, token, json, expect, registry, now))
    }

    fn verify_with<'j>(
        state: &Arc<IssuerState>,
        token: Segments<'_>,
        json: &'j str,
        expect: TokenKind,
        registry: Option<&Registry>,
        now: i64,
    ) -> Result<RemoteToken<'j>, TokenError> {
        if expect != TokenKind::Access {
            // An identity provider's tokens are renewed by the provider, never here.
            return Err(TokenError::NotRenewable);
        }
        let mut buf = [0u8; 1024];
        let len = URL_SAFE_NO_PAD
            .decode_slice(token.header, &mut buf)
            .map_err(|_| TokenError::Malformed)?;
        let text = std::str::from_utf8(&buf[..len]).map_err(|_| TokenError::Malformed)?;
        let parsed: Header<'_> = serde_json::from_str(text).map_err(|_| TokenError::Malformed)?;
        if parsed.crit {
            return Err(TokenError::Critical);
        }
        check_typing(state.config.typing, parsed.typ.as_deref())?;
        let alg = parsed
            .alg
            .parse::<jsonwebtoken::Algorithm>()
            .map_err(|_| TokenError::Algorithm)?;
        if !state.config.algorithms.contains(&alg) {
            return Err(TokenError::Algorithm);
        }
        let keys = match state.lookup(parsed.kid.as_deref()) {
            Lookup::Found(keys) => keys,
            Lookup::Unknown => return Err(TokenError::UnknownKey),
            Lookup::Unavailable => return Err(TokenError::KeysUnavailable),
        };
        let key = keys
            .get(parsed.kid.as_deref())
            .ok_or(TokenError::UnknownKey)?;
        // The issuer's own list was checked above, before any lookup.
        if !key.algorithms.contains(&alg) {
            return Err(TokenError::Algorithm);
        }
        let valid = jsonwebtoken::crypto::verify(
            token.signature,
            token.signing_input.as_bytes(),
            &key.key,
            alg,
        )
        .unwrap_or(false);
        if !valid {
            return Err(TokenError::Signature);
        }
        let claims = serde_json::from_str::<Members>(json)
            .map_err(|_| TokenError::Malformed)?
            .0;
        let mut payload = checked_claims(&state.config, &claims, registry, now)?;
        if payload.jti.is_empty() {
            // Revocation goes by id: a token without `jti` (Entra ID's, Auth0's) is known by
            // a digest of its signature, never by an empty id every such token would share.
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(token.signature.as_bytes());
            payload.jti = Cow::Owned(format!("sig:{}", URL_SAFE_NO_PAD.encode(digest)));
        }
        let scope_names = scope_names(&state.config, &claims);
        if let Some(registry) = registry {
            let mut set = ScopeSet::with_capacity(registry.len());
            for name in &scope_names {
                registry.grant(name, &mut set);
            }
            payload.scopes = set;
        }
        Ok(RemoteToken {
            payload,
            scope_names,
            key_id: key.kid.clone(),
        })
    }

    /// Waits until every issuer's keys are loaded, or says which could not be and why.
    pub(crate) async fn ready(&self, timeout: Duration) -> Result<(), ConfigError> {
        let started = Instant::now();
        loop {
            let waiting = self.issuers.iter().find(|state| !state.loaded());
            let Some(state) = waiting else {
                return Ok(());
            };
            state.start();
            if started.elapsed() >= timeout {
                return Err(ConfigError::TrustedIssuer {
                    issuer: state.config.issuer.clone(),
                    why: state
                        .last_error()
                        .unwrap_or_else(|| format!("its keys were not loaded within {timeout:?}")),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A payload's members, refusing one written twice (RFC 8725 §3.2: two readers must not see
/// two different claims; `serde_json::Value` alone would keep the last silently).
struct Members(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members, A::Error> {
                let mut members = serde_json::Map::new();
                while let Some((name, value)) = map.next_entry::<String, serde_json::Value>()? {
                    if members.contains_key(&name) {
                        return Err(serde::de::Error::custom("a member written twice"));
                    }
                    members.insert(name, value);
                }
                Ok(Members(serde_json::Value::Object(members)))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The `typ` header against the issuer's policy (RFC 9068 §2.1: `at+jwt`, or its media
/// type `application/at+jwt`).
fn check_typing(typing: Typing, typ: Option<&str>) -> Result<(), TokenError> {
    let at_jwt = typ.is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    let jwt = typ.is_none_or(|t| t.eq_ignore_ascii_case("JWT"));
    let accepted = match typing {
        Typing::Accept => at_jwt || jwt,
        Typing::RequireAtJwt => at_jwt,
        Typing::Jwt => jwt,
    };
    if accepted {
        Ok(())
    } else {
        Err(TokenError::WrongType)
    }
}

/// The claims of a remote token: `sub` (or, for a client's own token, `client_id`) and `exp`
/// required, never an ID token (`nonce`, `at_hash`, `c_hash`, Keycloak's `typ: ID`), times within the issuer's leeway,
/// the audience one of the accepted ones. The payload borrows from `json` where it can.
fn checked_claims<'j>(
    config: &TrustedIssuer,
    claims: &serde_json::Value,
    registry: Option<&Registry>,
    now: i64,
) -> Result<Payload<'j>, TokenError> {
    let integer = |name: &'static str| -> Result<Option<i64>, TokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or(TokenError::Malformed),
        }
    };
    let exp = integer("exp")?.ok_or(TokenError::MissingClaim("exp"))?;
    let nbf = integer("nbf")?;
    let iat = integer("iat")?;
    // RFC 9068 §2.2: `sub` names the user, or the client itself for a client-credentials
    // token; a provider that leaves it out of those names the client in `client_id`, which
    // then stands for the subject. Never `azp`: in a user's token it names the front end, and
    // every user of it would become one subject.
    let subject = claims.get("sub").or_else(|| claims.get("client_id"));
    let sub = match subject {
        Some(serde_json::Value::String(sub)) if !sub.is_empty() => sub.clone(),
        Some(_) => return Err(TokenError::Malformed),
        None => return Err(TokenError::MissingClaim("sub")),
    };
    let jti = match claims.get("jti") {
        Some(serde_json::Value::String(jti)) => jti.clone(),
        _ => String::new(),
    };
    // An ID token is not an access token, whatever its `typ` header says (OIDC Core §2: these
    // members are the ID token's own; Keycloak also writes `typ: "ID"` in the payload).
    let id_token = ["nonce", "at_hash", "c_hash"]
        .iter()
        .any(|name| claims.get(*name).is_some())
        || claims.get("typ").and_then(serde_json::Value::as_str) == Some("ID");
    if id_token {
        return Err(TokenError::WrongType);
    }
    let leeway = i64::try_from(config.leeway.as_secs()).unwrap_or(i64::MAX);
    if now >= exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    let ahead = now.saturating_add(leeway);
    if nbf.is_some_and(|nbf| nbf > ahead) {
        return Err(TokenError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > ahead) {
        return Err(TokenError::IssuedInFuture);
    }
    let audience_ok = match claims.get(&config.audience_claim) {
        Some(serde_json::Value::String(aud)) => config.audiences.contains(aud),
        Some(serde_json::Value::Array(auds)) => auds
            .iter()
            .filter_map(serde_json::Value::as_str)
            .any(|aud| config.audiences.iter().any(|a| a == aud)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenError::Audience);
    }
    Ok(Payload {
        sub: Cow::Owned(sub),
        jti: Cow::Owned(jti),
        iat: iat.unwrap_or(0),
        exp,
        nbf,
        kind: TokenKind::Access,
        fresh: false,
        scopes: ScopeSet::with_capacity(registry.map_or(0, Registry::len)),
        own_key: false,
        ver: 0,
        fam: Cow::Borrowed(""),
        fam_exp: None,
        csrf: Cow::Borrowed(""),
        att: None,
    })
}

/// Every scope name the issuer's scope claims grant, prefixed as configured.
fn scope_names(config: &TrustedIssuer, claims: &serde_json::Value) -> Vec<String> {
    let mut names = Vec::new();
    for claim in config.scope_claims() {
        let value = claim
            .path
            .iter()
            .try_fold(claims, |value, segment| value.get(segment));
        let mut push = |name: &str| {
            if !name.is_empty() {
                let name = format!("{}{name}", claim.prefix);
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        };
        match value {
            Some(serde_json::Value::String(text)) => text.split_whitespace().for_each(&mut push),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .for_each(&mut push),
            _ => {}
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_providers_claims_map_into_scope_names() {
        let keycloak = TrustedIssuer::discover("https://kc/realms/r")
            .scopes_from(ScopeClaim::named("scope"))
            .scopes_from(ScopeClaim::named("realm_access.roles").prefix("role:"))
            .scopes_from(ScopeClaim::at(["resource_access", "shop.api", "roles"]));
        let claims = serde_json::json!({
            "scope": "openid reports:read",
            "realm_access": {"roles": ["admin", "user"]},
            "resource_access": {"shop.api": {"roles": ["orders:write"]}},
        });
        assert_eq!(
            scope_names(&keycloak, &claims),
            [
                "openid",
                "reports:read",
                "role:admin",
                "role:user",
                "orders:write"
            ]
        );
        // The default: `scope` or `scp`, a string (Entra) or an array (Okta).
        let okta = TrustedIssuer::discover("https://okta");
        let claims = serde_json::json!({"scp": ["reports:read", "profile"]});
        assert_eq!(scope_names(&okta, &claims), ["reports:read", "profile"]);
        let cognito = TrustedIssuer::discover("https://cognito")
            .scopes_from(ScopeClaim::named("cognito:groups").prefix("group:"));
        let claims = serde_json::json!({"cognito:groups": ["admins"], "scope": 7});
        assert_eq!(scope_names(&cognito, &claims), ["group:admins"]);
    }

    #[test]
    fn typ_follows_the_issuers_policy() {
        assert!(check_typing(Typing::Accept, None).is_ok());
        assert!(check_typing(Typing::Accept, Some("at+jwt")).is_ok());
        assert!(check_typing(Typing::Accept, Some("JWT")).is_ok());
        assert!(check_typing(Typing::Accept, Some("logout+jwt")).is_err());
        assert!(check_typing(Typing::RequireAtJwt, Some("application/at+jwt")).is_ok());
        assert!(check_typing(Typing::RequireAtJwt, Some("JWT")).is_err());
        assert!(check_typing(Typing::RequireAtJwt, None).is_err());
        assert!(check_typing(Typing::Jwt, Some("at+jwt")).is_err());
    }
}
