//! The guard's questions at a real terminal name what will really be touched: the paths a
//! glob, a variable and a `cd` resolve to (never `*`, `$VAR`, or a relative name), what each is
//! now, and a link on the way with where it points. Declining leaves everything as it was.

use crate::support::builder::Test;
use crate::support::pty::with_pty;

fn world() -> Test {
    let t = Test::new();
    for f in ["data/sub/a.txt", "data/sub/b.txt", "data/keep.txt"] {
        let p = t.path(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "precious").unwrap();
    }
    t
}

fn data_intact(t: &Test) -> bool {
    ["data/sub/a.txt", "data/sub/b.txt", "data/keep.txt"]
        .iter()
        .all(|f| std::fs::read_to_string(t.path(f)).is_ok_and(|s| s == "precious"))
}

/// Ask about `script`, answer "no", and return the question's target lines.
fn ask(t: Test, script: &str) -> (Test, String) {
    let t = t.recipe("q", &format!("//! Asks.\ncmd::shell({script:?});\n"));
    let (out, tty) = with_pty(&t, &["run", "q"], "ahead", "no\n");
    assert_ne!(out.code, 0, "declined, yet it succeeded:\n{tty}");
    assert!(data_intact(&t), "declined, yet the data changed:\n{tty}");
    assert!(tty.contains("cancelled; nothing was changed"), "{tty}");
    (t, tty)
}

/// The lines naming what is destroyed (after the command line).
fn target_lines(tty: &str) -> Vec<&str> {
    tty.lines().filter(|l| l.trim_start().starts_with("- `") || l.starts_with("    `")).collect()
}

#[test]
fn the_question_names_what_a_glob_resolves_to() {
    crate::in_overlay!(the_question_names_what_a_glob_resolves_to);
    let (t, tty) = ask(world(), "rm -rf data/s*");
    let sub = t.path("data/sub").canonicalize().unwrap();
    assert!(tty.contains(&format!("`{}` — directory", sub.display())), "{tty}");
    assert!(tty.contains("in 2 files"), "{tty}");
    assert!(tty.contains("Type sub to go ahead"), "{tty}");
    assert!(!tty.contains("Type * "), "{tty}");
}

#[test]
fn the_question_names_what_a_variable_resolves_to() {
    crate::in_overlay!(the_question_names_what_a_variable_resolves_to);
    let (t, tty) = ask(world(), "D=data/sub; rm -rf \"$D\"");
    let sub = t.path("data/sub").canonicalize().unwrap();
    assert!(tty.contains(&format!("`{}` — directory", sub.display())), "{tty}");
    assert!(tty.contains("Type sub to go ahead"), "{tty}");
    assert!(!tty.contains("Type $D") && !tty.contains("Type D "), "{tty}");
    for l in target_lines(&tty) {
        assert!(!l.starts_with("    `$"), "an unresolved target line: {l}\n{tty}");
    }
}

#[test]
fn the_question_names_where_a_cd_leads() {
    crate::in_overlay!(the_question_names_where_a_cd_leads);
    let (t, tty) = ask(world(), "cd data && rm -rf sub");
    let sub = t.path("data/sub").canonicalize().unwrap();
    assert!(tty.contains(&format!("`{}` — directory", sub.display())), "{tty}");
    assert!(tty.contains("Type sub to go ahead"), "{tty}");
}

#[test]
fn the_question_shows_a_link_and_where_it_points() {
    crate::in_overlay!(the_question_shows_a_link_and_where_it_points);
    let t = world();
    std::os::unix::fs::symlink(t.path("data/keep.txt"), t.path("lnk")).unwrap();
    let (t, tty) = ask(t, "truncate -s0 lnk");
    let keep = t.path("data/keep.txt").canonicalize().unwrap();
    assert!(tty.contains(&format!("`{}` — file", keep.display())), "{tty}");
    assert!(tty.contains("reached through the symbolic link"), "{tty}");
    assert!(!tty.contains("(only the link)"), "{tty}");
}
