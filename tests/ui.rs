//! Every compile error the macros can produce, with its exact message (trybuild).
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui`, then read every `.stderr`.

#[test]
fn compile_errors() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
