//! Argon2id password hashing for login handlers (feature `password`, on by default).
//!
//! ```
//! let stored = jwtguard::password::hash("password1")?;
//! assert!(jwtguard::password::verify("password1", &stored));
//! assert!(!jwtguard::password::verify("password2", &stored));
//! # Ok::<(), jwtguard::password::HashError>(())
//! ```

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};

/// Hashing failed (the OS random source or the parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// A PHC string (`$argon2id$v=19$...`) of `password` with a random salt and the `argon2`
/// crate's default (OWASP-recommended) parameters.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| HashError)
}

/// Whether `password` matches the PHC string `stored`. A malformed `stored` is a mismatch.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Verifies `password` against a fixed hash and returns false: call it when the user does not
/// exist, so that an unknown user costs the same time as a wrong password and the answer
/// time does not reveal which accounts exist.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("jwtguard-dummy-password").unwrap_or_default());
    let _ = verify(password, stored);
    false
}
