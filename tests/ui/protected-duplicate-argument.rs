use jwtguard::protected;

jwtguard::scopes! { ADMIN = "admin" }

#[protected(fresh, fresh)]
async fn twice_fresh() {}

#[protected(scopes = "admin", scopes = "admin")]
async fn twice_scopes() {}

fn main() {}
