use jwtguard::protected;

#[protected(scopes = "", fresh = yes, refresh, colour = "blue")]
fn handler() {}

fn main() {}
