jwtguard::scopes! {
    READ = "reports:read",
    READ = "reports:write",
}

fn main() {}
