//! The hardened core: every primitive that changes the machine passes through [`act`], which
//! refuses protected targets, asks a person at the terminal before anything destructive,
//! turns the action into a plan line under `--dry-run`, and journals what happened.

pub mod classify;
// The question is asked on /dev/tty, opened read-write.
#[allow(clippy::disallowed_methods)]
pub(crate) mod confirm;
pub(crate) mod protect;
pub(crate) mod quote;
pub mod sandbox;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::undo::record::Undo;

/// What an action would destroy if it went wrong or did what it says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A file or directory that is deleted or overwritten.
    Path { path: PathBuf, recursive: bool },
    /// A command the classifier found destructive (`argv` as run, secrets redacted); the
    /// finding says why and what it destroys, resolved (on another host for `ssh`). `shown`
    /// is the command as a person is shown it: the argv, or what the recipe gave when helix
    /// wraps it (`ssh::run`'s remote command, not helix's `ssh -o … sh`); `named` says the
    /// action's own words already name it ("run `rm -rf build`").
    Command { argv: Vec<String>, finding: classify::Finding, shown: String, named: bool },
    /// A file or directory moved aside where `helix undo` puts it back from (`to`): nothing is
    /// destroyed, but the person is asked all the same.
    MovedAside { path: PathBuf, to: PathBuf },
    /// A running VM that is stopped or killed (its guest state may be lost).
    Vm { name: String },
    /// A disk image whose contents are overwritten or shrunk.
    Disk { path: PathBuf, why: String },
    /// Uncommitted changes in a git worktree that would be lost.
    Worktree { path: PathBuf, why: String },
}

impl Target {
    /// What the dry-run plan says a person would be asked about.
    pub(crate) fn summary(&self) -> String {
        match self {
            Target::Path { path, recursive: true } if path.is_dir() => {
                format!("recursive delete of `{}`", path.display())
            }
            Target::Path { path, .. } => format!("delete of `{}`", path.display()),
            Target::Command { finding, .. } => finding.why.clone(),
            Target::MovedAside { path, .. } => {
                format!("moving `{}` aside (`helix undo` puts it back)", path.display())
            }
            Target::Vm { name } => format!("stopping the running VM `{name}`"),
            Target::Disk { path, why } => format!("{why} (`{}`)", path.display()),
            Target::Worktree { path, why } => format!("{why} (`{}`)", path.display()),
        }
    }
}

/// One thing a primitive is about to do to the machine.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub kind: &'static str,
    pub detail: String,
    pub args: Value,
    pub destroys: Vec<Target>,
    pub undo: Option<Undo>,
    /// Paths the action moves away or replaces recoverably (trash, rename): never asked about,
    /// but refused when protected. `(path, whole tree)`.
    pub touches: Vec<(PathBuf, bool)>,
    /// The command as the recipe gave it, shown in place of the argv helix runs when that
    /// argv is helix's own wrapping of it (see [`Action::shows`]).
    pub shows: Option<String>,
    /// Whether `detail` already names the command the action runs.
    pub names_command: bool,
    /// Paths whose state this action's own undo brings back (a snapshot taken first): what
    /// the command it runs does to them is covered and not asked about again.
    pub recovers: Vec<PathBuf>,
}

impl Action {
    pub(crate) fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Action {
            kind,
            detail: detail.into(),
            args: Value::Null,
            destroys: vec![],
            undo: None,
            touches: vec![],
            recovers: vec![],
            shows: None,
            names_command: false,
        }
    }
    pub(crate) fn args(mut self, args: Value) -> Self {
        self.args = absolute_args(self.kind, args);
        self
    }
    pub(crate) fn destroys(mut self, target: Target) -> Self {
        self.destroys.push(target);
        self
    }
    /// How to reverse the action (`None`: nothing to record, e.g. under `--dry-run`).
    pub(crate) fn undo(mut self, undo: impl Into<Option<Undo>>) -> Self {
        // Journaled paths are absolute, whatever the primitive was given.
        self.undo = undo.into().map(Undo::absolute);
        self
    }
    /// The action moves `path` away or replaces it recoverably: refused if protected (with
    /// `tree`, also if anything inside is), never asked about.
    pub(crate) fn touches(mut self, path: &std::path::Path, tree: bool) -> Self {
        self.touches.push((path.to_path_buf(), tree));
        self
    }

    /// The action keeps `path`'s current state where its undo restores it (a snapshot taken
    /// before a revert), so the command's rewrite of `path` destroys nothing. Call before
    /// [`Action::runs`].
    pub(crate) fn recovers(mut self, path: &std::path::Path) -> Self {
        self.recovers.push(path.to_path_buf());
        self
    }

    /// Running `argv` in `cwd` with `stdin` and `env` (on top of helix's environment): the
    /// guard classifies it here, and the finding travels in the action — nothing to remember,
    /// nothing looked up later.
    pub(crate) fn command(
        argv: &[String],
        cwd: Option<&std::path::Path>,
        stdin: Option<&[u8]>,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        let mut action = Action::new("process.run", format!("run `{}`", quote::display_argv(argv)))
            .args(serde_json::json!({ "argv": argv }));
        action.names_command = true;
        action.runs(argv, cwd, stdin, env)
    }

    /// The action runs `command` (as the recipe gave it, and as `detail` names it) wrapped in
    /// an argv of helix's own (`ssh … sh`): a person is shown `command`, never the wrapping.
    /// Call before [`Action::runs`].
    pub(crate) fn shows(mut self, command: &str) -> Self {
        self.shows = Some(command.to_string());
        self.names_command = true;
        self
    }

    /// A richer action (a primitive's own kind and detail) that runs `argv`: the command is
    /// classified all the same, and what it destroys joins what the action already says.
    pub(crate) fn runs(
        mut self,
        argv: &[String],
        cwd: Option<&std::path::Path>,
        stdin: Option<&[u8]>,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        if let Some(finding) = classify::command(argv, cwd, stdin, env) {
            // Already said by the action (a disk the primitive names): not asked twice.
            let covered = !finding.hits.is_empty()
                && finding.hits.iter().all(|h| {
                    h.local().is_some_and(|p| {
                        let p = protect::physical(p);
                        self.recovers.iter().any(|r| protect::physical(r) == p)
                            || self.destroys.iter().any(|t| match t {
                                Target::Path { path, .. } | Target::Disk { path, .. } => {
                                    protect::physical(path) == p
                                }
                                _ => false,
                            })
                    })
                });
            if !covered {
                let shown = self.shows.clone().unwrap_or_else(|| quote::display_argv(argv));
                let named = self.names_command;
                self.destroys.push(Target::Command { argv: argv.to_vec(), finding, shown, named });
            }
        }
        self
    }

    /// Replace `secrets` by `***` in what is shown and journaled.
    pub(crate) fn redact(mut self, secrets: &[String]) -> Self {
        let hide = |s: &str| {
            secrets
                .iter()
                .filter(|x| !x.is_empty())
                .fold(s.to_string(), |acc, x| acc.replace(x.as_str(), "***"))
        };
        self.detail = hide(&self.detail);
        if let Ok(text) = serde_json::to_string(&self.args)
            && let Ok(v) = serde_json::from_str(&hide(&text))
        {
            self.args = v;
        }
        for t in &mut self.destroys {
            if let Target::Command { argv, finding, shown, .. } = t {
                *argv = argv.iter().map(|a| hide(a)).collect();
                *shown = hide(shown);
                finding.why = hide(&finding.why);
                for h in &mut finding.hits {
                    h.written = hide(&h.written);
                }
            }
        }
        self
    }

    #[cfg(test)]
    /// The findings of the commands this action runs.
    pub(crate) fn findings(&self) -> impl Iterator<Item = &classify::Finding> {
        self.destroys.iter().filter_map(|t| match t {
            Target::Command { finding, .. } => Some(finding),
            _ => None,
        })
    }
}

/// Why `action` may not run, confirmation or not: a protected path it touches or destroys (a
/// command's resolved targets included), or a command target that cannot be known before it
/// runs and so could be a protected path.
fn refusal(action: &Action, config: &crate::config::Config) -> Option<Error> {
    let check = |p: &std::path::Path, tree: bool| {
        if tree {
            protect::rule_for_tree(p, config)
        } else {
            protect::rule_for(p, config).map(|r| (p.to_path_buf(), r))
        }
    };
    for (p, tree) in &action.touches {
        if let Some((path, rule)) = check(p, *tree) {
            return Some(rule.error(&path));
        }
    }
    for t in &action.destroys {
        let hit = match t {
            Target::Path { path, recursive } => check(path, *recursive),
            Target::MovedAside { path, .. } => check(path, true),
            Target::Disk { path, .. } => check(path, false),
            Target::Command { finding, .. } => {
                for h in &finding.hits {
                    match &h.place {
                        classify::Place::Local(p) => {
                            if let Some((path, rule)) = check(p, h.tree) {
                                return Some(rule.error(&path));
                            }
                        }
                        classify::Place::Unresolved if finding.host.is_none() => {
                            return Some(Error::Refused {
                                op: action.detail.clone(),
                                reason: format!(
                                    "its target `{}` is only known when the command runs, so it could be a protected path ({}); write the path out, or use fs::remove / fs::move, which helix can undo",
                                    h.written, finding.why
                                ),
                            });
                        }
                        _ => {}
                    }
                }
                None
            }
            _ => None,
        };
        if let Some((path, rule)) = hit {
            return Some(rule.error(&path));
        }
    }
    None
}

/// Whether `t` needs a person: what the run created itself it may remove again.
fn needs_person(t: &Target, ctx: &crate::run::Run) -> bool {
    match t {
        Target::Path { path, .. } | Target::Disk { path, .. } | Target::MovedAside { path, .. } => {
            !ctx.created_by_run(path)
        }
        Target::Command { finding, .. } => {
            finding.hits.is_empty()
                || finding.hits.iter().any(|h| match h.local() {
                    Some(p) => !ctx.created_by_run(p),
                    None => true,
                })
        }
        _ => true,
    }
}

/// Perform `action` through the guard: protected-path check, confirmation, dry-run, journal.
/// Under `--dry-run` the plan line is printed and `T::default()` returned without calling `f`.
pub(crate) fn act<T: Default>(action: Action, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let ctx = crate::run::current();
    // Protected paths first: no confirmation can unlock them.
    if let Some(err) = refusal(&action, &ctx.config) {
        if ctx.dry_run {
            let why = match &err {
                Error::Protected { rule, .. } => format!("protected by {rule}"),
                Error::Refused { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            crate::ui::plan_refused(&format!("refused: {why} — {}", action.detail));
            journal(&action, "dry-run: refused (protected)", Instant::now());
            return Ok(T::default());
        }
        journal(&action, &format!("refused: {err}"), Instant::now());
        return Err(err);
    }
    let needs: Vec<Target> =
        action.destroys.iter().filter(|t| needs_person(t, &ctx)).cloned().collect();
    if ctx.dry_run {
        let line = match needs.first() {
            None => format!("would {}", action.detail),
            Some(t) => format!("would ask: {} — {}", t.summary(), action.detail),
        };
        crate::ui::plan(&line);
        journal(&action, "dry-run", Instant::now());
        return Ok(T::default());
    }
    if !needs.is_empty()
        && let Err(e) = confirm::confirm(&action.detail, &needs)
    {
        journal(&action, &format!("refused: {e}"), Instant::now());
        return Err(e);
    }
    let started = Instant::now();
    let result = f();
    match &result {
        Ok(_) => journal(&action, "ok", started),
        Err(e) => journal(&action, &format!("error: {e}"), started),
    }
    result
}

fn journal(action: &Action, result: &str, started: Instant) {
    crate::run::current().with_journal(|j| {
        j.action(
            action.kind,
            &action.detail,
            action.args.clone(),
            result,
            started.elapsed(),
            action.undo.as_ref().map_or(Value::Null, Undo::to_json),
        )
    });
}

/// Refuse outright (used where no confirmation may unlock an action).
pub(crate) fn refuse(op: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Refused { op: op.into(), reason: reason.into() }
}

/// An action's arguments with its local file paths made absolute, so the journal names the
/// same files from any directory: for the domains whose arguments are paths on this machine
/// (`fs`, `qemu_img`, `build`, `utm`, `plist`, `macho`, `net`: keys `path`, `from`, `to`,
/// `src`, `dest`, `dir`, `link`, `log`; `git`: `path` only). A symlink's `target`, a backing
/// file (relative to its image by design), remote paths (`ssh`) and numbers stay as given.
pub(crate) fn absolute_args(kind: &str, v: Value) -> Value {
    let domain = kind.split('.').next().unwrap_or("");
    let keys: &[&str] = match domain {
        "fs" | "qemu_img" | "build" | "utm" | "plist" | "macho" | "net" => {
            &["path", "from", "to", "src", "dest", "dir", "link", "log"]
        }
        "git" => &["path"],
        _ => return v,
    };
    let Value::Object(mut m) = v else { return v };
    for (k, x) in m.iter_mut() {
        if keys.contains(&k.as_str())
            && let Some(s) = x.as_str()
            && !s.is_empty()
            && !s.contains("://")
        {
            *x = Value::String(
                crate::paths::absolute(std::path::Path::new(s)).display().to_string(),
            );
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod leaf {
    //! The guard is a leaf: it imports no domain (`process`, `fs`, `qemu_img`, …). Trash and
    //! undo sit above the domains (`src/trash/`, `src/undo/`); an action carries its undo
    //! record, plain data from `src/undo/record.rs`, which imports no domain either. This test
    //! fails when a file under `src/guard/` (or the record) names a module outside the core it
    //! may use.

    use std::path::Path;

    /// What the guard may use: itself and the core every layer shares.
    const CORE: &[&str] = &["guard", "error", "run", "config", "paths", "ui", "journal", "size"];

    /// Uses still to be moved out, each owned by the classifier half of issue 13 (which edits
    /// `classify.rs`/`confirm.rs`): `(file, module)`. This list may only shrink.
    const PENDING: &[(&str, &str)] = &[];

    /// Data the guard carries from outside its core: the undo record (`src/undo/record.rs`),
    /// held to the same rule by `the_undo_record_imports_no_domain`. Only this path is allowed,
    /// not the rest of `undo`, which calls into every domain.
    const RECORD: &str = "undo::record::";

    /// The crate modules `text` names (comments included: a doc link to a domain is a smell too).
    fn crate_modules(text: &str) -> Vec<String> {
        let text = text.replace(&["crate::", RECORD].concat(), "record::");
        let mut out = vec![];
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    #[test]
    fn the_guard_imports_no_domain() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/guard");
        let mut bad = vec![];
        let mut files = vec![];
        let mut dirs = vec![dir.clone()];
        while let Some(d) = dirs.pop() {
            for p in std::fs::read_dir(&d).unwrap().flatten().map(|e| e.path()) {
                if p.is_dir() { dirs.push(p) } else { files.push(p) }
            }
        }
        files.sort();
        assert!(files.len() >= 4);
        for f in files.iter().filter(|f| f.extension().is_some_and(|x| x == "rs")) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(f).unwrap();
            let up = ["super", "::", "super"].concat();
            assert!(!text.contains(&up), "{name}: reaches out of the guard through {up}");
            for m in crate_modules(&text) {
                let pending = PENDING.iter().any(|(file, module)| *file == name && *module == m);
                if !CORE.contains(&m.as_str()) && !pending {
                    bad.push(format!("src/guard/{name} uses crate::{m}"));
                }
            }
        }
        assert!(bad.is_empty(), "the guard must not import a domain:\n{}", bad.join("\n"));
    }

    #[test]
    fn the_undo_record_imports_no_domain() {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(RECORD.replace("::", "/"));
        let text = std::fs::read_to_string(f.with_extension("rs")).unwrap();
        let bad: Vec<String> =
            crate_modules(&text).into_iter().filter(|m| !CORE.contains(&m.as_str())).collect();
        assert!(bad.is_empty(), "src/undo/record.rs must stay plain data, it uses {bad:?}");
    }

    #[test]
    fn the_check_sees_a_domain_import() {
        let text = format!("use {0}error::Result;\nlet x = {0}qemu_img::info(p);", "crate::");
        let mods = crate_modules(&text);
        assert_eq!(mods, vec!["error", "qemu_img"]);
        // The undo record is allowed; the rest of undo (which calls every domain) is not.
        let text = format!("use {0}undo::record::Undo;\nlet o = {0}undo::apply(u);", "crate::");
        assert_eq!(crate_modules(&text), vec!["undo"]);
    }
}
