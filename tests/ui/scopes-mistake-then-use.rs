// A mistake in one item of `scopes!` leaves the others declared: the route that names a valid
// scope compiles, and only the mistake is reported.
use axum::{Router, routing::get};
use jwtguard::{Auth, protected, scopes};

scopes! {
    READ = "reports:read",
    BROKEN = "reports read",
    ADMIN = "admin",
}

#[protected(scopes = "reports:read admin")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new()
        .route("/reports", get(reports))
        .with_state(auth);
    let _ = (READ, ADMIN, SCOPES);
}
