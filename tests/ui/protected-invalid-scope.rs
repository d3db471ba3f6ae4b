use jwtguard::protected;

#[protected(scopes = ["reports read", "caf\u{e9}"])]
async fn handler() {}

fn main() {}
