//! Files and directories: writes through the guard that keep the previous version for
//! `helix undo`, and the ordinary queries. The one atomic replace (temp file beside the
//! target, fsync, rename) is in `atomic`, the one SHA-256 in `hash`. Deleting lives in the
//! guard (`trash`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::undo::Undo;

mod atomic;
mod hash;
mod xattr;

pub(crate) use atomic::{atomic_write_raw, replace_file};
pub(crate) use hash::{hex, sha256_file, sha256_hex};

pub(crate) fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::read(path, e))
}

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::read(path, e))
}

/// Write a file through the guard: atomic, previous version kept for undo, dry-run aware.
pub(crate) fn write(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    let existed = path.exists();
    let mut action = Action::new(
        "fs.write",
        if existed {
            format!(
                "overwrite `{}` ({}; previous version kept)",
                path.display(),
                crate::count::count(bytes.len() as u64, "byte")
            )
        } else {
            format!(
                "write `{}` ({})",
                path.display(),
                crate::count::count(bytes.len() as u64, "byte")
            )
        },
    )
    .args(json!({ "path": path, "bytes": bytes.len() }));
    if existed {
        // Replaced recoverably (the previous version is kept): refused only if protected.
        action = action.touches(path, false);
    }
    let backup = if existed && !crate::run::current().dry_run {
        Some(crate::trash::keep_previous(path)?)
    } else {
        None
    };
    let undo = match &backup {
        Some(b) => Undo::Restore {
            backup: b.clone(),
            to: crate::paths::absolute(path),
            sha256: Some(sha256_hex(bytes)),
        },
        None => Undo::remove_created(crate::paths::absolute(path)),
    };
    // Rewriting a file the run made keeps it the run's (the new inode is recorded too).
    let own = !existed || crate::run::current().created_by_run(path);
    guard::act(action.undo(undo), || {
        atomic_write_raw(path, bytes, mode)?;
        if own {
            crate::run::current().note_created(path);
        }
        Ok(())
    })
}

pub(crate) fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// `mkdir -p`; directories it creates are the run's own.
pub(crate) fn mkdir(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    let abs = crate::paths::absolute(path);
    let first_missing = abs.ancestors().filter(|a| !a.exists()).last().map(Path::to_path_buf);
    guard::act(
        Action::new("fs.mkdir", format!("create directory `{}`", path.display()))
            .args(json!({"path": path}))
            .undo(Undo::RemoveCreated { path: first_missing.clone() }),
        || {
            std::fs::create_dir_all(path).map_err(|e| Error::fs("create directory", path, e))?;
            if let Some(m) = &first_missing {
                crate::run::current().note_created(m);
            }
            Ok(())
        },
    )
}

/// Copy a file; over an existing destination the previous version is kept.
pub(crate) fn copy(from: &Path, to: &Path) -> Result<()> {
    // Under --dry-run an earlier step may only have planned to make the source.
    if !from.is_file() && !crate::run::current().dry_run {
        return Err(Error::invalid("copy source", from.display().to_string(), "it is not a file"));
    }
    let existed = to.exists();
    let backup = if existed && !crate::run::current().dry_run {
        Some(crate::trash::keep_previous(to)?)
    } else {
        None
    };
    let mut action =
        Action::new("fs.copy", format!("copy `{}` to `{}`", from.display(), to.display()))
            .args(json!({"from": from, "to": to}))
            .undo(match &backup {
                Some(b) => Undo::restore(b, crate::paths::absolute(to)),
                None => Undo::remove_created(crate::paths::absolute(to)),
            });
    if existed {
        action = action.touches(to, false);
    }
    let own = !existed || crate::run::current().created_by_run(to);
    guard::act(action, || {
        let tmp = atomic::temp_beside(to).map_err(|e| Error::write(to, e))?;
        std::fs::copy(from, tmp.path()).map_err(|e| Error::fs("copy", from, e))?;
        atomic::commit(tmp, to)?;
        if own {
            crate::run::current().note_created(to);
        }
        Ok(())
    })
}

/// Move (rename) a path. Refuses to replace an existing destination: move that aside first.
#[allow(clippy::disallowed_methods)] // fs::rename is the guarded move (inside guard::act)
pub(crate) fn rename(from: &Path, to: &Path) -> Result<()> {
    // Under --dry-run an earlier step may only have planned to make the source.
    if !exists(from) && !crate::run::current().dry_run {
        return Err(Error::invalid("move source", from.display().to_string(), "it does not exist"));
    }
    if exists(to) {
        return Err(Error::invalid(
            "move destination",
            to.display().to_string(),
            "it already exists; helix does not replace it — move it aside or remove it first",
        ));
    }
    let action = Action::new("fs.move", format!("move `{}` to `{}`", from.display(), to.display()))
        .args(json!({"from": from, "to": to}))
        .undo(Undo::MoveBack { from: crate::paths::absolute(to), to: crate::paths::absolute(from) })
        .touches(from, true);
    guard::act(action, || std::fs::rename(from, to).map_err(|e| Error::fs("move", from, e)))
}

pub(crate) fn symlink(target: &Path, link: &Path) -> Result<()> {
    if exists(link) {
        return Err(Error::invalid(
            "link path",
            link.display().to_string(),
            "something already stands there",
        ));
    }
    guard::act(
        Action::new("fs.symlink", format!("link `{}` -> `{}`", link.display(), target.display()))
            .args(json!({"target": target, "link": link}))
            .undo(Undo::remove_created(crate::paths::absolute(link))),
        || {
            std::os::unix::fs::symlink(target, link)
                .map_err(|e| Error::fs("create link", link, e))?;
            crate::run::current().note_created(link);
            Ok(())
        },
    )
}

pub(crate) fn glob(pattern: &str) -> Result<Vec<PathBuf>> {
    let paths =
        glob::glob(pattern).map_err(|e| Error::invalid("glob pattern", pattern, e.to_string()))?;
    Ok(paths.filter_map(|p| p.ok()).collect())
}

/// Bytes used by a file, or by everything under a directory (links not followed).
pub fn size(path: &Path) -> Result<u64> {
    let meta = path.symlink_metadata().map_err(|e| Error::read(path, e))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    let rd = std::fs::read_dir(path).map_err(|e| Error::read(path, e))?;
    for entry in rd.flatten() {
        total += size(&entry.path()).unwrap_or(0);
    }
    Ok(total)
}

#[cfg(test)]
/// Count files under a path (1 for a file).
pub(crate) fn count_files(path: &Path) -> u64 {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|rd| rd.flatten().map(|e| count_files(&e.path())).sum())
            .unwrap_or(0),
        Ok(_) => 1,
        Err(_) => 0,
    }
}

/// Free bytes on the filesystem holding `path` (for unprivileged users).
pub(crate) fn free_space(path: &Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::invalid("path", path.display().to_string(), "it contains a NUL byte")
    })?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid C string and `st` a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(Error::read(path, std::io::Error::last_os_error()));
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_keeps_mode_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        atomic_write_raw(&p, b"new", None).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_keeps_the_previous_version() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.txt");
        std::fs::write(&p, "v1").unwrap();
        write(&p, b"v2", None).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "v2");
    }

    #[test]
    fn rename_refuses_to_replace() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        assert!(rename(&a, &b).is_err());
        assert_eq!(std::fs::read_to_string(&b).unwrap(), "b");
    }

    #[test]
    fn size_and_free_space() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), vec![0u8; 1000]).unwrap();
        std::fs::create_dir(d.path().join("s")).unwrap();
        std::fs::write(d.path().join("s/b"), vec![0u8; 24]).unwrap();
        assert_eq!(size(d.path()).unwrap(), 1024);
        assert_eq!(count_files(d.path()), 2);
        assert!(free_space(d.path()).unwrap() > 0);
    }
}

/// Printable ASCII runs of at least 4 bytes in a file that contain `needle` — what
/// `strings FILE | grep NEEDLE` finds, for version strings inside binaries.
pub(crate) fn strings(path: &Path, needle: &str) -> Result<Vec<String>> {
    let bytes = read_bytes(path)?;
    let mut found = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().chain(std::iter::once(&0u8)).enumerate() {
        let printable = (0x20..0x7f).contains(b) || *b == b'\t';
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 4 {
                    let run = String::from_utf8_lossy(&bytes[s..i]);
                    if run.contains(needle) {
                        found.push(run.into_owned());
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod strings_tests {
    #[test]
    fn finds_printable_runs_containing_the_needle() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bin");
        std::fs::write(&p, b"\x00\x01HELIX v3 DisplaySurface\x00ab\x00xxHELIX\xff\x00").unwrap();
        assert_eq!(
            super::strings(&p, "HELIX").unwrap(),
            vec!["HELIX v3 DisplaySurface", "xxHELIX"]
        );
        assert!(super::strings(&p, "nope").unwrap().is_empty());
    }
}

/// How [`clone_file`] made the copy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Cloned {
    /// `"clone"` (copy-on-write: clonefile on APFS, a reflink on Btrfs/XFS) or `"copy"`.
    pub method: &'static str,
    /// SHA-256 of the bytes written, for a full copy (`None` for a clone, which shares them).
    pub sha256: Option<String>,
    pub bytes: u64,
}

/// Copy `from` to the new file `to` the fastest safe way: a copy-on-write clone when the
/// filesystem can (instant, no space used), else a full copy with a progress bar whose SHA-256
/// is computed on the way. Refuses an existing destination.
pub(crate) fn clone_file(from: &Path, to: &Path) -> Result<Cloned> {
    if !from.is_file() && !crate::run::current().dry_run {
        return Err(Error::invalid("clone source", from.display().to_string(), "it is not a file"));
    }
    // A dry run cannot know that an earlier planned step moves the destination aside (as
    // backup-vm's restore does): the check is the real run's.
    if exists(to) && !crate::run::current().dry_run {
        return Err(Error::invalid(
            "clone destination",
            to.display().to_string(),
            "it already exists; helix does not replace it — pick another name",
        ));
    }
    let action =
        Action::new("fs.clone", format!("clone `{}` to `{}`", from.display(), to.display()))
            .args(json!({"from": from, "to": to}))
            .undo(Undo::remove_created(crate::paths::absolute(to)));
    guard::act(action, || {
        let bytes = std::fs::metadata(from).map_err(|e| Error::fs("stat", from, e))?.len();
        let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let prefix =
            format!(".{}.", to.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
        // A fresh, unique temp name (never an existing file's): a clone first, else a copy.
        // Whatever fails on the way is our own temp file, removed when it is dropped.
        let out = match clone_to_temp(from, dir, &prefix) {
            Some(tmp) => {
                tmp.persist_noclobber(to).map_err(|e| Error::write(to, e.error))?;
                Cloned { method: "clone", sha256: None, bytes }
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix(&prefix)
                    .suffix(".helix-tmp")
                    .tempfile_in(dir)
                    .map_err(|e| Error::write(to, e))?;
                let sha = copy_hashing(from, tmp.as_file(), to, bytes)?;
                tmp.persist_noclobber(to).map_err(|e| Error::write(to, e.error))?;
                Cloned { method: "copy", sha256: Some(sha), bytes }
            }
        };
        crate::run::current().note_created(to);
        Ok(out)
    })
}

/// A copy-on-write clone of `from` in a fresh temp file in `dir` (removed again if dropped);
/// `None` when the filesystem cannot clone.
#[cfg(target_os = "macos")]
fn clone_to_temp(from: &Path, dir: &Path, prefix: &str) -> Option<tempfile::NamedTempFile<()>> {
    use std::os::unix::ffi::OsStrExt;
    let src = std::ffi::CString::new(from.as_os_str().as_bytes()).ok()?;
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".helix-tmp")
        .make_in(dir, |p| {
            let dst =
                std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
            // SAFETY: clonefile(2) on two valid C strings; APFS copy-on-write, creating `p`
            // atomically (EEXIST makes tempfile pick another name).
            if unsafe { libc::clonefile(src.as_ptr(), dst.as_ptr(), 0) } == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        })
        .ok()
}

#[cfg(not(target_os = "macos"))]
fn clone_to_temp(from: &Path, dir: &Path, prefix: &str) -> Option<tempfile::NamedTempFile<()>> {
    use std::os::unix::io::AsRawFd;
    let s = std::fs::File::open(from).ok()?;
    let tmp = tempfile::Builder::new().prefix(prefix).suffix(".helix-tmp").tempfile_in(dir).ok()?;
    // FICLONE: a reflink on Btrfs, XFS, bcachefs.
    const FICLONE: libc::c_ulong = 0x4004_9409;
    // SAFETY: ioctl on two open file descriptors.
    if unsafe { libc::ioctl(tmp.as_file().as_raw_fd(), FICLONE as _, s.as_raw_fd()) } != 0 {
        return None; // the temp file is removed as it drops
    }
    if let Ok(m) = s.metadata() {
        let _ = tmp.as_file().set_permissions(m.permissions());
    }
    let _ = tmp.as_file().sync_all();
    let (file, path) = tmp.into_parts();
    drop(file);
    Some(tempfile::NamedTempFile::from_parts((), path))
}

/// Copy `from` into the open file `dst` (for `to`) with a byte progress bar, fsync, and the
/// SHA-256 of what was written.
fn copy_hashing(from: &Path, mut dst: &std::fs::File, to: &Path, len: u64) -> Result<String> {
    use sha2::Digest;
    use std::io::Read;
    let mut src = std::fs::File::open(from).map_err(|e| Error::fs("open", from, e))?;
    let bar = crate::ui::progress_bytes(len, &format!("copying {}", from.display()));
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = src.read(&mut buf).map_err(|e| Error::fs("read", from, e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        dst.write_all(&buf[..n]).map_err(|e| Error::write(to, e))?;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    dst.sync_all().map_err(|e| Error::write(to, e))?;
    if let Ok(m) = src.metadata() {
        let _ = dst.set_permissions(m.permissions());
    }
    Ok(hex(&hash.finalize()))
}

#[cfg(test)]
mod clone_tests {
    use super::*;

    #[test]
    fn clone_file_copies_bytes_hashes_and_refuses_to_replace() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.img"), d.path().join("b.img"));
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&a, &data).unwrap();
        let c = clone_file(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), data);
        assert_eq!(c.bytes, data.len() as u64);
        match c.method {
            "copy" => assert_eq!(c.sha256.unwrap(), sha256_file(&a).unwrap()),
            "clone" => assert!(c.sha256.is_none()),
            m => panic!("method {m}"),
        }
        assert!(clone_file(&a, &b).is_err());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2, "a temp file was left");
        assert!(clone_file(&d.path().join("nope"), &d.path().join("c")).is_err());
    }
}
