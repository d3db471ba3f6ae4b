//! The README's first Rust snippet is `examples/readme.rs` (which `cargo test` compiles): every
//! line of the snippet must stand in the example, in the same order.

#[test]
fn the_readme_snippet_is_the_compiled_example() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../../examples/readme.rs");
    let start = readme
        .find("```rust\n")
        .expect("a rust block in the README")
        + "```rust\n".len();
    let end = start + readme[start..].find("```\n").expect("the block ends");
    let mut rest = example;
    for line in readme[start..end].lines().filter(|l| !l.trim().is_empty()) {
        let at = rest
            .find(line)
            .unwrap_or_else(|| panic!("README line not in examples/readme.rs (in order): {line}"));
        rest = &rest[at + line.len()..];
    }
}
