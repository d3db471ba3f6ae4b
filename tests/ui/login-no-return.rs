use jwtguard::login;

#[login]
async fn login() {}

fn main() {}
