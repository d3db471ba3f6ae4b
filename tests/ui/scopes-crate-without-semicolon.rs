// `crate = path` is separated from the items by `;`.
jwtguard::scopes! {
    crate = jwtguard,
    REPORTS_READ = "reports:read",
}

fn main() {}
