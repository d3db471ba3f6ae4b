use axum::{Json, Router, routing::post};
use jwtguard::{Grant, login};

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
}

#[login]
async fn log_in(Json(form): Json<LoginForm>) -> Grant {
    Grant::to(form.username)
}

fn main() {
    let _app: Router = Router::new().route("/login", post(log_in));
}
