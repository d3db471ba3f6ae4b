// `require!` is parsed by the attributes' parser: every mistake, named as `require!`.
use jwtguard::{Auth, require};

fn main() {
    let auth = Auth::builder().random_secret().build().unwrap();
    let _layer = require!(
        auth,
        scopes = "",
        fresh = yes,
        colour = "blue",
        check = allowed
    );
}
