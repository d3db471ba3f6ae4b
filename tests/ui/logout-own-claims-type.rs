// As `protected-own-claims-type`, for the presented token's claims.
use jwtguard::logout;

struct Claims;

#[logout]
async fn log_out(_claims: Claims) {}

fn main() {}
