//! Nothing: this package exists for its benches (`benches/`), see `Cargo.toml`.
