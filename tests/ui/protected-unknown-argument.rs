use jwtguard::protected;

#[protected(scope = "admin")]
async fn handler() {}

fn main() {}
