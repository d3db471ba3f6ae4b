//! The benches' typical token and what reads it without jwtguard (the floor), and a one-poll
//! executor: no criterion here, so `tests/allocations.rs` of the crate includes this file too.

// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The HS256 secret of every bench (48 bytes).
pub(crate) const SECRET: &str = "bench-secret-that-is-long-enough-for-hs256-0000";

/// The bench configuration and its typical token: what jwtguard issues for
/// `Grant::to("user1").scopes([REPORTS_READ, PROFILE]).fresh(true)` (every includer declares
/// those two scopes with `scopes!`).
pub(crate) fn typical() -> (jwtguard::Auth, String) {
    let auth = jwtguard::Auth::builder()
        .secret(SECRET)
        .build()
        .expect("auth");
    let grant = jwtguard::Grant::to("user1")
        .scopes([crate::REPORTS_READ, crate::PROFILE])
        .fresh(true);
    let token = auth.create_access_token(&grant).expect("token");
    (auth, token)
}

/// The claims of the typical access token, typed with owned strings: what the floor and
/// `jsonwebtoken` deserialize into.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TypedClaims {
    pub(crate) sub: String,
    pub(crate) iat: i64,
    pub(crate) nbf: i64,
    pub(crate) exp: i64,
    pub(crate) jti: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) fresh: bool,
    pub(crate) scopes: Vec<String>,
}

/// The floor of HS256 verification, the least work any verifier must do: split,
/// base64url-decode the signature and the payload into stack buffers, HMAC-SHA256 with a key
/// prepared once (`mac`, cloned per call: the same RustCrypto backend jwtguard uses), compare in
/// constant time, and deserialize the payload into typed claims with owned strings.
pub(crate) fn floor(mac: &Hmac<Sha256>, token: &str) -> Option<TypedClaims> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (_header, payload) = signing_input.split_once('.')?;
    let mut tag = [0u8; 64];
    let len = URL_SAFE_NO_PAD.decode_slice(signature, &mut tag).ok()?;
    let mut mac = mac.clone();
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&tag[..len]).ok()?;
    let mut json = [0u8; 1024];
    let len = URL_SAFE_NO_PAD.decode_slice(payload, &mut json).ok()?;
    serde_json::from_slice(&json[..len]).ok()
}

/// The HMAC key of [`floor`], prepared once.
pub(crate) fn floor_key() -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key")
}

/// Runs a future that never waits (an axum router over an in-memory request) to completion
/// in one poll, with no runtime: what is measured is the router, not a scheduler.
pub(crate) fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited: it needs a runtime"),
    }
}
