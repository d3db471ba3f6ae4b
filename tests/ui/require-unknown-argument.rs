use jwtguard::{Auth, require};

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _layer = require!(auth, scope = "admin");
}
