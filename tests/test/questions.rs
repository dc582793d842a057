//! The guard's questions at a real terminal name what will really be touched: the paths a
//! glob, a variable and a `cd` resolve to (never `*`, `$VAR`, or a relative name), what each is
//! now, and a link on the way with where it points. Declining leaves everything as it was.

use crate::support::builder::Test;
use crate::support::pty::with_pty;
use crate::support::redact;

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

/// Ask about `script`, answer "no", and return the terminal's text; what the terminal and
/// the output pipes showed is the snapshot `name`.
fn ask(t: Test, script: &str, name: &str) -> (Test, String) {
    let t = t.recipe("q", &format!("//! Asks.\ncmd::shell({script:?});\n"));
    let (out, tty) = with_pty(&t, &["run", "q"], "ahead", "no\n");
    assert_ne!(out.code, 0, "declined, yet it succeeded:\n{tty}");
    assert!(data_intact(&t), "declined, yet the data changed:\n{tty}");
    let dir = t.dir.path().canonicalize().unwrap();
    let screen = redact::redact(&redact::redact(&tty.replace("\r\n", "\n"), &dir), t.dir.path());
    let shown = format!("--- terminal\n{screen}{}", redact::shown("run q", &out, &dir));
    // Inside the overlay a new snapshot is written to the throwaway layer: make one with
    // `INSTA_WORKSPACE_ROOT=/dev/shm/x INSTA_UPDATE=always` and copy it from there.
    insta::assert_snapshot!(name, shown);
    (t, tty)
}

/// The lines naming what is destroyed, nested below the command's line (`    - `/path` — …`).
fn target_lines(tty: &str) -> Vec<&str> {
    tty.lines()
        .filter(|l| {
            l.trim_start().strip_prefix('-').is_some_and(|r| r.trim_start().starts_with('`'))
        })
        .collect()
}

#[test]
fn the_question_names_what_a_glob_resolves_to() {
    crate::in_overlay!(the_question_names_what_a_glob_resolves_to);
    let (_, tty) = ask(world(), "rm -rf data/s*", "a_glob");
    assert!(!tty.contains("Type * "), "{tty}");
}

#[test]
fn the_question_names_what_a_variable_resolves_to() {
    crate::in_overlay!(the_question_names_what_a_variable_resolves_to);
    let (_, tty) = ask(world(), "D=data/sub; rm -rf \"$D\"", "a_variable");
    assert!(!tty.contains("Type $D") && !tty.contains("Type D "), "{tty}");
    let targets = target_lines(&tty);
    assert!(!targets.is_empty(), "no target lines:\n{tty}");
    for l in targets {
        assert!(!l.contains("`$"), "an unresolved target line: {l}\n{tty}");
    }
}

#[test]
fn the_question_names_where_a_cd_leads() {
    crate::in_overlay!(the_question_names_where_a_cd_leads);
    ask(world(), "cd data && rm -rf sub", "a_cd");
}

#[test]
fn the_question_shows_a_link_and_where_it_points() {
    crate::in_overlay!(the_question_shows_a_link_and_where_it_points);
    let t = world();
    std::os::unix::fs::symlink(t.path("data/keep.txt"), t.path("lnk")).unwrap();
    let (_, tty) = ask(t, "truncate -s0 lnk", "a_link");
    assert!(!tty.contains("(only the link)"), "{tty}");
}
