use jwtguard::{Claims, Grant, refresh};

#[refresh(scopes = "admin")]
fn refresh(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

fn main() {}
