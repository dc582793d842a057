//! The host: finding, checking and running recipes; errors that point at the recipe line.

use crate::support::builder::Test;
use crate::support::redact::redact;

/// What a person reads of `helix ARGS`, under a header naming it: one part of a snapshot.
#[test]
fn runs_a_recipe_with_args_and_config() {
    Test::new()
        .recipe("greet", "//! Greets.\n//! @param who Whom (required)\nprint(`hi ${args.who} from ${config.vm.ssh_user}`);\n")
        .args(["run", "greet", "--who", "ada"])
        .env("USER", "grace")
        .run()
        .success()
        .stdout_has("hi ada from grace");
}

#[test]
fn editing_a_recipe_changes_the_next_run() {
    let t = Test::new().recipe("r", "//! R.\nprint(\"one\");\n");
    t.helix(["run", "r"]).success().stdout_has("one");
    std::fs::write(t.path("recipes/r.rhai"), "//! R.\nprint(\"two\");\n").unwrap();
    t.helix(["run", "r"]).success().stdout_has("two").stdout_lacks("one");
}

#[test]
fn check_reports_undefined_variable_with_position() {
    let t = Test::new().recipe("bad", "//! Bad.\nlet x = 1;\nprint(y);\n");
    let out = t.helix(["check", "bad"]);
    out.code(1);
    insta::assert_snapshot!("check_undefined_variable", t.shown("check bad", &out));
}

#[test]
fn check_reports_syntax_error_with_position() {
    let t = Test::new().recipe("bad", "//! Bad.\nlet x = (1 + ;\n");
    let out = t.helix(["check"]);
    out.code(1);
    // The error whole; the count of everything checked (the built-ins too) only in its words.
    assert!(out.stdout.lines().any(|l| l == "FAILED bad"), "{}", out.stdout);
    let (error, summary) = out.stderr.trim_end().rsplit_once('\n').unwrap();
    assert!(summary.starts_with("1 of ") && summary.ends_with(" failed the check"), "{summary}");
    insta::assert_snapshot!("check_syntax_error", redact(error, t.dir.path()));
}

/// `helix run` compiles the recipe and its modules itself: their compile errors are in
/// helix's words too, at the line to fix.
#[test]
fn run_reports_compile_errors_in_helix_words() {
    let t = Test::new()
        .recipe("bad", "//! Bad.\nlet s = \"not closed;\nprint(s);\n")
        .module("broken", "fn f() {\n    break;\n}\n")
        .recipe("uses", "//! Uses a broken module.\nimport \"broken\" as broken;\nbroken::f();\n");
    let mut all = String::new();
    for name in ["bad", "uses"] {
        let out = t.helix(["run", name]);
        out.code(1);
        all.push_str(&t.shown(&format!("run {name}"), &out));
    }
    insta::assert_snapshot!("run_compile_errors", all);
}

#[test]
fn runtime_error_points_at_the_line_and_the_call_chain() {
    let t = Test::new()
        .module("util", "fn boom(n) {\n    throw `boom ${n}`;\n}\n")
        .recipe("r", "//! R.\nimport \"util\" as util;\n\nutil::boom(7);\n");
    let out = t.helix(["run", "r"]);
    out.code(1);
    insta::assert_snapshot!("runtime_error_call_chain", t.shown("run r", &out));
}

#[test]
fn failed_command_exit_code_and_stderr_tail() {
    let t = Test::new()
        .recipe("r", "//! R.\ncmd::run([\"sh\", \"-c\", \"echo the-reason >&2; exit 7\"]);\n");
    let out = t.helix(["run", "r"]);
    out.code(7);
    insta::assert_snapshot!("failed_command", t.shown("run r", &out));
}

/// A noisy command's stderr reaches ours whole and in order (on Linux without passing through
/// helix: `tee`/`splice`), and the error still shows its last lines.
#[test]
fn a_noisy_stderr_streams_whole_and_the_error_keeps_its_tail() {
    let t = Test::new()
        .recipe("r", "//! R.\ncmd::run([\"sh\", \"-c\", \"seq 1 300000 >&2; exit 3\"]);\n");
    let out = t.helix(["run", "r"]);
    out.code(3);
    let streamed: Vec<&str> = out.stderr.lines().take_while(|l| l.parse::<u32>().is_ok()).collect();
    assert_eq!(streamed.len(), 300000, "every line, in order");
    assert!(streamed.iter().enumerate().all(|(i, l)| l.parse::<usize>().unwrap() == i + 1));
    // The error after the stream, whole: only the last 20 lines in its tail.
    let error: Vec<&str> = out.stderr.lines().skip(streamed.len()).collect();
    insta::assert_snapshot!("noisy_stderr_error", redact(&error.join("\n"), t.dir.path()));
}

/// With helix's stderr on a log file the child writes into it directly; the error's tail is
/// read back from what the child wrote.
#[test]
fn into_a_log_file_the_child_writes_directly_and_the_tail_is_read_back() {
    let t = Test::new().recipe(
        "r",
        "//! R.\ncmd::run([\"sh\", \"-c\", \"echo before; seq 1 50000 >&2; exit 4\"]);\n",
    );
    let log = t.path("run.log");
    let mut cmd = t.command(["run", "r"]);
    cmd.stdout(std::process::Stdio::null()).stderr(std::fs::File::create(&log).unwrap());
    assert_eq!(cmd.status().unwrap().code(), Some(4));
    let text = std::fs::read_to_string(&log).unwrap();
    let streamed: Vec<&str> = text.lines().take_while(|l| l.parse::<u32>().is_ok()).collect();
    assert_eq!(streamed.len(), 50000, "{}", &text[text.len().saturating_sub(2000)..]);
    // The error after the stream, whole: the last 20 lines the child wrote, read back.
    let error: Vec<&str> = text.lines().skip(streamed.len()).collect();
    insta::assert_snapshot!("log_file_error", redact(&error.join("\n"), t.dir.path()));
}

#[test]
fn unknown_missing_and_mistyped_parameters_are_usage_errors() {
    let t = Test::new()
        .recipe("r", "//! R.\n//! @param n:int N (required)\nfs::write(\"out\", \"x\");\n");
    let mut all = String::new();
    for args in [&["run", "r", "--m", "1"][..], &["run", "r"], &["run", "r", "--n", "x"]] {
        let out = t.helix(args.iter().copied());
        out.code(2);
        all.push_str(&t.shown(&args.join(" "), &out));
    }
    insta::assert_snapshot!("parameter_usage_errors", all);
    assert!(!t.path("out").exists(), "nothing may run before parameters are valid");
}

#[test]
fn recipe_help_lists_parameters() {
    let t = Test::new().recipe(
        "r",
        "//! Does r.\n//! @param size:size  New size (required)\n//! @flag  fast  Go fast\n",
    );
    let out = t.helix(["run", "r", "--help"]);
    out.success();
    insta::assert_snapshot!("recipe_help", t.shown("run r --help", &out));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = Test::new().recipe(
        "w",
        "//! W.\nfs::write(\"made.txt\", \"x\");\ncmd::run([\"touch\", \"touched\"]);\n",
    );
    let out = t.helix(["run", "w", "--dry-run"]);
    out.success();
    insta::assert_snapshot!("dry_run_plan", t.shown("run w --dry-run", &out));
    assert!(!t.path("made.txt").exists() && !t.path("touched").exists());
}

#[test]
fn list_shows_user_recipes_shadowing_builtins() {
    let t = Test::new().recipe("hello", "//! My own hello.\n").recipe("zz", "//! Zed.\n");
    let out = t.helix(["list"]);
    out.success();
    insta::assert_snapshot!("list_with_a_shadowing_recipe", t.shown("list", &out));
    let json = Test::new().args(["list", "--json"]).run();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|r| r["name"] == "hello"));
}

#[test]
fn steps_resume_after_a_failure() {
    let t = Test::new().recipe(
        "s",
        "//! S.\n//! @flag fail Fail in b\nstep(\"a\", || { fs::write(\"a.txt\", \"a\"); print(\"ran a\"); });\nstep(\"b\", || { if args.fail { throw \"b broke\"; } print(\"ran b\"); });\n",
    );
    let out = t.helix(["run", "s", "--fail"]);
    out.code(1);
    let mut all = t.shown("run s --fail", &out);
    let out = t.helix(["run", "s", "--resume"]);
    out.success();
    all.push_str(&t.shown("run s --resume", &out));
    // Without --resume everything runs again.
    let out = t.helix(["run", "s"]);
    out.success();
    all.push_str(&t.shown("run s", &out));
    insta::assert_snapshot!("steps_resume", all);
}

#[test]
fn journal_records_runs_for_log() {
    let t = Test::new().recipe("w", "//! W.\nfs::write(\"j.txt\", \"x\");\n");
    t.helix(["run", "w"]).success();
    let out = t.helix(["log"]);
    out.success().stdout_has("w").stdout_has("ok");
    let out = t.helix(["log", "last"]);
    out.success().stdout_has("fs.write").stdout_has("j.txt");
}

#[test]
fn eval_is_disabled() {
    Test::new().recipe("e", "//! E.\neval(\"1\");\n").args(["check", "e"]).run().code(1);
}

#[test]
fn new_writes_a_skeleton_that_checks_and_runs() {
    let t = Test::new();
    t.helix(["new", "my-recipe"]).success();
    assert!(t.path("recipes/my-recipe.rhai").exists());
    t.helix(["check", "my-recipe"]).success();
    let out = t.helix(["run", "my-recipe", "--who", "you", "--times", "2"]);
    out.success();
    let mut all = t.shown("run my-recipe --who you --times 2", &out);
    let out = t.helix(["new", "my-recipe"]);
    out.code(2);
    all.push_str(&t.shown("new my-recipe (again)", &out));
    insta::assert_snapshot!("new_skeleton", all);
}

#[test]
fn config_shows_origins_and_project_overrides() {
    let t = Test::new().file("helix.toml", "[vm]\nssh_port = 2300\n").env("USER", "grace");
    let out = t.helix(["config"]);
    out.success();
    insta::assert_snapshot!("config_origins", t.shown("config", &out));
    // A mistyped key is an error naming the file and the key it probably meant.
    std::fs::write(t.path("helix.toml"), "[vm]\nssh_prot = 2300\n").unwrap();
    let out = t.helix(["config"]);
    out.code(2);
    let mut all = t.shown("config", &out);
    let out = t.helix(["run", "hello"]);
    out.code(2);
    all.push_str(&t.shown("run hello", &out));
    insta::assert_snapshot!("config_mistyped_key", all);
}

#[test]
fn ctrl_c_stops_the_recipe_its_children_and_closes_the_journal() {
    let t = Test::new().recipe(
        "slow",
        "//! Slow.\nprint(\"started\");\ncmd::run([\"sh\", \"-c\", \"echo $$ > child.pid; exec sleep 30\"]);\nprint(\"never\");\n",
    );
    let child = t.spawn(["run", "slow"]);
    let pid_file = t.path("child.pid");
    let start = std::time::Instant::now();
    while !pid_file.exists() || std::fs::read_to_string(&pid_file).unwrap().trim().is_empty() {
        assert!(start.elapsed().as_secs() < 10, "the child never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let grandchild: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(start.elapsed().as_secs() < 10, "Ctrl-C took too long");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("never"));
    // The child was in its own process group; helix must have stopped it.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let alive = unsafe { libc::kill(grandchild, 0) } == 0
        && !std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
            .unwrap_or_default()
            .contains(") Z ");
    assert!(!alive, "the child {grandchild} outlived helix");
    t.helix(["log"]).success().stdout_has("interrupted");
}

#[test]
fn config_flag_and_modules_see_the_configuration() {
    Test::new()
        .file("other.toml", "[vm]\nssh_user = \"ada\"\n")
        .module("who", "fn user() { helix_config().vm.ssh_user }\n")
        .recipe(
            "r",
            "//! R.\nimport \"who\" as who;\nprint(`user=${who::user()} ${config.vm.ssh_user}`);\n",
        )
        .args(["--config", "other.toml", "run", "r"])
        .run()
        .success()
        .stdout_has("user=ada ada");
    let t = Test::new();
    let out = t.helix(["--config", "missing.toml", "run", "hello"]);
    out.code(2);
    let mut all = t.shown("--config missing.toml run hello", &out);
    let t = Test::new().file("helix.toml", "[vm\n");
    let out = t.helix(["run", "hello"]);
    out.code(2);
    all.push_str(&t.shown("run hello (a broken helix.toml)", &out));
    insta::assert_snapshot!("config_file_errors", all);
}

#[test]
fn unknown_recipe_suggests_a_close_name() {
    let t = Test::new().recipe("build-qemu", "//! B.\n");
    let out = t.helix(["run", "biuld-qemu"]);
    out.code(2);
    insta::assert_snapshot!("unknown_recipe", t.shown("run biuld-qemu", &out));
}

#[test]
fn builtin_recipes_run_without_any_files_on_disk() {
    let t = Test::new();
    std::fs::remove_dir_all(t.path("recipes")).unwrap();
    std::fs::remove_dir_all(t.path("stdlib")).unwrap();
    let out_file = t.path("hello.txt");
    t.helix(["run", "hello", "--out", out_file.to_str().unwrap()])
        .success()
        .stderr_has("hello, world");
    assert_eq!(std::fs::read_to_string(out_file).unwrap(), "hello, world\n");
    t.helix(["list"]).success().stdout_has("built-in");
}

#[test]
fn print_and_debug_go_through_the_console() {
    let t = Test::new().recipe("p", "//! P.\nprint(\"to stdout\");\ndebug(\"to stderr\");\n");
    let out = t.helix(["run", "p"]);
    out.success();
    insta::assert_snapshot!("print_and_debug", t.shown("run p", &out));
}

#[test]
fn help_snapshot() {
    let out = Test::new().args(["--help"]).run();
    out.success();
    insta::assert_snapshot!("helix_help", out.stdout);
}

#[test]
fn api_is_generated_and_api_md_is_current() {
    let out = Test::new().args(["api"]).run();
    out.success().stdout_has("### `fs::write(").stdout_has("```rhai");
    insta::assert_snapshot!("helix_api", out.stdout);
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/API.md")).unwrap();
    assert!(
        committed == out.stdout,
        "API.md is out of date: regenerate it with `cargo run -q -- api > API.md` (it is never edited by hand)"
    );
}

#[test]
fn api_definitions_are_written_for_editors() {
    let t = Test::new();
    t.helix(["api", "--definitions", "defs"]).success();
    let defs: Vec<_> = std::fs::read_dir(t.path("defs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(defs.iter().any(|d| d.contains("fs")), "{defs:?}");
}

#[test]
fn completions_are_printed() {
    Test::new().args(["completions", "bash"]).run().success().stdout_has("helix");
}

#[test]
fn helix_recipes_env_dir_comes_before_the_project() {
    let t = Test::new()
        .recipe("r", "//! Project r.\nprint(\"project\");\n")
        .file("elsewhere/r.rhai", "//! Env r.\nprint(\"env\");\n");
    let dir = t.path("elsewhere");
    t.env("HELIX_RECIPES", dir.to_str().unwrap())
        .args(["run", "r"])
        .run()
        .success()
        .stdout_has("env");
}

#[test]
fn project_recipes_are_found_from_a_subdirectory() {
    let t = Test::new()
        .file("helix.toml", "")
        .recipe("r", "//! R.\nprint(\"found\");\n")
        .file("deep/er/.keep", "");
    let sub = t.path("deep/er");
    t.cwd(&sub).args(["run", "r"]).run().success().stdout_has("found");
}

#[test]
fn commands_never_read_helix_stdin() {
    Test::new()
        .recipe("r", "//! R.\nlet got = cmd::output([\"cat\"]);\nprint(`got=[${got}]`);\n")
        .stdin("typed-by-someone\n")
        .args(["run", "r"])
        .run()
        .success()
        .stdout_has("got=[]");
}

#[test]
fn run_flags_may_follow_the_recipe_parameters() {
    let t = Test::new()
        .recipe("w", "//! W.\n//! @param name N (required)\nfs::write(args.name, \"x\");\n");
    t.helix(["run", "w", "--name", "f.txt", "--dry-run"])
        .success()
        .stdout_has("would write `f.txt`");
    assert!(!t.path("f.txt").exists());
}
