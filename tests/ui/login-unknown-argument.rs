use jwtguard::{Grant, login};

#[login(fresh)]
async fn login() -> Grant {
    Grant::to("u")
}

fn main() {}
