//! The analysis on recipe texts, without running anything.

use super::*;
use crate::recipe::{Origin, parse_header};

fn recipe(text: &str) -> Recipe {
    Recipe {
        name: "t".into(),
        origin: Origin::BuiltIn,
        source_name: "t.rhai".into(),
        text: text.into(),
        header: parse_header(text, "t.rhai").unwrap(),
        shadows: vec![],
    }
}

fn checker_with(modules: &[(&str, &str)]) -> (Checker, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in modules {
        std::fs::write(dir.path().join(format!("{name}.rhai")), text).unwrap();
    }
    (Checker::new(vec![dir.path().to_path_buf()]), dir)
}

fn found(text: &str) -> Vec<String> {
    let (c, _d) = checker_with(&[
        (
            "util",
            "export const LIMIT = 3;\nlet private_state = 1;\nfn twice(x) { x * 2 }\nprivate fn hidden() {}\n",
        ),
        ("handle", "fn make() { #{ start: || 1 } }\n"),
    ]);
    c.recipe(&recipe(text))
        .into_iter()
        .map(|d| format!("{}:{} {} | {}", d.line, d.col, d.message, d.help))
        .collect()
}

#[test]
fn a_correct_recipe_has_no_findings() {
    let text = "//! Fine.\n//! @param branch  Branch (default: main)\n//! @flag  no-start  Stay\nimport \"util\" as util;\nlet s = \"a-b\";\ns.replace(\"-\", \"_\");\nlet t = s.to_upper();\nlet a = [];\na.push(1);\nlet n = util::twice(util::LIMIT);\nlet b = args.branch;\nlet c = args[\"no-start\"];\nfn helper(x) { x + 1 }\nlet h = helper(2);\nfs::exists(\"/tmp\");\nlet f = |x| x + 1;\nlet g = f.call(1);\nprint(`${t} ${n} ${b} ${c} ${h} ${g}`);\n";
    assert_eq!(found(text), Vec::<String>::new());
}

#[test]
fn unknown_primitives_and_wrong_arity() {
    let f = found("//! X.\nfs::mkdirs(\"/tmp/a\");\n");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("2:1 `fs::mkdirs` is not a primitive"), "{f:?}");
    assert!(f[0].contains("did you mean `mkdir`?"), "{f:?}");
    let f = found("//! X.\nlet s = qemu_img::snapshots(\"d.qcow2\");\n");
    assert!(f[0].contains("`qemu_img::snapshots` is not a primitive"), "{f:?}");
    let f = found("//! X.\nfs::copy(\"a\");\n");
    assert!(f[0].contains("`fs::copy` does not take 1 argument"), "{f:?}");
    assert!(f[0].contains("`fs::copy(from: String, to: String)`"), "{f:?}");
}

#[test]
fn stdlib_functions_and_constants_by_name_and_arity() {
    let f = found("//! X.\nimport \"util\" as util;\nutil::twise(1);\n");
    assert!(f[0].starts_with("3:1 `util::twise`: module"), "{f:?}");
    assert!(f[0].contains("did you mean `twice`?"), "{f:?}");
    let f = found("//! X.\nimport \"util\" as util;\nutil::twice(1, 2);\n");
    assert!(f[0].contains("does not take 2 arguments"), "{f:?}");
    assert!(f[0].contains("`util::twice(x)`"), "{f:?}");
    let f = found("//! X.\nimport \"util\" as util;\nutil::hidden();\n");
    assert!(f[0].contains("has no function `hidden`"), "{f:?}");
    let f = found("//! X.\nimport \"util\" as util;\nprint(util::LIMT);\n");
    assert!(f[0].contains("has no constant `LIMT`") && f[0].contains("`LIMIT`"), "{f:?}");
    let f = found("//! X.\nimport \"util\" as util;\nprint(util::private_state);\n");
    assert!(f[0].contains("has no constant `private_state`"), "{f:?}");
    let f = found("//! X.\nimport \"utill\" as u;\n");
    assert!(f[0].contains("there is no stdlib module `utill`"), "{f:?}");
}

#[test]
fn args_are_checked_against_the_header() {
    let f = found("//! X.\n//! @param branch  B\nprint(args.brnach);\n");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].starts_with("3:12 `args.brnach` is not a parameter"), "{f:?}");
    assert!(f[0].contains("did you mean `branch`?"), "{f:?}");
    let f = found("//! X.\n//! @flag no-start  B\nprint(args[\"no_start\"]);\n");
    assert!(f[0].contains("`args.no_start` is not a parameter"), "{f:?}");
    assert!(f[0].contains("`no-start`"), "{f:?}");
    let f = found("//! X.\nlet v = args?.vm;\n");
    assert!(f[0].contains("declares no parameters"), "{f:?}");
    // Inside a closure and a function body too.
    let f = found("//! X.\n//! @param vm  V\nstep(\"a\", || { print(args.vn); });\n");
    assert!(f[0].contains("`args.vn`"), "{f:?}");
    // The map's own methods are not parameters.
    assert!(found("//! X.\nprint(args.keys());\n").is_empty());
}

#[test]
fn in_place_methods_used_as_values() {
    for (code, method) in [
        ("let s = \"a\"; let v = s.replace(\"a\", \"b\");", "replace"),
        ("let a = []; let b = a.push(1);", "push"),
        ("let s = \" a \"; let n = s.trim().len();", "trim"),
        ("let s = \"a\"; print(s.make_upper());", "make_upper"),
        ("let s = \"a\"; let t = `${s.trim()}`;", "trim"),
        ("let a = [2, 1]; for x in a.sort() { }", "sort"),
        ("let s = \"a\"; if s.trim() == \"\" { }", "trim"),
    ] {
        let f = found(&format!("//! X.\n{code}\n"));
        assert_eq!(f.len(), 1, "{code}: {f:?}");
        assert!(f[0].contains(&format!("`{method}` changes its value in place")), "{f:?}");
    }
    // As statements they are right.
    assert!(found("//! X.\nlet s = \"a\";\ns.replace(\"a\", \"b\");\ns.trim();\nlet m = #{ a: [] };\nm.a.push(1);\n").is_empty());
}

#[test]
fn plain_calls_must_exist() {
    let f = found("//! X.\nfn helper(x) { x }\nhelpr(1);\n");
    assert!(f[0].contains("there is no function `helpr`") && f[0].contains("`helper`"), "{f:?}");
    let f = found("//! X.\nfn helper(x) { x }\nhelper(1, 2);\n");
    assert!(f[0].contains("`helper` does not take 2 arguments"), "{f:?}");
    let f = found("//! X.\nstep(\"a\");\n");
    assert!(f[0].contains("`step` does not take 1 argument"), "{f:?}");
}

#[test]
fn compile_errors_suggest_names() {
    let f = found("//! X.\nlet branch = 1;\nprint(brnach);\n");
    assert!(f[0].starts_with("3:7 there is no variable `brnach` here"), "{f:?}");
    assert!(f[0].contains("did you mean `branch`?"), "{f:?}");
    let f = found("//! X.\nfss::exists(\"/\");\n");
    assert!(f[0].contains("there is no module `fss`") && f[0].contains("`fs`"), "{f:?}");
    // A missing `;` points at the end of the statement that lacks it.
    let f = found("//! X.\nlet a = 1\n\n// note\nlet b = 2;\n");
    assert!(f[0].starts_with("2:10 missing `;`"), "{f:?}");
}

#[test]
fn header_problems_come_with_the_rest() {
    let f = found("//! X.\n//! @parm who  W\nfs::mkdirs(\"a\");\n");
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f[0].starts_with("2:5 unknown header keyword"), "{f:?}");
}

#[test]
fn every_builtin_recipe_and_module_passes() {
    let c = Checker::new(vec![]);
    let recipes = crate::recipe::discover(&[]).unwrap();
    assert!(recipes.len() >= 10);
    for r in &recipes {
        let f = c.recipe(r);
        assert!(
            f.is_empty(),
            "{}: {}",
            r.name,
            f.iter().map(Diagnostic::render).collect::<String>()
        );
    }
    for (name, source, text) in command::stdlib_modules(&[]) {
        let f = c.module(&text, &source);
        assert!(f.is_empty(), "{name}: {}", f.iter().map(Diagnostic::render).collect::<String>());
    }
}

#[test]
fn in_place_functions_in_call_form_and_primitives() {
    let f = found("//! X.\nlet s = \"a\";\nlet v = replace(s, \"a\", \"b\");\n");
    assert!(f[0].contains("`replace` changes its value in place"), "{f:?}");
    let f = found("//! X.\nlet d = #{};\nlet e = plist::set(d, \"a\", 1);\n");
    assert!(f[0].contains("`set` changes its value in place"), "{f:?}");
    // As statements: right. A recipe's own `fn replace` is its own business.
    assert!(found("//! X.\nlet d = #{};\nplist::set(d, \"a\", 1);\nlet s = \"a\";\nreplace(s, \"a\", \"b\");\n").is_empty());
    assert!(found("//! X.\nfn replace(a, b, c) { a }\nlet v = replace(1, 2, 3);\n").is_empty());
}

#[test]
fn other_spellings_and_indirections() {
    // An import under another alias is resolved through the alias.
    let f = found("//! X.\nimport \"util\" as u;\nu::twise(1);\n");
    assert!(f[0].contains("`u::twise`") && f[0].contains("`twice`"), "{f:?}");
    // Imports inside a function body and calls inside closures, functions, nested blocks, maps.
    let f =
        found("//! X.\nfn f() {\n    import \"util\" as u;\n    [#{ a: || u::twice(1, 2) }]\n}\n");
    assert!(f[0].contains("does not take 2 arguments"), "{f:?}");
    let f =
        found("//! X.\nlet m = #{ run: || { if true { while false { fs::mkdirs(\"a\"); } } } };\n");
    assert!(f[0].contains("`fs::mkdirs`"), "{f:?}");
    // args through `?.`, `[…]` with a hyphen, and a chain.
    let f = found("//! X.\n//! @param vm  V\nlet x = args?.vn?.name;\n");
    assert!(f[0].contains("`args.vn`"), "{f:?}");
    let f = found("//! X.\n//! @flag no-start  S\nlet x = args[\"no-strat\"];\n");
    assert!(f[0].contains("`args[\"no-strat\"]`") && f[0].contains("`no-start`"), "{f:?}");
    // A recipe that binds its own `args` is left alone; a function parameter named `args` too.
    assert!(found("//! X.\nlet args = #{ x: 1 };\nprint(args.y);\n").is_empty());
    assert!(found("//! X.\nfn f(args) { args.anything }\nprint(f(#{}));\n").is_empty());
    // A closure held in a variable is called, not looked up as a function.
    assert!(
        found("//! X.\nlet f = |x| x + 1;\nprint(f.call(1));\nfn g(h) { h.call(2) }\n").is_empty()
    );
    // Primitives on helix's types (`Progress`) are called with their namespace.
    assert!(
        found("//! X.\nlet p = ui::progress(3, \"x\");\nui::inc(p, 1);\nui::finish(p);\n")
            .is_empty()
    );
    let f = found("//! X.\nlet p = ui::progress(3, \"x\");\np.inc(1);\n");
    assert!(
        f[0].contains("`inc` is a primitive, not a method") && f[0].contains("`ui::inc(value, …)`"),
        "{f:?}"
    );
}

#[test]
fn stdlib_modules_are_checked_like_recipes() {
    let (c, _d) = checker_with(&[("base", "fn one() { 1 }\n")]);
    let f = c.module(
        "import \"base\" as base;\nfn two() { base::on() + fs::mkdirs(\"a\") }\n",
        "m.rhai",
    );
    let msgs: Vec<String> = f.iter().map(|d| d.message.clone()).collect();
    assert_eq!(f.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("`base::on`") && f[0].help.contains("`one`"), "{msgs:?}");
    assert!(msgs[1].contains("`fs::mkdirs`"), "{msgs:?}");
    // A module has no `args`: strict variables say so.
    let f = c.module("fn three() { args.x }\n", "m.rhai");
    assert!(f[0].message.contains("no variable `args`"), "{f:?}");
}

#[test]
fn methods_must_exist_with_their_arity() {
    let f = found("//! X.\nlet s = \"a\";\nprint(s.to_uppr());\n");
    assert!(f[0].contains("there is no method `to_uppr`") && f[0].contains("`to_upper`"), "{f:?}");
    let f = found("//! X.\nlet s = \"a\";\nprint(s.starts_with());\n");
    assert!(f[0].contains("`.starts_with(…)` does not take no arguments"), "{f:?}");
    // A closure kept in a map is called like a method; a recipe's own fn too.
    assert!(found("//! X.\nlet o = #{ run: || 1 };\nprint(o.run());\nfn twice(x) { x * 2 }\nprint(3.twice());\n").is_empty());
}

#[test]
fn a_closure_from_an_imported_module_map_is_a_method() {
    assert!(
        found("//! X.\nimport \"handle\" as h;\nlet vm = h::make();\nprint(vm.start());\n")
            .is_empty()
    );
    let f = found("//! X.\nimport \"handle\" as h;\nlet vm = h::make();\nprint(vm.strat());\n");
    assert!(f[0].contains("there is no method `strat`"), "{f:?}");
}

#[test]
fn choice_parameters_are_compared_with_their_words() {
    let text = "//! X.\n//! @param action:choice(list|start|stop)  What (default: list)\nif args.action == \"strat\" { print(1); }\nif \"list\" == args.action { print(2); }\n";
    let f = found(text);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with("3:19 `strat` is not one of `--action`'s choices (list, start, stop)"),
        "{f:?}"
    );
    assert!(f[0].contains("did you mean `start`?"), "{f:?}");
}

#[test]
fn a_module_function_is_not_a_method_at_run_time_either() {
    // What the check says about `bar.inc(1)` is what Rhai does: only `ui::inc(bar, 1)` runs.
    let engine = crate::engine::build(vec![]);
    let e = engine.run("let bar = ui::progress(3, \"x\");\nbar.inc(1);\n").unwrap_err();
    assert!(e.to_string().contains("Function not found: inc"), "{e}");
    engine.run("let bar = ui::progress(3, \"x\");\nui::inc(bar, 1);\nui::finish(bar);\n").unwrap();
}

#[test]
fn every_example_in_helix_api_passes_the_check() {
    let c = Checker::new(vec![]);
    let meta: serde_json::Value =
        serde_json::from_str(&c.engine.gen_fn_metadata_to_json(false).unwrap()).unwrap();
    let mut fns: Vec<serde_json::Value> = meta["functions"].as_array().cloned().unwrap_or_default();
    for m in meta["modules"].as_object().unwrap().values() {
        fns.extend(m["functions"].as_array().cloned().unwrap_or_default());
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in &fns {
        let docs: Vec<String> = f["docComments"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_str()).map(String::from).collect())
            .unwrap_or_default();
        let text: String = docs
            .iter()
            .flat_map(|d| d.lines())
            .map(|l| {
                l.trim_start_matches("///").strip_prefix(' ').unwrap_or(l.trim_start_matches("///"))
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut rest = text.as_str();
        while let Some(i) = rest.find("```rhai") {
            let body = &rest[i + 7..];
            let end = body.find("```").unwrap_or(body.len());
            let code = &body[..end];
            rest = body[end..].get(3..).unwrap_or("");
            checked += 1;
            // Examples of a VM handle's methods take the handle as given.
            let prelude = if code.contains("vm.") && !code.contains("let vm") {
                "let vm = qemu::start(#{});\n"
            } else {
                ""
            };
            let r = recipe(&format!("//! Example.\n{prelude}{code}"));
            let found = c.recipe(&r);
            if !found.is_empty() {
                failures.push(format!(
                    "{}:\n{code}\n{}",
                    f["name"],
                    found.iter().map(Diagnostic::render).collect::<String>()
                ));
            }
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(failures.is_empty(), "{} examples fail:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_readme_recipes_pass_the_check() {
    let c = Checker::new(vec![]);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut blocks = 0;
    for block in readme.split("```rhai\n").skip(1) {
        let code = block.split("```").next().unwrap();
        blocks += 1;
        let found = c.recipe(&recipe(code));
        assert!(
            found.is_empty(),
            "README:\n{code}\n{}",
            found.iter().map(Diagnostic::render).collect::<String>()
        );
    }
    assert!(blocks >= 1);
}

#[test]
fn a_broken_import_is_reported_in_its_own_file() {
    let (c, _d) = checker_with(&[("broken", "fn f() {\n    let x = ;\n}\n")]);
    let f = c.recipe(&recipe("//! X.\nimport \"broken\" as b;\nb::f();\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].source.ends_with("broken.rhai") && f[0].line == 2, "{f:?}");
}
