use jwtguard::protected;

#[protected]
fn handler() {}

fn main() {}
