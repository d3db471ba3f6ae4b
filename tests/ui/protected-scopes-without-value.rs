// A list key written as a flag, beside other mistakes: each is reported.
use jwtguard::protected;

#[protected(scopes, any("admin"), fresh)]
async fn handler() {}

fn main() {}
