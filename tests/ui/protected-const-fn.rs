use jwtguard::protected;

#[protected]
const fn handler() {}

fn main() {}
