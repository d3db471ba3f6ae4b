use jwtguard::protected;

#[derive(Clone)]
struct AppState;

// With `#[axum::debug_handler]` below it, the missing `Auth` is named by jwtguard's own message.
#[protected]
#[axum::debug_handler(state = AppState)]
async fn handler() {}

fn main() {}
