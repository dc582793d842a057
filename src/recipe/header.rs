//! A recipe's `//!` header, read without evaluating anything: its summary, details and
//! `@param`/`@flag` lines (name, type, description, required, default).

use super::*;
use crate::error::{Error, Result};

/// Parse the leading `//!` block. Never evaluates the script. The summary is the first
/// paragraph (up to the first empty `//!` line), joined into one line. A `@param` line helix cannot read
/// is left out here (so `helix list` still lists the recipe) and reported by `helix check`,
/// which `helix run` runs first.
pub(crate) fn parse_header(text: &str, source: &str) -> Result<Header> {
    let mut h = Header::default();
    let mut prose = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() && prose.is_empty() && h.params.is_empty() {
            continue;
        }
        let Some(doc) = t.strip_prefix("//!") else { break };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if let Some(rest) = doc.trim_start().strip_prefix("@param") {
            h.params.extend(parse_param(rest, false, source, i + 1).ok());
        } else if let Some(rest) = doc.trim_start().strip_prefix("@flag") {
            h.params.extend(parse_param(rest, true, source, i + 1).ok());
        } else {
            prose.push(doc.trim_end().to_string());
        }
    }
    while prose.last().is_some_and(|l| l.is_empty()) {
        prose.pop();
    }
    // The summary is the first paragraph, its lines joined (a wrapped sentence stays whole in
    // `helix list` and the picker); the details are the rest.
    let first = prose.iter().position(String::is_empty).unwrap_or(prose.len());
    h.summary = prose[..first].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    h.details = prose[first..].join("\n").trim().to_string();
    Ok(h)
}

/// `NAME[:TYPE]  description [(required)] [(default: VALUE)]`; TYPE may be
/// `choice(a|b|c)`.
pub(crate) fn parse_param(rest: &str, flag: bool, source: &str, line: usize) -> Result<Param> {
    let rest = rest.trim();
    let (spec, desc) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let bad =
        |why: &str| Error::invalid("recipe header", format!("{source}:{line}"), why.to_string());
    if spec.is_empty() {
        return Err(bad("`@param`/`@flag` needs a name"));
    }
    let mut choices = Vec::new();
    let (name, kind) = match spec.split_once(':') {
        Some((n, k)) if k.starts_with("choice(") => {
            let Some(inner) = k.strip_prefix("choice(").and_then(|k| k.strip_suffix(')')) else {
                return Err(bad("`choice(…)` needs its words in parentheses: `choice(a|b|c)`"));
            };
            choices = inner.split('|').map(|c| c.trim().to_string()).collect();
            if choices.iter().any(String::is_empty) {
                return Err(bad(&format!("`{k}` has an empty choice: write `choice(a|b|c)`")));
            }
            (n, Kind::Choice)
        }
        Some((n, k)) => (
            n,
            Kind::parse(k).ok_or_else(|| {
                bad(&format!(
                    "unknown type `{k}` (string, int, float, bool, path, size, list, choice(a|b))"
                ))
            })?,
        ),
        None => (spec, if flag { Kind::Bool } else { Kind::String }),
    };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(bad(&format!("`{name}` is not a valid parameter name")));
    }
    let mut description = desc.trim().to_string();
    let mut required = false;
    let mut default = None;
    if let Some(i) = description.find("(required)") {
        required = true;
        description.replace_range(i..i + "(required)".len(), "");
    }
    if let Some(i) = description.find("(default:")
        && let Some(j) = description[i..].find(')')
    {
        default = Some(description[i + 9..i + j].trim().to_string());
        description.replace_range(i..i + j + 1, "");
    }
    Ok(Param {
        name: name.to_string(),
        kind,
        flag,
        required,
        default,
        description: description.trim().to_string(),
        choices,
    })
}
