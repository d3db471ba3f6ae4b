use jwtguard::protected;

#[protected(fresh = true)]
async fn handler() {}

fn main() {}
