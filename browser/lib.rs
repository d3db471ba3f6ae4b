//! Nothing: this package exists for its test (`browser.rs`), see `Cargo.toml`.
