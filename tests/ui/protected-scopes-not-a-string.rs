use jwtguard::protected;

#[protected(scopes = 42)]
async fn handler() {}

fn main() {}
