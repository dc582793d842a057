//! Rhai's run-time errors in helix's words. `Function not found: git::checkout (&str |
//! ImmutableString | String, ())` becomes "`git::checkout` cannot take (String, ())" with the
//! signatures that exist and which argument was `()` (and why it usually is); `No writable
//! property 'DebugLog' - a setter is not registered for type '()'` becomes "`cfg.qemu` is `()`,
//! so it has no property `DebugLog`". The source line gives the expression's text.

use rhai::{EvalAltResult, Position};

/// A message and notes for `err` raised at `pos` in `source`, or `None` to keep Rhai's text.
pub(crate) fn explain(err: &EvalAltResult, source: &str) -> Option<(String, Vec<String>)> {
    let line = |pos: Position| pos.line().and_then(|l| crate::sources::line(source, l));
    match err {
        EvalAltResult::ErrorFunctionNotFound(sig, pos) => {
            let (name, types) = split_signature(sig)?;
            Some(function_not_found(&name, &types, line(*pos).as_deref(), pos.position()))
        }
        EvalAltResult::ErrorDotExpr(msg, pos) => {
            let prop = between(msg, "property '", "'")?;
            let on = between(msg, "type '", "'")?;
            let write = msg.starts_with("No writable");
            let expr = line(*pos).and_then(|l| object_before(&l, &prop, pos.position()));
            let what = expr.map(|e| format!("`{e}`")).unwrap_or_else(|| "the value".into());
            let (message, note) = if on == "()" {
                (
                    format!(
                        "{what} is `()`, so it has no property `{prop}` to {}",
                        if write { "set" } else { "read" }
                    ),
                    UNIT_CAUSES.to_string(),
                )
            } else {
                (
                    format!("{what} is a {}, which has no property `{prop}`", friendly(&on)),
                    "only maps (`#{ … }`) have properties you can add".to_string(),
                )
            };
            Some((message, vec![note]))
        }
        EvalAltResult::ErrorMismatchDataType(expected, actual, _) if !expected.is_empty() => {
            let got = if actual.is_empty() { String::new() } else { friendly(actual) };
            let mut notes = Vec::new();
            if got == "()" {
                notes.push(UNIT_CAUSES.to_string());
            }
            let message = if got.is_empty() {
                format!("this needs a {}", friendly(expected))
            } else {
                format!("this needs a {}, but it is {}", friendly(expected), article(&got))
            };
            Some((message, notes))
        }
        EvalAltResult::ErrorIndexingType(ty, pos) if ty.starts_with("()") => {
            let expr = line(*pos).and_then(|l| object_before_index(&l, pos.position()));
            let what = expr.map(|e| format!("`{e}`")).unwrap_or_else(|| "the value".into());
            Some((
                format!("{what} is `()`, so it cannot be indexed with `[…]`"),
                vec![UNIT_CAUSES.to_string()],
            ))
        }
        _ => None,
    }
}

const UNIT_CAUSES: &str = "`()` is what a missing map key, an unset `args.X`, or a method that changes its value in place (`replace`, `push`, `trim`) gives";

/// The expression left of the `[` at (or after) `col`: `m.list` in `let x = m.list[0];`.
fn object_before_index(line: &str, col: Option<usize>) -> Option<String> {
    let from = col.unwrap_or(1).saturating_sub(1).min(line.len());
    let at = line[from..].find('[').map(|i| from + i).or_else(|| line[..from].rfind('['))?;
    let before: Vec<char> = line[..at].chars().collect();
    let mut start = before.len();
    while start > 0 {
        let c = before[start - 1];
        if !(c.is_alphanumeric() || c == '_' || c == '.' || c == ':' || c == '?') {
            break;
        }
        start -= 1;
    }
    let e: String = before[start..].iter().collect();
    (!e.is_empty()).then_some(e)
}

fn function_not_found(
    name: &str,
    types: &[String],
    line: Option<&str>,
    col: Option<usize>,
) -> (String, Vec<String>) {
    let shown: Vec<String> = types.iter().map(|t| friendly(t)).collect();
    let message = format!("`{name}` cannot be called with ({})", shown.join(", "));
    let mut notes = Vec::new();
    let surface = crate::check::surface::Surface::of(&crate::engine::build(vec![]));
    let (ns, short) = match name.rsplit_once("::") {
        Some((ns, n)) => (Some(ns), n),
        None => (None, name),
    };
    let same: Vec<String> = match ns {
        Some(ns) => surface.module_fns(ns, short).iter().map(|f| f.signature()).collect(),
        None => surface
            .global
            .get(short)
            .map(|v| v.iter().map(|f| f.signature()).collect())
            .unwrap_or_default(),
    };
    if same.is_empty() {
        let candidates: Vec<&str> = match ns.and_then(|n| surface.modules.get(n)) {
            Some(fns) => fns.iter().map(|f| f.name.as_str()).collect(),
            None => surface.global.keys().map(String::as_str).collect(),
        };
        let hint = crate::check::hint(short, candidates);
        notes.push(if hint.is_empty() {
            format!("there is no function `{name}`; `helix api` lists them")
        } else {
            format!("there is no function `{name}`: {hint}")
        });
    } else {
        let sigs: Vec<String> = same.iter().map(|s| format!("`{s}`")).collect();
        notes.push(format!("it takes {}", sigs.join(" or ")));
    }
    let exprs = line.and_then(|l| call_arguments(l, short, col)).unwrap_or_default();
    for (i, t) in types.iter().enumerate() {
        if t == "()" {
            let which = match exprs.get(i) {
                Some(e) => format!("argument {} (`{e}`)", i + 1),
                None => format!("argument {}", i + 1),
            };
            notes.push(format!(
                "{which} is `()`: a missing map key, an unset `args.X`, a function that returned nothing, or the result of a method that changes its value in place (`replace`, `push`, `trim` return `()`)"
            ));
        }
    }
    (message, notes)
}

/// `git::checkout (&str | ImmutableString | String, ())` → (`git::checkout`, [`String`, `()`]).
fn split_signature(sig: &str) -> Option<(String, Vec<String>)> {
    let open = sig.find(" (")?;
    let name = sig[..open].trim().to_string();
    let inner = sig[open + 2..].strip_suffix(')')?;
    let mut types = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => {
                types.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        types.push(cur.trim().to_string());
    }
    Some((name, types))
}

/// A Rust/Rhai type name as a recipe author knows it.
fn friendly(t: &str) -> String {
    let t = t.trim();
    if t.contains("String") || t.contains("&str") {
        return "String".into();
    }
    match t {
        "i64" | "int" => "int".into(),
        "bool" => "bool".into(),
        "f64" => "float".into(),
        "rhai::Array" | "Array" | "array" => "Array".into(),
        "rhai::Map" | "Map" | "map" => "Map".into(),
        "Fn" | "FnPtr" => "closure".into(),
        other => other.to_string(),
    }
}

/// `()` → "`()`", `int` → "an int", `String` → "a String".
fn article(t: &str) -> String {
    match t {
        "()" => "`()`".into(),
        t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)?;
    Some(s[i..i + j].to_string())
}

/// The expression left of `.prop` on `line` (nearest to `col`): `cfg.qemu` in `cfg.qemu.Debug = 1`.
fn object_before(line: &str, prop: &str, col: Option<usize>) -> Option<String> {
    let needle = format!(".{prop}");
    let col = col.unwrap_or(0);
    let at = line
        .match_indices(&needle)
        .map(|(i, _)| i)
        .min_by_key(|i| (*i as isize - col as isize).unsigned_abs())?;
    let before: Vec<char> = line[..at].chars().collect();
    let mut start = before.len();
    let mut depth = 0i32;
    while start > 0 {
        let c = before[start - 1];
        match c {
            ']' | ')' => depth += 1,
            '[' | '(' if depth > 0 => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || c == '_' || c == '.' || c == ':' || c == '?' => {}
            _ => break,
        }
        start -= 1;
    }
    let e: String = before[start..].iter().collect();
    (!e.is_empty()).then_some(e)
}

/// The argument texts of the call to `name` on `line` nearest to `col`.
fn call_arguments(line: &str, name: &str, col: Option<usize>) -> Option<Vec<String>> {
    let needle = format!("{name}(");
    let col = col.unwrap_or(0);
    let at = line
        .match_indices(&needle)
        .map(|(i, _)| i)
        .filter(|i| *i + 1 >= col)
        .min()
        .or_else(|| line.find(&needle))?;
    let rest = &line[at + needle.len()..];
    let mut args = Vec::new();
    let mut depth = 0;
    let mut quote: Option<char> = None;
    let mut cur = String::new();
    for c in rest.chars() {
        if let Some(q) = quote {
            cur.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '`' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' if depth == 0 => {
                if !cur.trim().is_empty() {
                    args.push(cur.trim().to_string());
                }
                return Some(args);
            }
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_split_into_friendly_types() {
        let (n, t) =
            split_signature("git::checkout (&str | ImmutableString | String, ())").unwrap();
        assert_eq!(n, "git::checkout");
        assert_eq!(t, ["&str | ImmutableString | String", "()"]);
        assert_eq!(friendly(&t[0]), "String");
        let (n, t) = split_signature("foo ()").unwrap();
        assert_eq!((n.as_str(), t.len()), ("foo", 0));
    }

    #[test]
    fn a_unit_argument_is_named_with_its_expression() {
        let (m, notes) = function_not_found(
            "fs::copy",
            &["&str | ImmutableString | String".into(), "()".into()],
            Some("    fs::copy(src, dest.replace(\"a\", \"b\"));"),
            Some(5),
        );
        assert_eq!(m, "`fs::copy` cannot be called with (String, ())");
        assert!(notes[0].contains("`fs::copy(from: String, to: String)`"), "{notes:?}");
        assert!(
            notes[1].starts_with("argument 2 (`dest.replace(\"a\", \"b\")`) is `()`"),
            "{notes:?}"
        );
        assert!(notes[1].contains("in place"), "{notes:?}");
    }

    #[test]
    fn an_unknown_function_gets_a_suggestion() {
        let (_, notes) = function_not_found("fs::mkdirs", &["String".into()], None, None);
        assert!(notes[0].contains("did you mean `mkdir`?"), "{notes:?}");
    }

    #[test]
    fn a_wrong_type_is_named_in_recipe_words() {
        let e = EvalAltResult::ErrorMismatchDataType("bool".into(), "i64".into(), Position::NONE);
        assert_eq!(explain(&e, "x").unwrap().0, "this needs a bool, but it is an int");
        let e = EvalAltResult::ErrorMismatchDataType("bool".into(), "()".into(), Position::NONE);
        let (m, notes) = explain(&e, "x").unwrap();
        assert_eq!(m, "this needs a bool, but it is `()`");
        assert!(notes[0].contains("missing map key"), "{notes:?}");
    }

    #[test]
    fn property_on_unit_names_the_expression() {
        let e = EvalAltResult::ErrorDotExpr(
            "No writable property 'DebugLog' - a setter is not registered for type '()' to handle 'bool'".into(),
            Position::new(3, 10),
        );
        crate::sources::remember("explain-test", "a\nb\ncfg.qemu.DebugLog = true;\n");
        let (m, notes) = explain(&e, "explain-test").unwrap();
        assert_eq!(m, "`cfg.qemu` is `()`, so it has no property `DebugLog` to set");
        assert!(notes[0].contains("missing map key"), "{notes:?}");
        assert_eq!(object_before("let x = a[\"k\"].b.c;", "c", Some(16)).unwrap(), "a[\"k\"].b");
    }
}
