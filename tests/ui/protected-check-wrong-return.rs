use axum::http::request::Parts;
use jwtguard::{Claims, protected};

fn owns_tenant(_: &Claims, _: &Parts) -> String {
    String::new()
}

#[protected(check = owns_tenant)]
async fn tenant() {}

fn main() {}
