//! The command line's conventions, run against the real binary: a closed output pipe, `helix
//! run` with `--help` or without a name (list, and a picker at a real pseudo-terminal), the
//! upward project search, `helix show`/`new --from`, dynamic completions through a real bash,
//! `helix api MODULE`, the journal as `helix log` tells it, and the dry run's truth.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

use crate::support::builder::{Output, Test};
use crate::support::redact;

// ---- a closed output pipe --------------------------------------------------------------------

/// `helix ARGS` with stdout a pipe whose reader is already gone: every write fails with EPIPE.
fn with_closed_stdout(t: &Test, args: &[&str]) -> Output {
    with_closed_pipe(t, args, false)
}

/// `helix ARGS` with stdout (or with `stderr`, stderr) a pipe whose reader is already gone.
fn with_closed_pipe(t: &Test, args: &[&str], stderr: bool) -> Output {
    let mut fds = [0; 2];
    // SAFETY: pipe writes two fresh fds into the array.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both fds were just created and are owned here.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    let mut cmd = t.command(args);
    if stderr {
        cmd.stdout(Stdio::piped()).stderr(Stdio::from(write));
    } else {
        cmd.stdout(Stdio::from(write)).stderr(Stdio::piped());
    }
    let out = cmd.output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn every_command_ends_quietly_when_its_output_pipe_is_closed() {
    let t = Test::new();
    t.helix(["run", "hello", "--out", &t.path("x.txt").display().to_string()]).success();
    let out = t.path("y.txt").display().to_string();
    let commands: Vec<Vec<&str>> = vec![
        vec!["list"],
        vec!["list", "--json"],
        vec!["api"],
        vec!["api", "fs"],
        vec!["config"],
        vec!["log"],
        vec!["log", "last"],
        vec!["completions", "bash"],
        vec!["show", "hello"],
        vec!["run"],
        vec!["run", "--help"],
        vec!["run", "hello", "--help"],
        vec!["run", "hello", "--dry-run", "--out", &out],
        vec!["run", "hello", "--out", &out],
        vec!["check", "hello"],
        vec!["trash", "list"],
        vec!["undo", "last", "--dry-run"],
        vec!["--help"],
    ];
    for args in &commands {
        let o = with_closed_stdout(&t, args);
        assert!(!o.stderr.contains("panicked"), "helix {args:?} panicked:\n{}", o.stderr);
        assert!(
            o.code == 141 || o.code == 0,
            "helix {args:?} ended with {}:\n{}",
            o.code,
            o.stderr
        );
    }
    // A run cut off that way is journaled as interrupted, with why; its children are gone.
    let last = t.helix(["log", "--json"]);
    let runs: serde_json::Value = serde_json::from_str(&last.stdout).unwrap();
    let cut = &runs.as_array().unwrap()[0];
    assert_eq!(cut["status"], "interrupted", "{cut}");
    assert!(cut["error"].as_str().unwrap().contains("output was closed"), "{cut}");
    // The same when it is stderr (`helix run x 2>&1 | head -1`, a closed log pipe).
    let o = with_closed_pipe(&t, &["run", "hello", "--out", &out], true);
    assert_eq!(o.code, 141, "stderr closed");
    let runs: serde_json::Value = serde_json::from_str(&t.helix(["log", "--json"]).stdout).unwrap();
    assert_eq!(runs[0]["status"], "interrupted", "{}", runs[0]);
}

#[test]
fn helix_list_into_head_exits_without_a_panic() {
    let t = Test::new();
    // The shell's own pipe, as a person types it; PIPESTATUS is helix's status.
    let out =
        t.shell("\"$HELIX\" list | head -1; echo \"status=${PIPESTATUS[0]}\"").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.starts_with("RECIPE"), "{stdout}");
    assert!(stdout.contains("status=0") || stdout.contains("status=141"), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

// ---- helix run: --help, no name, the picker ----------------------------------------------------

#[test]
fn run_help_is_the_run_commands_help() {
    // clap wraps help to $COLUMNS: not to the width of the terminal the tests were started from.
    let t = Test::new();
    let long = t.helix(["run", "--help"]);
    long.success();
    let short = t.helix(["run", "-h"]);
    short.success();
    assert_eq!(long.stdout, short.stdout);
    insta::assert_snapshot!("helix_run_help", long.stdout);
    // A flag before the name is explained, not taken for a recipe.
    let flag = t.helix(["run", "--bogus", "hello"]);
    flag.code(2);
    insta::assert_snapshot!(
        "run_flag_before_the_name",
        redact::shown("run --bogus hello", &flag, t.dir.path())
    );
}

#[test]
fn run_alone_without_a_terminal_lists_the_recipes() {
    let t = Test::new().recipe("mine", "//! My own recipe.\nui::info(\"hi\");\n");
    let out = t.helix(["run"]);
    out.success();
    insta::assert_snapshot!(
        "run_alone_lists_the_recipes",
        redact::shown("run", &out, t.dir.path())
    );
    assert!(!out.stderr.contains("==>"), "nothing ran: {}", out.stderr);
}

#[test]
fn run_alone_at_a_terminal_offers_a_picker_and_asks_required_parameters() {
    let t = Test::new().recipe(
        "aaa-greet",
        "//! Greets someone (first in the list).\n//! @param who  Whom to greet (required)\nui::info(`picked: hello ${args.who}`);\n",
    );
    let (code, screen) = crate::support::pty::pty_session(
        &t,
        &["run"],
        &[],
        &[("Which recipe?", "\r"), ("--who", "you\r")],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{screen}");
    // What the terminal showed when Enter was pressed (the picker), and at the end.
    let up = |i: &usize| {
        screen[i + 2..].trim_start_matches(|c: char| c.is_ascii_digit()).starts_with('A')
    };
    let cut = screen.match_indices("\x1b[").map(|(i, _)| i).find(up).unwrap_or(screen.len());
    let picker = &screen[..cut];
    insta::assert_snapshot!(
        "run_alone_at_a_terminal",
        format!("--- the picker\n{}--- at the end\n{}", rendered(picker), rendered(&screen))
    );
    // Escape cancels, and so does Ctrl-C: nothing runs, and the cursor the picker hid is
    // shown again.
    for key in ["\x1b", "\x03"] {
        let (code, screen) = crate::support::pty::pty_session(
            &t,
            &["run"],
            &[],
            &[("Which recipe?", key)],
            Duration::from_secs(60),
        );
        assert_eq!(code, 130, "{key:?}: {screen}");
        assert!(!screen.contains("picked:"), "{key:?}: {screen}");
        assert!(screen.rfind("\x1b[?25h") > screen.rfind("\x1b[?25l"), "{key:?}: {screen:?}");
        // The picker is erased and says why it ended (Ctrl-C's handler once raced this).
        let name = if key == "\x1b" { "escape" } else { "ctrl_c" };
        insta::assert_snapshot!(format!("the_picker_after_{name}"), rendered(&screen));
    }
}

/// The text a terminal shows after `bytes`: printable characters at the cursor, `\r`, `\n`,
/// and the escapes the picker and prompts use (`ESC[nA`/`ESC[nB` up and down, `ESC[2K` clear the
/// line; cursor shown/hidden ignored). Trailing blanks and empty rows at the end are dropped.
fn rendered(bytes: &str) -> String {
    let mut rows: Vec<Vec<char>> = vec![vec![]];
    let (mut row, mut col) = (0usize, 0usize);
    let mut chars = bytes.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => col = 0,
            '\n' => row += 1,
            '\x1b' => {
                assert_eq!(chars.next(), Some('['), "an escape other than CSI in {bytes:?}");
                let mut arg = String::new();
                let end = loop {
                    match chars.next() {
                        Some(c) if c.is_ascii_digit() || c == '?' || c == ';' => arg.push(c),
                        Some(c) => break c,
                        None => panic!("an unfinished escape in {bytes:?}"),
                    }
                };
                let n = arg.parse::<usize>().unwrap_or(1);
                match (end, arg.as_str()) {
                    ('A', _) => row = row.saturating_sub(n),
                    ('B', _) => row += n,
                    ('K', "2") => rows[row].clear(),
                    ('h' | 'l', "?25") => {}
                    other => panic!("an escape the picker does not use: {other:?} in {bytes:?}"),
                }
            }
            c => {
                let line = &mut rows[row];
                if line.len() <= col {
                    line.resize(col, ' ');
                    line.push(c);
                } else {
                    line[col] = c;
                }
                col += 1;
            }
        }
        if rows.len() <= row {
            rows.resize(row + 1, vec![]);
        }
    }
    let mut text: Vec<String> =
        rows.iter().map(|r| r.iter().collect::<String>().trim_end().to_string()).collect();
    while text.last().is_some_and(String::is_empty) {
        text.pop();
    }
    text.iter().map(|l| format!("{l}\n")).collect()
}

// ---- one upward search for helix.toml and recipes/ -----------------------------------------

#[test]
fn a_project_is_found_from_any_folder_below_it() {
    let t = Test::new()
        .file("proj/helix.toml", "[vm]\nname = \"from-the-project\"\n")
        .file("proj/recipes/here.rhai", "//! H.\nui::info(`vm: ${config.vm.name}`);\n")
        .file("proj/src/deep/er/.keep", "");
    let deep = t.path("proj/src/deep/er");
    t.helix(["--help"]).success();
    let t = t.cwd(&deep);
    t.helix(["run", "here"]).success().stderr_has("vm: from-the-project");
    t.helix(["list"]).success().stdout_has("here");
    // Without a helix.toml the recipes/ folder marks the project.
    let u = Test::new()
        .file("p2/recipes/there.rhai", "//! T.\nui::info(\"there\");\n")
        .file("p2/a/b/.keep", "");
    let below = u.path("p2/a/b");
    let u = u.cwd(&below);
    u.helix(["run", "there"]).success().stderr_has("there");
    // `helix new` puts a new recipe in the project's recipes/, not in the cwd.
    u.helix(["new", "fresh"]).success();
    assert!(u.path("p2/recipes/fresh.rhai").is_file());
    assert!(!u.path("p2/a/b/recipes").exists());
    // The nearest helix.toml is the project: an outer recipes/ does not leak into it.
    let w = Test::new()
        .file("outer/recipes/outer-only.rhai", "//! O.\n")
        .file("outer/inner/helix.toml", "")
        .file("outer/inner/x/.keep", "");
    let below = w.path("outer/inner/x");
    let w = w.cwd(&below);
    let none = w.helix(["run", "outer-only"]);
    none.code(2);
    insta::assert_snapshot!(
        "no_such_recipe_outside_the_project",
        redact::shown("run outer-only", &none, w.dir.path())
    );
}

// ---- show and new --from ---------------------------------------------------------------------

#[test]
fn show_prints_a_recipes_source_and_where_it_comes_from() {
    let t = Test::new();
    let builtin = t.helix(["show", "hello"]);
    builtin.success();
    insta::assert_snapshot!("helix_show_builtin", builtin.stderr);
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/recipes/hello.rhai");
    assert_eq!(builtin.stdout, std::fs::read_to_string(file).unwrap(), "the exact source");
    let t = t.recipe(
        "hello",
        "//! My hello.\n//! @param who  Whom (default: me)\nui::info(`hi ${args.who}`);\n",
    );
    let own = t.helix(["show", "hello"]);
    own.success();
    let from = own.stderr.replace(&t.dir.path().display().to_string(), "[project]");
    insta::assert_snapshot!("helix_show", format!("stderr: {from}stdout:\n{}", own.stdout));
    let typo = t.helix(["show", "helo"]);
    typo.code(2);
    insta::assert_snapshot!("helix_show_typo", redact::shown("show helo", &typo, t.dir.path()));
}

#[test]
fn new_from_copies_a_builtin_to_shadow_it_and_new_says_when_it_shadows() {
    let t = Test::new();
    std::fs::remove_dir_all(t.path("recipes")).unwrap();
    // What each `helix new` said, in order: one snapshot.
    let mut said = String::new();
    let new = |t: &Test, said: &mut String, args: &[&str], code: i32| {
        let mut argv = vec!["new"];
        argv.extend_from_slice(args);
        let out = t.helix(argv.iter().copied());
        out.code(code);
        said.push_str(&redact::shown(&argv.join(" "), &out, t.dir.path()));
        out
    };
    new(&t, &mut said, &["build-qemu", "--from", "build-qemu"], 0);
    let copy = std::fs::read_to_string(t.path("recipes/build-qemu.rhai")).unwrap();
    let original = concat!(env!("CARGO_MANIFEST_DIR"), "/recipes/build-qemu.rhai");
    assert_eq!(copy, std::fs::read_to_string(original).unwrap());
    t.helix(["list"]).success().stdout_has("(shadows built-in)");
    t.helix(["check", "build-qemu"]).success();
    // Never over an existing file.
    std::fs::write(t.path("recipes/build-qemu.rhai"), "//! Edited.\n").unwrap();
    new(&t, &mut said, &["build-qemu", "--from", "build-qemu"], 2);
    assert_eq!(
        std::fs::read_to_string(t.path("recipes/build-qemu.rhai")).unwrap(),
        "//! Edited.\n"
    );
    // A skeleton named like a built-in says so; an unrelated name does not.
    new(&t, &mut said, &["hello"], 0);
    let mine = new(&t, &mut said, &["mine"], 0);
    assert!(!mine.stdout.contains("shadows"), "{}", mine.stdout);
    t.helix(["run", "mine", "--who", "x"]).success().stderr_has("hello, x");
    new(&t, &mut said, &["x", "--from", "no-such"], 2);
    assert!(!t.path("recipes/x.rhai").exists());
    new(&t, &mut said, &["../evil"], 2);
    // Not through a link either: a (dangling) symlink where the file would go is left alone.
    std::os::unix::fs::symlink(t.path("target.txt"), t.path("recipes/link.rhai")).unwrap();
    new(&t, &mut said, &["link"], 2);
    assert!(!t.path("target.txt").exists());
    // A folder helix does not search is named as such, with the way to run the file.
    new(&t, &mut said, &["far", "--dir", "elsewhere"], 0);
    assert!(!t.path("evil.rhai").exists());
    insta::assert_snapshot!("helix_new", said);
}

// ---- dynamic completions -----------------------------------------------------------------------

/// Completions as bash computes them: the registration script sourced into a real bash, its
/// function called the way bash calls it for `WORDS` with the cursor on the last one.
fn bash_complete(t: &Test, words: &[&str]) -> Vec<String> {
    let script = t.helix(["completions", "bash"]);
    script.success();
    std::fs::write(t.path("complete.bash"), &script.stdout).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let prog = format!(
        "source complete.bash\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_clap_complete_helix helix '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let out = t.shell(&prog).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).collect()
}

#[test]
fn completions_offer_recipe_names_and_each_recipes_parameters() {
    let t = Test::new().recipe(
        "grow-tmp",
        "//! Grow.\n//! @param size:size  How big (required)\n//! @flag  force  Even if\n",
    );
    let names = bash_complete(&t, &["helix", "run", "gr"]);
    assert!(names.contains(&"grow-tmp".to_string()), "{names:?}");
    let all = bash_complete(&t, &["helix", "run", ""]);
    assert!(all.contains(&"hello".to_string()) && all.contains(&"grow-tmp".to_string()), "{all:?}");
    let params = bash_complete(&t, &["helix", "run", "grow-tmp", "--"]);
    for p in ["--size", "--force", "--no-force", "--dry-run", "--resume"] {
        assert!(params.contains(&p.to_string()), "{p} in {params:?}");
    }
    let hello = bash_complete(&t, &["helix", "run", "hello", "--w"]);
    assert_eq!(hello, vec!["--who".to_string()]);
    let shown = bash_complete(&t, &["helix", "show", "he"]);
    assert!(shown.contains(&"hello".to_string()), "{shown:?}");
    assert_eq!(bash_complete(&t, &["helix", "api", "qemu_"]), vec!["qemu_img".to_string()]);
    // A recipe written after the completions were loaded is offered at once.
    let t = t.recipe("zz-new", "//! Z.\n");
    assert_eq!(bash_complete(&t, &["helix", "run", "zz"]), vec!["zz-new".to_string()]);
    // Another program's `COMPLETE` in the environment does not turn a run into a completion.
    t.helix(["list"]).success();
    let other = t.env("COMPLETE", "bash");
    other.helix(["list"]).success().stdout_has("zz-new").stdout_has("RECIPE");
}

// ---- helix api MODULE ------------------------------------------------------------------------

#[test]
fn api_takes_a_module_and_lists_no_internal_entries() {
    let t = Test::new();
    let fs = t.helix(["api", "fs"]);
    fs.success().stdout_has("## `fs`").stdout_has("### `fs::write(");
    assert!(!fs.stdout.contains("## `ssh`"), "only fs");
    let all = t.helix(["api"]);
    all.success();
    assert!(!all.stdout.contains("get$"), "getters read as properties");
    assert!(!all.stdout.contains("::==") && !all.stdout.contains("::!="), "no operators");
    all.stdout_has("`vm.name` (property of `Vm`)");
    let nope = t.helix(["api", "nope"]);
    nope.code(2);
    insta::assert_snapshot!("api_no_such_module", redact::shown("api nope", &nope, t.dir.path()));
    let json = t.helix(["api", "ssh", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["module"], "ssh");
    let names: Vec<&str> =
        v["functions"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"run") && !names.contains(&"write"), "{names:?}");
    let json_nope = t.helix(["api", "nope", "--json"]);
    json_nope.code(2);
    assert_eq!(json_nope.stderr, nope.stderr, "the same error with --json");
}

// ---- exit codes --------------------------------------------------------------------------------

#[test]
fn a_failed_command_is_never_mistaken_for_a_usage_error() {
    let t = Test::new().recipe("r", "//! R.\ncmd::run([\"sh\", \"-c\", \"exit 2\"]);\n");
    let failed = t.helix(["run", "r"]);
    failed.code(1);
    insta::assert_snapshot!("a_failed_command", redact::shown("run r", &failed, t.dir.path()));
    let t = t.recipe("s", "//! S.\ncmd::run([\"sh\", \"-c\", \"kill -TERM $$\"]);\n");
    t.helix(["run", "s"]).code(1);
    let usage = t.helix(["run", "r", "--nope"]);
    usage.code(2);
    insta::assert_snapshot!(
        "an_unknown_parameter",
        redact::shown("run r --nope", &usage, t.dir.path())
    );
}

// ---- the journal tells the story ---------------------------------------------------------------

/// Journal files as helix writes them, with fixed ids, times and durations, so `helix log`'s
/// rendering can be a snapshot: an ok run, a dry run, a failed run with a 600-character
/// refusal, an interrupted one and one helix never ended.
fn fixture_journal(t: &Test) {
    let refusal = format!(
        "refused: `/etc/{}` is protected by system: helix never changes the operating system",
        "very-long-name-".repeat(38)
    );
    let runs = [
        (
            "20261127-090000000-aaa",
            r#"{"type":"start","run":"20261127-090000000-aaa","recipe":"hello","args":{"loud":false,"out":"/tmp/helix-hello.txt","who":"world"},"dry_run":false,"ts":"2026-11-27T09:00:00.000Z","cwd":"/p"}
{"type":"action","kind":"step","detail":"step `greet`","result":"ok","ms":1}
{"type":"action","kind":"fs.write","detail":"write `/tmp/helix-hello.txt` (13 bytes)","result":"ok","ms":2,"undo":{"remove_created":"/tmp/helix-hello.txt"}}
{"type":"end","status":"ok","ms":1234,"ts":"2026-11-27T09:00:01.234Z"}
"#
            .to_string(),
        ),
        (
            "20261127-091500000-bbb",
            r#"{"type":"start","run":"20261127-091500000-bbb","recipe":"provision-vm","args":{"cpus":8,"profile":"light","only":["disk","seed"]},"dry_run":true,"ts":"2026-11-27T09:15:00.000Z","cwd":"/p"}
{"type":"action","kind":"qemu_img.create","detail":"create `/vm/disk.qcow2` (256G)","result":"dry-run","ms":0}
{"type":"end","status":"ok","ms":80,"ts":"2026-11-27T09:15:00.080Z"}
"#
            .to_string(),
        ),
        (
            "20261127-093000000-ccc",
            format!(
                r#"{{"type":"start","run":"20261127-093000000-ccc","recipe":"netplan-fix","args":{{"force":true}},"dry_run":false,"ts":"2026-11-27T09:30:00.000Z","cwd":"/p"}}
{{"type":"action","kind":"fs.write","detail":"write `/etc/x`","result":{refusal:?},"ms":0}}
{{"type":"action","kind":"step","detail":"step `override`","result":"failed","ms":3}}
{{"type":"end","status":"failed","ms":245000,"ts":"2026-11-27T09:34:05.000Z","error":"error: {}\n  --> builtin:recipes/netplan-fix.rhai:31:5","step":"override"}}
"#,
                refusal.replace('`', "\\u0060")
            ),
        ),
        (
            "20261127-094500000-ddd",
            r#"{"type":"start","run":"20261127-094500000-ddd","recipe":"build-qemu","args":{},"dry_run":false,"ts":"2026-11-27T09:45:00.000Z","cwd":"/p"}
{"type":"end","status":"interrupted","ms":4000000,"ts":"2026-11-27T10:51:40.000Z","error":"stopped: interrupted (Ctrl-C)"}
"#
            .to_string(),
        ),
        (
            "20261127-100000000-eee",
            r#"{"type":"start","run":"20261127-100000000-eee","recipe":"doctor","args":{"json":false},"dry_run":false,"ts":"2026-11-27T10:00:00.000Z","cwd":"/p"}
"#
            .to_string(),
        ),
    ];
    for (id, text) in runs {
        let p = t.path(&format!("state/runs/{id}.jsonl"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

#[test]
fn log_lists_runs_with_status_args_and_duration_fitted_to_the_terminal() {
    let t = Test::new();
    fixture_journal(&t);
    let t = t.env("COLUMNS", "120");
    let list = t.helix(["log"]);
    list.success();
    insta::assert_snapshot!("helix_log", list.stdout);
    let failed = t.helix(["log", "20261127-0930"]);
    failed.success();
    insta::assert_snapshot!("helix_log_failed_run", failed.stdout);
    // Every line of the tables fits; the error below them is kept whole.
    let tables = failed.stdout.split("failed in step").next().unwrap().to_string();
    for text in [&list.stdout, &tables] {
        for line in text.lines() {
            assert!(console_width(line) <= 120, "{} columns: {line}", console_width(line));
        }
    }
    // However narrow the terminal, run ids stay whole: they are what a person copies.
    let t = t.env("COLUMNS", "50");
    let narrow = t.helix(["log"]);
    narrow.success();
    assert!(narrow.stdout.contains("20261127-093000000-ccc"), "{}", narrow.stdout);
    insta::assert_snapshot!("helix_log_in_50_columns", narrow.stdout);
    // Piped without a width: whole lines, still no 600-character column.
    let t = t.env("COLUMNS", "");
    let whole = t.helix(["log", "20261127-0930"]);
    let header = whole.stdout.lines().find(|l| l.starts_with("ACTION")).unwrap();
    assert!(header.len() < 120, "the RESULT column is capped: {header}");
    insta::assert_snapshot!("helix_log_failed_run_piped", whole.stdout);
    let dry = t.helix(["log", "20261127-0915"]);
    dry.success();
    insta::assert_snapshot!("helix_log_dry_run", dry.stdout);
    t.helix(["log", "--json"]).success().stdout_has("\"dry_run\": true");
}

fn console_width(s: &str) -> usize {
    s.chars().count()
}

#[test]
fn a_failed_run_journals_its_error_and_step_so_helix_log_shows_what_it_did() {
    let t = Test::new().recipe(
        "fails",
        "//! F.\n//! @param who  W (default: me)\nstep(\"first\", || { ui::info(\"one\"); });\nstep(\"second\", || {\n    fs::write(\"made.txt\", \"x\");\n    throw \"the thing broke\";\n});\n",
    );
    let out = t.helix(["run", "fails", "--who", "them"]);
    out.code(1);
    insta::assert_snapshot!(
        "a_failed_run",
        redact::shown("run fails --who them", &out, t.dir.path())
    );
    let id = out.stderr.split("`helix log ").nth(1).unwrap().split('`').next().unwrap().to_string();
    pin_times(&t, &id);
    let log = t.helix(["log", &id]);
    log.success();
    insta::assert_snapshot!(
        "a_failed_run_in_helix_log",
        redact::shown(&format!("log {id}"), &log, t.dir.path())
    );
    let list = t.helix(["log"]);
    list.success().stdout_has("--who them");
    // Dry runs are not `ok` like real runs.
    t.helix(["run", "hello", "--dry-run"]).success();
    let list = t.helix(["log", "-n", "1"]);
    let row = list.stdout.lines().nth(1).unwrap();
    assert!(row.contains("hello") && row.contains("dry run"), "{row}");
}

/// Pin the clock in run `id`'s journal (every `ts` and `ms`), so `helix log ID` reads the same
/// on any machine at any time; what the run did stays as helix wrote it.
fn pin_times(t: &Test, id: &str) {
    let p = t.path(&format!("state/runs/{id}.jsonl"));
    let mut pinned = String::new();
    for line in std::fs::read_to_string(&p).unwrap().lines() {
        let mut record: serde_json::Value = serde_json::from_str(line).unwrap();
        if record.get("ts").is_some() {
            record["ts"] = "2026-11-27T09:00:00.000Z".into();
        }
        if record.get("ms").is_some() {
            record["ms"] = 7.into();
        }
        pinned.push_str(&format!("{record}\n"));
    }
    std::fs::write(p, pinned).unwrap();
}

// ---- the dry run tells the truth ---------------------------------------------------------------

/// Words that say something happened. A line of a dry run that uses one and is not marked as
/// planned (`[dry-run]`) claims a change that was not made.
const CLAIMS: &[&str] = &[
    "wrote",
    "written",
    "created",
    "installed",
    "removed",
    "deleted",
    "restored",
    "started",
    "stopped",
    "built",
    "took",
    "taken",
    "moved",
    "copied",
    "kept",
    "reverted",
    "provisioned",
    "registered",
    "resized",
    "changed",
    "applied",
    "cloned",
    "signed",
    "downloaded",
    "undone",
    "undo",
    "done",
    "opened",
    "saved",
    "fixed",
    "repaired",
    "updated",
];

/// The lines of a dry run's output that claim a change.
pub fn claims(out: &Output) -> Vec<String> {
    // Rows of a table (`ui::table`, on stdout: cells apart by two spaces or more) show what
    // was read — `state  stopped` is a fact, not a claim.
    // So is a one-word state after a colon (`vm: stopped`).
    let is_row = |l: &str| {
        l.trim().contains("  ")
            || l.rsplit_once(": ").is_some_and(|(_, v)| !v.trim().is_empty() && !v.contains(' '))
    };
    out.stdout
        .lines()
        .filter(|l| !is_row(l))
        .chain(out.stderr.lines())
        .filter(|l| {
            let l = l.trim_start();
            // Helix's own plan lines and planned results; headers name steps; errors explain.
            !(l.starts_with("[dry-run]")
                || l.starts_with("==>")
                || l.starts_with("error:")
                || l.starts_with("warning:")
                || l.starts_with("-->")
                || l.starts_with('|')
                || l.starts_with('=')
                || l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        })
        .filter(|l| {
            let words: Vec<String> = l
                .split(|c: char| !c.is_ascii_alphabetic() && c != '\'')
                .filter(|w| !w.is_empty())
                .map(str::to_ascii_lowercase)
                .collect();
            // `not cloned`, `would be installed`, `never started` claim nothing.
            let hedged = |i: usize| {
                i > 0
                    && ["not", "never", "no", "be", "would", "will", "isn't", "wasn't"]
                        .contains(&words[i - 1].as_str())
            };
            words.iter().enumerate().any(|(i, w)| CLAIMS.contains(&w.as_str()) && !hedged(i))
        })
        .map(String::from)
        .collect()
}

/// Every claim-free dry run ends with the line saying nothing was changed.
pub fn assert_truthful(argv: &[String], out: &Output) {
    let lies = claims(out);
    assert!(
        lies.is_empty(),
        "`helix {}` claims changes it did not make:\n{}\n--- stdout:\n{}\n--- stderr:\n{}",
        argv.join(" "),
        lies.join("\n"),
        out.stdout,
        out.stderr
    );
    assert!(
        out.stderr.trim_end().lines().last().is_some_and(|l| l.contains("nothing was changed")),
        "`helix {}` does not end saying nothing was changed:\n{}",
        argv.join(" "),
        out.stderr
    );
}

#[test]
fn a_dry_run_marks_what_the_recipe_reports_and_never_offers_an_undo() {
    let t = Test::new().recipe(
        "forgetful",
        "//! Written as if dry runs did not exist.\nui::success(\"checked the disk: fine\");\nfs::write(\"out.txt\", \"x\");\nui::success(\"wrote out.txt\");\nui::info(\"installed the new config\");\nprint(`to undo: helix undo ${run_id()}`);\n",
    );
    let out = t.helix(["run", "forgetful", "--dry-run"]);
    out.success();
    let mut said = redact::shown("run forgetful --dry-run", &out, t.dir.path());
    assert!(!out.stderr.contains("✓ wrote"), "{}", out.stderr);
    assert!(!t.path("out.txt").exists());
    assert!(!out.stderr.contains("to undo this run"), "{}", out.stderr);
    // The recipe's own print is its business; the truth checker catches it.
    assert_eq!(claims(&out), vec![format!("to undo: helix undo {}", run_of(&t))]);
    // A real run says all of it plainly, and helix offers the undo.
    let real = t.helix(["run", "forgetful"]);
    real.success();
    said.push_str(&redact::shown("run forgetful", &real, t.dir.path()));
    assert!(!real.stderr.contains("[dry-run]"), "{}", real.stderr);
    // A failed dry run still ends saying nothing was changed.
    let t = t.recipe("boom", "//! B.\nfs::write(\"b.txt\", \"x\");\nthrow \"no\";\n");
    let failed = t.helix(["run", "boom", "--dry-run"]);
    failed.code(1);
    assert!(
        failed.stderr.trim_end().ends_with("stopped; nothing was changed (1 change planned)"),
        "{}",
        failed.stderr
    );
    said.push_str(&redact::shown("run boom --dry-run", &failed, t.dir.path()));
    insta::assert_snapshot!("a_dry_run_and_a_real_run", said);
}

fn run_of(t: &Test) -> String {
    let v: serde_json::Value = serde_json::from_str(&t.helix(["log", "--json"]).stdout).unwrap();
    v[0]["id"].as_str().unwrap().to_string()
}

#[test]
fn undo_dry_run_says_would_restore_and_restores_nothing() {
    let t = Test::new().file("f.txt", "before\n").recipe(
        "w",
        "//! W.\nfs::write(\"f.txt\", \"after\\n\");\nfs::write(\"new.txt\", \"n\");\n",
    );
    t.helix(["run", "w"]).success();
    let plan = t.helix(["undo", "last", "--dry-run"]);
    plan.success();
    // The previous bytes are kept in the trash, under an id of the moment.
    let mut said =
        redact::times_and_trash_ids(&redact::shown("undo last --dry-run", &plan, t.dir.path()));
    assert!(!plan.stdout.contains("undone") && !plan.stdout.contains("undid"), "{}", plan.stdout);
    assert_eq!(std::fs::read_to_string(t.path("f.txt")).unwrap(), "after\n");
    assert!(t.path("new.txt").exists());
    let undo = t.helix(["undo", "last"]);
    undo.success();
    said.push_str(&redact::shown("undo last", &undo, t.dir.path()));
    insta::assert_snapshot!("undo_dry_run_then_undo", said);
    assert_eq!(std::fs::read_to_string(t.path("f.txt")).unwrap(), "before\n");
}
