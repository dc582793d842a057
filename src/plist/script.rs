//! The Rhai side of plists: plist values ↔ Rhai values, and key paths on Rhai maps.
//!
//! | plist | Rhai |
//! |---|---|
//! | dict | map |
//! | array | array |
//! | string | string |
//! | integer | int (`i64`); above `i64::MAX` a `PlistBigInt` that prints as its number |
//! | real | float (kept apart from int: `1.0` stays real, `1` stays integer) |
//! | boolean | bool |
//! | data | blob |
//! | date | `PlistDate`: prints as its ISO-8601 text (`2026-02-09T10:00:00Z`), `.iso` gives the string, `plist::date("…")` makes one |
//! | uid (keyed archives) | `PlistUid`, prints as `uid(7)`; `plist::uid(7)` makes one (XML files spell it `{CF$UID: 7}`) |
//!
//! Rhai maps are sorted by key, so key order cannot live in the map. It lives in the file: when
//! a map is written back over a plist (`plist::edit`, `plist::write`), keys that were there keep
//! their place, new keys go where they sort among the others if the dictionary was sorted (as
//! Apple's encoders write them) or at the end if it was not. Every value is written back as
//! the type it was read as.

use plist::{Dictionary, Value};
use rhai::{Array, Blob, Dynamic, Map};

use super::path::{self, Seg, bad};
use crate::error::{Error, Result};

/// A plist date in Rhai: an ISO-8601 string marked as a date, so it is written back as a date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlistDate(pub plist::Date);

impl PlistDate {
    pub(crate) fn parse(iso: &str) -> Result<PlistDate> {
        plist::Date::from_xml_format(iso)
            .map(PlistDate)
            .map_err(|_| Error::invalid("date", iso, "expected ISO-8601 like 2026-02-09T10:00:00Z"))
    }
    pub(crate) fn iso(&self) -> String {
        self.0.to_xml_format()
    }
}

/// An integer above `i64::MAX` (plists hold unsigned 64-bit integers; Rhai's int is `i64`).
/// It prints as its number and is written back as the same integer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlistBigInt(pub u64);

/// A uid (the object references of keyed archives). Prints as `uid(7)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PlistUid(pub u64);

/// plist → Rhai.
pub(crate) fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Dictionary(d) => Dynamic::from_map(dict_to_map(d)),
        Value::Array(a) => Dynamic::from_array(a.iter().map(to_dynamic).collect()),
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Integer(i) => match i.as_signed() {
            Some(n) => Dynamic::from_int(n),
            None => Dynamic::from(PlistBigInt(i.as_unsigned().unwrap_or(u64::MAX))),
        },
        Value::Real(r) => Dynamic::from_float(*r),
        Value::Boolean(b) => Dynamic::from_bool(*b),
        Value::Data(d) => Dynamic::from_blob(d.clone()),
        Value::Date(d) => Dynamic::from(PlistDate(*d)),
        Value::Uid(u) => Dynamic::from(PlistUid(u.get())),
        _ => Dynamic::UNIT,
    }
}

pub fn dict_to_map(d: &Dictionary) -> Map {
    d.iter().map(|(k, v)| (k.as_str().into(), to_dynamic(v))).collect()
}

/// Rhai → plist, with `template` (the value that stood here before) guiding key order and
/// keeping exact encodings of unchanged leaves. `at` names the place in errors.
pub(crate) fn from_dynamic(v: &Dynamic, template: Option<&Value>, at: &str) -> Result<Value> {
    from_dynamic_in(v, template, at, 0)
}

fn too_deep(at: &str) -> Error {
    let shown: String = at.chars().take(60).collect();
    Error::invalid(
        "plist value",
        if at.chars().count() > 60 { format!("{shown}…") } else { shown },
        format!(
            "its maps and arrays nest more than {} levels deep, more than a plist may",
            super::MAX_DEPTH
        ),
    )
}

fn from_dynamic_in(v: &Dynamic, template: Option<&Value>, at: &str, depth: usize) -> Result<Value> {
    if (v.is_map() || v.is_array()) && depth >= super::MAX_DEPTH {
        return Err(too_deep(at));
    }
    if v.is_map() {
        let m = v.read_lock::<Map>().expect("is a map");
        let t = template.and_then(|t| t.as_dictionary());
        return Ok(Value::Dictionary(map_to_dict_in(&m, t, at, depth + 1)?));
    }
    if v.is_array() {
        let a = v.read_lock::<Array>().expect("is an array");
        let t = template.and_then(|t| t.as_array());
        let items = a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                from_dynamic_in(x, t.and_then(|t| t.get(i)), &format!("{at}[{i}]"), depth + 1)
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Value::Array(items));
    }
    if let Ok(n) = v.as_int() {
        return Ok(Value::Integer(n.into()));
    }
    if let Ok(f) = v.as_float() {
        return Ok(Value::Real(f));
    }
    if let Some(b) = v.clone().try_cast::<PlistBigInt>() {
        return Ok(Value::Integer(b.0.into()));
    }
    if let Some(u) = v.clone().try_cast::<PlistUid>() {
        return Ok(Value::Uid(plist::Uid::new(u.0)));
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Boolean(b));
    }
    if v.is_string() {
        return Ok(Value::String(v.clone().into_string().expect("is a string")));
    }
    if let Ok(c) = v.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if v.is_blob() {
        return Ok(Value::Data(v.read_lock::<Blob>().expect("is a blob").clone()));
    }
    if let Some(d) = v.clone().try_cast::<PlistDate>() {
        return Ok(Value::Date(d.0));
    }
    let why = if v.is_unit() {
        "a plist has no empty value `()`; remove the key with plist::remove instead".to_string()
    } else {
        format!("{} cannot be stored in a plist", crate::api::convert::words(v.type_name()))
    };
    Err(Error::invalid(
        "plist value",
        if at.is_empty() { "(root)".into() } else { at.to_string() },
        why,
    ))
}

fn is_sorted(d: &Dictionary) -> bool {
    let keys: Vec<&String> = d.keys().collect();
    keys.windows(2).all(|w| w[0] <= w[1])
}

/// A Rhai map → a dictionary ordered like `template`.
pub fn map_to_dict(m: &Map, template: Option<&Dictionary>, at: &str) -> Result<Dictionary> {
    map_to_dict_in(m, template, at, 1)
}

fn map_to_dict_in(
    m: &Map,
    template: Option<&Dictionary>,
    at: &str,
    depth: usize,
) -> Result<Dictionary> {
    let mut pairs: Vec<(String, Value)> = Vec::with_capacity(m.len());
    let sorted = template.is_none_or(is_sorted);
    if let Some(t) = template {
        for (k, tv) in t.iter() {
            if let Some(v) = m.get(k.as_str()) {
                pairs.push((
                    k.clone(),
                    from_dynamic_in(v, Some(tv), &path::join_key(at, k), depth)?,
                ));
            }
        }
    }
    for (k, v) in m.iter() {
        let k = k.to_string();
        if template.is_some_and(|t| t.contains_key(&k)) {
            continue;
        }
        let value = from_dynamic_in(v, None, &path::join_key(at, &k), depth)?;
        if sorted {
            let pos =
                pairs.iter().position(|(pk, _)| pk.as_str() > k.as_str()).unwrap_or(pairs.len());
            pairs.insert(pos, (k, value));
        } else {
            pairs.push((k, value));
        }
    }
    let mut d = Dictionary::new();
    for (k, v) in pairs {
        d.insert(k, v);
    }
    Ok(d)
}

// ---- key paths on Rhai values ----

pub(crate) fn get(root: &Map, segs: &[Seg]) -> Option<Dynamic> {
    let Seg::Key(k) = &segs[0] else { return None };
    let mut cur = root.get(k.as_str())?.clone();
    for s in &segs[1..] {
        cur = match s {
            Seg::Key(k) => cur.read_lock::<Map>()?.get(k.as_str())?.clone(),
            Seg::Index(i) => {
                let a = cur.read_lock::<Array>()?;
                let idx = path::index(*i, a.len())?;
                a.get(idx)?.clone()
            }
        };
    }
    Some(cur)
}

fn container_for(next: &Seg) -> Dynamic {
    match next {
        Seg::Key(_) => Dynamic::from_map(Map::new()),
        Seg::Index(_) => Dynamic::from_array(Array::new()),
    }
}

pub(crate) fn set(root: &mut Map, segs: &[Seg], value: Dynamic, shown: &str) -> Result<()> {
    let Seg::Key(k) = &segs[0] else { return Err(bad(shown, "it must start with a key")) };
    if segs.len() == 1 {
        root.insert(k.as_str().into(), value);
        return Ok(());
    }
    let slot = root.entry(k.as_str().into()).or_insert_with(|| container_for(&segs[1]));
    set_in(slot, &segs[1..], value, shown, &path::join_key("", k))
}

fn set_in(cur: &mut Dynamic, segs: &[Seg], value: Dynamic, shown: &str, at: &str) -> Result<()> {
    let last = segs.len() == 1;
    let type_name = cur.type_name().to_string();
    match &segs[0] {
        Seg::Key(k) => {
            let Some(mut m) = cur.write_lock::<Map>() else {
                return Err(bad(
                    shown,
                    format!(
                        "`{at}` is {}, so it has no key `{k}`",
                        crate::api::convert::words(&type_name)
                    ),
                ));
            };
            if last {
                m.insert(k.as_str().into(), value);
                return Ok(());
            }
            let here = path::join_key(at, k);
            let slot = m.entry(k.as_str().into()).or_insert_with(|| container_for(&segs[1]));
            set_in(slot, &segs[1..], value, shown, &here)
        }
        Seg::Index(i) => {
            let Some(mut a) = cur.write_lock::<Array>() else {
                return Err(bad(
                    shown,
                    format!(
                        "`{at}` is {}, so it has no index {i}",
                        crate::api::convert::words(&type_name)
                    ),
                ));
            };
            let len = a.len();
            let idx = path::index_for_set(*i, len, at, shown)?;
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
    }
}

pub(crate) fn remove(root: &mut Map, segs: &[Seg]) -> Option<Dynamic> {
    let Seg::Key(k) = &segs[0] else { return None };
    if segs.len() == 1 {
        return root.remove(k.as_str());
    }
    remove_in(root.get_mut(k.as_str())?, &segs[1..])
}

fn remove_in(cur: &mut Dynamic, segs: &[Seg]) -> Option<Dynamic> {
    let last = segs.len() == 1;
    match &segs[0] {
        Seg::Key(k) => {
            let mut m = cur.write_lock::<Map>()?;
            if last {
                return m.remove(k.as_str());
            }
            remove_in(m.get_mut(k.as_str())?, &segs[1..])
        }
        Seg::Index(i) => {
            let mut a = cur.write_lock::<Array>()?;
            let idx = path::index(*i, a.len()).filter(|&n| n < a.len())?;
            if last {
                return Some(a.remove(idx));
            }
            remove_in(&mut a[idx], &segs[1..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Dictionary {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>B</key><integer>18446744073709551615</integer>
<key>A</key><dict><key>x</key><real>1</real><key>d</key><date>2026-02-09T10:00:00Z</date></dict>
<key>C</key><data>AAEC</data>
</dict></plist>"#;
        super::super::parse(xml.as_bytes(), "t").unwrap().root
    }

    #[test]
    fn round_trip_keeps_types_order_and_big_integers() {
        let d = sample();
        let m = dict_to_map(&d);
        assert!(m["B"].is::<PlistBigInt>());
        assert!(m["A"].read_lock::<Map>().unwrap()["x"].is_float());
        assert!(m["C"].is_blob());
        let date = m["A"].read_lock::<Map>().unwrap()["d"].clone().try_cast::<PlistDate>().unwrap();
        assert_eq!(date.iso(), "2026-02-09T10:00:00Z");
        let back = map_to_dict(&m, Some(&d), "").unwrap();
        assert_eq!(back, d);
        assert_eq!(back.keys().collect::<Vec<_>>(), ["B", "A", "C"]);
    }

    #[test]
    fn new_keys_sort_in_when_the_dict_was_sorted() {
        let mut d = Dictionary::new();
        d.insert("Alpha".into(), Value::Boolean(true));
        d.insert("Gamma".into(), Value::Boolean(true));
        let mut m = dict_to_map(&d);
        m.insert("Beta".into(), Dynamic::from_int(1));
        let back = map_to_dict(&m, Some(&d), "").unwrap();
        assert_eq!(back.keys().collect::<Vec<_>>(), ["Alpha", "Beta", "Gamma"]);
        let mut u = Dictionary::new();
        u.insert("Z".into(), Value::Boolean(true));
        u.insert("A".into(), Value::Boolean(true));
        let mut m = dict_to_map(&u);
        m.insert("M".into(), Dynamic::from_int(1));
        let back = map_to_dict(&m, Some(&u), "").unwrap();
        assert_eq!(back.keys().collect::<Vec<_>>(), ["Z", "A", "M"]);
    }

    #[test]
    fn unit_and_functions_are_refused() {
        let mut m = Map::new();
        m.insert("k".into(), Dynamic::UNIT);
        let e = map_to_dict(&m, None, "").unwrap_err().to_string();
        assert!(e.contains("`k`") && e.contains("plist::remove"), "{e}");
    }

    #[test]
    fn paths_on_maps() {
        let mut m = dict_to_map(&sample());
        let segs = path::parse("A.list[0]").unwrap();
        set(&mut m, &segs, Dynamic::from("v".to_string()), "A.list[0]").unwrap();
        assert_eq!(get(&m, &segs).unwrap().into_string().unwrap(), "v");
        assert!(set(&mut m, &path::parse("B.x").unwrap(), Dynamic::UNIT, "B.x").is_err());
        assert_eq!(remove(&mut m, &segs).unwrap().into_string().unwrap(), "v");
        assert!(get(&m, &segs).is_none());
    }
}
