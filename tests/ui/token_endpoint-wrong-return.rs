use jwtguard::{PasswordGrant, token_endpoint};

#[token_endpoint]
async fn token(form: PasswordGrant) -> String {
    form.username
}

fn main() {}
