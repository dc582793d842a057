//! Path helpers shared by every domain: `~` expansion and lexical absolutisation.

use std::path::{Component, Path, PathBuf};

/// The user's home directory (`$HOME`).
pub fn home() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"))
}

/// Expand a leading `~` or `~/`.
pub fn expand(path: &str) -> PathBuf {
    if path == "~" {
        home()
    } else if let Some(rest) = path.strip_prefix("~/") {
        home().join(rest)
    } else {
        PathBuf::from(path)
    }
}

/// Absolute and lexically normalised (`.`/`..` folded), without touching the filesystem.
pub fn absolute(path: &Path) -> PathBuf {
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
pub fn resolve(path: &Path) -> PathBuf {
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
    fn resolve_follows_links_of_the_existing_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink(&real, dir.path().join("link")).unwrap();
        let got = resolve(&dir.path().join("link/missing/x"));
        assert_eq!(got, real.canonicalize().unwrap().join("missing/x"));
    }
}
