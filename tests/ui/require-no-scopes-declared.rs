// A crate without `scopes!` at its root: one error, that says where to declare the scope.
use axum::Router;
use jwtguard::{Auth, require};

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new()
        .route_layer(require!(auth, scopes = "admin"))
        .with_state(auth);
}
