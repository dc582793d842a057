//! Every compile error a recipe can hit, through helix's own engine: the message is helix's
//! (never Rhai's Display text) and the caret is where the fix goes.

/// Compile `script` with helix's engine; return the message and `line:col`.
fn compile_error(script: &str) -> (String, String, String) {
    let engine = crate::engine::build(vec![]);
    let err = engine.compile(script).expect_err(script);
    let pos = crate::report::parse_position(&err, script);
    let at = format!("{}:{}", pos.line().unwrap_or(0), pos.position().unwrap_or(0));
    (super::message(&err.0), at, err.0.to_string())
}

#[track_caller]
fn check(script: &str, want: &str, at: &str) {
    let (got, pos, rhai) = compile_error(script);
    assert_eq!(got, want, "message for {script:?}");
    assert_eq!(pos, at, "position for {script:?}");
    assert_ne!(got, rhai, "{script:?} shows Rhai's own text");
}

#[test]
fn tokens_and_strings() {
    check("let x = (1 + ;", "an expression is missing before `;`", "1:14");
    check(
        "let x = [1][];",
        "`]` does not close anything here: something is missing before it",
        "1:13",
    );
    let open = "this string is not closed: add its closing quote (a `\"…\"` string ends on the line it starts)";
    check("let s = \"abc;\nprint(s);", open, "1:9");
    check("let s = `abc;\nprint(s);", open, "1:9");
    check(
        "let x = \"\\q\";",
        "`\\q` is not an escape sequence: write `\\\\` for a backslash (or use `\\n`, `\\t`, `\\\"`, `\\u{…}`)",
        "1:11",
    );
    check("let x = 0xZZ;", "this is not a valid number", "1:9");
    check(
        "let x = 'ab';",
        "`'ab'` is not a single character: `'…'` holds exactly one; write text in double quotes `\"ab\"`",
        "1:9",
    );
    check("let x = 1 $ 2;", "`$` is not an operator", "1:11");
    check("let x = 1 === 2;", "`===` is not an operator: to compare, write `==`", "1:11");
    check("let x = 1 !== 2;", "`!==` is not an operator: to compare, write `!=`", "1:11");
    check("let x = 1 <- 2;", "`<-` is not an operator: did you mean `<=`?", "1:11");
    check(
        "let x = 1; x->y;",
        "`->` is not an operator: call a method with `value.method()`",
        "1:13",
    );
    check("let x = 1; if x = 2 { }", "`=` assigns a value: to compare, write `==`", "1:17");
    check(
        "let x = eval(\"1\");",
        "`eval` is disabled in helix recipes: write the code itself instead",
        "1:9",
    );
    check(
        "let x = this;",
        "`this` only exists inside a function (the value it was called on)",
        "1:9",
    );
    check("let __ = 1;", "`__` is not a valid name: a name needs at least one letter", "1:5");
    check("let var = 1;", "`var` is a reserved word in Rhai; choose another name", "1:5");
    check("let x = @;", "`@` is not valid here (Rhai reserves it)", "1:9");
}

#[test]
fn statements() {
    check(
        "let x = 1 +",
        "the recipe ends in the middle of a statement: something is missing at the end (a `)`, `}`, `]` or the rest of an expression)",
        "1:12",
    );
    check("break;", "`break` and `continue` are only allowed inside a loop", "1:1");
    check("continue;", "`break` and `continue` are only allowed inside a loop", "1:1");
    check(
        "const X = 1; X = 2;",
        "`X` is a constant and cannot be changed; declare it with `let` to change it",
        "1:14",
    );
    check(
        "let x = 1; 3 = x;",
        "a fixed value cannot be assigned to: the left of `=` must be a variable",
        "1:12",
    );
    check(
        "let x = 1; x + 1 = 2;",
        "this cannot be assigned to: the left of `=` must be a variable, an index `a[i]` or a property `m.key`",
        "1:14",
    );
    check(
        "let = 1;",
        "a variable name is missing here (after `let`, `const`, `for`, `catch` or `as`)",
        "1:5",
    );
    check("let x = 1; x.;", "a property name must follow the `.`", "1:14");
    check("for (i, i) in [] {}", "`i` is used twice in this `for`: give each its own name", "1:9");
    check(
        "if 1 { }",
        "this condition is a number, which is never true or false: compare it (`==`, `>` …)",
        "1:4",
    );
    check(
        "for x in 1 {}",
        "`for` cannot go through a number: give it an array, a range or a string",
        "1:10",
    );
    check(
        "if { true } {}",
        "a condition is missing here: `{` starts the block, so write the condition before it",
        "1:4",
    );
    check(
        "let m = #{a: 1, a: 2};",
        "`a` appears twice in this map: a map has one value per key",
        "1:17",
    );
    check(
        "let x = [1, 2][\"a\"];",
        "an array or string is indexed by a whole number, not a string: write `a[0]`",
        "1:16",
    );
    check(
        "let x = #{a: 1}[1];",
        "a map's key is a string, not a number: write `m[\"key\"]` or `m.key`",
        "1:17",
    );
    check(
        "let x = 1; switch x { _ => 1, 1 => 2 }",
        "the `_` case must be the last case of a `switch`",
        "1:23",
    );
    check(
        "let x = 1; switch x { 1..3 => 1, 2 => 2 }",
        "a single-number `switch` case must come before the range cases",
        "1:34",
    );
    check(
        "let x = 1; switch x { _ if x > 1 => 1 }",
        "the `_` case of a `switch` cannot have an `if`",
        "1:25",
    );
    check(
        "let x = 1; switch x { x => 1 }",
        "a `switch` case must be a fixed value (a number, a string, `true` …), not a variable or a call",
        "1:23",
    );
    check("print(1", "expected `)` to close the arguments of `print(…)`", "1:8");
    check("print(1 2);", "expected `,` between the arguments of `print(…)`", "1:9");
    check("fn f(a b) {}", "expected `,` between the parameters of `fn f(…)`", "1:8");
    check("fn f(1) {}", "expected `)` to close the parameters of `fn f(…)`", "1:6");
    check("let x = [1, 2;", "expected `,` between the items of this array", "1:14");
    check("let x = [1, 2", "expected `]` to end this array", "1:14");
    check("let x = #{a 1};", "expected `:` after the key `a` in this map", "1:13");
    check("let x = #{1: 2};", "expected `}` to end this map", "1:11");
    check("let x = 1; while x {", "expected `}` to close this block", "1:21");
    check("let x = (1;", "expected `)` to close the `(` of this expression", "1:11");
    check("do { } ", "expected `while` after `do { … }`", "1:7");
    check("if true { 1 } else ;", "expected `{` to start a block", "1:20");
    let deep = format!("let x = {}1{};", "(".repeat(140), ")".repeat(140));
    let (got, _, _) = compile_error(&deep);
    assert_eq!(got, "this expression is nested too deeply: split it into smaller steps with `let`");
}

#[test]
fn functions() {
    check(
        "fn f(a) { a }\nfn f(b) { b }",
        "`f` with 1 parameter is defined twice: rename or remove one",
        "2:1",
    );
    check(
        "fn f() { 1 }\nfn f() { 2 }",
        "`f` with no parameters is defined twice: rename or remove one",
        "2:1",
    );
    check(
        "fn f(a, b) { 1 }\nfn f(c, d) { 2 }",
        "`f` with 2 parameters is defined twice: rename or remove one",
        "2:1",
    );
    let nested = "a function cannot be defined here: define `fn` at the top level of the file, not inside another function or a block";
    check("fn f() { fn g() { 1 } }", nested, "1:10");
    check("if true { fn g() {} }", nested, "1:11");
    check("fn f(a, a) { a }", "`f` has two parameters named `a`: give each its own name", "1:9");
    check(
        "let x = |a, a| a;",
        "this closure has two parameters named `a`: give each its own name",
        "1:13",
    );
    check("fn f { 1 }", "`fn f` needs its parameters in parentheses: `fn f() { … }`", "1:6");
    check("fn (a) { a }", "the function's name is missing after `fn`", "1:4");
    check("fn f(a)", "the body `{ … }` of `f` is missing", "1:8");
    check(
        "fn f() { export const X = 1; }",
        "`export` is only allowed at the top level of a file",
        "1:10",
    );
    check(
        "/// doc\nlet x = 1;",
        "a `///` comment documents the function that follows it, and none does: use `//`",
        "1:1",
    );
    check(
        "let x = 1; x.y!();",
        "`!` (run in the caller's scope) does not work on a method call: call it as `f!(value)`",
        "1:14",
    );
}

/// At the end of the file there is no line to show: the caret goes after the last code.
#[test]
fn an_error_at_the_end_of_the_file_points_after_the_last_code() {
    let ends = "the recipe ends in the middle of a statement: something is missing at the end (a `)`, `}`, `]` or the rest of an expression)";
    check("let x = 1 +\n", ends, "1:12");
    check("let x = 1 +\n\n// the end\n", ends, "1:12");
    check("print(1\n\n", "expected `)` to close the arguments of `print(…)`", "1:8");
    check("let x = [1,\n", "expected `]` to end this array", "1:12");
    // Not at the end: the error stays where Rhai puts it.
    check("let x = (1 + ;\nlet y = 2;\n", "an expression is missing before `;`", "1:14");
}
