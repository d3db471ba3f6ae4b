//! The token core: keys, claims, scopes, verification and issuing, and the ports to the stores
//! (revocation; the throttle counters are `crate::throttle::counters`). It knows nothing of HTTP, so benches drive it directly and another
//! framework could reuse it.

pub(crate) mod claims;
pub(crate) mod errors;
pub(crate) mod grant;
pub(crate) mod issue;
pub(crate) mod key;
pub(crate) mod kind;
pub(crate) mod parse;
pub(crate) mod revocation;
pub(crate) mod scope;
pub(crate) mod verified_cache;
pub(crate) mod verify;
