use jwtguard::protected;

#[protected(check = owns_tenat)]
async fn tenant() {}

fn main() {}
