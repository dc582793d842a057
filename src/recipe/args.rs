//! Command-line words (`--name value`, `--name=value`, `--flag`, `--no-flag`) turned into a
//! validated `args` map, every problem reported before anything runs.

use std::collections::BTreeMap;

use super::*;
use crate::error::{Error, Result};

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

/// Turn `--name value`, `--name=value` and `--flag` words into a validated map.
/// Every problem is reported before anything runs.
pub(crate) fn parse_args(recipe: &Recipe, words: &[String]) -> Result<BTreeMap<String, Value>> {
    let params = &recipe.header.params;
    let mut out = BTreeMap::new();
    let mut i = 0;
    let usage = |why: String| {
        Error::invalid(
            "arguments",
            format!("helix run {}", recipe.name),
            format!("{why} (see `helix run {} --help`)", recipe.name),
        )
    };
    while i < words.len() {
        let w = &words[i];
        let Some(opt) = w.strip_prefix("--") else {
            return Err(usage(format!("unexpected `{w}`: parameters are given as `--name value`")));
        };
        let (name, inline) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (opt, None),
        };
        let (name, negated) = match params.iter().find(|p| p.name == name) {
            Some(_) => (name, false),
            None => match name.strip_prefix("no-") {
                Some(n) if params.iter().any(|p| p.name == n && p.flag) => (n, true),
                _ => return Err(usage(format!("unknown parameter `--{name}`"))),
            },
        };
        let p = params.iter().find(|p| p.name == name).expect("found above");
        let raw = if p.flag {
            match inline {
                Some(v) => v,
                None => (!negated).to_string(),
            }
        } else if let Some(v) = inline {
            v
        } else {
            i += 1;
            words.get(i).cloned().ok_or_else(|| usage(format!("`--{name}` needs a value")))?
        };
        out.insert(name.to_string(), convert(p, &raw).map_err(usage)?);
        i += 1;
    }
    for p in params {
        if out.contains_key(&p.name) {
            continue;
        }
        if let Some(d) = &p.default
            && let Ok(v) = convert(p, d)
        {
            out.insert(p.name.clone(), v);
            continue;
        }
        if p.required {
            return Err(usage(format!("`--{}` is required", p.name)));
        }
        if p.flag {
            out.insert(p.name.clone(), Value::Bool(false));
        }
    }
    Ok(out)
}

/// `raw` as a value of `p`'s type, or why it is not one.
pub(crate) fn convert(p: &Param, raw: &str) -> std::result::Result<Value, String> {
    let bad = |what: &str| format!("`--{}` takes {what}, not `{raw}`", p.name);
    Ok(match p.kind {
        Kind::String | Kind::Path => Value::Str(if p.kind == Kind::Path {
            crate::paths::expand(raw).display().to_string()
        } else {
            raw.to_string()
        }),
        Kind::Int => Value::Int(raw.parse().map_err(|_| bad("a whole number"))?),
        Kind::Float => Value::Float(raw.parse().map_err(|_| bad("a number"))?),
        Kind::Bool => Value::Bool(match raw {
            "true" | "yes" | "1" | "on" => true,
            "false" | "no" | "0" | "off" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::Size => {
            crate::size::parse(raw).map_err(|_| bad("a size like 256G, 1T or 512M"))?;
            Value::Str(raw.to_string())
        }
        Kind::List => Value::List(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        ),
        Kind::Choice => {
            if !p.choices.iter().any(|c| c == raw) {
                return Err(bad(&format!("one of {}", p.choices.join(", "))));
            }
            Value::Str(raw.to_string())
        }
    })
}
