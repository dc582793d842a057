//! The strict reading of a recipe's `//!` header for `helix check`: what `recipe::parse_header`
//! forgives (so `helix list` still lists a half-written recipe) is an error here — unknown
//! keywords (`@parm`, `defualt:`), duplicate names, names helix itself takes (`--yes`,
//! `--dry-run`), defaults that are not a value of their type (`(default: asks)` on an `int`), a
//! `// @param` the header never sees.

use super::Diagnostic;
use super::suggest;
use crate::recipe::{self, Kind};

/// `helix run`'s own flags: a parameter named like one would hide it (`--dry-run` that plans
/// nothing) or never be seen (`--help`).
pub(crate) const RESERVED: &[&str] = &["yes", "y", "dry-run", "resume", "help", "h"];

const KEYWORDS: &[&str] = &["param", "flag"];
const ANNOTATIONS: &[&str] = &["default", "required"];

/// Every problem in the header of `text` (a recipe named `source`).
pub(crate) fn check(text: &str, source: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let at = |line: usize, col: usize, message: String, help: String| Diagnostic {
        source: source.to_string(),
        line,
        col,
        message,
        help,
    };
    let mut in_header = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim_start();
        let indent = raw.len() - t.len();
        if t.is_empty() {
            continue;
        }
        let Some(doc) = t.strip_prefix("//!") else {
            // A plain comment in the leading block: `// @param` is invisible to helix.
            if let Some(c) = t.strip_prefix("//") {
                let c = c.trim_start();
                if in_header && (c.starts_with("@param") || c.starts_with("@flag")) {
                    out.push(at(
                        line,
                        indent + 1,
                        "this parameter is in a plain `//` comment, so helix never sees it".into(),
                        "start the line with `//!` like the rest of the header".into(),
                    ));
                }
                continue;
            }
            in_header = false;
            if t.starts_with("//!") {
                continue;
            }
            break;
        };
        if !in_header {
            break;
        }
        let body = doc.trim_start();
        let col0 = indent + 3 + (doc.len() - body.len()); // 0-based column of `body`
        let Some(word_text) = body.strip_prefix('@') else { continue };
        let word: String =
            word_text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if !KEYWORDS.contains(&word.as_str()) {
            let help = suggest::hint(&word, KEYWORDS.iter().copied());
            out.push(at(
                line,
                col0 + 1,
                format!("unknown header keyword `@{word}` (the header knows `@param` and `@flag`)"),
                if help.is_empty() { "a plain line of prose has no `@`".into() } else { help },
            ));
            continue;
        }
        let rest = &word_text[word.len()..];
        let flag = word == "flag";
        let p = match recipe::parse_param(rest, flag, source, line) {
            Ok(p) => p,
            Err(e) => {
                let why = match &e {
                    crate::error::Error::Invalid { why, .. } => why.clone(),
                    other => other.to_string(),
                };
                out.push(at(line, col0 + 1, why, String::new()));
                continue;
            }
        };
        let name_col = raw.find(&format!(" {}", p.name)).map(|c| c + 2).unwrap_or(col0 + 1);
        let desc_start = raw.find(&p.name).map(|c| c + p.name.len()).unwrap_or(0);
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == p.name) {
            out.push(at(
                line,
                name_col,
                format!("`{}` is declared twice (first on line {first})", p.name),
                "give each parameter its own name".into(),
            ));
        } else {
            seen.push((p.name.clone(), line));
        }
        if RESERVED.contains(&p.name.as_str()) {
            out.push(at(
                line,
                name_col,
                format!(
                    "`--{}` is one of `helix run`'s own flags: a parameter of that name would hide it or never be seen",
                    p.name
                ),
                "choose another name".into(),
            ));
        }
        annotations(raw, desc_start, line, &mut out, &at);
        if p.required && p.default.is_some() {
            out.push(at(
                line,
                name_col,
                format!("`{}` is both `(required)` and has a `(default: …)`", p.name),
                "drop one: a default makes it optional".into(),
            ));
        }
        if flag && p.required {
            out.push(at(
                line,
                name_col,
                format!("flag `{}` cannot be `(required)`: a flag is on or off", p.name),
                "use `@param NAME:bool` if it must be given".into(),
            ));
        }
        if flag && p.kind != Kind::Bool {
            out.push(at(
                line,
                name_col,
                format!("flag `{}` takes no value, so it cannot have a type", p.name),
                "use `@param` for a parameter with a value".into(),
            ));
        }
        if let Some(d) = &p.default
            && let Err(why) = recipe::convert(&p, d)
        {
            let col = raw.find("(default:").map(|c| c + 1).unwrap_or(name_col);
            out.push(at(
                line,
                col,
                format!("the default is not a value of the parameter's type: {why}"),
                "write a value of the type, or describe the behaviour in the text and leave the default out"
                    .into(),
            ));
        }
    }
    out
}

/// The names on every `@param`/`@flag` line of the header, readable or not.
pub(crate) fn declared_names(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("//"))
        .filter_map(|l| l.strip_prefix("//!"))
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("@param").or_else(|| l.strip_prefix("@flag"))
        })
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|spec| spec.split(':').next().unwrap_or(spec).to_string())
        .collect()
}

/// Misspelt or unclosed `(default: …)` / `(required)` in a parameter's description.
fn annotations(
    raw: &str,
    from: usize,
    line: usize,
    out: &mut Vec<Diagnostic>,
    at: &impl Fn(usize, usize, String, String) -> Diagnostic,
) {
    let bytes = raw.as_bytes();
    let mut i = from.min(raw.len());
    while i < raw.len() {
        let c = bytes[i];
        if c.is_ascii_alphabetic() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let end = raw[i..]
                .find(|c: char| !c.is_ascii_alphabetic())
                .map(|e| i + e)
                .unwrap_or(raw.len());
            let word = &raw[i..end];
            let after = raw[end..].chars().next();
            let before_paren = i > 0 && bytes[i - 1] == b'(';
            // `(defualt: x)`, `(requierd)`; prose ("uses defaults: a, b") is left alone.
            let keyword_like = before_paren && (after == Some(':') || after == Some(')'));
            if keyword_like && !ANNOTATIONS.contains(&word.to_lowercase().as_str()) {
                let close = suggest::closest(&word.to_lowercase(), ANNOTATIONS.iter().copied());
                if let Some(meant) = close.first() {
                    out.push(at(
                        line,
                        i + 1,
                        format!("`{word}` is not a header annotation"),
                        format!(
                            "did you mean `({meant}{}`?",
                            if *meant == "default" { ": …)" } else { ")" }
                        ),
                    ));
                }
            }
            if word == "default" && after == Some(':') && !before_paren {
                out.push(at(
                    line,
                    i + 1,
                    "a default is written in parentheses".into(),
                    "write `(default: VALUE)`".into(),
                ));
            }
            if word == "default" && before_paren && !raw[end..].contains(')') {
                out.push(at(
                    line,
                    i,
                    "`(default:` is never closed".into(),
                    "end it with `)`".into(),
                ));
            }
            i = end;
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(text: &str) -> Vec<String> {
        check(text, "r.rhai")
            .into_iter()
            .map(|d| format!("{}:{} {} | {}", d.line, d.col, d.message, d.help))
            .collect()
    }

    #[test]
    fn a_good_header_passes() {
        let text = "//! Good.\n//!\n//! @param size:size  New size (required)\n//! @param n:int  Count (default: 4)\n//! @param action:choice(list|start)  What (default: list)\n//! @flag  no-start  Leave it\n// ordinary comment\nlet x = 1;\n";
        assert_eq!(msgs(text), Vec::<String>::new());
    }

    #[test]
    fn misspelt_keywords_are_errors_with_a_suggestion() {
        let m = msgs("//! X.\n//! @parm who  Whom\n");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("2:5 unknown header keyword `@parm`"), "{m:?}");
        assert!(m[0].contains("did you mean `param`?"), "{m:?}");
        let m = msgs("//! X.\n//! @param who  Whom (defualt: world)\n");
        assert!(m[0].starts_with("2:23 `defualt` is not a header annotation"), "{m:?}");
        assert!(m[0].contains("(default: …)"), "{m:?}");
        let m = msgs("//! X.\n//! @param who  Whom (requierd)\n");
        assert!(m[0].contains("`requierd` is not a header annotation"), "{m:?}");
        // Prose with a colon is prose, even a word close to `default`.
        assert!(msgs("//! X.\n//! @param who  Whom, e.g. note: it greets\n").is_empty());
        assert!(msgs("//! X.\n//! @param who  Uses the defaults: a, b (default: c)\n").is_empty());
        // A default written without parentheses would be prose to helix: say so.
        let m = msgs("//! X.\n//! @param vm  The VM, default: dev\n");
        assert!(m[0].contains("a default is written in parentheses"), "{m:?}");
    }

    #[test]
    fn duplicates_reserved_names_and_bad_defaults() {
        let m = msgs("//! X.\n//! @param n  A\n//! @flag n  B\n");
        assert!(m[0].contains("`n` is declared twice (first on line 2)"), "{m:?}");
        let m = msgs("//! X.\n//! @flag yes  Answer\n//! @param dry-run  Plan\n");
        assert_eq!(m.len(), 2, "{m:?}");
        assert!(m[0].contains("`--yes` is one of `helix run`'s own flags"), "{m:?}");
        let m = msgs("//! X.\n//! @param n:int  Count (default: abc)\n");
        assert!(m[0].contains("2:25 the default is not a value"), "{m:?}");
        assert!(m[0].contains("whole number"), "{m:?}");
        let m = msgs("//! X.\n//! @param confirm:bool  Ask first (default: asks)\n");
        assert!(m[0].contains("true or false, not `asks`"), "{m:?}");
        let m = msgs("//! X.\n//! @param a:choice(x|y)  A (default: z)\n");
        assert!(m[0].contains("one of x, y"), "{m:?}");
        let m = msgs("//! X.\n//! @param n:int  Count (required) (default: 4)\n");
        assert!(m[0].contains("both `(required)`"), "{m:?}");
    }

    #[test]
    fn a_plain_comment_param_is_reported() {
        let m = msgs("//! X.\n// @param who  Whom\nlet x = 1;\n");
        assert!(m[0].starts_with("2:1 this parameter is in a plain `//` comment"), "{m:?}");
        // After the code starts, comments are the author's business.
        assert!(msgs("//! X.\nlet x = 1;\n// @param who\n").is_empty());
    }

    #[test]
    fn bad_types_and_flags_with_types() {
        let m = msgs("//! X.\n//! @param n:integer  Count\n");
        assert!(m[0].contains("unknown type `integer`"), "{m:?}");
        let m = msgs("//! X.\n//! @flag n:int  Count\n");
        assert!(m[0].contains("takes no value"), "{m:?}");
        let m = msgs("//! X.\n//! @param n:choice(a|)  Count\n");
        assert!(m[0].contains("empty choice"), "{m:?}");
    }
}
