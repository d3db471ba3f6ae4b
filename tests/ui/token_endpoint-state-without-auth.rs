use axum::{Router, routing::post};
use jwtguard::{Grant, PasswordGrant, token_endpoint};

#[token_endpoint]
async fn token(form: PasswordGrant) -> Grant {
    Grant::to(form.username)
}

fn main() {
    let _app: Router = Router::new().route("/token", post(token));
}
