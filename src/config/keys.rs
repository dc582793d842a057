//! The keys helix knows: every leaf of the built-in file plus the optional ones, and the check
//! that refuses any other key in a file (naming the closest known one).

use std::path::Path;

use super::builtin;
use crate::error::{Error, Result};

/// Keys a file may set that the built-in file leaves out: `[pins]` overrides `stdlib/pins.rhai`;
/// `guard.unprotect` (the user's own file only).
const OPTIONAL_KEYS: &[&str] = &[
    "pins.utm_commit",
    "pins.qemu_branch",
    "pins.ubuntu_image_url",
    "pins.ubuntu_image_sha256",
    "guard.unprotect",
];

/// Every dotted key helix knows (the built-in leaves and [`OPTIONAL_KEYS`]).
pub(crate) fn known_keys() -> Vec<String> {
    fn walk(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::Table(sub) => walk(sub, &key, out),
                _ => out.push(key),
            }
        }
    }
    let mut out = Vec::new();
    walk(&builtin(), "", &mut out);
    out.extend(OPTIONAL_KEYS.iter().map(|k| k.to_string()));
    out
}

/// A likely misspelling: a few edits apart (relative to the length), or one name inside the
/// other (`utm` for `utm_app`).
fn close_to(known: &str, typed: &str) -> bool {
    let (known, typed) = (known.to_lowercase(), typed.to_lowercase());
    let (known, typed) = (known.as_str(), typed.as_str());
    let edits = crate::recipe::levenshtein(known, typed);
    edits <= if typed.len() >= 4 { 2 } else { 1 }
        || (typed.len() >= 3
            && known.len() >= 3
            && (known.contains(typed) || typed.contains(known)))
}

/// Refuse a key helix does not know (or a table where a value belongs, and the reverse),
/// naming the closest known key.
pub(super) fn check_keys(table: &toml::Table, path: &Path) -> Result<()> {
    let known = known_keys();
    let is_table = |key: &str| known.iter().any(|k| k.starts_with(&format!("{key}.")));
    fn walk(
        t: &toml::Table,
        prefix: &str,
        f: &mut dyn FnMut(&str, &toml::Value) -> Result<()>,
    ) -> Result<()> {
        for (k, v) in t {
            // A quoted key holding a dot (`"vm.ssh_user" = …`) names no setting: refused as
            // unknown, like any other key helix would otherwise silently ignore.
            let k = if k.contains('.') { format!("\"{k}\"") } else { k.clone() };
            let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
            f(&key, v)?;
            if let toml::Value::Table(sub) = v {
                walk(sub, &key, f)?;
            }
        }
        Ok(())
    }
    walk(table, "", &mut |key, v| {
        let table_here = matches!(v, toml::Value::Table(_));
        if table_here && is_table(key) || !table_here && known.iter().any(|k| k == key) {
            return Ok(());
        }
        let message = if table_here && known.iter().any(|k| k == key) {
            format!("`{key}` is a value, not a table (e.g. `{key} = ...`)")
        } else if !table_here && is_table(key) {
            format!("`{key}` is a table of settings (`[{key}]`), not a value")
        } else {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            let mut names: Vec<String> = known.clone();
            for k in &known {
                let mut parts: Vec<&str> = k.split('.').collect();
                while parts.len() > 1 {
                    parts.pop();
                    names.push(parts.join("."));
                }
            }
            names.sort();
            names.dedup();
            let mut close: Vec<&String> = names
                .iter()
                .filter(|k| {
                    let kl = k.rsplit('.').next().unwrap_or(k);
                    close_to(k, key) || close_to(kl, leaf)
                })
                .collect();
            close.sort_by_key(|k| crate::recipe::levenshtein(k, key));
            close.truncate(3);
            let hint = if close.is_empty() {
                "`helix config` lists every key".to_string()
            } else {
                format!(
                    "did you mean {}?",
                    close.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                )
            };
            format!("unknown key `{key}`: {hint}")
        };
        Err(Error::Config { path: path.to_path_buf(), message })
    })
}
