use jwtguard::protected;

#[protected(scopes = "admin admin")]
async fn handler() {}

fn main() {}
