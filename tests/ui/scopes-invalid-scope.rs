jwtguard::scopes! {
    READ = "reports read",
    QUOTE = "a\"b",
}

fn main() {}
