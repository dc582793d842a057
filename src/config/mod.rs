//! Configuration: the built-in defaults, the user's file, a project's `helix.toml` and
//! `--config`, merged key by key with the origin of every value kept for `helix config`.
//!
//! The built-in file names nobody's machine: what depends on the machine is left empty there
//! and filled in by [`Config::load`] from this machine — the backend from the OS, the SSH user
//! from the account, the VM's UUID and bundle from UTM's registry, its disks from `vm.dir` —
//! with the origin saying so. Every file is checked against the built-in keys: a key helix
//! does not know is an error with the closest known key, not a silently ignored setting.
//!
//! Protection only grows: `guard.protected` is the union of every file's list, and a file can
//! neither empty it nor replace the `guard` table. Only the user's own file
//! (`.config/helix/config.toml` of the home the user database gives) may take an entry out, with `guard.unprotect`; anywhere else
//! that key is an error. A cloned repository's `helix.toml`, `--config`, or a config dir chosen
//! through `HELIX_CONFIG_DIR`/`XDG_CONFIG_HOME` can therefore add protection, never remove it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

mod keys;
mod places;

use keys::check_keys;
use places::same_file;
pub use places::{config_dir, own_file, project_file, project_root, state_dir};

const DEFAULTS: &str = include_str!("../default-config.toml");

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
    /// The built-in file alone (absolute paths under a simulated Mac's root, if any).
    fn default() -> Self {
        let mut c =
            Config { table: toml::Table::new(), origins: BTreeMap::new(), unprotected: vec![] };
        c.merge(relocate(builtin()), "built-in");
        c
    }
}

fn builtin() -> toml::Table {
    DEFAULTS.parse().expect("built-in config parses")
}

/// The built-in absolute paths (`/Applications/UTM.app`) where they are on this machine
/// (`paths::system`: under `HELIX_MAC_ROOT` when helix runs in a simulated Mac).
fn relocate(t: toml::Table) -> toml::Table {
    fn walk(v: toml::Value) -> toml::Value {
        match v {
            toml::Value::String(s) if s.starts_with('/') => {
                toml::Value::String(crate::paths::system(&s).display().to_string())
            }
            toml::Value::Array(a) => toml::Value::Array(a.into_iter().map(walk).collect()),
            toml::Value::Table(t) => {
                toml::Value::Table(t.into_iter().map(|(k, v)| (k, walk(v))).collect())
            }
            other => other,
        }
    }
    t.into_iter().map(|(k, v)| (k, walk(v))).collect()
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
        c.fill_from_machine();
        Ok(c)
    }

    /// Fill the values the built-in file leaves empty from this machine (see the module doc).
    /// A value any file sets is kept as it is.
    pub fn fill_from_machine(&mut self) {
        // Only the built-in empties: a file that sets `zfs_disk = ""` means "none".
        let empty = |c: &Config, key: &str| {
            c.get_str(key).is_some_and(str::is_empty)
                && c.origins.get(key).is_some_and(|o| o == "built-in")
        };
        if empty(self, "vm.backend") {
            let b = if crate::paths::is_macos() { "utm" } else { "qemu" };
            self.set("vm.backend", b, &format!("this machine ({})", crate::paths::os()));
        }
        if empty(self, "vm.ssh_user")
            && let Some(user) = crate::paths::user_name()
        {
            self.set("vm.ssh_user", &user, "this machine (your user name)");
        }
        if empty(self, "vm.uuid") || empty(self, "vm.bundle") {
            let prefs = crate::paths::expand(self.get_str("paths.utm_preferences").unwrap_or(""));
            let name = self.get_str("vm.name").unwrap_or("").to_string();
            let uuid = self.get_str("vm.uuid").unwrap_or("").to_string();
            let found = crate::utm::registry::entries_from(&prefs).ok().and_then(|es| {
                es.into_iter().find(|e| {
                    if uuid.is_empty() {
                        e.name.as_deref() == Some(name.as_str())
                    } else {
                        e.uuid.eq_ignore_ascii_case(&uuid)
                    }
                })
            });
            if let Some(e) = found {
                let origin = format!("UTM's registry ({})", prefs.display());
                if uuid.is_empty() {
                    self.set("vm.uuid", &e.uuid, &origin);
                }
                if empty(self, "vm.bundle")
                    && let Some(p) = &e.path
                {
                    self.set("vm.bundle", &p.display().to_string(), &origin);
                }
            }
        }
        let dir = self.get_str("vm.dir").unwrap_or("").to_string();
        for (key, file) in [
            ("vm.bundle", "helix-desktop.utm"),
            ("vm.disk", "disk.qcow2"),
            ("vm.zfs_disk", "zfs-data.qcow2"),
        ] {
            if empty(self, key) && !dir.is_empty() {
                self.set(key, &format!("{dir}/{file}"), "vm.dir (what provision-vm makes there)");
            }
        }
    }

    fn set(&mut self, key: &str, value: &str, origin: &str) {
        let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key));
        let mut cur = &mut self.table;
        for part in table.split('.').filter(|p| !p.is_empty()) {
            cur = match cur
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                toml::Value::Table(t) => t,
                _ => return,
            };
        }
        cur.insert(leaf.to_string(), toml::Value::String(value.to_string()));
        self.origins.insert(key.to_string(), origin.to_string());
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
        check_keys(&table, path)?;
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
                        "`guard.unprotect` is only honoured in your own config file `{}`: \
                         a project file, --config or an environment-chosen config dir can add \
                         protected paths, never remove one",
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
mod tests;
