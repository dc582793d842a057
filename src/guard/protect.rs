//! Protected paths: what helix never deletes, trashes, moves away or overwrites.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;

pub struct Rule {
    pub name: String,
    pub origin: String,
}

impl Rule {
    pub fn error(&self, path: &Path) -> Error {
        Error::Protected {
            path: path.to_path_buf(),
            rule: self.name.clone(),
            hint: format!("{} — helix never deletes, moves or overwrites it", self.origin),
        }
    }
}

/// The rule that protects `path`, if any. Compared on the resolved path.
pub fn rule_for(path: &Path, config: &Config) -> Option<Rule> {
    let resolved = crate::paths::resolve(path);
    let home = crate::paths::resolve(&crate::paths::home());
    let builtin = |name: &str| Some(Rule { name: name.into(), origin: "a built-in rule".into() });
    if resolved == Path::new("/") {
        return builtin("the rule `/`");
    }
    if resolved == home {
        return builtin("the rule `home directory`");
    }
    for root in
        ["/Applications", "/System", "/Users", "/Library", "/usr", "/bin", "/etc", "/Volumes"]
    {
        if resolved == Path::new(root) {
            return builtin(&format!("the rule `{root}`"));
        }
    }
    if resolved.parent() == Some(Path::new("/Volumes")) {
        return builtin("the rule `/Volumes/*`");
    }
    for c in resolved.components() {
        let s = c.as_os_str().to_string_lossy();
        if s.contains(".backup") {
            return builtin("the rule `*.backup*`");
        }
        if s.ends_with(".safe") {
            return builtin("the rule `*.safe`");
        }
    }
    for p in config.protected() {
        let pp = crate::paths::resolve(&PathBuf::from(&p));
        if resolved == pp || resolved.starts_with(&pp) {
            let origin = config.origins.get("guard.protected").cloned().unwrap_or_default();
            return Some(Rule {
                name: format!("`{p}` in guard.protected"),
                origin: format!("configured in {origin}"),
            });
        }
    }
    None
}
