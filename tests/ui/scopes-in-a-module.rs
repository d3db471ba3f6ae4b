// `scopes!` in a module with named imports: the registry is looked up at the crate root.
use axum::{Router, routing::get};
use jwtguard::{Auth, protected};

mod api {
    use jwtguard::scopes;

    scopes! {
        READ = "reports:read",
    }
}

#[protected(scopes = "reports:read")]
async fn reports() -> &'static str {
    "reports"
}

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _app: Router = Router::new()
        .route("/reports", get(reports))
        .with_state(auth);
    let _ = api::READ;
}
