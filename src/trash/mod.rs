//! The helix trash: `fs::remove` moves things here instead of deleting them, and overwrites keep
//! the previous version here (for `helix undo`).
//!
//! A trash always lives on the same filesystem as what goes into it, so putting something in
//! it is a `rename(2)` — instant for a 700 GB disk image, the inode unchanged — and never a
//! copy across devices. Which trash: the one in helix's state dir when it is on the same
//! filesystem; else `.helix-trash-<uid>` at the filesystem's mount point; else `.helix-trash`
//! beside the target. Every trash helix has used is listed in `<state>/trash-dirs`.
//!
//! Layout of one trash: `<trash>/<id>/<name>` is the thing itself (a symlink stays a symlink),
//! `<trash>/<id>.json` its [`Item`] record: where it came from, when, which run, how big.
// The trash owns deleting and renaming into and out of itself (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};

use crate::guard::{Action, Target, act, protect};
use crate::undo::Undo;

pub(crate) mod cli;

/// One thing in the trash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Item {
    pub id: String,
    /// Where it stood (resolved, absolute).
    pub original: PathBuf,
    /// RFC 3339 UTC.
    pub trashed_at: String,
    /// Seconds since the epoch (for `empty --older-than`).
    pub epoch: u64,
    /// The run that put it here, if any.
    #[serde(default)]
    pub run: Option<String>,
    /// Bytes (apparent size; a directory's whole tree).
    pub size: u64,
    /// `file`, `dir` or `link`.
    pub kind: String,
    /// `removed` (moved here by a delete) or `backup` (a copy kept before an overwrite).
    pub reason: String,
    /// The trash directory holding it (not stored; filled in when read).
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Item {
    /// Where the thing itself is stored now.
    pub(crate) fn stored(&self) -> PathBuf {
        self.dir.join(&self.id).join(stored_name(&self.original))
    }
    fn record(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.id))
    }
}

fn stored_name(original: &Path) -> String {
    original.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "item".into())
}

fn registry() -> PathBuf {
    crate::config::state_dir().join("trash-dirs")
}

fn state_trash() -> PathBuf {
    crate::config::state_dir().join("trash")
}

/// Every trash directory helix has used (the state dir's first).
pub(crate) fn trash_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![state_trash()];
    if let Ok(text) = std::fs::read_to_string(registry()) {
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            let p = PathBuf::from(l);
            if !dirs.contains(&p) {
                dirs.push(p);
            }
        }
    }
    dirs
}

fn remember_dir(dir: &Path) -> Result<()> {
    if trash_dirs().iter().any(|d| d == dir) {
        return Ok(());
    }
    let reg = registry();
    if let Some(p) = reg.parent() {
        std::fs::create_dir_all(p).map_err(|e| Error::fs("create", p, e))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&reg)
        .map_err(|e| Error::write(&reg, e))?;
    writeln!(f, "{}", dir.display()).map_err(|e| Error::write(&reg, e))
}

fn dev_of(p: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    p.symlink_metadata().ok().map(|m| m.dev())
}

fn uid() -> u32 {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() }
}

/// The trash on the same filesystem as `location` (the resolved location of the target).
pub(crate) fn trash_dir_for(location: &Path) -> Result<PathBuf> {
    let parent = location.parent().unwrap_or(Path::new("/"));
    let dev = dev_of(parent).ok_or_else(|| {
        Error::invalid("path", location.display().to_string(), "its directory does not exist")
    })?;
    let st = state_trash();
    if std::fs::create_dir_all(&st).is_ok() && dev_of(&st) == Some(dev) {
        let st = protect::physical(&st);
        if !st.starts_with(location) {
            return Ok(st);
        }
    }
    // The mount point: the topmost ancestor on the same device.
    let mut mount = parent.to_path_buf();
    for a in parent.ancestors() {
        if dev_of(a) == Some(dev) {
            mount = a.to_path_buf();
        } else {
            break;
        }
    }
    let candidates = [mount.join(format!(".helix-trash-{}", uid())), parent.join(".helix-trash")];
    for c in candidates {
        if c.starts_with(location) {
            continue;
        }
        if std::fs::create_dir_all(&c).is_ok() && dev_of(&c) == Some(dev) {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&c, std::fs::Permissions::from_mode(0o700));
            remember_dir(&c)?;
            return Ok(c);
        }
    }
    Err(Error::TrashPlace { location: location.to_path_buf() })
}

fn new_id() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let ts = crate::journal::timestamp(SystemTime::now());
    let digits: String = ts.chars().filter(|c| c.is_ascii_digit()).collect();
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("{}-{}-{:03x}{:02x}", &digits[..8], &digits[8..], std::process::id() & 0xfff, n & 0xff)
}

fn kind_of(m: &std::fs::Metadata) -> &'static str {
    if m.file_type().is_symlink() {
        "link"
    } else if m.is_dir() {
        "dir"
    } else {
        "file"
    }
}

fn is_in_a_trash(location: &Path) -> bool {
    location.components().any(|c| {
        let s = c.as_os_str().to_string_lossy();
        s.starts_with(".helix-trash")
    }) || location.starts_with(protect::physical(&state_trash()))
}

fn new_slot(location: &Path) -> Result<(PathBuf, String)> {
    let dir = trash_dir_for(location)?;
    loop {
        let id = new_id();
        let slot = dir.join(&id);
        match std::fs::create_dir(&slot) {
            Ok(()) => return Ok((dir, id)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::fs("create", &slot, e)),
        }
    }
}

fn write_record(item: &Item) -> Result<()> {
    let text = serde_json::to_string_pretty(item).expect("items serialise");
    crate::fs::atomic_write_raw(&item.record(), text.as_bytes(), Some(0o600))
}

/// Move `path` into the trash (no guard: callers run this inside [`act`]). A symlink is moved
/// as the link itself.
pub(crate) fn move_to_trash(path: &Path) -> Result<Item> {
    let meta = path.symlink_metadata().map_err(|e| Error::read(path, e))?;
    let location = protect::physical(path);
    if is_in_a_trash(&location) {
        return Err(Error::invalid(
            "path",
            path.display().to_string(),
            "it is already in the helix trash: `helix trash empty` deletes for good",
        ));
    }
    let size = if meta.is_dir() { crate::fs::size(path).unwrap_or(0) } else { meta.len() };
    let (dir, id) = new_slot(&location)?;
    let item = Item {
        id: id.clone(),
        original: location.clone(),
        trashed_at: crate::journal::timestamp(SystemTime::now()),
        epoch: now(),
        run: crate::run::current().run_id(),
        size,
        kind: kind_of(&meta).into(),
        reason: "removed".into(),
        dir,
    };
    if let Err(e) = std::fs::rename(&location, item.stored()) {
        let _ = std::fs::remove_dir(item.dir.join(&id));
        return Err(Error::fs("move to the trash", path, e));
    }
    write_record(&item)?;
    Ok(item)
}

/// Keep the current bytes of `path` before it is overwritten; returns where they were kept:
/// a copy in the helix trash on the same filesystem, linked to the run, which `helix undo`
/// restores from (and `helix trash list` shows).
pub(crate) fn keep_previous(path: &Path) -> Result<PathBuf> {
    Ok(keep_copy(path)?.stored())
}

/// Keep a copy of the file at `path` in the trash (a backup before an overwrite).
pub(crate) fn keep_copy(path: &Path) -> Result<Item> {
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            "path",
            path.display().to_string(),
            "only files are backed up before an overwrite",
        ));
    }
    let location = protect::physical(path);
    let (dir, id) = new_slot(&location)?;
    let item = Item {
        id,
        original: location,
        trashed_at: crate::journal::timestamp(SystemTime::now()),
        epoch: now(),
        run: crate::run::current().run_id(),
        size: meta.len(),
        kind: "file".into(),
        reason: "backup".into(),
        dir,
    };
    // std::fs::copy clones where the filesystem can (APFS clonefile, reflink).
    std::fs::copy(path, item.stored()).map_err(|e| Error::fs("back up", path, e))?;
    write_record(&item)?;
    Ok(item)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Delete right away (no trash). Only for what the run created, a confirmed permanent delete,
/// or emptying the trash. Symlinks are removed as links; directories are not followed through
/// links.
fn delete_now(path: &Path) -> Result<()> {
    let meta = path.symlink_metadata().map_err(|e| Error::read(path, e))?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path).map_err(|e| Error::fs("delete", path, e))
    } else {
        std::fs::remove_file(path).map_err(|e| Error::fs("delete", path, e))
    }
}

/// `fs::remove`: move `path` to the trash (recoverable, so no question), after the protection
/// check. What this run created itself is deleted outright. A path that does not exist is
/// nothing to do.
pub fn remove(path: &Path) -> Result<()> {
    let ctx = crate::run::current();
    let Ok(meta) = path.symlink_metadata() else { return Ok(()) };
    let is_dir = meta.is_dir();
    let target = Target::Path { path: path.to_path_buf(), recursive: is_dir };
    if ctx.created_by_run(path) {
        let action =
            Action::new("fs.remove", format!("delete `{}` (created by this run)", path.display()))
                .args(json!({ "path": path }))
                .destroys(target);
        return act(action, || delete_now(path));
    }
    let action = Action::new("fs.remove", format!("delete (to trash) `{}`", path.display()))
        .args(json!({ "path": path }))
        .touches(path, is_dir);
    let item: Option<Item> = act(action, || move_to_trash(path).map(Some))?;
    if let Some(item) = item {
        ctx.with_journal(|j| {
            j.action(
                "trash.put",
                &format!("`{}` is in the trash as `{}`", path.display(), item.id),
                json!({ "id": item.id, "stored": item.stored() }),
                "ok",
                Duration::ZERO,
                Undo::Untrash { id: item.id.clone(), dir: Some(item.dir.clone()) }.to_json(),
            )
        });
    }
    Ok(())
}

/// `fs::remove_permanently`: delete without the trash, which always asks a person (unless the
/// run created the path itself).
pub(crate) fn remove_permanently(path: &Path) -> Result<()> {
    let Ok(meta) = path.symlink_metadata() else { return Ok(()) };
    let action =
        Action::new("fs.remove_permanently", format!("permanently delete `{}`", path.display()))
            .args(json!({ "path": path }))
            .destroys(Target::Path { path: path.to_path_buf(), recursive: meta.is_dir() });
    act(action, || delete_now(path))
}

#[cfg(test)]
/// Delete helix's own scratch (a control socket, a temp dir it made, a file this run created)
/// right away, without the trash or a question. Refused for anything else: the path must be
/// created by this run, or lie inside helix's state dir, or inside the system temp dir under a
/// name starting with `helix` / `.helix`. For other domains that clean up after themselves.
pub(crate) fn remove_scratch(path: &Path) -> Result<()> {
    let Ok(_) = path.symlink_metadata() else { return Ok(()) };
    let location = protect::physical(path);
    let state = protect::physical(&crate::config::state_dir());
    let tmp = protect::physical(&std::env::temp_dir());
    let helix_tmp =
        location.strip_prefix(&tmp).ok().and_then(|rest| rest.components().next()).is_some_and(
            |c| {
                let n = c.as_os_str().to_string_lossy();
                n.starts_with("helix") || n.starts_with(".helix")
            },
        );
    let own = crate::run::current().created_by_run(path)
        || (location.starts_with(&state) && location != state)
        || helix_tmp;
    if !own {
        return Err(Error::Refused {
            op: format!("delete the scratch path `{}`", path.display()),
            reason: "it is not helix's own scratch (not created by this run, not in helix's state or temp dirs); use fs::remove".into(),
        });
    }
    if let Some(rule) = protect::rule_for(path, &crate::run::current().config) {
        return Err(rule.error(path));
    }
    delete_now(path)
}

/// Everything in every trash, newest first.
pub(crate) fn list() -> Result<Vec<Item>> {
    let mut items = vec![];
    for dir in trash_dirs() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json")
                && let Ok(text) = std::fs::read_to_string(&p)
                && let Ok(mut item) = serde_json::from_str::<Item>(&text)
            {
                item.dir = dir.clone();
                items.push(item);
            }
        }
    }
    items.sort_by(|a, b| b.epoch.cmp(&a.epoch).then(b.id.cmp(&a.id)));
    Ok(items)
}

/// Find an item by id (or unique id prefix), or the newest one that came from `what` as a path.
pub(crate) fn find(what: &str) -> Result<Item> {
    let items = list()?;
    if let Some(i) = items.iter().find(|i| i.id == what) {
        return Ok(i.clone());
    }
    let by_prefix: Vec<&Item> = items.iter().filter(|i| i.id.starts_with(what)).collect();
    if by_prefix.len() == 1 {
        return Ok(by_prefix[0].clone());
    }
    let p = protect::physical(Path::new(what));
    if let Some(i) = items.iter().find(|i| i.original == p && i.reason == "removed") {
        return Ok(i.clone());
    }
    if let Some(i) = items.iter().find(|i| i.original == p) {
        return Ok(i.clone());
    }
    Err(Error::invalid(
        "trash item",
        what,
        "no such id or original path in the trash: see `helix trash list`",
    ))
}

/// Put an item back where it came from. Refuses when something now stands there.
pub(crate) fn restore(item: &Item) -> Result<()> {
    if item.original.symlink_metadata().is_ok() {
        return Err(Error::Refused {
            op: format!("restore `{}`", item.original.display()),
            reason: "something stands at that path now; helix does not overwrite it — move it away first, then restore".into(),
        });
    }
    let stored = item.stored();
    if stored.symlink_metadata().is_err() {
        return Err(Error::TrashItemGone { id: item.id.clone(), stored });
    }
    let action = Action::new(
        "trash.restore",
        format!("restore `{}` from the trash (`{}`)", item.original.display(), item.id),
    )
    .args(json!({ "id": item.id, "to": item.original }))
    .undo(Undo::remove_created(&item.original));
    act(action, || {
        if let Some(parent) = item.original.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::fs("create", parent, e))?;
        }
        if item.reason == "backup" {
            // A backup stays in the trash; restoring puts a copy back.
            let tmp = tempfile::Builder::new()
                .suffix(".helix-tmp")
                .tempfile_in(item.original.parent().unwrap_or(Path::new(".")))
                .map_err(|e| Error::write(&item.original, e))?;
            std::fs::copy(&stored, tmp.path()).map_err(|e| Error::fs("copy", &stored, e))?;
            tmp.persist_noclobber(&item.original)
                .map_err(|e| Error::write(&item.original, e.error))?;
            return Ok(());
        }
        std::fs::rename(&stored, &item.original)
            .map_err(|e| Error::fs("restore", &item.original, e))?;
        let _ = std::fs::remove_file(item.record());
        let _ = std::fs::remove_dir(item.dir.join(&item.id));
        Ok(())
    })
}

/// Permanently delete trash items (older than `older_than`, if given) after a person confirms.
/// Returns how many were deleted.
pub(crate) fn empty(older_than: Option<Duration>) -> Result<usize> {
    let cutoff = older_than.map(|d| now().saturating_sub(d.as_secs()));
    let items: Vec<Item> =
        list()?.into_iter().filter(|i| cutoff.is_none_or(|c| i.epoch <= c)).collect();
    if items.is_empty() {
        return Ok(0);
    }
    let total: u64 = items.iter().map(|i| i.size).sum();
    let mut lines: Vec<String> = items
        .iter()
        .take(20)
        .map(|i| {
            format!(
                "`{}` ({}, {}, {} {})",
                i.original.display(),
                i.kind,
                crate::size::format(i.size),
                i.reason,
                i.trashed_at
            )
        })
        .collect();
    if items.len() > 20 {
        lines.push(format!("… and {} more", items.len() - 20));
    }
    lines.push(format!(
        "{} item{}, {} in all — gone for good",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        crate::size::format(total)
    ));
    let op = format!(
        "permanently delete {} item{} from the helix trash",
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    if crate::run::current().dry_run {
        crate::ui::plan(&format!("would ask: {op}"));
        return Ok(0);
    }
    crate::guard::confirm::ask(&crate::guard::confirm::Prompt {
        op: op.clone(),
        said: format!("it would destroy {}", lines.join("; ")),
        lines,
        destroys: true,
        typed: Some("empty".into()),
    })?;
    act(
        Action::new("trash.empty", op)
            .args(json!({ "items": items.iter().map(|i| &i.id).collect::<Vec<_>>() })),
        || {
            for i in &items {
                let slot = i.dir.join(&i.id);
                if slot.symlink_metadata().is_ok() {
                    delete_now(&slot)?;
                }
                let _ = std::fs::remove_file(i.record());
            }
            Ok(())
        },
    )?;
    Ok(items.len())
}

/// `7d`, `12h`, `30m`, `2w`, `90s`.
pub(crate) fn parse_age(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| Error::invalid("age", s, "expected a number and a unit, e.g. 7d, 12h, 30m"))?;
    let secs = match unit {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "" | "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(Error::invalid("age", s, "the unit must be s, m, h, d or w")),
    };
    Ok(Duration::from_secs(n * secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_is_only_helix_own() {
        let d = tempfile::Builder::new().prefix("helix-scratch-test").tempdir().unwrap();
        let sock = d.path().join("ctl.sock");
        std::fs::write(&sock, "").unwrap();
        remove_scratch(&sock).unwrap();
        assert!(!sock.exists());
        let other = tempfile::Builder::new().prefix("user-data").tempdir().unwrap();
        let f = other.path().join("keep.txt");
        std::fs::write(&f, "keep").unwrap();
        assert!(remove_scratch(&f).is_err());
        assert!(f.exists());
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d").unwrap(), Duration::from_secs(7 * 86400));
        assert_eq!(parse_age("12h").unwrap(), Duration::from_secs(12 * 3600));
        assert!(parse_age("soon").is_err());
    }

    #[test]
    fn a_trash_beside_the_target_is_on_its_filesystem() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.txt");
        std::fs::write(&f, "x").unwrap();
        let t = trash_dir_for(&protect::physical(&f)).unwrap();
        assert_eq!(dev_of(&t), dev_of(d.path()));
        assert!(!t.starts_with(protect::physical(&f)));
    }
}
