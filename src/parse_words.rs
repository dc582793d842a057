//! A recipe's compile (parse) errors in helix's words: what is wrong, in the terms of a person
//! who edits a runbook (not a Rhai expert), and where it helps, what to write instead. Rhai's
//! own texts ("Unexpected ';'", "Script is incomplete") never reach the user. The position is
//! `crate::report::parse_position`'s job; this file only words the message.

use rhai::{LexError, ParseErrorType};

/// The message for a compile error.
pub(crate) fn message(e: &ParseErrorType) -> String {
    use ParseErrorType as P;
    match e {
        P::BadInput(lex) => lex_message(lex),
        P::UnexpectedEOF => {
            "the recipe ends in the middle of a statement: something is missing at the end \
             (a `)`, `}`, `]` or the rest of an expression)"
                .into()
        }
        P::UnknownOperator(op) => format!("`{op}` is not an operator"),
        P::MissingToken(t, _) if t == ";" => "missing `;` at the end of this statement".into(),
        P::MissingToken(t, why) => format!("expected `{t}` {}", missing_why(why)),
        P::MalformedIndexExpr(why) if why.is_empty() => "this index is not valid".into(),
        P::MalformedIndexExpr(why) => index_message(why),
        P::MalformedCapture(_) => {
            "`!` (run in the caller's scope) does not work on a method call: call it as \
             `f!(value)`"
                .into()
        }
        P::DuplicatedProperty(k) => {
            format!("`{k}` appears twice in this map: a map has one value per key")
        }
        P::DuplicatedVariable(v) => {
            format!("`{v}` is used twice in this `for`: give each its own name")
        }
        P::WrongSwitchIntegerCase => {
            "a single-number `switch` case must come before the range cases".into()
        }
        P::WrongSwitchDefaultCase => "the `_` case must be the last case of a `switch`".into(),
        P::WrongSwitchCaseCondition => "the `_` case of a `switch` cannot have an `if`".into(),
        P::PropertyExpected => "a property name must follow the `.`".into(),
        P::VariableExpected => {
            "a variable name is missing here (after `let`, `const`, `for`, `catch` or `as`)".into()
        }
        P::Reserved(w) if rhai::is_valid_identifier(w) => {
            format!("`{w}` is a reserved word in Rhai; choose another name")
        }
        P::Reserved(s) => format!("`{s}` is not valid here (Rhai reserves it)"),
        P::MismatchedType(want, got) => match want.as_str() {
            "a boolean expression" => format!(
                "this condition is {got}, which is never true or false: compare it (`==`, `>` …)"
            ),
            "an iterable value" => {
                format!("`for` cannot go through {got}: give it an array, a range or a string")
            }
            _ => format!("expected {want} here, not {got}"),
        },
        P::ExprExpected(what) if what == "a literal" || what == "literal" => {
            "a `switch` case must be a fixed value (a number, a string, `true` …), not a \
             variable or a call"
                .into()
        }
        P::ExprExpected(what) if what == "a boolean" => {
            "a condition is missing here: `{` starts the block, so write the condition before it"
                .into()
        }
        P::ExprExpected(what) => format!("{what} is missing here"),
        P::WrongDocComment => {
            "a `///` comment documents the function that follows it, and none does: use `//`".into()
        }
        P::WrongFnDefinition => {
            "a function cannot be defined here: define `fn` at the top level of the file, not \
             inside another function or a block"
                .into()
        }
        P::FnDuplicatedDefinition(f, n) => {
            let params = match n {
                0 => "no parameters".to_string(),
                1 => "1 parameter".to_string(),
                n => format!("{n} parameters"),
            };
            format!("`{f}` with {params} is defined twice: rename or remove one")
        }
        P::FnMissingName => "the function's name is missing after `fn`".into(),
        P::FnMissingParams(f) => {
            format!("`fn {f}` needs its parameters in parentheses: `fn {f}() {{ … }}`")
        }
        P::FnDuplicatedParam(f, p) if f.is_empty() => {
            format!("this closure has two parameters named `{p}`: give each its own name")
        }
        P::FnDuplicatedParam(f, p) => {
            format!("`{f}` has two parameters named `{p}`: give each its own name")
        }
        P::FnMissingBody(f) if f.is_empty() => "the closure's body `{ … }` is missing".into(),
        P::FnMissingBody(f) => format!("the body `{{ … }}` of `{f}` is missing"),
        P::WrongExport => "`export` is only allowed at the top level of a file".into(),
        P::AssignmentToConstant(c) if c.is_empty() => {
            "a fixed value cannot be assigned to: the left of `=` must be a variable".into()
        }
        P::AssignmentToConstant(c) => {
            format!("`{c}` is a constant and cannot be changed; declare it with `let` to change it")
        }
        P::AssignmentToInvalidLHS(_) => {
            "this cannot be assigned to: the left of `=` must be a variable, an index `a[i]` or \
             a property `m.key`"
                .into()
        }
        P::VariableUndefined(v) => format!("there is no variable `{v}` here"),
        P::ModuleUndefined(m) => format!("there is no module `{m}`"),
        P::ExprTooDeep => {
            "this expression is nested too deeply: split it into smaller steps with `let`".into()
        }
        P::LoopBreak => "`break` and `continue` are only allowed inside a loop".into(),
        // Impossible with helix's engine (`crate::engine::build`):
        // - `VariableExists`: only when shadowing is disabled; helix allows it.
        // - `ForbiddenVariable`: only from an `on_def_var` callback; helix registers none.
        // - `MissingSymbol`: only from custom syntax; helix registers none.
        // - `TooManyFunctions`, `LiteralTooLarge`: only when those limits are set; helix sets
        //   none (a string's length limit would turn `StringTooLong` into the latter).
        // - `MalformedCallExpr`, `MalformedInExpr`, `DuplicatedSwitchCase`: deprecated, no
        //   longer produced by Rhai 1.27.
        // `ParseErrorType` is `#[non_exhaustive]`, so a later Rhai may add more.
        _ => "this recipe does not compile here".into(),
    }
}

/// A tokenizer error (a character, string or number that cannot be read) in helix's words.
fn lex_message(e: &LexError) -> String {
    match e {
        LexError::UnexpectedInput(t) if is_closer(t) => {
            format!("`{t}` does not close anything here: something is missing before it")
        }
        LexError::UnexpectedInput(t) => format!("an expression is missing before `{t}`"),
        LexError::UnterminatedString => {
            "this string is not closed: add its closing quote (a `\"…\"` string ends on the \
             line it starts)"
                .into()
        }
        LexError::MalformedEscapeSequence(s) => format!(
            "`{}` is not an escape sequence: write `\\\\` for a backslash (or use `\\n`, `\\t`, \
             `\\\"`, `\\u{{…}}`)",
            s.trim_end_matches('"')
        ),
        LexError::MalformedNumber(s) if s.is_empty() => "this is not a valid number".into(),
        LexError::MalformedNumber(s) => format!("`{s}` is not a valid number"),
        LexError::MalformedChar(s) => format!(
            "`'{s}'` is not a single character: `'…'` holds exactly one; write text in double \
             quotes `\"{s}\"`"
        ),
        LexError::MalformedIdentifier(s) => {
            format!("`{s}` is not a valid name: a name needs at least one letter")
        }
        LexError::ImproperSymbol(s, why) => improper(s, why),
        // Impossible with helix's engine:
        // - `StringTooLong`: Rhai turns it into `ParseErrorType::LiteralTooLarge`, and only when
        //   a string length limit is set; helix sets none.
        // - `Runtime`: only from an `on_parse_token` callback; helix registers none.
        // `LexError` is `#[non_exhaustive]`: a later Rhai may add variants.
        _ => "this recipe has a character helix cannot read here".into(),
    }
}

/// A symbol Rhai refuses, by the symbol (Rhai's explanations name other languages).
fn improper(s: &str, why: &str) -> String {
    match s {
        "===" => "`===` is not an operator: to compare, write `==`".into(),
        "!==" => "`!==` is not an operator: to compare, write `!=`".into(),
        "->" => "`->` is not an operator: call a method with `value.method()`".into(),
        "<-" => "`<-` is not an operator: did you mean `<=`?".into(),
        ":=" => "`:=` is not an operator: to assign, write `=`".into(),
        ":;" => "`:;` is not valid: did you mean `::`?".into(),
        "::<" => "`::<…>` is not valid: write `::`".into(),
        "(*" | "*)" => "`(* … *)` is not a comment: write `// …` or `/* … */`".into(),
        "# {" => "write `#{` without a space to start a map".into(),
        "=" => "`=` assigns a value: to compare, write `==`".into(),
        "!" => "`!` cannot follow a module function: call it as `module::f(…)`".into(),
        "::" => "`::` is not allowed here".into(),
        _ if why.ends_with("is disabled") => {
            format!("`{s}` is disabled in helix recipes: write the code itself instead")
        }
        _ if why.ends_with("can only be used in functions") => {
            format!("`{s}` only exists inside a function (the value it was called on)")
        }
        _ if why.contains("method style") => {
            format!("`{s}` cannot be called as a method: write `{s}(…)`")
        }
        _ => format!("`{s}` is not valid here"),
    }
}

/// Rhai's index complaint ("Array, string or bit-field expects integer index, not a float").
fn index_message(why: &str) -> String {
    match why.rsplit_once(", not ") {
        Some((_, got)) if why.starts_with("Object map") => {
            format!("a map's key is a string, not {got}: write `m[\"key\"]` or `m.key`")
        }
        Some((_, got)) => {
            format!("an array or string is indexed by a whole number, not {got}: write `a[0]`")
        }
        None => "this index is not valid".into(),
    }
}

/// `)`, `]`, `}`: a closer with nothing to close means what came before it is incomplete.
fn is_closer(t: &str) -> bool {
    matches!(t, ")" | "]" | "}")
}

/// What a missing token was for. Rhai's phrases speak of "literals" and "argument lists";
/// say it the way the recipe reads. Phrases not listed keep Rhai's English with names in
/// backticks.
fn missing_why(why: &str) -> String {
    let name = |prefix: &str| why.strip_prefix(prefix).map(|r| r.trim_matches('\''));
    if let Some(f) = name("to close the arguments list of this function call ") {
        return format!("to close the arguments of `{f}(…)`");
    }
    if let Some(f) = name("to separate the arguments to function call ") {
        return format!("between the arguments of `{f}(…)`");
    }
    if let Some(f) = name("to close the parameters list of function ") {
        return format!("to close the parameters of `fn {f}(…)`");
    }
    if let Some(f) = name("to separate the parameters of function ") {
        return format!("between the parameters of `fn {f}(…)`");
    }
    if let Some(rest) = why.strip_prefix("to follow the property ") {
        let key = rest.split('\'').nth(1).unwrap_or(rest);
        return format!("after the key `{key}` in this map");
    }
    match why {
        "to terminate this block" => "to close this block".into(),
        "for a matching ( in this expression" => "to close the `(` of this expression".into(),
        "for a matching [ in this index expression" => "to close the `[` of this index".into(),
        "to separate the items of this array literal" => "between the items of this array".into(),
        "to end this array literal" => "to end this array".into(),
        "to separate the items of this object map literal" => {
            "between the entries of this map".into()
        }
        "to end this object map literal" => "to end this map".into(),
        "for the do statement" => "after `do { … }`".into(),
        "to start a statement block" => "to start a block".into(),
        other => other.replace('\'', "`"),
    }
}

#[cfg(test)]
mod tests;
