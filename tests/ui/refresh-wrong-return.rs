use jwtguard::{AuthError, Claims, refresh};

#[refresh]
async fn refresh(claims: Claims) -> Result<String, AuthError> {
    Ok(claims.sub().to_owned())
}

fn main() {}
