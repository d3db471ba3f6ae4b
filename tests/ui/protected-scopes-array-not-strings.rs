use jwtguard::protected;

jwtguard::scopes! { ADMIN = "admin" }

#[protected(scopes = ["admin", 42])]
async fn handler() {}

fn main() {}
