use jwtguard::{Grant, login};

jwtguard::scopes! {
    REPORTS_READ = "reports:read",
}

#[login(scopes = "reports:write")]
async fn login() -> Grant {
    Grant::to("u").scopes([REPORTS_READ])
}

fn main() {}
