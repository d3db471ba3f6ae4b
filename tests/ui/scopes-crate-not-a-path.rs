// `scopes!` takes `crate = path;` before its items: a string is refused.
jwtguard::scopes! {
    crate = "jwtguard";
    REPORTS_READ = "reports:read",
}

fn main() {}
