//! Conversions between Rhai values and the Rust types the primitives take.

use std::path::PathBuf;
use std::time::Duration;

use rhai::{Array, Dynamic};

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

/// A whole-seconds `timeout` argument as a duration; negative is an error.
pub fn timeout(seconds: i64) -> Result<Duration> {
    u64::try_from(seconds)
        .map(Duration::from_secs)
        .map_err(|_| Error::invalid("timeout", seconds.to_string(), "seconds cannot be negative"))
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
