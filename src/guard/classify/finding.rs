//! What the classifier found: why a command is destructive, how much a person must do to
//! confirm it, and each thing it destroys — resolved against the real filesystem (and the links,
//! files and `cd`s of the script it runs in) so the guard can refuse protected paths and the
//! question can name what will really be touched.

use std::path::{Path, PathBuf};

use super::state::Scope;
use super::words::Arg;

/// How much a person must do to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    /// A y/N question, defaulting to No.
    YesNo,
    /// Typing the target's name (recursive deletes, disk overwrites).
    TypeName,
}

/// Where a destroyed thing is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Place {
    /// A local path, resolved the way the command will resolve it.
    Local(PathBuf),
    /// A path on another machine (as the remote shell will see it).
    Remote(String),
    /// Only known when the command runs (an unset variable, a substitution, an unknown `cd`):
    /// it could be anything, a protected path included.
    Unresolved,
    /// Not a path: a process name, a dataset, a container, a branch.
    Named(String),
}

/// One thing a command destroys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    /// As written in the command (`$D`, `/vms/v*`, `lnk/`).
    pub written: String,
    pub place: Place,
    /// What the command does to it: "deleted recursively", "truncated", "moved away", …
    pub effect: String,
    /// The effect reaches everything inside it (recursive deletes, moves of a directory).
    pub tree: bool,
    /// A symbolic link on the way: `(the link, what it points to, whether the command follows
    /// it)`. Followed, `place` is the link's target; not followed, only the link is affected.
    pub link: Option<(PathBuf, PathBuf, bool)>,
    /// Created earlier in the same script (so the script may destroy it again).
    pub by_script: bool,
}

impl Hit {
    /// The local path, if any.
    pub(crate) fn local(&self) -> Option<&Path> {
        match &self.place {
            Place::Local(p) => Some(p),
            _ => None,
        }
    }
}

/// Why a command is destructive, and what it would destroy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    /// A short reason: "recursive delete (`rm -r`)", "`dd of=` overwrites its target", …
    pub why: String,
    pub severity: Severity,
    /// What it destroys, resolved.
    pub hits: Vec<Hit>,
    /// The machine it runs on, when not this one (`ssh host …`).
    pub host: Option<String>,
    /// Operands named by the rule, not yet resolved (resolved at the end of the command).
    pending: Vec<(Arg, Effect)>,
}

/// How a rule's operand is affected; decides whether a final symlink is followed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Effect {
    /// Removed by name: a final symlink is removed itself (unless written with a trailing `/`).
    Unlink { tree: bool },
    /// Written through: a final symlink is followed.
    Write,
    /// Moved away by name (a `mv` source).
    MoveAway,
    /// Not a path (a branch, a process name, a pool): shown as written.
    Name,
}

impl Effect {
    fn text(self, why: &str) -> String {
        match self {
            Effect::Unlink { tree: true } => "deleted with everything in it".into(),
            Effect::Unlink { tree: false } => "deleted".into(),
            Effect::MoveAway => "moved away (helix cannot undo a command's move)".into(),
            Effect::Write | Effect::Name => why.to_string(),
        }
    }
}

impl Finding {
    pub(crate) fn new(why: impl Into<String>, severity: Severity) -> Self {
        Finding { why: why.into(), severity, hits: vec![], host: None, pending: vec![] }
    }

    /// The operands it overwrites (followed through links).
    pub(crate) fn with_targets(self, targets: &[Arg]) -> Self {
        self.with(targets, Effect::Write)
    }

    /// The operands, affected as `effect` says.
    pub(crate) fn with(mut self, targets: &[Arg], effect: Effect) -> Self {
        for t in targets {
            self.pending.push((t.clone(), effect));
        }
        self
    }

    pub(crate) fn type_name(mut self) -> Self {
        self.severity = Severity::TypeName;
        self
    }

    #[cfg(test)]
    /// Whether some local target cannot be known before the command runs.
    pub(crate) fn unresolved(&self) -> bool {
        self.hits.iter().any(|h| h.place == Place::Unresolved)
    }

    /// The resolved local paths it destroys.
    pub(crate) fn local_paths(&self) -> Vec<PathBuf> {
        self.hits.iter().filter_map(|h| h.local().map(Path::to_path_buf)).collect()
    }

    /// The word a person must type to confirm (the first target's last path component).
    pub(crate) fn name_to_type(&self) -> String {
        self.hits
            .iter()
            .find_map(|h| {
                let t = match &h.place {
                    Place::Local(p) => p.to_string_lossy().into_owned(),
                    Place::Remote(s) | Place::Named(s) => s.clone(),
                    Place::Unresolved => h.written.clone(),
                };
                let t = t.trim_end_matches('/');
                let name = t.rsplit('/').next().unwrap_or(t);
                (!name.is_empty() && name != "." && name != ".." && !name.contains('$'))
                    .then(|| name.to_string())
            })
            .unwrap_or_else(|| "yes".to_string())
    }

    /// Resolve the pending operands in `scope` (the command's directory, the script's links
    /// and files). Idempotent: resolved hits stay as they are.
    pub(crate) fn resolve(mut self, scope: &Scope) -> Self {
        let why = self.why.clone();
        for (arg, effect) in std::mem::take(&mut self.pending) {
            let tree = matches!(effect, Effect::Unlink { tree: true } | Effect::MoveAway);
            let base = Hit {
                written: arg.text.clone(),
                place: Place::Unresolved,
                effect: effect.text(&why),
                tree,
                link: None,
                by_script: false,
            };
            if effect == Effect::Name {
                self.hits.push(Hit { place: Place::Named(arg.text.clone()), ..base });
                continue;
            }
            if arg.own {
                self.hits.push(Hit { by_script: true, ..base });
                continue;
            }
            if arg.dynamic {
                self.hits.push(base);
                continue;
            }
            let follow = match effect {
                Effect::Write => true,
                _ => arg.text.ends_with('/') || arg.text.ends_with("/.") || arg.text == ".",
            };
            match scope.resolve(&arg.text, follow) {
                None => self.hits.push(base),
                Some(r) => self.hits.push(Hit {
                    place: r.place,
                    link: r.link,
                    by_script: r.by_script,
                    ..base
                }),
            }
        }
        if scope.remote.is_some() && self.host.is_none() {
            self.host = scope.remote.clone();
        }
        self
    }

    /// Drop what the same script created itself: `None` when nothing else is left.
    pub(crate) fn without_own(mut self) -> Option<Self> {
        if self.hits.is_empty() || !self.pending.is_empty() {
            return Some(self);
        }
        if self.hits.iter().all(|h| h.by_script) {
            return None;
        }
        self.hits.retain(|h| !h.by_script);
        Some(self)
    }

    pub(crate) fn merge(self, other: Finding) -> Finding {
        let (mut a, b) = if other.severity > self.severity { (other, self) } else { (self, other) };
        for h in b.hits {
            if !a.hits.contains(&h) {
                a.hits.push(h);
            }
        }
        a.pending.extend(b.pending);
        if a.host.is_none() {
            a.host = b.host;
        }
        a
    }
}
