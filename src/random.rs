//! The one random source: `rand`'s `ThreadRng`, a ChaCha12 CSPRNG per thread, seeded and
//! regularly reseeded (every 64 KiB) from the operating system, and reseeded in a child after
//! `fork`. Ids, CSRF values, device ids, development secrets, password salts and the
//! verified-token cache's keys all come from it: unpredictable, without a system call each
//! (that call was 18 % of a token pair's cost, measured with perf).

use rand::RngCore as _;

/// Fills `bytes`; an error only when the OS could not seed the generator.
pub(crate) fn fill(bytes: &mut [u8]) -> Result<(), rand::Error> {
    rand::thread_rng().try_fill_bytes(bytes)
}

/// The generator itself, for APIs that take one (argon2's salts).
#[cfg(feature = "password")]
pub(crate) fn rng() -> rand::rngs::ThreadRng {
    rand::thread_rng()
}
