use jwtguard::{Claims, Grant, refresh};

#[refresh]
async fn refresh(claims: Option<Claims>) -> Grant {
    Grant::to(claims.map_or("nobody".to_owned(), |c| c.sub().to_owned()))
}

fn main() {}
