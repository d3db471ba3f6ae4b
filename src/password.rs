//! Argon2id password hashing for login handlers (feature `password`, on by default).
//!
//! In a server, verify with [`verify_async`] (or a [`Verifier`] of your own sizing): argon2 is
//! slow and memory-hard on purpose (about 19 MiB and tens of milliseconds per verification),
//! so it must run off the async workers *and* be bounded. Unbounded, a flood of 300 concurrent
//! bad logins holds gigabytes at once; bounded, it holds `concurrency × 19 MiB` and the rest
//! wait in a bounded queue or are told to come back (503).
//!
//! ```
//! let stored = jwtguard::password::hash("password1")?;
//! assert!(jwtguard::password::verify("password1", &stored));
//! assert!(!jwtguard::password::verify("password2", &stored));
//! # Ok::<(), jwtguard::password::HashError>(())
//! ```

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};

/// Hashing failed (the OS random source or the parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HashError;

/// A PHC string (`$argon2id$v=19$...`) of `password` with a random salt and the `argon2`
/// crate's default (OWASP-recommended) parameters.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut crate::random::rng());
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
    let _ = verify(password, dummy());
    false
}

/// A hash of the same cost as `hash` makes, to verify against when the user does not exist.
fn dummy() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("jwtguard-dummy-password").unwrap_or_default())
}

/// The most memory a stored hash may ask for (256 MiB): a corrupt or hostile PHC string must
/// not make one verification allocate gigabytes.
const MAX_BLOCKS: u32 = 256 * 1024;

/// [`verify`] with the argon2 working memory in `blocks`, grown to what `stored` needs and
/// kept for the next call. The comparison is constant-time (`password_hash::Output`).
fn verify_in(password: &str, stored: &str, blocks: &mut Vec<argon2::Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(parsed.algorithm),
        argon2::Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
        None => argon2::Version::default(),
    };
    // A corrupt or hostile PHC string must not pin a thread (passes, lanes) or the memory.
    if params.m_cost() > MAX_BLOCKS || params.t_cost() > 64 || params.p_cost() > 16 {
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, argon2::Block::default());
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    argon2::Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..needed])
        .is_ok()
        && argon2::password_hash::Output::new(out).is_ok_and(|computed| computed == expected)
}

/// Too many verifications are running and waiting: answer 503 and let the client retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password verifications are in progress")]
pub struct Busy;

impl From<Busy> for crate::AuthError {
    fn from(_: Busy) -> Self {
        crate::AuthError::new(crate::AuthErrorKind::Unavailable)
    }
}

/// Runs argon2 verifications on `concurrency` threads of its own, with at most `queue` more
/// waiting; beyond that a verification is refused with [`Busy`] at once.
///
/// Its own threads, not tokio's blocking pool: the pool starts a new thread whenever none is
/// idle, and every thread's allocator keeps its own 19 MiB argon2 buffer after use, so a flood
/// grows memory with the number of threads. A fixed set of threads holds
/// `concurrency × 19 MiB`, however long the flood.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use jwtguard::password::{self, Verifier};
/// let stored = password::hash("password1")?;
/// let verifier = Verifier::new(2, 32);
/// assert!(verifier.verify("password1", Some(&stored)).await?);
/// assert!(!verifier.verify("password1", None).await?);   // unknown user: a dummy verification
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Verifier {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

/// A password, the stored hash (`None`: a dummy verification), and where to send the answer.
type Job = (String, Option<String>, tokio::sync::oneshot::Sender<bool>);

impl Verifier {
    /// `concurrency` (at least 1) threads, `queue` verifications waiting at most. The threads
    /// end when the verifier is dropped.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let (jobs, waiting) = std::sync::mpsc::sync_channel::<Job>(queue);
        let waiting = std::sync::Arc::new(std::sync::Mutex::new(waiting));
        for _ in 0..concurrency.max(1) {
            let waiting = waiting.clone();
            std::thread::spawn(move || {
                // One argon2 buffer per thread, reused: freed and allocated again on every
                // verification, 19 MiB buffers fragment the allocator's arenas and the
                // process grows by hundreds of megabytes under a flood.
                let mut blocks = Vec::new();
                loop {
                    // The lock is held only to take one job, never while verifying.
                    let job = match waiting.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok((password, stored, answer)) = job else {
                        return;
                    };
                    // An unknown user costs a verification against the dummy hash.
                    let matched =
                        verify_in(&password, stored.as_deref().unwrap_or(dummy()), &mut blocks)
                            && stored.is_some();
                    let _ = answer.send(matched);
                }
            });
        }
        Self { jobs }
    }

    /// Whether `password` matches `stored`; with `None` (the user does not exist) a dummy
    /// verification of the same cost, and `false`, so the answer time reveals nothing.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Busy> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .try_send((password.to_owned(), stored.map(str::to_owned), answer))
            .map_err(|_| Busy)?;
        answered.await.map_err(|_| Busy)
    }
}

/// [`Verifier::verify`] on the process-wide verifier: as many verifications at once as the
/// machine has cores, and 16 per core waiting.
pub async fn verify_async(password: &str, stored: Option<&str>) -> Result<bool, Busy> {
    static SHARED: std::sync::OnceLock<Verifier> = std::sync::OnceLock::new();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    SHARED
        .get_or_init(|| Verifier::new(cores, cores * 16))
        .verify(password, stored)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reused_buffer_verifies_exactly_like_argon2() {
        let stored = hash("password1").unwrap();
        let mut blocks = Vec::new();
        assert!(verify_in("password1", &stored, &mut blocks));
        assert!(!verify_in("password2", &stored, &mut blocks));
        assert!(
            verify_in("password1", &stored, &mut blocks),
            "the buffer is reused"
        );
        let light =
            "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$1ZQ8Ni/ThjOVN6NKxKyqV7kAFjH2Jz4sAH1A/8e6m8M";
        for stored in [
            light,
            "",
            "$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$AAAA",
            "nonsense",
        ] {
            assert_eq!(
                verify_in("x", stored, &mut blocks),
                verify("x", stored),
                "{stored}"
            );
        }
    }
}
