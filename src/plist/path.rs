//! Key paths: `QEMU.AdditionalArguments`, `Drive[0].ImageName`, `Drive[-1]` (the last item),
//! `Registry["17DC4F96-…"].Package.Path` (a quoted key may hold dots and brackets).

use plist::{Dictionary, Value};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(i64),
}

pub(super) fn bad(path: &str, why: impl Into<String>) -> Error {
    Error::invalid("key path", path, why)
}

/// Split a key path into segments.
pub(crate) fn parse(path: &str) -> Result<Vec<Seg>> {
    let mut segs = Vec::new();
    let chars: Vec<char> = path.chars().collect();
    let mut i = 0;
    let mut expect_key = true;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'"') {
                    let start = i + 1;
                    let end = (start..chars.len())
                        .find(|&j| chars[j] == '"' && chars.get(j + 1) == Some(&']'));
                    let Some(end) = end else {
                        return Err(bad(path, "a quoted key must end with `\"]`"));
                    };
                    segs.push(Seg::Key(chars[start..end].iter().collect()));
                    i = end + 2;
                } else {
                    let start = i;
                    while i < chars.len() && chars[i] != ']' {
                        i += 1;
                    }
                    if i == chars.len() {
                        return Err(bad(path, "a `[` has no matching `]`"));
                    }
                    let text: String = chars[start..i].iter().collect();
                    let n: i64 = text.trim().parse().map_err(|_| {
                        bad(
                            path,
                            format!("`[{text}]` is not an array index (use [\"key\"] for a key)"),
                        )
                    })?;
                    segs.push(Seg::Index(n));
                    i += 1;
                }
                expect_key = false;
            }
            '.' => {
                if expect_key {
                    return Err(bad(path, "it has an empty key (two dots, or a leading dot)"));
                }
                i += 1;
                expect_key = true;
                if i == chars.len() {
                    return Err(bad(path, "it ends with a dot"));
                }
            }
            _ => {
                if !expect_key {
                    return Err(bad(path, "a key must follow a dot"));
                }
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                segs.push(Seg::Key(chars[start..i].iter().collect()));
                expect_key = false;
            }
        }
    }
    if segs.is_empty() {
        return Err(bad(path, "it is empty"));
    }
    if !matches!(segs[0], Seg::Key(_)) {
        return Err(bad(path, "it must start with a key: the root is a dictionary"));
    }
    Ok(segs)
}

/// Render a key inside a path (quoted when it holds `.`, `[` or `]`).
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    let plain = !key.is_empty() && !key.contains(['.', '[', ']', '"']);
    match (prefix.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{prefix}.{key}"),
        (_, false) => format!("{prefix}[\"{key}\"]"),
    }
}

/// Where a `set` at index `i` goes in an array of `len` items at key path `at`: an existing
/// item, or `len` to append; anything further is an error naming the path `shown`.
pub(super) fn index_for_set(i: i64, len: usize, at: &str, shown: &str) -> Result<usize> {
    index(i, len).filter(|&n| n <= len).ok_or_else(|| {
        bad(
            shown,
            format!(
                "`{at}` has {}; index {i} is out of range (use {len} to append)",
                crate::count::count(len as u64, "item")
            ),
        )
    })
}

/// Resolve an index (negative counts from the end) against a length.
pub(crate) fn index(i: i64, len: usize) -> Option<usize> {
    if i < 0 {
        let back = i.unsigned_abs() as usize;
        (back <= len).then(|| len - back)
    } else {
        Some(i as usize)
    }
}

pub(crate) fn get<'a>(root: &'a Dictionary, segs: &[Seg]) -> Option<&'a Value> {
    let Seg::Key(k) = &segs[0] else { return None };
    let mut cur = root.get(k)?;
    for s in &segs[1..] {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Dictionary(d)) => d.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(index(*i, a.len())?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn container_for(next: &Seg) -> Value {
    match next {
        Seg::Key(_) => Value::Dictionary(Dictionary::new()),
        Seg::Index(_) => Value::Array(vec![]),
    }
}

pub(crate) fn set(root: &mut Dictionary, segs: &[Seg], value: Value, shown: &str) -> Result<()> {
    let Seg::Key(k) = &segs[0] else { return Err(bad(shown, "it must start with a key")) };
    if segs.len() == 1 {
        root.insert(k.clone(), value);
        return Ok(());
    }
    if !root.contains_key(k) {
        root.insert(k.clone(), container_for(&segs[1]));
    }
    set_in(root.get_mut(k).expect("just ensured"), &segs[1..], value, shown, &join_key("", k))
}

fn set_in(cur: &mut Value, segs: &[Seg], value: Value, shown: &str, at: &str) -> Result<()> {
    let last = segs.len() == 1;
    match (&segs[0], cur) {
        (Seg::Key(k), Value::Dictionary(d)) => {
            if last {
                d.insert(k.clone(), value);
                return Ok(());
            }
            if !d.contains_key(k) {
                d.insert(k.clone(), container_for(&segs[1]));
            }
            let here = join_key(at, k);
            set_in(d.get_mut(k).expect("just ensured"), &segs[1..], value, shown, &here)
        }
        (Seg::Index(i), Value::Array(a)) => {
            let len = a.len();
            let idx = index_for_set(*i, len, at, shown)?;
            if last {
                if idx == len {
                    a.push(value);
                } else {
                    a[idx] = value;
                }
                return Ok(());
            }
            if idx == len {
                a.push(container_for(&segs[1]));
            }
            set_in(&mut a[idx], &segs[1..], value, shown, &format!("{at}[{idx}]"))
        }
        (Seg::Key(k), other) => Err(bad(
            shown,
            format!("`{at}` is {} {}, so it has no key `{k}`", article(other), super::kind(other)),
        )),
        (Seg::Index(i), other) => Err(bad(
            shown,
            format!("`{at}` is {} {}, so it has no index {i}", article(other), super::kind(other)),
        )),
    }
}

fn article(v: &Value) -> &'static str {
    if matches!(v, Value::Array(_) | Value::Integer(_) | Value::Uid(_)) { "an" } else { "a" }
}

/// Remove a key (order of the rest kept) or an array item.
pub(crate) fn remove(root: &mut Dictionary, segs: &[Seg], shown: &str) -> Result<Option<Value>> {
    let Seg::Key(k) = &segs[0] else { return Err(bad(shown, "it must start with a key")) };
    if segs.len() == 1 {
        return Ok(remove_key(root, k));
    }
    match root.get_mut(k) {
        Some(v) => remove_in(v, &segs[1..]),
        None => Ok(None),
    }
}

fn remove_key(d: &mut Dictionary, k: &str) -> Option<Value> {
    let old = d.get(k).cloned()?;
    d.retain(|key, _| key != k);
    Some(old)
}

fn remove_in(cur: &mut Value, segs: &[Seg]) -> Result<Option<Value>> {
    let last = segs.len() == 1;
    match (&segs[0], cur) {
        (Seg::Key(k), Value::Dictionary(d)) => {
            if last {
                return Ok(remove_key(d, k));
            }
            match d.get_mut(k) {
                Some(v) => remove_in(v, &segs[1..]),
                None => Ok(None),
            }
        }
        (Seg::Index(i), Value::Array(a)) => {
            let Some(idx) = index(*i, a.len()).filter(|&n| n < a.len()) else { return Ok(None) };
            if last {
                return Ok(Some(a.remove(idx)));
            }
            remove_in(&mut a[idx], &segs[1..])
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse("QEMU.AdditionalArguments").unwrap(),
            [Seg::Key("QEMU".into()), Seg::Key("AdditionalArguments".into())]
        );
        assert_eq!(
            parse("Drive[0].ImageName").unwrap(),
            [Seg::Key("Drive".into()), Seg::Index(0), Seg::Key("ImageName".into())]
        );
        assert_eq!(
            parse("Registry[\"a.b[1]\"].Name").unwrap(),
            [Seg::Key("Registry".into()), Seg::Key("a.b[1]".into()), Seg::Key("Name".into())]
        );
        assert_eq!(
            parse("A[-1][2]").unwrap(),
            [Seg::Key("A".into()), Seg::Index(-1), Seg::Index(2)]
        );
        for bad in ["", ".a", "a..b", "a.", "a[x]", "a[1", "[0]", "a[1]b", "a[\"x]"] {
            assert!(parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn join_quotes_odd_keys() {
        assert_eq!(join_key("", "a"), "a");
        assert_eq!(join_key("a", "b"), "a.b");
        assert_eq!(join_key("a", "com.x"), "a[\"com.x\"]");
    }
}
