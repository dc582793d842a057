//! Property lists: read XML and binary plists, address values by key path
//! (`QEMU.AdditionalArguments`, `Drive[0].ImageName`, `Registry["a.b"].Name`), diff two trees,
//! and edit a file atomically through the guard, keeping its format (XML stays XML, binary stays
//! binary), its key order, and the previous version for `helix undo`.
//!
//! The tree is the `plist` crate's [`plist::Value`]; its dictionaries keep insertion order, so a
//! file read and written back keeps the order of its keys. Removing a key never reorders the rest.
//! The Rhai mapping (maps, arrays, blobs, dates) lives in [`script`].

pub(crate) mod path;
pub mod script;

use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};
use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};

pub(crate) use path::Seg;

/// How a plist file is encoded on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Binary,
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Binary => "binary",
        }
    }
    pub(crate) fn parse(s: &str) -> Result<Format> {
        match s {
            "xml" => Ok(Format::Xml),
            "binary" => Ok(Format::Binary),
            other => Err(Error::invalid("plist format", other, "expected \"xml\" or \"binary\"")),
        }
    }
}

/// A parsed plist whose root is a dictionary, with the format it was read in.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub root: Dictionary,
    pub format: Format,
}

/// The kind of a value, as people say it (for errors and diffs).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        Value::Boolean(_) => "boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "date",
        Value::Real(_) => "real",
        Value::Integer(_) => "integer",
        Value::String(_) => "string",
        Value::Uid(_) => "uid",
        _ => "unknown value",
    }
}

/// How deep arrays and dictionaries may nest in a plist helix reads or writes. Real plists
/// nest a few levels (a UTM config.plist: 4); the limit keeps a hostile or broken file from
/// exhausting the stack of the code that walks the tree.
pub(crate) const MAX_DEPTH: usize = 256;

/// The mode of a plist helix creates: readable by all, like the files macOS tools write.
pub(crate) const NEW_FILE_MODE: u32 = 0o644;

/// The error for a tree nested deeper than [`MAX_DEPTH`].
pub(crate) fn too_deep(origin: &str) -> Error {
    Error::invalid(
        "property list",
        origin,
        format!(
            "its arrays and dictionaries nest more than {MAX_DEPTH} levels deep, which no real plist does; it is damaged or hostile — nothing was changed"
        ),
    )
}

/// Drop a tree without recursing (a 20,000-deep tree would overflow the stack of the
/// compiler-generated recursive drop).
fn drop_flat(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a),
            Value::Dictionary(d) => stack.extend(d.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Parse bytes (XML or binary, detected from the content). `origin` names them in errors.
pub fn parse(bytes: &[u8], origin: &str) -> Result<Doc> {
    let format = if bytes.starts_with(b"bplist") { Format::Binary } else { Format::Xml };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::invalid("property list", origin, "it is empty"));
    }
    let value = Value::from_reader(std::io::Cursor::new(bytes)).map_err(|e| {
        Error::invalid(
            "property list",
            origin,
            format!(
                "it is not a valid {} plist ({}); it may be truncated or damaged — nothing was \
                 changed; restore it from a backup",
                format.name(),
                plain_error(&e)
            ),
        )
    })?;
    // The parser builds the tree without recursion; everything after it (diffs, Rhai maps,
    // writing) walks it recursively, so a tree deeper than any real plist stops here.
    if value_depth(&value) > MAX_DEPTH {
        drop_flat(value);
        return Err(too_deep(origin));
    }
    match value {
        Value::Dictionary(root) => Ok(Doc { root, format }),
        other => Err(Error::invalid(
            "property list",
            origin,
            format!(
                "its root is {} {}, not a dictionary; helix reads and edits dictionary plists only",
                article(kind(&other)),
                kind(&other)
            ),
        )),
    }
}

/// The plist crate's error in plain words: its `Display` is a Rust debug name
/// (`InvalidDataString (offset 312)`, `Io(Error { kind: UnexpectedEof, … })`), and its I/O
/// errors are the standard library's (`invalid seek to a negative or overflowing position`).
/// Bytes are parsed from memory, so an I/O error is the parser reading past the end of them
/// (an offset in a binary plist's trailer or object table beyond a cut-short file).
pub(crate) fn plain_error(e: &plist::Error) -> String {
    if let Some(io) = e.as_io() {
        return match io.kind() {
            std::io::ErrorKind::UnexpectedEof => "the file ends too early",
            std::io::ErrorKind::InvalidInput => "an offset in it points outside the file",
            _ => "its bytes cannot be read as a plist",
        }
        .into();
    }
    let text = e.to_string();
    let name: String = text.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let at = text
        .split_once("(offset ")
        .and_then(|(_, r)| r.split(')').next())
        .map(|n| format!(" at byte {n}"))
        .unwrap_or_default();
    let what = match name.as_str() {
        "UnexpectedEof" | "UnexpectedEndOfEventStream" => "the file ends too early",
        "UnexpectedEventType" | "ExpectedEndOfEventStream" => {
            "a value stands where another kind is expected"
        }
        "UnclosedString" => "a string is not closed",
        "IncompleteComment" => "a comment is not closed",
        "InvalidUtf8AsciiStream"
        | "InvalidXmlUtf8"
        | "InvalidUtf8String"
        | "InvalidUtf16String" => "text that is not valid UTF-8/UTF-16",
        "InvalidOctalString" => "a bad octal escape",
        "UnclosedXmlElement" => "an XML element is not closed",
        "UnexpectedXmlCharactersExpectedElement" => "text stands where an element is expected",
        "UnexpectedXmlOpeningTag" => "an element stands where it is not allowed",
        "UnknownXmlElement" => "an element plists do not have",
        "InvalidXmlSyntax" => "the XML is malformed",
        "InvalidDataString" => "a <data> element is not valid base64",
        "InvalidDateString" => "a <date> element is not an ISO 8601 date",
        "InvalidIntegerString" => "an <integer> element is not a whole number",
        "InvalidRealString" => "a <real> element is not a number",
        "UidNotSupportedInXmlPlist" => "a uid, which XML plists cannot hold",
        "ObjectTooLarge" => "an object larger than the file",
        "InvalidMagic" => "it does not start with a plist header",
        "InvalidTrailerObjectOffsetSize" | "InvalidTrailerObjectReferenceSize" => {
            "its trailer is damaged"
        }
        "InvalidObjectLength" => "an object has a bad length",
        "ObjectReferenceTooLarge" | "ObjectOffsetTooLarge" => {
            "an object reference points outside the file"
        }
        "RecursiveObject" => "an object contains itself",
        "NullObjectUnimplemented" | "FillObjectUnimplemented" | "UnknownObjectType" => {
            "an object type plists do not use"
        }
        "IntegerOutOfRange" => "an integer too large",
        "OverflowOrNanDate" => "a date out of range",
        _ => "it cannot be parsed",
    };
    format!("{what}{at}")
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// Read a plist file.
pub(crate) fn read(path: &Path) -> Result<Doc> {
    let bytes = crate::fs::read_bytes(path)?;
    parse(&bytes, &path.display().to_string())
}

/// Encode a dictionary. XML is written the way Apple's tools write it (tab indent, DOCTYPE).
pub fn to_bytes(root: &Dictionary, format: Format) -> Result<Vec<u8>> {
    if depth(root) > MAX_DEPTH {
        return Err(too_deep("(to be written)"));
    }
    let mut buf = Vec::new();
    let mut value = Value::Dictionary(root.clone());
    if format == Format::Xml {
        // XML has no uid element: Apple spells a uid as a dictionary `{CF$UID: n}`.
        uids_as_dicts(&mut value);
    }
    let r = match format {
        Format::Xml => value.to_writer_xml(&mut buf),
        Format::Binary => value.to_writer_binary(&mut buf),
    };
    r.map_err(|e| Error::Encode {
        what: format!("the plist as {}", format.name()),
        message: plain_error(&e),
    })?;
    if format == Format::Xml && !buf.ends_with(b"\n") {
        buf.push(b'\n');
    }
    Ok(buf)
}

/// How deep containers nest in a tree (the root dictionary is 1), counted without recursion.
pub(crate) fn depth(root: &Dictionary) -> usize {
    let mut max = 1;
    let stack: Vec<(&Value, usize)> = root.values().map(|v| (v, 2)).collect();
    deepest(stack, &mut max);
    max
}

/// [`depth`] of any value (a scalar is 0).
pub(crate) fn value_depth(v: &Value) -> usize {
    let mut max = 0;
    deepest(vec![(v, 1)], &mut max);
    max
}

fn deepest(mut stack: Vec<(&Value, usize)>, max: &mut usize) {
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a) => {
                *max = (*max).max(d);
                stack.extend(a.iter().map(|x| (x, d + 1)));
            }
            Value::Dictionary(m) => {
                *max = (*max).max(d);
                stack.extend(m.values().map(|x| (x, d + 1)));
            }
            _ => {}
        }
    }
}

/// The file an edit of `path` writes: `path` made absolute (so the journal and `helix undo`
/// name it from any directory), and a symbolic link followed to its target, so the link stays
/// a link and the file it points at is edited.
pub(crate) fn edit_target(path: &Path) -> PathBuf {
    let abs = crate::paths::absolute(path);
    match std::fs::symlink_metadata(&abs) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(&abs).unwrap_or(abs),
        _ => abs,
    }
}

fn uids_as_dicts(v: &mut Value) {
    match v {
        Value::Uid(u) => {
            let mut d = Dictionary::new();
            d.insert("CF$UID".into(), Value::Integer(u.get().into()));
            *v = Value::Dictionary(d);
        }
        Value::Array(a) => a.iter_mut().for_each(uids_as_dicts),
        Value::Dictionary(d) => d.values_mut().for_each(uids_as_dicts),
        _ => {}
    }
}

/// A value at a key path, if present.
pub(crate) fn get<'a>(root: &'a Dictionary, key_path: &str) -> Result<Option<&'a Value>> {
    let segs = path::parse(key_path)?;
    Ok(path::get(root, &segs))
}

/// Set the value at a key path; missing dictionaries on the way are created, `[n]` with n equal
/// to the array's length appends.
pub fn set(root: &mut Dictionary, key_path: &str, value: Value) -> Result<()> {
    let segs = path::parse(key_path)?;
    path::set(root, &segs, value, key_path)
}

/// Remove the value at a key path; returns it (or `None` when it was not there).
pub fn remove(root: &mut Dictionary, key_path: &str) -> Result<Option<Value>> {
    let segs = path::parse(key_path)?;
    path::remove(root, &segs, key_path)
}

/// One difference between two trees.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.old, &self.new) {
            (None, Some(n)) => write!(f, "+ {} = {n}", self.path),
            (Some(o), None) => write!(f, "- {} (was {o})", self.path),
            (Some(o), Some(n)) => write!(f, "~ {}: {o} → {n}", self.path),
            (None, None) => write!(f, "  {}", self.path),
        }
    }
}

/// A short rendering of a value for diffs.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => format!("{r:?}"),
        Value::Boolean(b) => b.to_string(),
        Value::Date(d) => format!("date {}", d.to_xml_format()),
        Value::Data(d) => format!("<{} bytes of data>", d.len()),
        Value::Uid(u) => format!("uid {}", u.get()),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Array(a) => format!("[{} items]", a.len()),
        Value::Dictionary(d) if d.is_empty() => "{}".into(),
        Value::Dictionary(d) => format!("{{{} keys}}", d.len()),
        _ => "?".into(),
    }
}

/// The changed keys between two trees, deepest paths first where both sides are containers.
pub(crate) fn diff(old: &Dictionary, new: &Dictionary) -> Vec<Change> {
    let mut out = Vec::new();
    diff_dict(old, new, "", &mut out);
    out
}

fn diff_dict(old: &Dictionary, new: &Dictionary, prefix: &str, out: &mut Vec<Change>) {
    for (k, ov) in old.iter() {
        let p = path::join_key(prefix, k);
        match new.get(k) {
            Some(nv) => diff_value(ov, nv, &p, out),
            None => out.push(Change { path: p, old: Some(show(ov)), new: None }),
        }
    }
    for (k, nv) in new.iter() {
        if !old.contains_key(k) {
            out.push(Change { path: path::join_key(prefix, k), old: None, new: Some(show(nv)) });
        }
    }
}

fn diff_value(ov: &Value, nv: &Value, p: &str, out: &mut Vec<Change>) {
    match (ov, nv) {
        (Value::Dictionary(a), Value::Dictionary(b)) => diff_dict(a, b, p, out),
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let ip = format!("{p}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => diff_value(x, y, &ip, out),
                    (Some(x), None) => out.push(Change { path: ip, old: Some(show(x)), new: None }),
                    (None, Some(y)) => out.push(Change { path: ip, old: None, new: Some(show(y)) }),
                    (None, None) => {}
                }
            }
        }
        (a, b) if a != b => {
            out.push(Change { path: p.to_string(), old: Some(show(a)), new: Some(show(b)) })
        }
        _ => {}
    }
}

/// Read `path`, let `f` change the tree, and write it back if anything changed: atomically,
/// in the same format, with the previous version kept for `helix undo`. Under `--dry-run` the
/// changed keys are printed and the file is left alone. Returns the changes.
pub fn edit(path: &Path, f: impl FnOnce(&mut Dictionary) -> Result<()>) -> Result<Vec<Change>> {
    let path = &edit_target(path);
    let doc = read(path)?;
    let mut root = doc.root.clone();
    f(&mut root)?;
    write_changes(path, &doc, &root)
}

/// Write `new` over the file that `old` was read from, if it differs (see [`edit`]).
pub(crate) fn write_changes(path: &Path, old: &Doc, new: &Dictionary) -> Result<Vec<Change>> {
    let path = &edit_target(path);
    let changes = diff(&old.root, new);
    if changes.is_empty() {
        crate::ui::info(&format!("`{}` is already as wanted; left unchanged", path.display()));
        return Ok(changes);
    }
    let bytes = to_bytes(new, old.format)?;
    let ctx = crate::run::current();
    let summary: Vec<String> = changes.iter().take(4).map(|c| c.path.clone()).collect();
    let more =
        if changes.len() > 4 { format!(", … {} more", changes.len() - 4) } else { String::new() };
    let mut action = Action::new(
        "plist.edit",
        format!(
            "edit `{}` ({} changed: {}{more}; previous version kept)",
            path.display(),
            crate::count::count(changes.len() as u64, "key"),
            summary.join(", ")
        ),
    )
    .args(json!({
        "path": path,
        "format": old.format.name(),
        "changes": changes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    }));
    if guard::protect::rule_for(path, &ctx.config).is_some() {
        action = action.destroys(Target::Path { path: path.to_path_buf(), recursive: false });
    }
    let backup: Option<PathBuf> =
        if ctx.dry_run { None } else { Some(crate::trash::keep_previous(path)?) };
    if let Some(b) = &backup {
        action = action.undo(crate::undo::Undo::restore(b, path));
    }
    guard::act(action, || crate::fs::atomic_write_raw(path, &bytes, None))?;
    if ctx.dry_run {
        for c in &changes {
            crate::ui::plan_detail(&c.to_string());
        }
    }
    Ok(changes)
}

/// Write a whole dictionary to `path`. Over an existing plist its format and key order are
/// kept (unless `format` says otherwise) and the previous version is kept for undo; a new file
/// is XML unless `format` says binary.
pub(crate) fn write(path: &Path, root: &Dictionary, format: Option<Format>) -> Result<Vec<Change>> {
    let path = &edit_target(path);
    if crate::fs::exists(path) {
        let old = read(path)?;
        let wanted = format.unwrap_or(old.format);
        if wanted == old.format {
            return write_changes(path, &old, root);
        }
        // A change of format is a change even when the tree is equal.
        let bytes = to_bytes(root, wanted)?;
        crate::fs::write(path, &bytes, None)?;
        return Ok(vec![Change {
            path: "(format)".into(),
            old: Some(old.format.name().into()),
            new: Some(wanted.name().into()),
        }]);
    }
    let bytes = to_bytes(root, format.unwrap_or(Format::Xml))?;
    crate::fs::write(path, &bytes, Some(NEW_FILE_MODE))?;
    Ok(vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Zeta</key>
	<string>last-but-first</string>
	<key>QEMU</key>
	<dict>
		<key>AdditionalArguments</key>
		<array>
			<string>-global</string>
		</array>
		<key>DebugLog</key>
		<false/>
	</dict>
	<key>Drive</key>
	<array>
		<dict>
			<key>ImageName</key>
			<string>A.qcow2</string>
		</dict>
	</array>
	<key>Real</key>
	<real>1</real>
	<key>Int</key>
	<integer>1</integer>
</dict>
</plist>
"#;

    #[test]
    fn parses_and_keeps_key_order_and_types() {
        let doc = parse(XML.as_bytes(), "t").unwrap();
        assert_eq!(doc.format, Format::Xml);
        let keys: Vec<&String> = doc.root.keys().collect();
        assert_eq!(keys, ["Zeta", "QEMU", "Drive", "Real", "Int"]);
        assert!(matches!(doc.root.get("Real"), Some(Value::Real(_))));
        assert!(matches!(doc.root.get("Int"), Some(Value::Integer(_))));
        assert_eq!(
            get(&doc.root, "Drive[0].ImageName").unwrap().and_then(|v| v.as_string()),
            Some("A.qcow2")
        );
        let back = to_bytes(&doc.root, Format::Xml).unwrap();
        assert_eq!(String::from_utf8(back).unwrap(), XML);
    }

    #[test]
    fn binary_round_trip_is_binary() {
        let doc = parse(XML.as_bytes(), "t").unwrap();
        let bin = to_bytes(&doc.root, Format::Binary).unwrap();
        assert!(bin.starts_with(b"bplist00"));
        let again = parse(&bin, "t").unwrap();
        assert_eq!(again.format, Format::Binary);
        assert_eq!(again.root, doc.root);
    }

    #[test]
    fn uids_are_binary_uids_and_xml_cf_uid_dicts() {
        let mut root = Dictionary::new();
        root.insert("u".into(), Value::Uid(plist::Uid::new(7)));
        let bin = to_bytes(&root, Format::Binary).unwrap();
        assert_eq!(parse(&bin, "b").unwrap().root, root);
        let xml = String::from_utf8(to_bytes(&root, Format::Xml).unwrap()).unwrap();
        assert!(xml.contains("<key>CF$UID</key>\n\t\t<integer>7</integer>"), "{xml}");
    }

    #[test]
    fn set_remove_and_diff() {
        let doc = parse(XML.as_bytes(), "t").unwrap();
        let mut root = doc.root.clone();
        set(&mut root, "QEMU.DebugLog", Value::Boolean(true)).unwrap();
        set(&mut root, "QEMU.AdditionalArguments[1]", Value::String("x=1".into())).unwrap();
        set(&mut root, "New.Deep.Key", Value::Integer(3.into())).unwrap();
        assert_eq!(
            remove(&mut root, "Zeta").unwrap(),
            Some(Value::String("last-but-first".into()))
        );
        let keys: Vec<&String> = root.keys().collect();
        assert_eq!(keys, ["QEMU", "Drive", "Real", "Int", "New"], "removal keeps the order");
        let d: Vec<String> = diff(&doc.root, &root).iter().map(|c| c.to_string()).collect();
        assert_eq!(
            d,
            [
                "- Zeta (was \"last-but-first\")",
                "+ QEMU.AdditionalArguments[1] = \"x=1\"",
                "~ QEMU.DebugLog: false → true",
                "+ New = {1 keys}",
            ]
        );
        assert!(set(&mut root, "Drive[5].X", Value::Boolean(true)).is_err());
        assert!(set(&mut root, "Int.X", Value::Boolean(true)).is_err());
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let e = parse(&XML.as_bytes()[..200], "cut.plist").unwrap_err().to_string();
        assert!(e.contains("cut.plist") && e.contains("not a valid xml plist"), "{e}");
        let arr = "<?xml version=\"1.0\"?><plist version=\"1.0\"><array><string>a</string></array></plist>";
        let e = parse(arr.as_bytes(), "arr.plist").unwrap_err().to_string();
        assert!(e.contains("root is an array, not a dictionary"), "{e}");
        let bin = to_bytes(&parse(XML.as_bytes(), "t").unwrap().root, Format::Binary).unwrap();
        let e = parse(&bin[..bin.len() - 10], "b.plist").unwrap_err().to_string();
        assert!(e.contains("not a valid binary plist"), "{e}");
        assert!(parse(b"", "e").unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn a_cut_binary_plist_is_described_in_helix_words_whatever_the_cut() {
        let bin = to_bytes(&parse(XML.as_bytes(), "t").unwrap().root, Format::Binary).unwrap();
        let mut seen_offset = false;
        for len in 8..bin.len() {
            let e = parse(&bin[..len], "b.plist").unwrap_err().to_string();
            assert!(
                e.starts_with("invalid property list `b.plist`: it is not a valid binary plist ("),
                "{e}"
            );
            assert!(e.ends_with("restore it from a backup"), "{e}");
            for rust in ["read failed", "seek", "overflowing", "Error {", "kind:"] {
                assert!(!e.contains(rust), "cut at {len}: {e}");
            }
            seen_offset |= e.contains("an offset in it points outside the file");
        }
        assert!(seen_offset, "no cut reached the offset check");
    }

    #[test]
    fn edit_writes_only_changes_and_keeps_format() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.plist");
        let bin = to_bytes(&parse(XML.as_bytes(), "t").unwrap().root, Format::Binary).unwrap();
        std::fs::write(&p, &bin).unwrap();
        let changes = edit(&p, |r| set(r, "QEMU.DebugLog", Value::Boolean(true))).unwrap();
        assert_eq!(changes.len(), 1);
        let after = std::fs::read(&p).unwrap();
        assert!(after.starts_with(b"bplist00"));
        let t1 = std::fs::metadata(&p).unwrap().modified().unwrap();
        let again = edit(&p, |r| set(r, "QEMU.DebugLog", Value::Boolean(true))).unwrap();
        assert!(again.is_empty());
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), t1);
        // A failing edit leaves the file alone.
        assert!(edit(&p, |r| set(r, "Int.X", Value::Boolean(true))).is_err());
        assert_eq!(std::fs::read(&p).unwrap(), after);
    }
}
