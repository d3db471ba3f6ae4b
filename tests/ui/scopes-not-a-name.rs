jwtguard::scopes! {
    "reports:read" = "reports:read",
}

fn main() {}
