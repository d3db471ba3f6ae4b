use axum::{Router, routing::post};
use jwtguard::logout;

#[logout]
async fn log_out() {}

fn main() {
    let _app: Router = Router::new().route("/logout", post(log_out));
}
