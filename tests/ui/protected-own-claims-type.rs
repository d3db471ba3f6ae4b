// A type of the application's own named `Claims` (the name jsonwebtoken's docs teach): the
// attribute binds a parameter of that name from its guard, so it is refused, once, at its
// name, with what to write instead.
use axum::{Router, routing::get};
use jwtguard::{Auth, protected};

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
}

#[protected]
async fn me(claims: Claims) -> String {
    claims.sub
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new().route("/me", get(me)).with_state(auth);
}
