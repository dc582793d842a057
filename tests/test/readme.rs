//! The docs' examples compile: every ```rhai block of the shipped Markdown that is a whole recipe
//! (README.md) is written to a recipe file and checked by `helix check` — helix's own engine
//! with strict variables — so an example that stopped compiling fails here. (API.md's per-call
//! snippets are checked through the lib by `check::tests`, from the `///` docs they come from.)

use crate::support::builder::Test;

/// The ```rhai blocks of a Markdown file, with the line each starts on.
fn rhai_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut out = vec![];
    let mut open: Option<(usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, line.trim_start()) {
            (None, l) if l.starts_with("```rhai") => open = Some((i + 2, String::new())),
            (Some(_), l) if l.starts_with("```") => out.push(open.take().unwrap()),
            (Some((_, code)), _) => {
                code.push_str(line);
                code.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(open.is_none(), "an unclosed ```rhai block");
    out
}

/// `helix check` on each block as a recipe of its own; the failures, named by doc line.
fn check_blocks(doc: &str, blocks: &[(usize, String)]) -> Vec<String> {
    let mut t = Test::new();
    let mut names = vec![];
    for (line, code) in blocks {
        let name = format!("{}-line-{line}", doc.to_lowercase().replace('.', "-"));
        t = t.recipe(&name, code);
        names.push((name, line));
    }
    let mut failed = vec![];
    for (name, line) in names {
        let out = t.helix(["check", name.as_str()]);
        if out.code != 0 {
            failed.push(format!("{doc}:{line}:\n{}{}", out.stdout, out.stderr));
        }
    }
    failed
}

#[test]
fn every_rhai_example_in_the_readme_compiles_with_helixs_engine() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let blocks = rhai_blocks(&readme);
    assert!(!blocks.is_empty(), "the README shows a recipe");
    let failed = check_blocks("README.md", &blocks);
    assert!(failed.is_empty(), "README examples that do not compile:\n{}", failed.join("\n"));

    // The same path fails a block that does not compile (an unknown call, an undeclared name),
    // so the assertion above can fail.
    let (line, code) = &blocks[0];
    let broken = vec![(*line, format!("{code}\nfs::no_such_call(undeclared);\n"))];
    let failed = check_blocks("README.md", &broken);
    assert_eq!(failed.len(), 1, "a broken example passed `helix check`");
    assert!(
        failed[0].contains("no_such_call") || failed[0].contains("undeclared"),
        "{}",
        failed[0]
    );
}
