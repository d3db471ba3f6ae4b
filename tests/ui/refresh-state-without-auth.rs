use axum::{Router, routing::post};
use jwtguard::{Claims, Grant, refresh};

#[refresh]
async fn renew(claims: Claims) -> Grant {
    Grant::renew(&claims)
}

fn main() {
    let _app: Router = Router::new().route("/refresh", post(renew));
}
