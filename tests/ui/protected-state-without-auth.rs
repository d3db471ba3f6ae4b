use axum::{Router, routing::get};
use jwtguard::protected;

#[protected]
async fn handler() {}

fn main() {
    let _app: Router = Router::new().route("/", get(handler));
}
