//! Options maps, declared and not decoded: a primitive that takes `#{ … }` names a
//! `#[derive(Deserialize)] #[serde(deny_unknown_fields)]` struct and reads the map with
//! [`decode`]. One reader means one set of messages: an unknown key names itself, the closest
//! allowed key ("did you mean") and all the allowed ones; a wrong value names its path
//! (`disks[1].size`) and what was expected in plain words. Values with rules of their own
//! (sizes, MiB, MACs, ports, seconds) are newtypes whose `Deserialize` says the rule.

use rhai::{Dynamic, EvalAltResult, LexError, Map, ParseErrorType};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// Read `map` as the options `T` of `primitive` (`"qemu::start"`, named in every error).
/// A key set to `()` counts as left out, in nested maps too (`#{ sudo: args.sudo }`).
pub fn decode<T: DeserializeOwned>(map: &Map, primitive: &str) -> Result<T> {
    decode_value(&Dynamic::from_map(map.clone()), primitive)
}

/// [`decode`] for any Rhai value (an array of maps, a map that may be `()`).
pub fn decode_value<T: DeserializeOwned>(value: &Dynamic, primitive: &str) -> Result<T> {
    decode_as(value, &Whose::options_of(primitive))
}

/// Read `map`, a value given to `primitive` (not its options map), as `T`; `what` names the
/// value in the errors: "the ssh target" → "unknown key `hots` in the ssh target given to
/// `ssh::run`".
pub fn decode_given<T: DeserializeOwned>(map: &Map, what: &str, primitive: &str) -> Result<T> {
    let whose = Whose { noun: "key", place: format!("in {what} given to `{primitive}`") };
    decode_as(&Dynamic::from_map(map.clone()), &whose)
}

/// Whose map is read, as its errors name it.
struct Whose {
    /// "option" or "key".
    noun: &'static str,
    /// "for `qemu::start`", "in the ssh target given to `ssh::run`".
    place: String,
}

impl Whose {
    fn options_of(primitive: &str) -> Whose {
        Whose { noun: "option", place: format!("for `{primitive}`") }
    }
}

fn decode_as<T: DeserializeOwned>(value: &Dynamic, whose: &Whose) -> Result<T> {
    let value = without_units(value.clone());
    let de = rhai::serde::DynamicDeserializer::new(&value);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        explain(&path, e.inner(), whose)
    })
}

/// `v` with every map entry whose value is `()` left out, all the way down.
fn without_units(v: Dynamic) -> Dynamic {
    if v.is_map() {
        let m = v.cast::<Map>();
        let kept: Map = m
            .into_iter()
            .filter(|(_, x)| !x.is_unit())
            .map(|(k, x)| (k, without_units(x)))
            .collect();
        Dynamic::from_map(kept)
    } else if v.is_array() {
        Dynamic::from_array(v.cast::<rhai::Array>().into_iter().map(without_units).collect())
    } else {
        v
    }
}

/// A word of an argv or an environment value: a string as it is, a number or bool printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word(pub String);

impl<'de> serde::Deserialize<'de> for Word {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Word;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string (or a number or true/false)")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<Word, E> {
                Ok(Word(s.to_string()))
            }
            fn visit_char<E: serde::de::Error>(self, c: char) -> std::result::Result<Word, E> {
                Ok(Word(c.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> std::result::Result<Word, E> {
                Ok(Word(n.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> std::result::Result<Word, E> {
                Ok(Word(n.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> std::result::Result<Word, E> {
                Ok(Word(Dynamic::from_float(n).to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, b: bool) -> std::result::Result<Word, E> {
                Ok(Word(b.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Words as recipes write them: the strings of `argv`.
pub fn words(w: Vec<Word>) -> Vec<String> {
    w.into_iter().map(|w| w.0).collect()
}

/// One string or an array of strings (`add_rpath: "@loader_path"` or `[...]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneOrMore(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for OneOrMore {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OneOrMore;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> std::result::Result<OneOrMore, E> {
                Ok(OneOrMore(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<OneOrMore, A::Error> {
                let mut out = vec![];
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMore(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `key` is not one of `allowed` in `whose` map: the error names it, the closest allowed key
/// and all of them. `key` may be a path (`disks[1].sise`); its last name is matched.
fn unknown_key(key: &str, allowed: &[&str], whose: &Whose) -> Error {
    let name = key.rsplit(['.', ']']).next().unwrap_or(key);
    let hint = crate::check::suggest::hint(name, allowed.iter().copied());
    let list = if allowed.is_empty() {
        "it takes no options".to_string()
    } else {
        format!("allowed: {}", allowed.join(", "))
    };
    let why = if hint.is_empty() { list } else { format!("{hint} ({list})") };
    Error::Options {
        problem: "unknown",
        noun: whose.noun,
        key: key.to_string(),
        whose: whose.place.clone(),
        why,
    }
}

/// The message serde or Rhai wrote, in helix's words.
fn explain(path: &str, err: &EvalAltResult, whose: &Whose) -> Error {
    // serde_path_to_error's path ends at the unknown key itself, at the parent of a missing one.
    let at = |key: &str| match path {
        "." => key.to_string(),
        p if p == key || p.ends_with(&format!(".{key}")) => p.to_string(),
        p => format!("{p}.{key}"),
    };
    let fail = |problem, key: String, why: String| Error::Options {
        problem,
        noun: whose.noun,
        key,
        whose: whose.place.clone(),
        why,
    };
    let here = if path == "." { "(the map)".to_string() } else { path.to_string() };
    let msg = match err {
        EvalAltResult::ErrorMismatchOutputType(wanted, found, _) => {
            let why = format!("expected {}, found {}", type_words(wanted), type_words(found));
            return fail("invalid", here, why);
        }
        EvalAltResult::ErrorParsing(
            ParseErrorType::BadInput(LexError::ImproperSymbol(_, m)),
            _,
        ) => m.clone(),
        other => other.to_string(),
    };
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (key, allowed) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = ticked(allowed);
        let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
        return unknown_key(&at(key), &allowed, whose);
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.trim_end_matches('`');
        return fail("missing", at(key), "it is required".into());
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (got, allowed) = rest.split_once('`').unwrap_or((rest, ""));
        let allowed = ticked(allowed);
        let hint = crate::check::suggest::hint(got, allowed.iter().map(String::as_str));
        let why = format!("`{got}` is not one of {}", allowed.join(", "));
        let why = if hint.is_empty() { why } else { format!("{why}; {hint}") };
        return fail("invalid", here, why);
    }
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = msg.strip_prefix(prefix)
            && let Some((found, wanted)) = rest.rsplit_once(", expected ")
        {
            let why = format!("expected {}, found {}", type_words(wanted), found_words(found));
            return fail("invalid", here, why);
        }
    }
    fail("invalid", here, msg)
}

/// The backticked names in serde's "expected one of `a`, `b`".
fn ticked(s: &str) -> Vec<String> {
    s.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// A Rust or serde type name in plain words: `u64` → "a whole number".
fn type_words(t: &str) -> String {
    if t.contains("Vec<") {
        return "an array".into();
    }
    if t.contains("Map<") {
        return "a map".into();
    }
    let short = t.rsplit("::").next().unwrap_or(t);
    match short {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more".into(),
        "i8" | "i16" | "i32" | "isize" => "a whole number".into(),
        "a boolean" | "boolean" => "true/false".into(),
        "a sequence" | "sequence" => "an array".into(),
        "a string" | "string" | "str" => "a string".into(),
        s if s.starts_with("struct ") || s.starts_with("map") => "a map".into(),
        s if s.starts_with("enum ") => "one of the allowed words".into(),
        s if s.starts_with("a ") || s.starts_with("an ") => s.into(),
        _ => crate::api::convert::words(t),
    }
}

/// serde's "unexpected" (`string "abc"`, `integer `5``, `map`) in plain words.
fn found_words(u: &str) -> String {
    let (kind, value) = u.split_once(' ').unwrap_or((u, ""));
    let kind = match kind {
        "string" => "a string",
        "integer" => "the number",
        "floating" => return format!("the decimal number {}", value.trim_start_matches("point ")),
        "boolean" => "",
        "map" => "a map",
        "sequence" => "an array",
        "unit" => "nothing (`()`)",
        "character" => "a character",
        _ => return u.to_string(),
    };
    [kind, value].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Disk {
        file: String,
        size: Option<crate::size::Mib>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Opts {
        format: Option<String>,
        count: Option<u32>,
        #[serde(default)]
        enabled: bool,
        disks: Option<Vec<Disk>>,
    }

    fn eval(src: &str) -> Map {
        rhai::Engine::new().eval::<Map>(src).unwrap()
    }

    fn err(src: &str) -> String {
        decode::<Opts>(&eval(src), "qemu::start").unwrap_err().to_string()
    }

    #[test]
    fn reads_a_declared_map() {
        let o: Opts = decode(
            &eval(r#"#{ format: "qcow2", count: 3, disks: [#{ file: "a", size: "1G" }] }"#),
            "t",
        )
        .unwrap();
        assert_eq!(o.format.as_deref(), Some("qcow2"));
        assert_eq!(o.count, Some(3));
        let disks = o.disks.unwrap();
        assert_eq!(disks[0].file, "a");
        assert_eq!(disks[0].size, Some(crate::size::Mib(1024)));
        // `()` is an absent option, also where the field has a default and in nested maps.
        let o: Opts =
            decode(&eval("#{ format: (), enabled: (), disks: [#{ file: \"a\", size: () }] }"), "t")
                .unwrap();
        assert!(o.format.is_none() && !o.enabled);
        assert_eq!(o.disks.unwrap()[0].size, None);
    }

    #[test]
    fn an_unknown_key_names_itself_the_closest_and_the_allowed() {
        let e = err("#{ fromat: 1 }");
        assert_eq!(
            e,
            "unknown option `fromat` for `qemu::start`: did you mean `format`? \
             (allowed: format, count, enabled, disks)"
        );
        let e = err("#{ zzz: 1 }");
        assert_eq!(
            e,
            "unknown option `zzz` for `qemu::start`: allowed: format, count, enabled, disks"
        );
        let e = err(r#"#{ disks: [#{ file: "a" }, #{ file: "b", sise: 1 }] }"#);
        assert!(e.starts_with("unknown option `disks[1].sise`"), "{e}");
        assert!(e.contains("did you mean `size`"), "{e}");
    }

    #[test]
    fn a_wrong_value_names_its_path_and_what_was_expected() {
        let e = err("#{ format: 5 }");
        assert_eq!(
            e,
            "invalid option `format` for `qemu::start`: expected a string, found a whole number"
        );
        let e = err(r#"#{ count: "three" }"#);
        assert!(e.starts_with("invalid option `count`"), "{e}");
        assert!(e.contains("expected a whole number of 0 or more, found a string"), "{e}");
        let e = err("#{ count: -1 }");
        assert!(e.contains("expected a whole number"), "{e}");
        assert!(e.contains("-1"), "{e}");
        let e = err("#{ enabled: 1 }");
        assert!(e.starts_with("invalid option `enabled`") && e.contains("true/false"), "{e}");
        let e = err(r#"#{ disks: [#{ file: "a" }, #{ file: "b", size: [] }] }"#);
        assert!(e.starts_with("invalid option `disks[1].size`"), "{e}");
        assert!(e.contains("\"2G\""), "{e}");
        let e = err(r#"#{ disks: "a" }"#);
        assert!(e.starts_with("invalid option `disks`") && e.contains("an array"), "{e}");
        let e = err(r#"#{ disks: [#{ size: 1 }] }"#);
        assert_eq!(e, "missing option `disks[0].file` for `qemu::start`: it is required");
    }

    #[test]
    fn a_map_given_as_a_value_names_its_keys_and_the_primitive_it_was_given_to() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Target {
            user: Option<String>,
            host: Option<String>,
            port: Option<u16>,
        }
        let e = decode_given::<Target>(&eval("#{ hots: \"h\" }"), "the ssh target", "ssh::output")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown key `hots` in the ssh target given to `ssh::output`: did you mean `host`? \
             (allowed: user, host, port)"
        );
        let e = decode_given::<Target>(&eval("#{ port: \"x\" }"), "the ssh target", "ssh::run")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid key `port` in the ssh target given to `ssh::run`: "), "{e}");
    }
}
