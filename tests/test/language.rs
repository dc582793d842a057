//! The recipe language's gaps, closed: a step's value survives `--resume`, `exit(code,
//! message)` ends a recipe with its code and no caret, `choice(…)` parameters, `plist::set` on
//! a `plist::edit` document, `ui::*` printing any value.

use crate::support::builder::Test;
use crate::support::redact;

#[test]
fn a_resumed_step_returns_the_value_it_returned_when_it_ran() {
    let t = Test::new().recipe(
        "decide",
        "//! Decides on an earlier step's result.\n//! @flag fail  Stop after the first steps\n\
         let n = step(\"count\", || { print(\"counting\"); 41 + 1 });\n\
         let m = step(\"facts\", || #{ dir: \"/tmp/x\", list: [1, 2], ok: true });\n\
         let u = step(\"nothing\", || { let x = 1; });\n\
         let c = step(\"closure\", || |x| x + 1);\n\
         let f = step(\"float\", || 1.5);\n\
         if args.fail { throw \"stop here\"; }\n\
         print(`n=${n} dir=${m.dir} len=${m.list.len()} ok=${m.ok} u=${type_of(u)} f=${f * 2.0}`);\n\
         print(`closure: ${type_of(c)}`);\n",
    );
    let failed = t.helix(["run", "decide", "--fail"]);
    failed.code(1);
    let out = t.helix(["run", "decide", "--resume"]);
    out.success().stdout_lacks("counting");
    // The values come back (`n=42 dir=/tmp/x len=2 ok=true u=() f=3.0`), and what a state file
    // cannot hold (a closure) comes back as `()`, not as something else.
    let mut said = redact::shown("run decide --fail", &failed, t.dir.path());
    said.push_str(&redact::shown("run decide --resume", &out, t.dir.path()));
    insta::assert_snapshot!("a_failed_run_then_resumed", said);
    // A fresh run starts over and computes again.
    t.helix(["run", "decide"]).success().stdout_has("counting").stdout_has("n=42");
}

#[test]
fn exit_ends_a_recipe_with_its_code_and_no_caret() {
    let t = Test::new()
        .recipe(
            "bail",
            "//! Bails.\nfn check_vm() {\n    step(\"look\", || { exit(3, \"no VM here: create one with helix run provision-vm\"); });\n}\ncheck_vm();\nprint(\"after exit\");\n",
        )
        .recipe("done", "//! Done early.\nexit(0, \"nothing to do\");\nprint(\"after exit\");\n")
        .recipe("code", "//! Code only.\nexit(4);\n")
        .recipe("caught", "//! Not catchable.\ntry { exit(5, \"out\"); } catch (e) { print(\"caught\"); }\nprint(\"after\");\n")
        .recipe("range", "//! Out of range.\nexit(300, \"x\");\n");
    let out = t.helix(["run", "bail"]);
    out.code(3);
    assert!(!out.stdout.contains("after exit"), "{}", out.stdout);
    assert!(!out.stderr.contains("-->") && !out.stderr.contains('^'), "{}", out.stderr);
    let mut said = redact::shown("run bail", &out, t.dir.path());
    let out = t.helix(["run", "done"]);
    out.success().stdout_lacks("after exit");
    said.push_str(&redact::shown("run done", &out, t.dir.path()));
    t.helix(["run", "code"]).code(4);
    // `try`/`catch` does not swallow it: exit means exit.
    let out = t.helix(["run", "caught"]);
    out.code(5).stdout_lacks("caught").stdout_lacks("after");
    let out = t.helix(["run", "range"]);
    out.code(1);
    said.push_str(&redact::shown("run range", &out, t.dir.path()));
    insta::assert_snapshot!("exit_and_its_message", said);
}

#[test]
fn a_choice_parameter_takes_only_its_words() {
    // Help is not fitted to the width of the terminal the tests were started from.
    let t = Test::new();
    let out = t.helix(["run", "vm", "--action", "restart"]);
    out.code(2);
    let mut said = redact::shown("run vm --action restart", &out, t.dir.path());
    let help = t.helix(["run", "vm", "--help"]);
    help.success();
    said.push_str(&redact::shown("run vm --help", &help, t.dir.path()));
    let t = Test::new().recipe(
        "pick",
        "//! Picks.\n//! @param mode:choice(fast|safe)  How (default: safe)\nprint(`mode ${args.mode}`);\n",
    );
    t.helix(["run", "pick"]).success().stdout_has("mode safe");
    t.helix(["run", "pick", "--mode", "fast"]).success().stdout_has("mode fast");
    let out = t.helix(["run", "pick", "--mode", "Fast"]);
    out.code(2);
    said.push_str(&redact::shown("run pick --mode Fast", &out, t.dir.path()));
    let help = t.helix(["run", "pick", "--help"]);
    help.success();
    said.push_str(&redact::shown("run pick --help", &help, t.dir.path()));
    insta::assert_snapshot!("choice_parameters", said);
}

#[test]
fn plist_set_and_remove_inside_edit_change_the_file() {
    let t = Test::new();
    let f = t.path("config.plist");
    let recipe = format!(
        "//! Edits.\nplist::write(\"{f}\", #{{ QEMU: #{{ DebugLog: false }}, Old: 1, Name: \"vm\" }});\n\
         if dry_run() {{ exit(0); }}\n\
         let changes = plist::edit(\"{f}\", |doc| {{\n    plist::set(doc, \"QEMU.DebugLog\", true);\n    plist::remove(doc, \"Old\");\n    doc.Name = \"renamed\";\n}});\n\
         print(`changes: ${{changes.len()}}`);\nlet back = plist::read(\"{f}\");\n\
         print(`debug=${{back.QEMU.DebugLog}} old=${{plist::has(back, \"Old\")}} name=${{back.Name}}`);\n",
        f = f.display()
    );
    let t = t.recipe("edit", &recipe);
    let out = t.helix(["run", "edit"]);
    out.success().stdout_has("debug=true old=false name=renamed");
    assert!(!out.stdout.contains("changes: 0"), "{}", out.stdout);
    // Outside an edit, a map that happens to look like the file is not the file.
    let other = format!(
        "//! Other.\nlet doc = plist::read(\"{f}\");\nplist::edit(\"{f}\", |d| {{ let c = #{{ Name: \"x\" }}; plist::set(c, \"Name\", \"y\"); }});\nprint(`name=${{plist::read(\"{f}\").Name}}`);\n",
        f = f.display()
    );
    t.file("recipes/other.rhai", &other)
        .helix(["run", "other"])
        .success()
        .stdout_has("name=renamed");
}

#[test]
fn ui_prints_any_value() {
    let t = Test::new().recipe(
        "show",
        "//! Shows.\nui::info(42);\nui::success([1, 2]);\nui::warn(#{ a: 1 });\nui::header(true);\nui::error(1.5);\n",
    );
    let out = t.helix(["run", "show"]);
    out.success();
    insta::assert_snapshot!("ui_prints_any_value", redact::shown("run show", &out, t.dir.path()));
}
