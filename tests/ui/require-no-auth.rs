use jwtguard::require;

fn main() {
    let _layer = require!(scopes = "admin");
}
