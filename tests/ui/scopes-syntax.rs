jwtguard::scopes! {
    READ: "reports:read",
}

fn main() {}
