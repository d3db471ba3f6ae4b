jwtguard::scopes! {
    /// Documented: fine.
    READ = "reports:read",
    #[cfg(feature = "admin")]
    ADMIN = "admin",
}

fn main() {}
