use jwtguard::protected;

#[protected(scopes = "reports:read")]
async fn handler() {}

fn main() {}
