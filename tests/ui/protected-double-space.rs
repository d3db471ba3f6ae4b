use jwtguard::protected;

jwtguard::scopes! { READ = "reports:read", ADMIN = "admin" }

#[protected(scopes = "reports:read  admin")]
async fn handler() {}

fn main() {}
