use axum::http::request::Parts;
use jwtguard::{Auth, Claims, require};

fn allowed(_: &Claims, _: &Parts) -> bool {
    true
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _layer = require!(auth, check = allowed);
}
