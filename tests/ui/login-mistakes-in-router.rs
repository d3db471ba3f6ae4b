// Mistakes in the attribute's arguments leave only their own errors: the function still
// routes, expanded as if they had been written right.
use axum::{Json, Router, routing::post};
use jwtguard::{Auth, Grant, login};

#[derive(serde::Deserialize)]
struct LoginForm {
    username: String,
}

#[login(colour = "blue", unthrottled = yes)]
fn log_in(Json(form): Json<LoginForm>) -> Grant {
    Grant::to(form.username)
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new().route("/login", post(log_in)).with_state(auth);
}
