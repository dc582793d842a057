//! The one atomic replace: the new bytes go to a temp file beside the target (same filesystem,
//! so the rename is atomic), are fsynced, and are renamed over it; a reader sees the old file or
//! the new one, never half. [`atomic_write_raw`] writes any file (new ones 0644 unless told);
//! [`replace_file`] replaces an existing binary keeping its mode, owner, set-id bits and
//! extended attributes, and goes through `sudo install` + `sudo mv` (through `process::Cmd`,
//! which asks for the password at the terminal) when the directory is not writable for us.

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// A fresh temp file beside `path`, named `.NAME.XXXX.helix-tmp`.
pub(super) fn temp_beside(path: &Path) -> std::io::Result<NamedTempFile> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".helix-tmp")
        .tempfile_in(dir_of(path))
}

fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn set_mode(p: &Path, mode: u32) -> std::io::Result<()> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode & 0o7777))
}

/// fsync the temp file, rename it over `path`, fsync the directory (best-effort).
pub(super) fn commit(tmp: NamedTempFile, path: &Path) -> Result<()> {
    tmp.as_file().sync_all().map_err(|e| Error::write(path, e))?;
    tmp.persist(path).map_err(|e| Error::write(path, e.error))?;
    if let Ok(d) = std::fs::File::open(dir_of(path)) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Write `bytes` to `path` atomically. The file keeps the old file's permissions, or gets
/// `mode`, or 0644 when it is new (not the temp file's 0600).
pub(crate) fn atomic_write_raw(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    if path.file_name().is_none() {
        return Err(Error::invalid("path", path.display().to_string(), "it has no file name"));
    }
    let old_mode = std::fs::metadata(path).ok().map(|m| m.permissions().mode());
    let mut tmp = temp_beside(path).map_err(|e| Error::write(path, e))?;
    tmp.write_all(bytes).map_err(|e| Error::write(path, e))?;
    set_mode(tmp.path(), mode.or(old_mode).unwrap_or(0o644)).map_err(|e| Error::write(path, e))?;
    commit(tmp, path)
}

/// Replace the existing file `path` with `bytes` atomically, keeping its mode, owner (when we
/// may), set-id bits and extended attributes; through sudo when the directory is not writable
/// for this user.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let meta = std::fs::metadata(path).map_err(|e| Error::read(path, e))?;
    let mut tmp = match temp_beside(path) {
        Ok(t) => t,
        Err(e)
            if e.kind() == std::io::ErrorKind::PermissionDenied && !crate::process::is_root() =>
        {
            return replace_with_sudo(path, bytes, &meta);
        }
        Err(e) => return Err(Error::write(path, e)),
    };
    tmp.write_all(bytes).map_err(|e| Error::write(path, e))?;
    set_mode(tmp.path(), meta.mode()).map_err(|e| Error::write(path, e))?;
    // Owner: works as root or when it is ours already; otherwise the file becomes ours.
    let _ = std::os::unix::fs::chown(tmp.path(), Some(meta.uid()), Some(meta.gid()));
    if meta.mode() & 0o6000 != 0 {
        // chown cleared set-id bits: put them back.
        let _ = set_mode(tmp.path(), meta.mode());
    }
    super::xattr::copy(path, tmp.path());
    commit(tmp, path)
}

/// The sudo path for files in a directory helix may not write (e.g. root-owned app bundles):
/// the new bytes go to a private temp file, then `sudo install -m MODE -o UID -g GID` puts them
/// beside the target and `sudo mv -f` renames them over it (atomic on the same filesystem).
#[allow(clippy::disallowed_methods)] // the new bytes go to its own private temp file first
fn replace_with_sudo(path: &Path, bytes: &[u8], meta: &std::fs::Metadata) -> Result<()> {
    let tmp = NamedTempFile::new().map_err(|e| Error::write(path, e))?;
    std::fs::write(tmp.path(), bytes).map_err(|e| Error::write(tmp.path(), e))?;
    let staged = staged_name(path);
    let argv = sudo_install_argv(tmp.path(), &staged, meta.mode(), meta.uid(), meta.gid());
    crate::process::Cmd::new(&argv).sudo().quiet().run()?;
    let (s, p) = (staged.display().to_string(), path.display().to_string());
    crate::process::Cmd::new(&["mv", "-f", s.as_str(), p.as_str()]).sudo().quiet().run()?;
    Ok(())
}

fn staged_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.helix-tmp"))
}

fn sudo_install_argv(from: &Path, to: &Path, mode: u32, uid: u32, gid: u32) -> Vec<String> {
    vec![
        "install".into(),
        "-m".into(),
        format!("{:o}", mode & 0o7777),
        "-o".into(),
        uid.to_string(),
        "-g".into(),
        gid.to_string(),
        from.display().to_string(),
        to.display().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sudo_install_keeps_mode_and_owner() {
        let argv =
            sudo_install_argv(Path::new("/tmp/x"), Path::new("/A/.q.helix-tmp"), 0o100755, 0, 80);
        assert_eq!(argv.join(" "), "install -m 755 -o 0 -g 80 /tmp/x /A/.q.helix-tmp");
        assert_eq!(staged_name(Path::new("/A/q")), PathBuf::from("/A/.q.helix-tmp"));
    }

    #[test]
    fn replace_file_keeps_mode_and_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lib.dylib");
        std::fs::write(&p, b"old").unwrap();
        set_mode(&p, 0o751).unwrap();
        replace_file(&p, b"new bytes").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new bytes");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o751);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1, "a temp file was left");
        assert!(replace_file(&d.path().join("missing"), b"x").is_err(), "only replaces");
    }
}
