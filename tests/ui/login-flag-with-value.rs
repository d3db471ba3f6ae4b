use jwtguard::{Grant, login};

#[login(unthrottled = true)]
async fn log_in() -> Grant {
    Grant::to("ann")
}

fn main() {}
