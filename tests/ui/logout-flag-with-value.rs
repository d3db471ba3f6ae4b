use jwtguard::logout;

#[logout(everywhere = true)]
async fn log_out() {}

fn main() {}
