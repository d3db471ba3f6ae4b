use jwtguard::{Claims, Grant, refresh};

jwtguard::scopes! { ADMIN = "admin" }

#[refresh(scopes = "admin")]
fn refresh(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

fn main() {}
