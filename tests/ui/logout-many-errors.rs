// Every mistake in `#[logout]`'s arguments is reported, not only the first.
use jwtguard::logout;

#[logout(everywhere = true, all, everywhere, crate = "jwtguard")]
async fn log_out() {}

fn main() {}
