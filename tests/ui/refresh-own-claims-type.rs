// As `protected-own-claims-type`, for the refresh token's claims.
use jwtguard::{Grant, refresh};

mod mine {
    pub struct Claims<E>(pub E);
}
use mine::Claims;

#[refresh]
async fn renew(claims: Claims<u8>) -> Grant {
    Grant::to(claims.0.to_string())
}

fn main() {}
