use jwtguard::logout;

#[logout]
fn log_out() {}

fn main() {}
