//! Path helpers shared by every domain: `~` expansion, lexical absolutisation, and the
//! machine helix runs on (the OS its defaults are for, and where the system's roots are).
//!
//! `HELIX_MAC_ROOT` (for tests) makes helix treat a directory as `/` of a Mac: the built-in
//! configuration's absolute paths (`/Applications/UTM.app`, Homebrew's `/opt/homebrew`) live
//! under it, the defaults are macOS's (UTM backend), and the guard protects its system roots
//! (`<root>/Applications`, `<root>/Volumes/*`, …) *as well as* the real ones — so it only ever
//! adds protection and is no way around the guard. The home directory is `$HOME` as always.

use std::path::{Component, Path, PathBuf};

/// The user's home directory (`$HOME`).
pub(crate) fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// The simulated Mac's root (`$HELIX_MAC_ROOT`, absolute), if helix runs in one.
pub(crate) fn mac_root() -> Option<PathBuf> {
    mac_root_from(std::env::var_os("HELIX_MAC_ROOT"))
}

fn mac_root_from(value: Option<std::ffi::OsString>) -> Option<PathBuf> {
    value.filter(|r| !r.is_empty()).map(|r| absolute(Path::new(&r))).filter(|r| r != Path::new("/"))
}

/// A built-in absolute path of the system (`/Applications/UTM.app`) where it is on this
/// machine: under the simulated Mac's root when there is one.
pub(crate) fn system(path: &str) -> PathBuf {
    system_under(mac_root().as_deref(), path)
}

fn system_under(root: Option<&Path>, path: &str) -> PathBuf {
    match root {
        Some(root) if path.starts_with('/') => root.join(path.trim_start_matches('/')),
        _ => PathBuf::from(path),
    }
}

/// The OS helix's defaults are for: `"macos"` on a Mac (or a simulated one), else the real OS.
pub(crate) fn os() -> &'static str {
    if cfg!(target_os = "macos") || mac_root().is_some() { "macos" } else { std::env::consts::OS }
}

pub(crate) fn is_macos() -> bool {
    os() == "macos"
}

/// The name of the user helix runs as: `$USER`, else the account database's.
pub(crate) fn user_name() -> Option<String> {
    if let Some(u) = std::env::var("USER").ok().filter(|u| !u.is_empty()) {
        return Some(u);
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; the name is copied out
    // at once, before any other call could reuse it.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() || (*pw).pw_name.is_null() {
            return None;
        }
        Some(std::ffi::CStr::from_ptr((*pw).pw_name).to_string_lossy().into_owned())
    }
}

/// Expand a leading `~` or `~/`.
pub(crate) fn expand(path: &str) -> PathBuf {
    if path == "~" {
        home()
    } else if let Some(rest) = path.strip_prefix("~/") {
        home().join(rest)
    } else {
        PathBuf::from(path)
    }
}

/// Absolute and lexically normalised (`.`/`..` folded), without touching the filesystem.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Resolve symlinks as far as the path exists, then append the rest lexically.
/// This is what the guard compares: `rm -rf link/..` must match what it really touches.
pub(crate) fn resolve(path: &Path) -> PathBuf {
    let abs = absolute(path);
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return abs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_folds_dots() {
        assert_eq!(absolute(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
        assert_eq!(absolute(Path::new("/a/b/")), PathBuf::from("/a/b"));
    }

    #[test]
    fn expand_tilde() {
        let h = home();
        assert_eq!(expand("~/pm"), h.join("pm"));
        assert_eq!(expand("/x/~"), PathBuf::from("/x/~"));
    }

    #[test]
    fn system_paths_move_under_a_simulated_mac_only() {
        assert_eq!(
            system_under(None, "/Applications/UTM.app"),
            PathBuf::from("/Applications/UTM.app")
        );
        let root = mac_root_from(Some("/tmp/mac/../mac2/".into())).unwrap();
        assert_eq!(root, PathBuf::from("/tmp/mac2"));
        assert_eq!(
            system_under(Some(&root), "/Applications/UTM.app"),
            PathBuf::from("/tmp/mac2/Applications/UTM.app")
        );
        assert_eq!(system_under(Some(&root), "relative"), PathBuf::from("relative"));
        // Empty, or `/` itself, is no simulated root (`/` would be the real one).
        assert_eq!(mac_root_from(Some("".into())), None);
        assert_eq!(mac_root_from(Some("/".into())), None);
        assert_eq!(mac_root_from(Some("/tmp/..".into())), None);
    }

    #[test]
    fn resolve_follows_links_of_the_existing_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let got = resolve(&dir.path().join("link/missing/x"));
        assert_eq!(got, real.canonicalize().unwrap().join("missing/x"));
    }
}
