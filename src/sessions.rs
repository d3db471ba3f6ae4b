//! Sessions, from `Auth`'s side: rotating a refresh token into the next pair of its session,
//! ending sessions, and how long the store keeps what guards them. The stores themselves are
//! in `store/`; `auth.rs` holds the configuration and issuing.

use crate::auth::{Auth, STORE_MARGIN};
use crate::clock::now;
use crate::token::claims::{Claims, Verified};
use crate::token::errors::TokenError;
use crate::token::grant::Grant;
use crate::token::issue::{Session, TokenResponse, secs};
use crate::token::revocation::{Consumed, Rotation, StoreError};
use crate::web::error::AuthError;

impl Auth {
    /// The next pair of `token`'s session, once the store has rotated it: same family,
    /// never past its end, never fresh. The successor is signed before the store is asked,
    /// so that nothing of ours can fail after the token is consumed; a retry within the grace
    /// window gets a pair whose refresh token carries the id the store names as current, so
    /// the session keeps one line of refresh tokens (see [`Consumed::Duplicate`]).
    pub(crate) async fn rotate_pair(
        &self,
        token: &Verified,
        grant: &Grant,
    ) -> Result<TokenResponse, AuthError> {
        let now = now();
        // A refresh token without a session (minted by AuthX with the shared secret, say)
        // starts one named after its own id, so that a retry of it lands in the same one;
        // the store has never seen it, so its age says nothing about lost data.
        let (session, issued_at) = if token.fam().is_empty() {
            let version = self
                .inner
                .store
                .version(token.sub(), now)
                .map_err(|_| TokenError::StoreUnavailable)?;
            // It ends with the token: the revocation of a reuse (which lives as long) then
            // covers every successor.
            let session = Session {
                version,
                family: token.jti(),
                family_exp: token.exp.min(now.saturating_add(self.inner.session_ttl)),
            };
            (session, i64::MAX)
        } else {
            // The presented token's version, not the subject's current one: a "log out
            // everywhere" that lands while this refresh runs must kill its successors too.
            let session = Session {
                version: token.ver,
                family: token.fam(),
                family_exp: token.fam_exp.unwrap_or(token.exp),
            };
            (session, token.iat)
        };
        let [access_id, refresh_id] = crate::token::issue::ids()?;
        let successor = refresh_id.as_str().to_owned();
        let pair =
            self.inner
                .issuer
                .pair_with(grant, false, now, session, [access_id, refresh_id])?;
        let rotation = Rotation {
            family: session.family,
            presented: token.jti(),
            successor: &successor,
            issued_at,
            until: self.retained_until(session.family_exp.max(token.exp)),
            grace: self.inner.refresh_grace,
            now,
        };
        let consumed = self
            .inner
            .store
            .consume(&rotation)
            .await
            .map_err(|error| {
                tracing::warn!(%error, source = ?std::error::Error::source(&error), "jwtguard: a refresh could not be recorded");
                TokenError::StoreUnavailable
            })?;
        match consumed {
            Consumed::First => Ok(pair),
            Consumed::Duplicate { current } => {
                tracing::info!(
                    family = session.family,
                    "jwtguard: a refresh token was presented again within the grace window \
                     (a retry); answered with the session's current refresh token id"
                );
                let [access_id] = crate::token::issue::ids()?;
                let current =
                    crate::token::issue::Id::parse(&current).ok_or(TokenError::StoreUnavailable)?;
                Ok(self
                    .inner
                    .issuer
                    .pair_with(grant, false, now, session, [access_id, current])?)
            }
            Consumed::Reused => {
                tracing::warn!(
                    family = session.family,
                    "jwtguard: a replaced refresh token was presented again after the grace \
                     window (a stolen copy, or its victim): the session is revoked"
                );
                Err(TokenError::Reused.into())
            }
            Consumed::Unknown => {
                tracing::warn!(
                    family = session.family,
                    "jwtguard: refresh of a session the store has no record of (it lost data \
                     after the token was issued): refused"
                );
                Err(TokenError::Revoked.into())
            }
        }
    }

    /// When a store entry guarding something accepted until `end` may be forgotten: the
    /// larger of the leeway and the clock skew later (another instance's clock may be behind
    /// ours), plus a margin for the store's own clock.
    pub(crate) fn retained_until(&self, end: i64) -> i64 {
        let verifier = &self.inner.verifier;
        end.saturating_add(verifier.leeway.max(verifier.skew))
            .saturating_add(STORE_MARGIN)
    }

    /// Revokes this one token (logout of one device, a leaked token): refused from now on,
    /// on every instance sharing the store. The entry lives until the token expires.
    pub async fn revoke<E>(&self, claims: &Claims<E>) -> Result<(), StoreError> {
        if claims.jti().is_empty() {
            // No id, nothing to revoke by: never an empty id that other tokens could share.
            return Ok(());
        }
        let until = self.retained_until(claims.exp());
        self.inner.store.revoke_token(claims.jti(), until).await
    }

    /// Revokes the token's whole session: every access and refresh token of its refresh
    /// family, the ones issued before and after it (logout).
    pub async fn revoke_session<E>(&self, claims: &Claims<E>) -> Result<(), StoreError> {
        if claims.session().is_empty() {
            return self.revoke(claims).await;
        }
        // An access token does not say when its family ends: until the longest it could.
        let end = claims
            .verified
            .fam_exp
            .unwrap_or_else(|| now().saturating_add(self.inner.session_ttl))
            .max(claims.exp());
        self.inner
            .store
            .revoke_family(claims.session(), self.retained_until(end))
            .await
    }

    /// Revokes every token of `sub` issued so far (password change, "log out everywhere"):
    /// the subject's version moves on, and new tokens carry the new one.
    pub async fn revoke_all(&self, sub: &str) -> Result<(), StoreError> {
        // Every token issued before now ends, at the latest, a session's or an access token's
        // lifetime from now (a shared store keeps the longest any instance asked for).
        let now = now();
        let longest = self
            .inner
            .session_ttl
            .max(secs(self.inner.issuer.access_ttl));
        // `retained_until` of a duration is that duration with the margins.
        let lifetime = self.retained_until(longest);
        self.inner
            .store
            .bump_version(sub, lifetime, now)
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
