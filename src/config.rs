//! Configuration: the built-in defaults, the user's file, a project's `helix.toml` and
//! `--config`, merged key by key with the origin of every value kept for `helix config`.
//!
//! Protection only grows: `guard.protected` is the union of every file's list, and a file can
//! neither empty it nor replace the `guard` table. Only the user's own file
//! (`.config/helix/config.toml` of the home the user database gives) may take an entry out, with `guard.unprotect`; anywhere else
//! that key is an error. A cloned repository's `helix.toml`, `--config`, or a config dir chosen
//! through `HELIX_CONFIG_DIR`/`XDG_CONFIG_HOME` can therefore add protection, never remove it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const DEFAULTS: &str = include_str!("default-config.toml");

#[derive(Debug, Clone)]
pub struct Config {
    pub table: toml::Table,
    /// Dotted key → where its value came from.
    pub origins: BTreeMap<String, String>,
    /// `guard.unprotect` of the user's own file: entries taken out of `guard.protected`,
    /// whichever file added them.
    unprotected: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let mut c =
            Config { table: toml::Table::new(), origins: BTreeMap::new(), unprotected: vec![] };
        let defaults: toml::Table = DEFAULTS.parse().expect("built-in config parses");
        c.merge(defaults, "built-in");
        c
    }
}

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

fn same_file(a: &Path, b: &Path) -> bool {
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

impl Config {
    /// Built-in defaults, then the user's own file, then the file of a config dir chosen
    /// through the environment, then the project's, then `explicit`.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        let mut c = Config::default();
        let own = own_file();
        if own.is_file() {
            c.merge_own_file(&own)?;
        }
        let user = config_dir().join("config.toml");
        if user.is_file() && !same_file(&user, &own) {
            c.merge_file(&user)?;
        }
        if let Some(p) = std::env::current_dir().ok().and_then(|d| project_file(&d)) {
            c.merge_file(&p)?;
        }
        if let Some(p) = explicit {
            if !p.is_file() {
                return Err(Error::Config {
                    path: p.to_path_buf(),
                    message: "no such file (given with --config)".into(),
                });
            }
            c.merge_file(p)?;
        }
        Ok(c)
    }

    /// Merge a file that may only add protection (a project's, `--config`, an env-chosen dir).
    pub fn merge_file(&mut self, path: &Path) -> Result<()> {
        self.merge_checked(path, false)
    }

    /// Merge the user's own file: the one place `guard.unprotect` is honoured.
    pub fn merge_own_file(&mut self, path: &Path) -> Result<()> {
        self.merge_checked(path, true)
    }

    fn merge_checked(&mut self, path: &Path, own: bool) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
        let bad = |message: String| Error::Config { path: path.to_path_buf(), message };
        let mut table: toml::Table =
            text.parse().map_err(|e: toml::de::Error| bad(e.to_string().trim_end().to_string()))?;
        let before: Vec<String> = self
            .get("guard.protected")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let mut unprotect = vec![];
        if let Some(g) = table.get_mut("guard") {
            let toml::Value::Table(g) = g else {
                return Err(bad("`guard` must be a table ([guard])".into()));
            };
            if let Some(v) = g.get("protected")
                && !v.as_array().is_some_and(|a| a.iter().all(|e| e.is_str()))
            {
                return Err(bad("`guard.protected` must be a list of paths or globs".into()));
            }
            if let Some(v) = g.remove("unprotect") {
                if !own {
                    return Err(bad(format!(
                        "`guard.unprotect` is only honoured in your own config file `{}`:                          a project file, --config or an environment-chosen config dir can add                          protected paths, never remove one",
                        own_file().display()
                    )));
                }
                let Some(a) = v.as_array().filter(|a| a.iter().all(|e| e.is_str())) else {
                    return Err(bad("`guard.unprotect` must be a list of paths".into()));
                };
                unprotect = a.iter().filter_map(|e| e.as_str()).map(String::from).collect();
            }
        }
        self.merge(table, &path.display().to_string());
        // The union: what any earlier file protected stays protected.
        let mut all = before;
        for e in self.protected() {
            if !all.contains(&e) {
                all.push(e);
            }
        }
        self.unprotected
            .extend(unprotect.iter().map(|e| crate::paths::expand(e).display().to_string()));
        let list = toml::Value::Array(all.into_iter().map(toml::Value::String).collect());
        if let Some(toml::Value::Table(g)) = self.table.get_mut("guard") {
            g.insert("protected".into(), list);
        }
        Ok(())
    }

    fn merge(&mut self, from: toml::Table, origin: &str) {
        fn walk(
            into: &mut toml::Table,
            from: toml::Table,
            prefix: &str,
            origin: &str,
            origins: &mut BTreeMap<String, String>,
        ) {
            for (k, v) in from {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                match (into.get_mut(&k), v) {
                    (Some(toml::Value::Table(dst)), toml::Value::Table(src)) => {
                        walk(dst, src, &key, origin, origins)
                    }
                    (_, v) => {
                        let v = expand_tildes(v);
                        record(&key, &v, origin, origins);
                        into.insert(k, v);
                    }
                }
            }
        }
        fn record(
            key: &str,
            v: &toml::Value,
            origin: &str,
            origins: &mut BTreeMap<String, String>,
        ) {
            if let toml::Value::Table(t) = v {
                for (k, v) in t {
                    record(&format!("{key}.{k}"), v, origin, origins);
                }
            } else {
                origins.insert(key.to_string(), origin.to_string());
            }
        }
        walk(&mut self.table, from, "", origin, &mut self.origins);
    }

    /// A value by dotted key (`vm.ssh_port`).
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        let mut parts = key.split('.');
        let mut cur = self.table.get(parts.next()?)?;
        for p in parts {
            cur = cur.as_table()?.get(p)?;
        }
        Some(cur)
    }

    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.as_str())
    }

    /// The user's extra protected paths (`guard.protected`, the union of every file's list,
    /// less what the user's own file unprotects).
    pub fn protected(&self) -> Vec<String> {
        self.get("guard.protected")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|e| !self.unprotected.contains(e))
            .collect()
    }

    /// Every leaf as `key = value    # origin`, for `helix config`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (key, origin) in &self.origins {
            if let Some(v) = self.get(key) {
                out.push_str(&format!("{key} = {v}    # {origin}\n"));
            }
        }
        out
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.table).unwrap_or_default()
    }
}

fn expand_tildes(v: toml::Value) -> toml::Value {
    match v {
        toml::Value::String(s) if s == "~" || s.starts_with("~/") => {
            toml::Value::String(crate::paths::expand(&s).display().to_string())
        }
        toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(expand_tildes).collect()),
        toml::Value::Table(t) => {
            toml::Value::Table(t.into_iter().map(|(k, v)| (k, expand_tildes(v))).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_expand_home_and_record_origin() {
        let c = Config::default();
        let pm = c.get_str("paths.pm").unwrap();
        assert!(pm.ends_with("/pm") && !pm.starts_with('~'), "{pm}");
        assert_eq!(c.origins["paths.pm"], "built-in");
        assert_eq!(c.get("vm.ssh_port").and_then(|v| v.as_integer()), Some(2222));
    }

    #[test]
    fn later_files_override_key_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("helix.toml");
        std::fs::write(&f, "[vm]\nssh_port = 2223\n").unwrap();
        let mut c = Config::default();
        c.merge_file(&f).unwrap();
        assert_eq!(c.get("vm.ssh_port").and_then(|v| v.as_integer()), Some(2223));
        assert_eq!(c.get_str("vm.ssh_user"), Some("luke"));
        assert_eq!(c.origins["vm.ssh_port"], f.display().to_string());
        assert_eq!(c.origins["vm.ssh_user"], "built-in");
    }

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let f = dir.join(name);
        std::fs::write(&f, text).unwrap();
        f
    }

    #[test]
    fn protection_only_grows_from_other_files() {
        let d = tempfile::tempdir().unwrap();
        let own = file(d.path(), "own.toml", "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n");
        let mut c = Config::default();
        c.merge_own_file(&own).unwrap();
        // Every spelling of "empty the list" in a project file leaves the user's entries.
        for text in [
            "[guard]\nprotected = []\n",
            "guard.protected = []\n",
            "guard = { protected = [] }\n",
            "[guard]\nprotected = [\"/other\"]\n",
            "[guard]\n",
            "guard = {}\n",
        ] {
            let mut c = c.clone();
            c.merge_file(&file(d.path(), "helix.toml", text)).unwrap();
            let p = c.protected();
            assert!(p.contains(&"/vms/a".into()) && p.contains(&"/vms/b".into()), "{text}: {p:?}");
        }
        let mut grown = c.clone();
        grown.merge_file(&file(d.path(), "helix.toml", "guard.protected = [\"/other\"]")).unwrap();
        assert_eq!(grown.protected(), vec!["/vms/a", "/vms/b", "/other"]);
        // Replacing the table or the list by something else is an error, not a removal.
        for text in [
            "guard = 1\n",
            "guard = \"\"\n",
            "[guard]\nprotected = \"\"\n",
            "[guard]\nprotected = [1]\n",
        ] {
            let mut c = c.clone();
            let err = c.merge_file(&file(d.path(), "helix.toml", text)).unwrap_err().to_string();
            assert!(err.contains("helix.toml") && err.contains("guard"), "{text}: {err}");
            assert_eq!(c.protected(), vec!["/vms/a", "/vms/b"]);
        }
    }

    #[test]
    fn only_the_own_file_can_unprotect() {
        let d = tempfile::tempdir().unwrap();
        let mut c = Config::default();
        c.merge_file(&file(d.path(), "a.toml", "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n"))
            .unwrap();
        let un = file(d.path(), "b.toml", "[guard]\nunprotect = [\"/vms/a\"]\n");
        let err = c.clone().merge_file(&un).unwrap_err().to_string();
        assert!(err.contains("only honoured in your own config file"), "{err}");
        let mut own = Config::default();
        own.merge_own_file(&un).unwrap();
        // Whichever file adds it later: the user's own word takes it out.
        own.merge_file(&file(
            d.path(),
            "a.toml",
            "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n",
        ))
        .unwrap();
        assert_eq!(own.protected(), vec!["/vms/b"]);
    }

    #[test]
    fn a_broken_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("helix.toml");
        std::fs::write(&f, "[vm\n").unwrap();
        let err = Config::default().merge_file(&f).unwrap_err().to_string();
        assert!(err.contains("helix.toml"), "{err}");
    }
}
