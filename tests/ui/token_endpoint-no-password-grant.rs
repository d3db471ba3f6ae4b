use jwtguard::{Grant, token_endpoint};

#[token_endpoint]
async fn token() -> Grant {
    Grant::to("u")
}

fn main() {}
