//! The documentation stays true: the README's example is `examples/readme.rs` word for word
//! (so `cargo run --example readme` runs what the front page shows, and clippy checks it; the
//! crate's doctests compile the same text), every guide is in the rustdoc, and every compile
//! error the errors guide quotes is one that rustc prints today.

use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn the_readme_example_is_examples_readme_rs() {
    let readme = include_str!("../../README.md");
    let open = "```rust,no_run\n";
    let start = readme
        .find(open)
        .expect("a rust,no_run block in the README")
        + open.len();
    let end = start + readme[start..].find("```\n").expect("the block ends");
    assert!(
        readme[end..].find(open).is_none(),
        "the README shows one example"
    );
    assert_eq!(
        &readme[start..end],
        include_str!("../../examples/readme.rs"),
        "examples/readme.rs must be the README's example, word for word"
    );
}

#[test]
fn every_guide_is_in_the_rustdoc_and_the_readme_links_exist() {
    let modules = include_str!("../../src/guide.rs");
    let mut guides = 0;
    for entry in std::fs::read_dir(Path::new(ROOT).join("docs")).expect("docs/") {
        let name = entry.expect("an entry").file_name();
        let name = name.to_str().expect("a UTF-8 name");
        let Some(topic) = name.strip_suffix(".md") else {
            continue;
        };
        assert!(
            modules.contains(&format!("include_str!(\"../docs/{name}\")"))
                && modules.contains(&format!("pub mod {topic} {{}}")),
            "docs/{name} is not a module of src/guide.rs"
        );
        guides += 1;
    }
    assert!(guides >= 5, "found {guides} guides");
    let readme = include_str!("../../README.md");
    for target in readme
        .lines()
        .filter(|line| line.starts_with('['))
        .filter_map(|line| line.split_once("]: ").map(|(_, target)| target))
    {
        assert!(
            Path::new(ROOT).join(target).is_file(),
            "the README links to {target}, which does not exist"
        );
    }
}

#[test]
fn the_compile_errors_the_guide_quotes_are_rustcs() {
    let mut printed = String::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("tests/ui")).expect("tests/ui") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|ext| ext == "stderr") {
            printed += &std::fs::read_to_string(&path).expect("a readable .stderr");
        }
    }
    let printed: Vec<&str> = printed.lines().collect();
    let mut quoted = 0;
    let mut in_text = false;
    for line in include_str!("../../docs/errors.md").lines() {
        if line.starts_with("```") {
            in_text = line == "```text";
        } else if in_text && (line.starts_with("error[") || line.starts_with("error:")) {
            assert!(
                printed.contains(&line),
                "docs/errors.md quotes a compile error that no tests/ui case prints \
                 (regenerate them with TRYBUILD=overwrite, then quote the new text):\n{line}"
            );
            quoted += 1;
        }
    }
    assert!(quoted >= 5, "found {quoted} quoted compile errors");
}
