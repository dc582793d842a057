//! Directory trees: walked, copied, and snapshotted so a test can say "byte-identical after".
//!
//! A [`snapshot`] maps each entry's path (relative to the root) to what it is: a directory and
//! its mode, a link and its target, a file and its mode, length and SHA-256. Files over
//! [`HASH_LIMIT`] (sparse disk images) are compared by length and modification time instead of
//! read whole: writing one changes its mtime.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Files larger than this are not hashed (see the module doc).
pub const HASH_LIMIT: u64 = 64 << 20;

/// Every entry under `root` (not `root` itself) except those `skip` rejects (and what is below
/// them). A root that does not exist has an empty snapshot.
pub fn snapshot(root: &Path, skip: &dyn Fn(&Path) -> bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if skip(&p) {
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            out.insert(rel, describe(&p));
            if p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
                stack.push(p);
            }
        }
    }
    out
}

/// What one entry is, as [`snapshot`] records it.
pub fn describe(p: &Path) -> String {
    let Ok(m) = p.symlink_metadata() else { return "MISSING".into() };
    let mode = m.permissions().mode();
    if m.file_type().is_symlink() {
        format!("link {:?} {mode:o}", std::fs::read_link(p).unwrap())
    } else if m.is_dir() {
        format!("dir {mode:o}")
    } else if m.len() > HASH_LIMIT {
        format!("file {mode:o} {} bytes, mtime {}.{:09}", m.len(), m.mtime(), m.mtime_nsec())
    } else {
        let bytes = std::fs::read(p).unwrap_or_default();
        format!("file {mode:o} {} bytes, sha256 {:x}", m.len(), Sha256::digest(&bytes))
    }
}

/// The entries that differ between two snapshots, one line each (`+` new, `-` gone, `~` changed).
pub fn diff(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = vec![];
    for (k, v) in before {
        match after.get(k) {
            None => out.push(format!("- {k} ({v})")),
            Some(w) if w != v => out.push(format!("~ {k}: {v} -> {w}")),
            Some(_) => {}
        }
    }
    for (k, w) in after {
        if !before.contains_key(k) {
            out.push(format!("+ {k} ({w})"));
        }
    }
    out
}

/// Every regular file under `dir` (links are not followed), in no set order.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.extend(walk(&p));
            } else if meta.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// Copy the tree `from` into `to` (links followed, modes kept).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
