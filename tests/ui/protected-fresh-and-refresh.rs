use jwtguard::protected;

#[protected(fresh, refresh)]
async fn handler() {}

fn main() {}
