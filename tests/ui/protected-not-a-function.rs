use jwtguard::protected;

#[protected]
struct Handler;

fn main() {}
