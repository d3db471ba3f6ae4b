use jwtguard::{Grant, PasswordGrant, token_endpoint};

#[token_endpoint]
async fn token(first: PasswordGrant, second: PasswordGrant) -> Grant {
    Grant::to(format!("{}{}", first.username, second.username))
}

fn main() {}
