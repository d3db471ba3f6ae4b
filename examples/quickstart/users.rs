//! The demo users. Passwords are stored as argon2id hashes, never in clear.

use jwtguard::Scope;
use jwtguard::password::Busy;

use crate::{ADMIN, PROFILE, REPORTS_READ};

pub(crate) struct User {
    pub(crate) name: &'static str,
    password_hash: &'static str,
    pub(crate) scopes: &'static [Scope],
}

const USERS: &[User] = &[
    User {
        name: "user1",
        // password1
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$kJ3AXHDs6yWXM/NG8XTw5g$MITsyUf2bSR/MIQ7ftJKOhcLANm9ZpCkZXAjDTYNRdE",
        scopes: &[REPORTS_READ, PROFILE],
    },
    User {
        name: "admin",
        // adminpass1
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$ySVDYxR8AW7w4ttbRv3cIQ$OuwenhytAXaiJItwHWAlzYwPq68GbQ9TNj8PvzRPJG0",
        scopes: &[REPORTS_READ, PROFILE, ADMIN],
    },
];

/// The user with this name and password. An unknown name costs one hash verification like a
/// wrong password does, so the answer time does not tell which accounts exist. Argon2 runs on
/// jwtguard's bounded verifier: off the async workers, as many at once as the machine has
/// cores, a bounded queue, and a 503 beyond it (a login flood cannot exhaust memory).
pub(crate) async fn check(name: &str, password: &str) -> Result<Option<&'static User>, Busy> {
    let user = USERS.iter().find(|u| u.name == name);
    let right = jwtguard::password::verify_async(password, user.map(|u| u.password_hash)).await?;
    Ok(user.filter(|_| right))
}
