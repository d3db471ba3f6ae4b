use jwtguard::{Grant, login};

#[login(throttle)]
async fn login() -> Grant {
    Grant::to("u")
}

fn main() {}
