//! Conversions between Rhai values and the Rust types the primitives take.

use std::path::PathBuf;
use std::time::Duration;

use rhai::{Array, Dynamic, Map};

use crate::error::{Error, Result};

/// A Rhai type name in plain words, with its article: `i64` → "a whole number".
pub fn words(type_name: &str) -> String {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match short {
        "i64" | "i32" | "u64" | "INT" => "a whole number".into(),
        "f64" | "f32" | "FLOAT" => "a decimal number".into(),
        "bool" => "true/false".into(),
        "string" | "ImmutableString" | "String" | "&str" => "a string".into(),
        "char" => "a character".into(),
        "()" => "nothing (`()`)".into(),
        "map" | "Map" => "a map".into(),
        "array" | "Array" => "an array".into(),
        "blob" | "Blob" => "a blob of bytes".into(),
        "Fn" | "FnPtr" => "a function".into(),
        "PlistDate" => "a date".into(),
        "PlistBigInt" => "a big whole number".into(),
        "PlistUid" => "a uid".into(),
        other if other.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {other}"),
        other => format!("a {other}"),
    }
}

/// An argv from a Rhai array: strings as they are, numbers and bools printed.
pub fn argv(a: &Array) -> Result<Vec<String>> {
    a.iter()
        .enumerate()
        .map(|(i, v)| {
            if v.is_string() || v.is_int() || v.is_float() || v.is_bool() || v.is_char() {
                Ok(v.to_string())
            } else {
                Err(Error::invalid(
                    "command argument",
                    format!("#{i}"),
                    format!("{} is not a string", words(v.type_name())),
                ))
            }
        })
        .collect()
}

pub fn strings(a: &Array, what: &'static str) -> Result<Vec<String>> {
    a.iter()
        .map(|v| {
            v.clone().into_string().map_err(|t| {
                Error::invalid(
                    what,
                    v.to_string(),
                    format!("expected a string, found {}", words(t)),
                )
            })
        })
        .collect()
}

pub fn path(s: &str) -> PathBuf {
    crate::paths::expand(s)
}

/// An option from a map: `None` when absent or `()`.
pub fn opt<'a>(m: &'a Map, key: &str) -> Option<&'a Dynamic> {
    m.get(key).filter(|v| !v.is_unit())
}

pub fn opt_str(m: &Map, key: &'static str) -> Result<Option<String>> {
    opt(m, key)
        .map(|v| {
            v.clone().into_string().map_err(|t| {
                Error::invalid("option", key, format!("expected a string, found {}", words(t)))
            })
        })
        .transpose()
}

pub fn opt_bool(m: &Map, key: &'static str) -> Result<bool> {
    opt(m, key)
        .map(|v| {
            v.as_bool().map_err(|t| {
                Error::invalid("option", key, format!("expected true or false, found {}", words(t)))
            })
        })
        .transpose()
        .map(|b| b.unwrap_or(false))
}

pub fn opt_int(m: &Map, key: &'static str) -> Result<Option<i64>> {
    opt(m, key)
        .map(|v| {
            v.as_int().map_err(|t| {
                Error::invalid(
                    "option",
                    key,
                    format!("expected a whole number, found {}", words(t)),
                )
            })
        })
        .transpose()
}

/// Seconds as int or float.
pub fn opt_secs(m: &Map, key: &'static str) -> Result<Option<Duration>> {
    opt(m, key)
        .map(|v| {
            let s = if let Ok(i) = v.as_int() {
                i as f64
            } else {
                v.as_float().map_err(|t| {
                    Error::invalid("option", key, format!("expected seconds, found {}", words(t)))
                })?
            };
            if s < 0.0 {
                Err(Error::invalid("option", key, "seconds cannot be negative"))
            } else {
                Ok(Duration::from_secs_f64(s))
            }
        })
        .transpose()
}

/// A whole-seconds `timeout` argument as a duration; negative is an error.
pub fn timeout(seconds: i64) -> Result<Duration> {
    u64::try_from(seconds)
        .map(Duration::from_secs)
        .map_err(|_| Error::invalid("timeout", seconds.to_string(), "seconds cannot be negative"))
}

/// Reject keys a function does not know, so a typo in an options map is an error, not a no-op;
/// worded as [`crate::api::options::decode`] words it. For the decoders not declared yet.
pub fn known_keys(m: &Map, allowed: &[&str], func: &str) -> Result<()> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(crate::api::options::unknown_key(k, allowed, func));
        }
    }
    Ok(())
}

/// serde_json → Rhai.
pub fn from_json(v: &serde_json::Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn timeouts_are_whole_non_negative_seconds() {
        assert_eq!(super::timeout(90).unwrap(), std::time::Duration::from_secs(90));
        let e = super::timeout(-1).unwrap_err().to_string();
        assert!(e.contains("`-1`") && e.contains("cannot be negative"), "{e}");
    }
}
