jwtguard::scopes! {
    READ = reports_read,
}

fn main() {}
