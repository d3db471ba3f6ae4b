//! The demo users. Passwords are stored as argon2id hashes, never in clear.

use jwtguard::Scope;

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
/// wrong password does, so the answer time does not tell which accounts exist.
pub(crate) async fn check(name: &str, password: &str) -> Option<&'static User> {
    let (name, password) = (name.to_owned(), password.to_owned());
    // Argon2 takes tens of milliseconds on purpose: keep it off the async workers.
    tokio::task::spawn_blocking(move || {
        let Some(user) = USERS.iter().find(|u| u.name == name) else {
            jwtguard::password::verify_dummy(&password);
            return None;
        };
        jwtguard::password::verify(&password, user.password_hash).then_some(user)
    })
    .await
    .ok()
    .flatten()
}
