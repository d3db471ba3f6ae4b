use jwtguard::{Grant, PasswordGrant, scopes, token_endpoint};

scopes! { REPORTS_READ = "reports:read" }

#[token_endpoint(scopes = "reports:raed")]
async fn token(form: PasswordGrant) -> Grant {
    Grant::to(form.username).scopes([REPORTS_READ])
}

fn main() {}
