// A type of the application's own named `PasswordGrant` is refused at its name.
use jwtguard::{Grant, token_endpoint};

struct PasswordGrant {
    username: String,
}

#[token_endpoint]
async fn token(form: PasswordGrant) -> Grant {
    Grant::to(form.username)
}

fn main() {}
