jwtguard::scopes! {
    READ = "reports:read",
    ALSO_READ = "reports:read",
}

fn main() {}
