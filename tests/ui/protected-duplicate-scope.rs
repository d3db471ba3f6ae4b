use jwtguard::protected;

jwtguard::scopes! { ADMIN = "admin" }

#[protected(scopes = "admin admin")]
async fn handler() {}

fn main() {}
