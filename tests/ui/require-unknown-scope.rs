use axum::Router;
use jwtguard::{Auth, require, scopes};

scopes! { ADMIN = "admin" }

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new()
        .route_layer(require!(auth, scopes = "amdin"))
        .with_state(auth);
}
