//! Renders script errors the way a compiler does: `file:line:col`, the source line, a caret,
//! the message, and the chain of calls through stdlib functions.

use rhai::{EvalAltResult, ParseError, Position};

/// One frame: where something happened and what.
struct Frame {
    source: String,
    pos: Position,
    note: String,
}

/// Render a runtime error raised while running `source` (the recipe's source name).
pub(crate) fn runtime(err: &EvalAltResult, source: &str) -> String {
    let mut frames = Vec::new();
    let mut cur = err;
    let mut src = source.to_string();
    let message;
    let mut notes = Vec::new();
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, fn_src, inner, pos) => {
                // Closures get generated names (`anon$…`); say what they are instead.
                let note = if name.starts_with("anon$") {
                    "in the closure called".to_string()
                } else {
                    format!("in call to `{name}`")
                };
                frames.push(Frame { source: src.clone(), pos: *pos, note });
                if !fn_src.is_empty() {
                    src = fn_src.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(module, inner, pos) => {
                frames.push(Frame {
                    source: src.clone(),
                    pos: *pos,
                    note: format!("while loading module `{module}`"),
                });
                src = module.clone();
                cur = inner;
            }
            EvalAltResult::ErrorParsing(kind, pos) => {
                // A module that does not compile: its error, at the place `parse` would show.
                message = parse_message(kind);
                let text = crate::sources::text(&src).unwrap_or_default();
                let pos = parse_position(&ParseError(Box::new(kind.clone()), *pos), &text);
                frames.push(Frame { source: src.clone(), pos, note: String::new() });
                break;
            }
            other => {
                message = match crate::explain::explain(other, &src) {
                    Some((m, n)) => {
                        notes = n;
                        m
                    }
                    None => describe(other),
                };
                frames.push(Frame {
                    source: src.clone(),
                    pos: other.position(),
                    note: String::new(),
                });
                break;
            }
        }
    }
    // The innermost frame is where it failed; the rest are the calls that led there.
    let inner = frames.pop().expect("at least one frame");
    let mut out = format!("{}\n", crate_style_error(&message));
    out.push_str(&snippet(&inner.source, inner.pos));
    for n in &notes {
        out.push_str(&format!("  = note: {n}\n"));
    }
    for f in frames.iter().rev() {
        out.push_str(&format!("  = {} at {}\n", f.note, location(&f.source, f.pos)));
        if let Some(l) = f.pos.line().and_then(|l| crate::sources::line(&f.source, l)) {
            out.push_str(&format!("      {}\n", l.trim()));
        }
    }
    out
}

/// Render a compile error in `source`.
pub(crate) fn parse(err: &ParseError, source: &str) -> String {
    let text = crate::sources::text(source).unwrap_or_default();
    let mut out = format!("{}\n", crate_style_error(&parse_message(&err.0)));
    out.push_str(&snippet(source, parse_position(err, &text)));
    out
}

/// A compile error in helix's words (see `crate::parse_words`).
pub(crate) fn parse_message(e: &rhai::ParseErrorType) -> String {
    crate::parse_words::message(e)
}

/// Where a compile error is. Rhai reports a missing `;` at the next token, often on the next
/// line; the statement that lacks it ends earlier, so the caret goes just after its last
/// character (skipping blank lines and comments). Any error Rhai puts at the end of the file
/// (an unclosed `(`, a dangling `+`) goes there too: past the last line there is nothing to
/// show, and the fix goes after the last code.
pub(crate) fn parse_position(err: &ParseError, text: &str) -> Position {
    let pos = err.1;
    let is_semicolon = matches!(&*err.0, rhai::ParseErrorType::MissingToken(t, _) if t == ";");
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else { return pos };
    if !is_semicolon && !only_comments_from(text, line, col) {
        return pos;
    }
    let lines: Vec<&str> = text.lines().collect();
    // The text before the error's token on its own line counts first.
    let (mut l, mut upto) =
        if line > lines.len() { (lines.len(), usize::MAX) } else { (line, col.saturating_sub(1)) };
    loop {
        let Some(src) = l.checked_sub(1).and_then(|i| lines.get(i)) else { return pos };
        let before: String = src.chars().take(upto).collect();
        let code = before.split("//").next().unwrap_or("").trim_end();
        if !code.is_empty() {
            return Position::new(l as u16, (code.chars().count() + 1) as u16);
        }
        if l == 1 {
            return pos;
        }
        l -= 1;
        upto = usize::MAX;
    }
}

/// Whether nothing but blanks and `//` comments follows `line:col` in `text`.
fn only_comments_from(text: &str, line: usize, col: usize) -> bool {
    text.lines().enumerate().skip(line.saturating_sub(1)).all(|(i, l)| {
        let rest: String =
            if i + 1 == line { l.chars().skip(col.saturating_sub(1)).collect() } else { l.into() };
        rest.split("//").next().unwrap_or("").trim().is_empty()
    })
}

/// Render one finding at `source:line:col` (used by `helix check`).
pub(crate) fn at(source: &str, line: usize, col: usize, message: &str) -> String {
    let pos =
        if line == 0 { Position::NONE } else { Position::new(line as u16, col.max(1) as u16) };
    let mut out = format!("{}\n", crate_style_error(message));
    out.push_str(&snippet(source, pos));
    out
}

fn describe(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorRuntime(v, _) => {
            if v.is_string() {
                v.clone().into_string().unwrap_or_default()
            } else {
                format!("recipe threw {v}")
            }
        }
        EvalAltResult::ErrorTerminated(v, _) => format!("stopped: {v}"),
        other => {
            // Rhai appends " (line N, position M)"; we show the position ourselves.
            let s = other.to_string();
            match s.rfind(" (line ") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s,
            }
        }
    }
}

fn crate_style_error(msg: &str) -> String {
    format!("{} {msg}", console::style("error:").red().bold())
}

fn location(source: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{source}:{l}:{c}"),
        (Some(l), None) => format!("{source}:{l}"),
        _ => source.to_string(),
    }
}

fn snippet(source: &str, pos: Position) -> String {
    let mut out = format!("  --> {}\n", location(source, pos));
    if let (Some(l), col) = (pos.line(), pos.position().unwrap_or(1))
        && let Some(text) = crate::sources::line(source, l)
    {
        let num = l.to_string();
        let pad = " ".repeat(num.len());
        // Tabs keep their width so the caret lines up.
        let lead: String = text
            .chars()
            .take(col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        out.push_str(&format!(
            "{pad} |\n{num} | {text}\n{pad} | {lead}{}\n",
            console::style("^").red().bold()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    /// A module that does not compile while a recipe runs: helix's words, and the caret after
    /// the statement that lacks its `;` (not at the next line's token, where Rhai puts it).
    #[test]
    fn a_module_compile_error_at_run_time_is_in_helix_words() {
        let source = "/tmp/helix-report-test/broken.rhai";
        crate::sources::remember(source, "fn f() {\n    let a = 1\n    a\n}\n");
        let err = crate::engine::build(vec![])
            .compile("fn f() {\n    let a = 1\n    a\n}\n")
            .expect_err("does not compile");
        let err = rhai::EvalAltResult::ErrorInModule(
            source.into(),
            Box::new(err.into()),
            rhai::Position::new(2, 1),
        );
        let shown = console::strip_ansi_codes(&super::runtime(&err, "r.rhai")).to_string();
        assert!(shown.starts_with("error: missing `;` at the end of this statement\n"), "{shown}");
        assert!(shown.contains(&format!("--> {source}:2:14\n")), "{shown}");
        assert!(shown.contains("= while loading module"), "{shown}");
    }
}
