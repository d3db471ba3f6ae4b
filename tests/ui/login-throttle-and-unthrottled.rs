use axum::Json;
use jwtguard::{Grant, login};

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
}

#[login(throttle = form.username, unthrottled)]
async fn log_in(Json(form): Json<LoginForm>) -> Grant {
    Grant::to(form.username)
}

fn main() {}
