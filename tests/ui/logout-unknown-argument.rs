use jwtguard::logout;

#[logout(all)]
async fn log_out() {}

fn main() {}
