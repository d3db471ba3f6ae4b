// A rejected attribute leaves only its own error: the function it is on still routes.
use axum::{Router, routing::get};
use jwtguard::{Auth, Claims, protected};

#[protected]
fn me(claims: Claims) -> String {
    claims.sub().to_owned()
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new().route("/me", get(me)).with_state(auth);
}
