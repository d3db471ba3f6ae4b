use jwtguard::{Claims, logout};

#[logout]
async fn log_out(claims: Option<Claims>) -> String {
    claims.map_or_else(String::new, |c| c.sub().to_owned())
}

fn main() {}
