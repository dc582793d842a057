//! `helix check` against recipe authors' usual mistakes: a corpus of broken recipes
//! (`tests/data/broken-recipes/`), each rejected at the right line with a useful message; a
//! correct recipe using the same constructs accepted; `helix run` refusing to start a recipe
//! with a detectable mistake; run-time errors in helix's words.

use std::path::PathBuf;

use crate::support::builder::Test;
use crate::support::redact::shown;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/broken-recipes")
}

/// `(file, line, what the message must say)`: the line is where the author must look.
const CORPUS: &[(&str, usize, &str)] = &[
    ("01-unknown-primitive", 4, "did you mean `mkdir`?"),
    ("02-unknown-qemu-img-primitive", 4, "`qemu_img::snapshots` is not a primitive"),
    ("03-wrong-arity-primitive", 3, "`fs::copy(from: String, to: String)`"),
    ("04-wrong-arity-stdlib", 5, "`paths::pm` does not take 1 argument"),
    ("05-unknown-stdlib-function", 5, "did you mean `sysroot`?"),
    ("06-unknown-stdlib-constant", 5, "did you mean `QEMU_BRANCH`?"),
    ("07-misspelt-arg", 4, "did you mean `branch`?"),
    ("08-arg-with-underscore", 4, "did you mean `no-start`?"),
    ("09-arg-without-params", 3, "the header declares no parameters"),
    ("10-misspelt-param-keyword", 2, "unknown header keyword `@parm`"),
    ("11-misspelt-default", 2, "did you mean `(default: …)`?"),
    ("12-duplicate-param", 4, "`size` is declared twice (first on line 2)"),
    ("13-reserved-yes", 2, "`--yes` is one of `helix run`'s own flags"),
    ("14-reserved-dry-run", 2, "`--dry-run` is one of `helix run`'s own flags"),
    ("15-int-default-not-int", 2, "takes a whole number, not `abc`"),
    ("16-default-asks", 2, "takes true or false, not `asks`"),
    ("17-choice-default", 2, "one of list, status, start, stop, not `restart`"),
    ("18-unknown-type", 2, "unknown type `integer`"),
    ("19-required-with-default", 2, "both `(required)` and has a `(default: …)`"),
    ("20-plain-comment-param", 2, "in a plain `//` comment"),
    ("21-replace-as-value", 4, "`replace` changes its value in place and returns `()`"),
    ("22-push-as-value", 4, "`push` changes its value in place"),
    ("23-trim-chained", 4, "`trim` changes its value in place"),
    ("24-make-upper-in-call", 4, "use `s.to_upper()`"),
    ("25-undefined-variable", 4, "did you mean `branch`?"),
    ("26-undefined-module", 3, "did you mean `fs`?"),
    ("27-missing-semicolon", 3, "missing `;` at the end of this statement"),
    ("28-unknown-function", 5, "did you mean `helper`?"),
    ("29-step-without-body", 3, "`step(name: String, body: FnPtr)`"),
    ("30-unknown-stdlib-module", 3, "there is no stdlib module `pathz`"),
    ("31-in-place-inside-step", 5, "`make_lower` changes its value in place"),
    ("32-ui-misspelt", 3, "did you mean `success`?"),
    ("33-sort-as-value", 4, "`sort` changes its value in place"),
    ("34-unknown-method", 4, "did you mean `to_upper`?"),
    ("35-primitive-as-method", 4, "call it as `ui::inc(value, …)`"),
    ("36-choice-never-matches", 4, "`strat` is not one of `--action`'s choices"),
];

#[test]
fn every_broken_recipe_is_rejected_at_its_line_with_a_useful_message() {
    let t = Test::new().cwd(&corpus_dir());
    let mut files: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert!(files.len() >= 25, "{files:?}");
    assert_eq!(
        files,
        CORPUS.iter().map(|(f, ..)| format!("{f}.rhai")).collect::<Vec<_>>(),
        "every file in the corpus has an expectation"
    );
    let mut all = String::new();
    for (file, line, says) in CORPUS {
        let name = format!("{file}.rhai");
        let out = t.helix(["check", &name]);
        assert_eq!(out.code, 1, "{name} must fail the check\n{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(&format!("FAILED {file}")), "{name}: {}", out.stdout);
        // The first finding is the one at the expected line, with the source line and a caret.
        let first = out.stderr.split("\nerror: ").next().unwrap();
        assert!(
            first.contains(&format!("--> {name}:{line}:")),
            "{name}: expected line {line}\n{}",
            out.stderr
        );
        assert!(first.contains(&format!("\n{line} | ")), "{name}: no source line\n{}", out.stderr);
        assert!(first.contains('^'), "{name}: no caret\n{}", out.stderr);
        assert!(out.stderr.contains(says), "{name}: expected {says:?}\n{}", out.stderr);
        assert!(!out.stderr.contains("Function not found"), "{name}: Rhai's words\n{}", out.stderr);
        all.push_str(&format!("=== {name}\n{}", out.stderr));
    }
    // Run inside the repository, the upward project search finds its `stdlib/`: name it
    // without the checkout's location, which differs from machine to machine.
    let all = all.replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
    insta::assert_snapshot!("broken_recipes", all);
}

#[test]
fn a_correct_recipe_with_the_same_constructs_is_accepted_and_runs() {
    let ok = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/check-ok.rhai");
    let t = Test::new();
    let out = t.helix(["check", ok.to_str().unwrap()]);
    out.success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let mut all = shown("check check-ok.rhai", &out, t.dir.path());
    let out = t.helix(["run", ok.to_str().unwrap(), "--dry-run"]);
    out.success();
    all.push_str(&shown("run check-ok.rhai --dry-run", &out, t.dir.path()));
    insta::assert_snapshot!("correct_recipe", all.replace(env!("CARGO_MANIFEST_DIR"), "<repo>"));
}

#[test]
fn run_refuses_to_start_a_recipe_with_a_detectable_mistake() {
    // The mistake is after a step that would change something: nothing may happen.
    let t = Test::new().recipe(
        "late",
        "//! Late mistake.\n//! @param out:path  Where (required)\nstep(\"write\", || { fs::write(args.out, \"x\"); });\nfs::mkdirs(args.out + \".d\");\n",
    );
    let target = t.path("written.txt");
    let out = t.helix(["run", "late", "--out", target.to_str().unwrap()]);
    out.code(1);
    assert!(!target.exists(), "the first step ran");
    assert!(!out.stdout.contains("[1] write"), "{}", out.stdout);
    // The whole refusal: the mistake at its line with the source and caret, then why nothing ran.
    let mut all = shown("run late --out <test>/written.txt", &out, t.dir.path());
    // A header mistake is refused the same way, before any argument parsing.
    let t =
        Test::new().recipe("hdr", "//! H.\n//! @param n:int  N (default: abc)\nprint(args.n);\n");
    let out = t.helix(["run", "hdr"]);
    out.code(1);
    all.push_str(&shown("run hdr", &out, t.dir.path()));
    // `helix list` still lists a recipe with a bad header line (check reports it).
    // Its width is the whole lines a pipe gets (the kit never passes on `$COLUMNS`).
    let t = Test::new().recipe("bad-type", "//! Still listed.\n//! @param n:blob  N\nprint(1);\n");
    let out = t.helix(["list"]);
    out.success();
    all.push_str(&shown("list", &out, t.dir.path()));
    let out = t.helix(["check", "bad-type"]);
    out.code(1);
    all.push_str(&shown("check bad-type", &out, t.dir.path()));
    insta::assert_snapshot!("refused_to_start", all);
}

#[test]
fn check_covers_user_stdlib_modules_and_what_recipes_import_from_them() {
    let t = Test::new()
        .module("util", "export const LIMIT = 3;\nfn twice(x) { x * 2 }\nfn broken() { fs::mkdirs(\"/tmp/x\"); }\n")
        .recipe("uses", "//! Uses util.\nimport \"util\" as util;\nprint(util::twice(util::LIMIT, 1));\n")
        .recipe("imports", "//! Imports util.\nimport \"util\" as util;\nprint(util::twice(2));\n");
    let out = t.helix(["check"]);
    out.code(1);
    // Both failures whole: the recipe's call of `util::twice` with 2 arguments (and how it is
    // defined), the mistake inside `stdlib/util.rhai` at 3:15 — once, under `stdlib/util`; the
    // recipes that import it say so on their line (`imports` has no mistake of its own).
    let mut all = shown("check", &out, t.dir.path());
    assert_eq!(out.stderr.matches("util.rhai:3:15").count(), 1, "{}", out.stderr);
    // Checking one recipe shows the mistake in what it imports under it: nothing else lists it.
    let out = t.helix(["check", "imports"]);
    out.code(1);
    all.push_str(&shown("check imports", &out, t.dir.path()));
    // `helix run` checks what a recipe imports too: the mistake inside `util` stops it first.
    let out = t.helix(["run", "imports"]);
    out.code(1).stdout_lacks("4");
    all.push_str(&shown("run imports", &out, t.dir.path()));
    insta::assert_snapshot!("user_stdlib", all);
}

#[test]
fn runtime_errors_are_in_helix_words() {
    // A `()` argument: which one, its expression, the signatures that exist, the likely cause.
    let t = Test::new()
        .recipe("unit-arg", "//! U.\nlet m = #{ from: \"/tmp/a\" };\nfs::copy(m.from, m.to);\n")
        .recipe("unit-prop", "//! P.\nlet cfg = #{};\ncfg.qemu.DebugLog = true;\n")
        .recipe("semi", "//! S.\nlet a = 1\nlet b = 2;\n")
        .recipe("unit-get", "//! G.\nlet cfg = #{};\nlet on = cfg.qemu.DebugLog;\n")
        .recipe("unit-index", "//! I.\nlet m = #{};\nlet first = m.list[0];\n")
        .recipe("unit-if", "//! F.\nlet m = #{};\nif m.enabled { print(1); }\n");
    // Each error whole, as a person reads it: which argument is `()`, its expression, the
    // signatures that exist, the likely cause; a missing `;` with the caret on the statement
    // that lacks it, not on the next line.
    let mut all = String::new();
    for name in ["unit-arg", "unit-prop", "unit-get", "unit-index", "unit-if", "semi"] {
        let out = t.helix(["run", name]);
        out.code(1);
        for rhai_words in [
            "Function not found",
            "ImmutableString",
            "setter is not registered",
            "Data type incorrect",
        ] {
            assert!(!out.stderr.contains(rhai_words), "{name}: Rhai's words\n{}", out.stderr);
        }
        all.push_str(&format!("=== helix run {name}\n{}", out.stderr));
    }
    insta::assert_snapshot!("runtime_errors", crate::support::redact::redact(&all, t.dir.path()));
}

#[test]
fn api_definitions_cover_primitives_stdlib_and_a_recipes_args() {
    // A project (it has a recipe), so its stdlib/ is searched.
    let t = Test::new()
        .module("util", "/// Twice x.\nfn twice(x) { x * 2 }\n")
        .recipe("hello-defs", "//! H.\nui::info(1);\n");
    let out = t.helix(["api", "--definitions", "defs", "--recipe", "vm"]);
    out.success();
    let mut all = shown("api --definitions defs --recipe vm", &out, t.dir.path());
    let read = |f: &str| {
        std::fs::read_to_string(t.path("defs").join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let fs = read("fs.d.rhai");
    assert!(fs.starts_with("module fs;"), "{fs}");
    assert!(fs.contains("fn copy(from: "), "{fs}");
    assert!(fs.contains("/// "), "primitives keep their docs: {fs}");
    let vm = read("vm.d.rhai");
    assert!(vm.starts_with("module vm;") && vm.contains("fn start("), "{vm}");
    assert!(read("pins.d.rhai").contains("const QEMU_BRANCH: ?;"));
    assert!(read("util.d.rhai").contains("/// Twice x.\nfn twice(x: ?) -> ?;"));
    let scope = read("__scope__.d.rhai");
    assert!(scope.contains("The parameters of recipe `vm`"), "{scope}");
    assert!(
        scope.contains(
            "`args.action` (one of list, status, start, stop, ssh): What to do (required)"
        ),
        "{scope}"
    );
    assert!(scope.contains("const args: Map;") && scope.contains("const config: Map;"), "{scope}");
    assert!(read("__static__.d.rhai").contains("fn step("), "the globals");
    // --recipe alone is a usage error; an unknown recipe is named.
    let out = t.helix(["api", "--recipe", "vm"]);
    out.code(2);
    all.push_str(&shown("api --recipe vm", &out, t.dir.path()));
    let out = t.helix(["api", "--definitions", "d2", "--recipe", "vmm"]);
    out.code(2);
    all.push_str(&shown("api --definitions d2 --recipe vmm", &out, t.dir.path()));
    insta::assert_snapshot!("api_definitions", all);
}
