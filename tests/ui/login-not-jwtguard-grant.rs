use jwtguard::login;

// A `Grant` that is not jwtguard's passes the macro's syntactic check; the trait bound catches it.
struct Grant;

#[login]
async fn login() -> Grant {
    Grant
}

fn main() {}
