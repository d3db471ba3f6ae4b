use jwtguard::protected;

#[protected(scopes = "")]
async fn empty_string() {}

#[protected(any = [])]
async fn empty_array() {}

fn main() {}
