use jwtguard::protected;

#[protected(scopes = "reports:read  admin")]
async fn handler() {}

fn main() {}
