// `crate = ...` names the jwtguard crate by its path (for a renamed dependency): a string, a
// value or nothing at all is refused, on each attribute, with what to write instead.
use jwtguard::{Grant, login, protected, refresh};

#[protected(crate = "jwt")]
async fn quoted() {}

#[login(crate = 42)]
async fn number() -> Grant {
    Grant::to("ann")
}

#[refresh(scopes = "reports:read", crate)]
async fn without_value() -> Grant {
    Grant::to("ann")
}

#[protected(crate = jwt::<u8>, crate = jwtguard)]
async fn generic_and_twice() {}

fn main() {}
