//! `QEMU.AdditionalArguments` as UTM reads it, and idempotent edits that keep the user's rows.
//!
//! UTM's QEMU settings page stores each row the user types as one string
//! (`"-global virtio-gpu-gl-pci.xres=3840"`), and when it builds QEMU's argv it splits every row
//! on whitespace, keeping `"quoted parts"` together and dropping a quote pair that wraps a
//! whole token (UTM `Configuration/UTMQemuConfiguration+Arguments.swift`,
//! `parsedUserArguments`). helix wrote one token per row (`"-global"`, `"…xres=5120"`); both
//! forms, and a mix, give the same argv — so helix compares argv **groups** (an option and the
//! values after it), never raw rows:
//!
//! - a group already present, in any row form, is not added again;
//! - `-global DRIVER.PROP=VALUE` is one key, `DRIVER.PROP`: a new value replaces the old one
//!   in place, in the row it is in (later duplicates, which QEMU would apply last, are removed);
//! - new groups are written one row each, as UTM's GUI writes them.
//!
//! A token that UTM's split would not give back unchanged (one with a `"` in it) is refused.

use crate::error::{Error, Result};

/// Split one row as UTM does: runs of non-space characters, where a `"…"` part may hold
/// spaces; a token wholly wrapped in quotes loses them. An unmatched `"` is dropped.
pub(crate) fn split_row(row: &str) -> Vec<String> {
    let chars: Vec<char> = row.chars().collect();
    let plain = |c: char| c != '"' && !c.is_whitespace();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        // First alternative: one or more of  plain* "any-but-quote*" plain*
        let mut end = None;
        let mut j = i;
        loop {
            let mut k = j;
            while k < chars.len() && plain(chars[k]) {
                k += 1;
            }
            if k >= chars.len() || chars[k] != '"' {
                break;
            }
            let Some(close) = chars[k + 1..].iter().position(|&c| c == '"') else { break };
            k += close + 2;
            while k < chars.len() && plain(chars[k]) {
                k += 1;
            }
            j = k;
            end = Some(k);
        }
        // Second alternative: plain+
        if end.is_none() {
            let mut k = i;
            while k < chars.len() && plain(chars[k]) {
                k += 1;
            }
            if k > i {
                end = Some(k);
            }
        }
        match end {
            Some(e) => {
                let mut tok: &[char] = &chars[i..e];
                if tok.len() >= 2 && tok[0] == '"' && tok[tok.len() - 1] == '"' {
                    tok = &tok[1..tok.len() - 1];
                }
                out.push(tok.iter().collect());
                i = e;
            }
            None => i += 1,
        }
    }
    out
}

/// The argv UTM passes to QEMU for these rows.
pub(crate) fn argv(rows: &[String]) -> Vec<String> {
    rows.iter().flat_map(|r| split_row(r)).collect()
}

/// How a token is written in a row so that [`split_row`] gives it back.
fn quote(tok: &str) -> String {
    if tok.is_empty() || tok.chars().any(char::is_whitespace) {
        format!("\"{tok}\"")
    } else {
        tok.to_string()
    }
}

/// One row holding `group`, in UTM's GUI form.
pub(crate) fn row_of(group: &[String]) -> String {
    group.iter().map(|t| quote(t)).collect::<Vec<_>>().join(" ")
}

/// Refuse tokens UTM's split would change (a `"` anywhere, or an empty token).
pub(crate) fn check_tokens(tokens: &[String]) -> Result<()> {
    for t in tokens {
        if t.contains('"') || t.is_empty() {
            return Err(Error::invalid(
                "QEMU argument",
                t,
                "UTM splits its argument rows on spaces and treats `\"` as quoting, so this token would not reach QEMU as written — drop the quotes (a value with spaces is quoted for you) or put the value in a file",
            ));
        }
    }
    Ok(())
}

/// The option a group starts with, spelled QEMU's canonical way (`--global` is `-global`).
fn option(tok: &str) -> Option<&str> {
    if tok.starts_with("--") && tok.len() > 2 {
        Some(&tok[1..])
    } else if tok.starts_with('-') && tok.len() > 1 {
        Some(tok)
    } else {
        None
    }
}

/// A group's tokens for comparison: the option in its canonical spelling.
fn normal(group: &[String]) -> Vec<String> {
    group
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 0 { option(t).unwrap_or(t).to_string() } else { t.clone() })
        .collect()
}

/// Split an argv into option groups: an option (`-x`) with the values that follow it.
pub(crate) fn groups(args: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for a in args {
        if option(a).is_some() || out.is_empty() {
            out.push(vec![a.clone()]);
        } else {
            out.last_mut().expect("not empty").push(a.clone());
        }
    }
    out
}

/// The `DRIVER.PROP` a `-global` group sets: `DRIVER.PROP=VALUE`, or QEMU's long form
/// `driver=DRIVER,property=PROP,value=VALUE`.
pub(crate) fn global_key(group: &[String]) -> Option<String> {
    if group.len() != 2 || option(&group[0]) != Some("-global") {
        return None;
    }
    let v = &group[1];
    if v.starts_with("driver=") {
        let field =
            |name: &str| v.split(',').find_map(|kv| kv.strip_prefix(name).map(str::to_string));
        return Some(format!("{}.{}", field("driver=")?, field("property=")?));
    }
    v.split_once('=').map(|(k, _)| k.to_string())
}

/// A token of the stored rows: where it is, and what it is.
#[derive(Debug, Clone)]
struct Tok {
    row: usize,
    text: String,
}

/// The rows with their tokens, edited token by token; rows nobody touched keep their text.
struct Rows {
    rows: Vec<String>,
    toks: Vec<Tok>,
    /// Per token: `None` removed, `Some(new)` replaced.
    edits: Vec<Option<Option<String>>>,
}

impl Rows {
    fn new(rows: &[String]) -> Self {
        let toks: Vec<Tok> = rows
            .iter()
            .enumerate()
            .flat_map(|(row, r)| split_row(r).into_iter().map(move |text| Tok { row, text }))
            .collect();
        let n = toks.len();
        Rows { rows: rows.to_vec(), toks, edits: vec![None; n] }
    }

    /// Current groups: each with the indices of its tokens.
    fn groups(&self) -> Vec<(Vec<usize>, Vec<String>)> {
        let mut out: Vec<(Vec<usize>, Vec<String>)> = Vec::new();
        for (i, t) in self.toks.iter().enumerate() {
            let text = match &self.edits[i] {
                None => t.text.clone(),
                Some(None) => continue,
                Some(Some(new)) => new.clone(),
            };
            if option(&text).is_some() || out.is_empty() {
                out.push((vec![i], vec![text]));
            } else {
                let last = out.last_mut().expect("not empty");
                last.0.push(i);
                last.1.push(text);
            }
        }
        out
    }

    fn finish(self) -> Vec<String> {
        let mut out = Vec::new();
        for (r, text) in self.rows.iter().enumerate() {
            let idx: Vec<usize> = (0..self.toks.len()).filter(|&i| self.toks[i].row == r).collect();
            if idx.iter().all(|&i| self.edits[i].is_none()) {
                out.push(text.clone());
                continue;
            }
            let kept: Vec<String> = idx
                .iter()
                .filter_map(|&i| match &self.edits[i] {
                    None => Some(self.toks[i].text.clone()),
                    Some(None) => None,
                    Some(Some(n)) => Some(n.clone()),
                })
                .collect();
            if !kept.is_empty() {
                out.push(kept.iter().map(|t| quote(t)).collect::<Vec<_>>().join(" "));
            }
        }
        out
    }
}

/// Add `add` (an argv, see [`given`]) to the stored `rows`: groups already there (in any row form) are left
/// alone, a `-global D.P=V` replaces `D.P`'s value where it stands (and drops later
/// duplicates), anything else is appended as one GUI-form row per group.
pub(crate) fn add(rows: &[String], add: &[String]) -> Result<Vec<String>> {
    check_tokens(add)?;
    let add_argv = given(add);
    let mut r = Rows::new(rows);
    for g in groups(&add_argv) {
        let have = r.groups();
        if have.iter().any(|(_, h)| normal(h) == normal(&g)) {
            continue;
        }
        if let Some(key) = global_key(&g) {
            let same: Vec<&(Vec<usize>, Vec<String>)> =
                have.iter().filter(|(_, h)| global_key(h).as_deref() == Some(&key)).collect();
            if let Some((first, _)) = same.first() {
                r.edits[first[1]] = Some(Some(g[1].clone()));
                for (idx, _) in &same[1..] {
                    for &i in idx {
                        r.edits[i] = Some(None);
                    }
                }
                continue;
            }
        }
        // An appended group is a row of its own, visible to the next comparison.
        let row = r.rows.len();
        r.rows.push(row_of(&g));
        for t in &g {
            r.toks.push(Tok { row, text: t.clone() });
            r.edits.push(None);
        }
    }
    Ok(r.finish())
}

/// The argv a caller gave: each element is one token, except an element that starts with `-`
/// and holds whitespace, which is a whole row as UTM's GUI stores it (`"-usbdevice keyboard"`)
/// and is split the way UTM splits it. (No QEMU option contains whitespace.)
pub(crate) fn given(add: &[String]) -> Vec<String> {
    add.iter()
        .flat_map(|a| {
            if a.starts_with('-') && a.chars().any(char::is_whitespace) {
                split_row(a)
            } else {
                vec![a.clone()]
            }
        })
        .collect()
}

/// Remove every group equal to one in `remove` (an argv), whatever row form it is stored in.
pub(crate) fn remove(rows: &[String], remove: &[String]) -> Vec<String> {
    let gone: Vec<Vec<String>> = groups(&given(remove)).iter().map(|g| normal(g)).collect();
    let mut r = Rows::new(rows);
    for (idx, g) in r.groups() {
        if gone.contains(&normal(&g)) {
            for i in idx {
                r.edits[i] = Some(None);
            }
        }
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_split_like_utm() {
        assert_eq!(
            split_row("-global virtio-gpu-gl-pci.xres=3840"),
            v(&["-global", "virtio-gpu-gl-pci.xres=3840"])
        );
        assert_eq!(split_row("  -usbdevice\tkeyboard  "), v(&["-usbdevice", "keyboard"]));
        assert_eq!(
            split_row("-append \"console=ttyAMA0 quiet\""),
            v(&["-append", "console=ttyAMA0 quiet"])
        );
        // Quotes inside a token are kept; only a pair wrapping the whole token goes.
        assert_eq!(split_row("file=\"/a b\",if=none"), v(&["file=\"/a b\",if=none"]));
        // An unmatched quote is dropped.
        assert_eq!(split_row("abc\"def"), v(&["abc", "def"]));
        assert_eq!(split_row(""), Vec::<String>::new());
        assert_eq!(split_row("\"\""), v(&[""]));
    }

    const PINS: [&str; 10] = [
        "-global",
        "virtio-gpu-gl-pci.edid=on",
        "-global",
        "virtio-gpu-gl-pci.xres=5120",
        "-global",
        "virtio-gpu-gl-pci.yres=2880",
        "-global",
        "virtio-gpu-gl-pci.max_outputs=16",
        "-serial",
        "file:/tmp/qemu-serial.log",
    ];

    #[test]
    fn gui_rows_are_recognised_and_replaced_in_place() {
        let gui = v(&[
            "-global virtio-gpu-gl-pci.edid=on",
            "-global virtio-gpu-gl-pci.xres=3840",
            "-usbdevice keyboard",
        ]);
        let once = add(&gui, &v(&PINS)).unwrap();
        assert_eq!(
            once,
            v(&[
                "-global virtio-gpu-gl-pci.edid=on",
                "-global virtio-gpu-gl-pci.xres=5120",
                "-usbdevice keyboard",
                "-global virtio-gpu-gl-pci.yres=2880",
                "-global virtio-gpu-gl-pci.max_outputs=16",
                "-serial file:/tmp/qemu-serial.log",
            ])
        );
        assert_eq!(add(&once, &v(&PINS)).unwrap(), once, "a second run changes nothing");
        // No second keyboard, whichever way it is asked for.
        assert_eq!(add(&once, &v(&["-usbdevice", "keyboard"])).unwrap(), once);
        assert_eq!(add(&once, &v(&["-usbdevice keyboard"])).unwrap(), once);
        assert_eq!(add(&once, &v(&["--usbdevice", "keyboard"])).unwrap(), once);
        let a = argv(&once);
        assert_eq!(a.iter().filter(|t| t.contains(".edid=")).count(), 1);
        assert_eq!(a.iter().filter(|t| t.contains(".xres=")).count(), 1);
    }

    #[test]
    fn token_rows_and_mixed_rows_stay_in_their_form() {
        let tok = v(&[
            "-S",
            "-global",
            "virtio-gpu-gl-pci.xres=3840",
            "-device virtio-rng-pci -device virtio-balloon-pci",
        ]);
        let out = add(
            &tok,
            &v(&["-global", "virtio-gpu-gl-pci.xres=5120", "-device", "virtio-balloon-pci"]),
        )
        .unwrap();
        assert_eq!(
            out,
            v(&[
                "-S",
                "-global",
                "virtio-gpu-gl-pci.xres=5120",
                "-device virtio-rng-pci -device virtio-balloon-pci"
            ])
        );
        // Duplicated keys collapse to one (QEMU would take the last).
        let dup = v(&["-global a.b=1", "-S", "-global a.b=2"]);
        assert_eq!(add(&dup, &v(&["-global", "a.b=3"])).unwrap(), v(&["-global a.b=3", "-S"]));
        // QEMU's long form is the same key.
        let long = v(&["-global driver=a,property=b,value=1"]);
        assert_eq!(add(&long, &v(&["-global", "a.b=2"])).unwrap(), v(&["-global a.b=2"]));
        // Removing a group takes it out of whatever row holds it.
        assert_eq!(
            remove(&out, &v(&["-device", "virtio-rng-pci"])),
            v(&["-S", "-global", "virtio-gpu-gl-pci.xres=5120", "-device virtio-balloon-pci"])
        );
        assert_eq!(
            remove(&out, &v(&["-global", "virtio-gpu-gl-pci.xres=5120"])),
            v(&["-S", "-device virtio-rng-pci -device virtio-balloon-pci"])
        );
    }

    #[test]
    fn values_with_spaces_are_quoted_and_quotes_refused() {
        let out = add(&[], &v(&["-append", "console=ttyAMA0 quiet"])).unwrap();
        assert_eq!(out, v(&["-append \"console=ttyAMA0 quiet\""]));
        assert_eq!(argv(&out), v(&["-append", "console=ttyAMA0 quiet"]));
        assert_eq!(add(&out, &v(&["-append", "console=ttyAMA0 quiet"])).unwrap(), out);
        let e = add(&[], &v(&["-drive", "file=\"x\""])).unwrap_err().to_string();
        assert!(e.contains("UTM splits its argument rows"), "{e}");
        assert!(add(&[], &v(&["-name", ""])).is_err());
    }
}
