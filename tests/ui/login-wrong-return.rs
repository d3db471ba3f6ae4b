use jwtguard::login;

#[login]
async fn login() -> String {
    String::new()
}

fn main() {}
