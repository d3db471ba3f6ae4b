// 5,000 declared scopes: a misspelt one near the end still gets its "did you mean", and
// neither the check nor the search hits rustc's limit on long constant evaluation.
use jwtguard::protected;

include!("../fixtures/scopes_5000.rs");

#[protected(scopes = "ns49:scope4998 ns49:scpoe4997")]
async fn handler() {}

fn main() {}
