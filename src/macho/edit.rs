//! Editing load commands in place, the way `install_name_tool` does: the header grows into its
//! padding and nothing else moves, so every other byte stays where it was. Many edits are
//! applied in one pass over every slice, then each ad-hoc signature is recomputed.

use serde::Serialize;

use super::read::{self, Lc, R, Thin};
use super::sign;

/// One change to a binary's load commands (the flags of `install_name_tool`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Edit {
    /// `-change OLD NEW`: every dependency named `old` now names `new`.
    Change { old: String, new: String },
    /// `-id NAME`: the dylib's install name.
    Id { name: String },
    /// `-add_rpath PATH` (an error if it is already there).
    AddRpath { path: String },
    /// `-delete_rpath PATH` (an error if it is not there).
    DeleteRpath { path: String },
    /// `-rpath OLD NEW` (an error if OLD is absent or NEW already present).
    RenameRpath { old: String, new: String },
}

impl Edit {
    pub(crate) fn describe(&self) -> String {
        match self {
            Edit::Change { old, new } => format!("change `{old}` -> `{new}`"),
            Edit::Id { name } => format!("set id `{name}`"),
            Edit::AddRpath { path } => format!("add rpath `{path}`"),
            Edit::DeleteRpath { path } => format!("delete rpath `{path}`"),
            Edit::RenameRpath { old, new } => format!("rename rpath `{old}` -> `{new}`"),
        }
    }
}

/// What one pass did to one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EditReport {
    /// Every load command changed, as `arch: what` lines.
    pub changes: Vec<String>,
    /// Edits that matched nothing (a `-change` of a name the binary does not use, `-id` on
    /// something that is not a dylib): no-ops, reported.
    pub not_found: Vec<String>,
    /// Edits that asked for what the binary already has (`-id` of its current id, `-change X
    /// X`, `-rpath X X`): nothing to write, reported as `arch: already …`.
    pub already: Vec<String>,
    /// What happened to the signature: `none`, `adhoc re-signed`, `invalid: …`.
    pub signature: String,
    /// Whether the bytes changed at all.
    pub modified: bool,
    /// Page hashes recomputed.
    pub pages_hashed: usize,
    /// Slices signed with a certificate: their signature no longer matches.
    pub identity_signed: bool,
}

/// The edit cannot fit: the header padding is too small.
pub(crate) fn no_room(arch: &str, need: usize, have: usize) -> String {
    format!(
        "the {arch} load commands need {need} bytes but the header padding leaves room for {have} ({} bytes missing); relink the library with -headerpad_max_install_names",
        need - have
    )
}

fn dylib_cmd(old: &[u8], name: &str, align: usize) -> Vec<u8> {
    let size = (24 + name.len() + 1).next_multiple_of(align);
    let mut v = vec![0u8; size];
    v[..4].copy_from_slice(&old[..4]);
    read::put32le(&mut v, 4, size as u32);
    read::put32le(&mut v, 8, 24);
    v[12..24].copy_from_slice(&old[12..24]); // timestamp, current and compatibility versions
    v[24..24 + name.len()].copy_from_slice(name.as_bytes());
    v
}

fn rpath_cmd(path: &str, align: usize) -> Vec<u8> {
    let size = (12 + path.len() + 1).next_multiple_of(align);
    let mut v = vec![0u8; size];
    read::put32le(&mut v, 0, read::LC_RPATH);
    read::put32le(&mut v, 4, size as u32);
    read::put32le(&mut v, 8, 12);
    v[12..12 + path.len()].copy_from_slice(path.as_bytes());
    v
}

fn check_name(s: &str) -> R<()> {
    if s.is_empty() || s.contains('\0') {
        return Err(format!("`{s}` is not a usable path (empty or with a NUL byte)"));
    }
    Ok(())
}

/// Apply `edits` to one slice in place. Returns whether it changed. Errors leave `b` untouched.
fn edit_slice(b: &mut [u8], edits: &[Edit], report: &mut EditReport, used: &mut [bool]) -> R<bool> {
    let t = Thin::parse(b)?;
    let arch = t.arch();
    let align = t.cmd_align();
    let limit = t.content_start(b)?;
    let mut cmds: Vec<(Lc, Option<Vec<u8>>)> = t.cmds.iter().map(|&lc| (lc, None)).collect();
    let mut changes = vec![];
    // 1. Deletions (only the first matching LC_RPATH, like llvm-install-name-tool).
    for e in edits {
        if let Edit::DeleteRpath { path } = e {
            let pos = cmds.iter().position(|(lc, new)| {
                new.is_none()
                    && lc.cmd == read::LC_RPATH
                    && read::lc_string(b, *lc, 8).ok().as_deref() == Some(path)
            });
            match pos {
                Some(i) => {
                    cmds.remove(i);
                    changes.push(format!("{arch}: delete rpath `{path}`"));
                }
                None => return Err(format!("no LC_RPATH load command has the path `{path}`")),
            }
        }
    }
    let mut rpaths: Vec<String> = cmds
        .iter()
        .filter(|(lc, _)| lc.cmd == read::LC_RPATH)
        .filter_map(|(lc, _)| read::lc_string(b, *lc, 8).ok())
        .collect();
    for e in edits {
        if let Edit::RenameRpath { old, new } = e {
            if !rpaths.contains(old) {
                return Err(format!("no LC_RPATH load command has the path `{old}`"));
            }
            if old != new && rpaths.contains(new) {
                return Err(format!(
                    "rpath `{new}` is already there (a second LC_RPATH would duplicate it)"
                ));
            }
        }
    }
    // 2. Updates.
    let mut saw_id = false;
    for (lc, new) in cmds.iter_mut() {
        let raw = &b[lc.offset..lc.offset + lc.size];
        if lc.cmd == read::LC_ID_DYLIB {
            saw_id = true;
            for (i, e) in edits.iter().enumerate() {
                if let Edit::Id { name } = e {
                    let old = read::lc_string(b, *lc, 8)?;
                    if old == *name {
                        used[i] = true;
                        report.already.push(format!("{arch}: id is already `{name}`"));
                        continue;
                    }
                    *new = Some(dylib_cmd(raw, name, align));
                    used[i] = true;
                    changes.push(format!("{arch}: id `{old}` -> `{name}`"));
                }
            }
        } else if lc.cmd == read::LC_RPATH {
            let cur = read::lc_string(b, *lc, 8)?;
            for e in edits {
                if let Edit::RenameRpath { old, new: to } = e
                    && *old == cur
                {
                    if old == to {
                        report.already.push(format!("{arch}: rpath is already `{to}`"));
                        continue;
                    }
                    *new = Some(rpath_cmd(to, align));
                    changes.push(format!("{arch}: rpath `{old}` -> `{to}`"));
                }
            }
        } else if let Some(kind) = read::dylib_kind(lc.cmd) {
            let cur = read::lc_string(b, *lc, 8)?;
            for (i, e) in edits.iter().enumerate() {
                if let Edit::Change { old, new: to } = e
                    && *old == cur
                    && new.is_none()
                {
                    used[i] = true;
                    if old == to {
                        report.already.push(format!("{arch}: {kind} is already `{to}`"));
                        continue;
                    }
                    *new = Some(dylib_cmd(raw, to, align));
                    changes.push(format!("{arch}: {kind} `{old}` -> `{to}`"));
                }
            }
        }
    }
    if !saw_id {
        for (i, e) in edits.iter().enumerate() {
            if matches!(e, Edit::Id { .. }) && !used[i] {
                report.not_found.push(format!(
                    "{arch}: no LC_ID_DYLIB (not a dylib): {} ignored",
                    e.describe()
                ));
                used[i] = true;
            }
        }
    }
    // 3. Additions.
    let mut added = vec![];
    for e in edits {
        if let Edit::AddRpath { path } = e {
            if rpaths.contains(path) {
                return Err(format!(
                    "rpath `{path}` is already there (a second LC_RPATH would duplicate it)"
                ));
            }
            rpaths.push(path.clone());
            added.push(rpath_cmd(path, align));
            changes.push(format!("{arch}: add rpath `{path}`"));
        }
    }
    if changes.is_empty() {
        return Ok(false);
    }
    // 4. Lay the load commands out again and check they fit.
    let mut bytes = Vec::with_capacity(t.sizeofcmds + 256);
    let mut n = 0u32;
    for (lc, new) in &cmds {
        match new {
            Some(v) => bytes.extend_from_slice(v),
            None => bytes.extend_from_slice(&b[lc.offset..lc.offset + lc.size]),
        }
        n += 1;
    }
    for a in &added {
        bytes.extend_from_slice(a);
        n += 1;
    }
    let need = t.header_size + bytes.len();
    if need > limit {
        return Err(no_room(&arch, bytes.len(), limit - t.header_size));
    }
    let clear_to = t.cmds_end().max(need);
    b[t.header_size..need].copy_from_slice(&bytes);
    b[need..clear_to].fill(0);
    read::put32le(b, 16, n);
    read::put32le(b, 20, bytes.len() as u32);
    report.changes.extend(changes);
    Ok(true)
}

/// Apply every edit to every slice of `bytes` and re-sign what was ad-hoc signed. Pure: the
/// input is not changed; on error nothing is produced.
pub fn edit_bytes(bytes: &[u8], edits: &[Edit]) -> R<(Vec<u8>, EditReport)> {
    edit_owned(bytes.to_vec(), edits)
}

/// [`edit_bytes`] on bytes it may change in place (no copy of a 40 MB file).
pub(crate) fn edit_owned(mut out: Vec<u8>, edits: &[Edit]) -> R<(Vec<u8>, EditReport)> {
    for e in edits {
        match e {
            Edit::Change { old, new } | Edit::RenameRpath { old, new } => {
                check_name(old)?;
                check_name(new)?;
            }
            Edit::Id { name: p } | Edit::AddRpath { path: p } | Edit::DeleteRpath { path: p } => {
                check_name(p)?
            }
        }
    }
    let (_, slices) = read::slices(&out)?;
    let mut report = EditReport::default();
    let mut used = vec![false; edits.len()];
    let mut sig_states = vec![];
    for s in &slices {
        let b = &mut out[s.offset..s.offset + s.size];
        let t = Thin::parse(b)?;
        let before = sign::signature(b, &t)?;
        if !edit_slice(b, edits, &mut report, &mut used)? {
            continue;
        }
        report.modified = true;
        let t = Thin::parse(b)?;
        match before {
            None => sig_states.push(format!("{}: not signed", t.arch())),
            Some(sig) if sig.kind == "adhoc" => {
                report.pages_hashed += sign::resign_in_place(b, &t)?;
                sig_states.push(format!(
                    "{}: ad-hoc re-signed{}",
                    t.arch(),
                    if sig.linker_signed { " (linker-signed kept)" } else { "" }
                ));
            }
            Some(sig) => {
                report.identity_signed = true;
                sig_states.push(format!(
                    "{}: signature INVALID now — it was signed by an identity{}; re-sign it with codesign",
                    t.arch(),
                    sig.team.map(|t| format!(" (team {t})")).unwrap_or_default()
                ));
            }
        }
    }
    for (i, e) in edits.iter().enumerate() {
        if matches!(e, Edit::Change { .. }) && !used[i] {
            report.not_found.push(format!("{}: no load command names it (no-op)", e.describe()));
        }
    }
    report.signature =
        if sig_states.is_empty() { "unchanged".into() } else { sig_states.join("; ") };
    Ok((out, report))
}

/// Sign every slice ad-hoc from scratch (see [`sign::sign_slice`]); a universal file is laid out
/// again when a slice's size changes.
pub fn sign_bytes(bytes: &[u8], name: &str) -> R<Vec<u8>> {
    let (fat, slices) = read::slices(bytes)?;
    if !fat {
        return sign::sign_slice(bytes, name);
    }
    let mut parts = vec![];
    for s in &slices {
        parts.push(sign::sign_slice(&bytes[s.offset..s.offset + s.size], name)?);
    }
    let magic = read::u32be(bytes, 0)?;
    let entry = if magic == read::FAT_MAGIC_64 { 32 } else { 20 };
    let header_end = 8 + slices.len() * entry;
    // Keep each slice's order in the file; place them again at their alignment.
    let mut order: Vec<usize> = (0..slices.len()).collect();
    order.sort_by_key(|&i| slices[i].offset);
    let mut out = bytes[..header_end].to_vec();
    let mut pos = slices[order[0]].offset.max(header_end);
    for &i in &order {
        let align = 1usize << slices[i].align;
        pos = pos.next_multiple_of(align);
        out.resize(pos, 0);
        out.extend_from_slice(&parts[i]);
        let e = 8 + i * entry;
        if magic == read::FAT_MAGIC_64 {
            read::put64be(&mut out, e + 8, pos as u64);
            read::put64be(&mut out, e + 16, parts[i].len() as u64);
        } else {
            if pos + parts[i].len() > u32::MAX as usize {
                return Err("the universal file would pass 4 GiB".into());
            }
            read::put32be(&mut out, e + 8, pos as u32);
            read::put32be(&mut out, e + 12, parts[i].len() as u32);
        }
        pos += parts[i].len();
    }
    Ok(out)
}

/// Check the signature of every slice.
pub(crate) fn verify_bytes(bytes: &[u8]) -> R<Vec<sign::SliceCheck>> {
    let (_, slices) = read::slices(bytes)?;
    let mut out = vec![];
    for s in &slices {
        let b = &bytes[s.offset..s.offset + s.size];
        let t = Thin::parse(b)?;
        out.push(sign::verify_slice(b, &t)?);
    }
    Ok(out)
}
