// Every item of `scopes!` in error: a route naming a scope is told the registry holds none
// (not that the crate has no `scopes!`).
use jwtguard::{protected, scopes};

scopes! {
    READ = "reports read",
}

#[protected(scopes = "reports:read")]
async fn read() {}

fn main() {}
