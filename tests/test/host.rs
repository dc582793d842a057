//! The host: finding, checking and running recipes; errors that point at the recipe line.

use crate::builder::Test;

#[test]
fn runs_a_recipe_with_args_and_config() {
    Test::new()
        .recipe("greet", "//! Greets.\n//! @param who Whom (required)\nprint(`hi ${args.who} from ${config.vm.ssh_user}`);\n")
        .args(["run", "greet", "--who", "ada"])
        .run()
        .success()
        .stdout_has("hi ada from luke");
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
    let out =
        Test::new().recipe("bad", "//! Bad.\nlet x = 1;\nprint(y);\n").args(["check", "bad"]).run();
    out.code(1);
    assert!(out.stderr.contains("recipes/bad.rhai:3:7"), "{}", out.stderr);
    assert!(out.stderr.contains("print(y);"), "{}", out.stderr);
    assert!(out.stderr.contains("^"), "{}", out.stderr);
}

#[test]
fn check_reports_syntax_error_with_position() {
    let out = Test::new().recipe("bad", "//! Bad.\nlet x = (1 + ;\n").args(["check"]).run();
    out.code(1);
    assert!(out.stderr.contains("recipes/bad.rhai:2:"), "{}", out.stderr);
}

#[test]
fn runtime_error_points_at_the_line_and_the_call_chain() {
    let out = Test::new()
        .module("util", "fn boom(n) {\n    throw `boom ${n}`;\n}\n")
        .recipe("r", "//! R.\nimport \"util\" as util;\n\nutil::boom(7);\n")
        .args(["run", "r"])
        .run();
    out.code(1);
    assert!(out.stderr.contains("boom 7"), "{}", out.stderr);
    assert!(out.stderr.contains("stdlib/util.rhai:2:5"), "{}", out.stderr);
    assert!(out.stderr.contains("in call to `boom` at"), "{}", out.stderr);
    assert!(out.stderr.contains("recipes/r.rhai:4"), "{}", out.stderr);
}

#[test]
fn failed_command_exit_code_and_stderr_tail() {
    let out = Test::new()
        .recipe("r", "//! R.\ncmd::run([\"sh\", \"-c\", \"echo the-reason >&2; exit 7\"]);\n")
        .args(["run", "r"])
        .run();
    out.code(7);
    out.stderr_has("the-reason").stderr_has("exit code 7").stderr_has("recipes/r.rhai:2:");
}

#[test]
fn unknown_missing_and_mistyped_parameters_are_usage_errors() {
    let t = Test::new()
        .recipe("r", "//! R.\n//! @param n:int N (required)\nfs::write(\"out\", \"x\");\n");
    t.helix(["run", "r", "--m", "1"]).code(2).stderr_has("unknown parameter `--m`");
    t.helix(["run", "r"]).code(2).stderr_has("`--n` is required");
    t.helix(["run", "r", "--n", "x"]).code(2).stderr_has("whole number");
    assert!(!t.path("out").exists(), "nothing may run before parameters are valid");
}

#[test]
fn recipe_help_lists_parameters() {
    Test::new()
        .recipe(
            "r",
            "//! Does r.\n//! @param size:size  New size (required)\n//! @flag  fast  Go fast\n",
        )
        .args(["run", "r", "--help"])
        .run()
        .success()
        .stdout_has("Does r.")
        .stdout_has("--size <SIZE>")
        .stdout_has("--fast");
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let t = Test::new().recipe(
        "w",
        "//! W.\nfs::write(\"made.txt\", \"x\");\ncmd::run([\"touch\", \"touched\"]);\n",
    );
    let out = t.helix(["run", "w", "--dry-run"]);
    out.success().stdout_has("would write `made.txt`").stdout_has("would run `touch touched`");
    assert!(!t.path("made.txt").exists() && !t.path("touched").exists());
}

#[test]
fn list_shows_user_recipes_shadowing_builtins() {
    let out = Test::new()
        .recipe("hello", "//! My own hello.\n")
        .recipe("zz", "//! Zed.\n")
        .args(["list"])
        .run();
    out.success().stdout_has("My own hello.").stdout_has("shadows built-in").stdout_has("Zed.");
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
    t.helix(["run", "s", "--fail"]).code(1).stdout_has("ran a");
    let out = t.helix(["run", "s", "--resume"]);
    out.success().stdout_has("ran b").stdout_lacks("ran a");
    // Without --resume everything runs again.
    t.helix(["run", "s"]).success().stdout_has("ran a").stdout_has("ran b");
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
    t.helix(["run", "my-recipe", "--who", "you", "--times", "2"])
        .success()
        .stderr_has("hello, you");
    t.helix(["new", "my-recipe"]).code(2).stderr_has("already exists");
}

#[test]
fn config_shows_origins_and_project_overrides() {
    let out = Test::new().file("helix.toml", "[vm]\nssh_port = 2300\n").args(["config"]).run();
    out.success()
        .stdout_has("vm.ssh_port = 2300")
        .stdout_has("helix.toml")
        .stdout_has("vm.ssh_user = \"luke\"    # built-in");
}
