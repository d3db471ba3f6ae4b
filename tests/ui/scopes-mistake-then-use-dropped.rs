// The route that names the scope of the item in error is told that scope is not declared,
// beside the error in `scopes!`; the route naming a valid scope compiles.
use jwtguard::{Grant, login, protected, scopes};

scopes! {
    READ = "reports:read",
    WRITE: "reports:write",
}

#[protected(scopes = "reports:read")]
async fn read() {}

#[login(scopes = "reports:write")]
async fn log_in() -> Grant {
    Grant::to("ann")
}

fn main() {}
