use jwtguard::{Claims, protected};

fn owns_tenant(claims: &Claims) -> bool {
    !claims.sub().is_empty()
}

#[protected(check = owns_tenant)]
async fn tenant() {}

fn main() {}
