jwtguard::scopes! {}

fn main() {}
