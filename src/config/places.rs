//! Where configuration and state live: helix's config and state dirs (from the environment),
//! the user's own file (from the user database, not the environment), and the project a
//! directory belongs to.

use std::path::{Path, PathBuf};

/// helix's config dir: `$HELIX_CONFIG_DIR`, else `$XDG_CONFIG_HOME/helix`, else `~/.config/helix`.
pub fn config_dir() -> PathBuf {
    dir_from_env("HELIX_CONFIG_DIR", "XDG_CONFIG_HOME", ".config")
}

/// helix's state dir (journal, trash records, step state): `$HELIX_STATE_DIR`, else
/// `$XDG_STATE_HOME/helix`, else `~/.local/state/helix`.
pub fn state_dir() -> PathBuf {
    dir_from_env("HELIX_STATE_DIR", "XDG_STATE_HOME", ".local/state")
}

fn dir_from_env(own: &str, xdg: &str, fallback: &str) -> PathBuf {
    if let Some(d) = std::env::var_os(own).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os(xdg).filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("helix");
    }
    crate::paths::home().join(fallback).join("helix")
}

/// The user's own config file, the only one that may remove a protected path:
/// `.config/helix/config.toml` in the home directory the system's user database gives this
/// user — not `$HOME`, `HELIX_CONFIG_DIR` or `XDG_CONFIG_HOME`, which whatever starts helix
/// can set.
pub fn own_file() -> PathBuf {
    real_home().unwrap_or_else(crate::paths::home).join(".config/helix/config.toml")
}

/// This user's home directory from the user database (`getpwuid_r`).
fn real_home() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r fills `pw` with pointers into `buf`, which outlives their use here.
    let rc =
        unsafe { libc::getpwuid_r(libc::getuid(), &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() || pw.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a NUL-terminated string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
    let dir = std::ffi::OsStr::from_bytes(dir.to_bytes());
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The project `cwd` is in: the nearest directory at or above it holding a `helix.toml`, or
/// failing that, the nearest holding a `recipes/` folder with a recipe in it. One search for
/// both, so the `helix.toml` and the `recipes/` helix uses always belong to the same project.
pub fn project_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors().find(|d| d.join("helix.toml").is_file()).map(Path::to_path_buf).or_else(|| {
        cwd.ancestors()
            .find(|d| {
                std::fs::read_dir(d.join("recipes")).is_ok_and(|rd| {
                    rd.flatten().any(|e| e.path().extension().is_some_and(|x| x == "rhai"))
                })
            })
            .map(Path::to_path_buf)
    })
}

/// The project file that applies in `cwd`: `helix.toml` in its [`project_root`].
pub fn project_file(cwd: &Path) -> Option<PathBuf> {
    project_root(cwd).map(|d| d.join("helix.toml")).filter(|p| p.is_file())
}
