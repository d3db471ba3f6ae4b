use jwtguard::protected;

jwtguard::scopes! {
    REPORTS_READ = "reports:read",
    ADMIN = "admin",
}

#[protected(scopes = "reports:raed")]
async fn handler() {}

fn main() {}
