//! The revocation stores: implementations of the token core's port
//! ([`Store`](crate::token::revocation::Store)). `Auth` is their only client.

mod expiring;
pub(crate) mod memory;
pub(crate) mod none;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod revocations;
