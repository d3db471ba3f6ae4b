use jwtguard::protected;

#[protected(scopes = ["admin", 42])]
async fn handler() {}

fn main() {}
