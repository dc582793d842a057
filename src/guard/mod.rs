//! The hardened core: every primitive that changes the machine passes through [`act`], which
//! refuses protected targets, asks a person at the terminal before anything destructive,
//! turns the action into a plan line under `--dry-run`, and journals what happened.

pub mod classify;
pub mod cli;
pub mod confirm;
pub mod protect;
pub mod trash;
pub mod undo;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use crate::error::{Error, Result};

/// What an action would destroy if it went wrong or did what it says.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A file or directory that is deleted or overwritten.
    Path { path: PathBuf, recursive: bool },
    /// A command the classifier found destructive (`argv` as shown, secrets redacted); the
    /// finding says why and what it destroys, resolved (on another host for `ssh`).
    Command { argv: Vec<String>, finding: classify::Finding },
    /// A running VM that is stopped or killed (its guest state may be lost).
    Vm { name: String },
    /// A disk image whose contents are overwritten or shrunk.
    Disk { path: PathBuf, why: String },
    /// Uncommitted changes in a git worktree that would be lost.
    Worktree { path: PathBuf, why: String },
}

impl Target {
    /// What the dry-run plan says a person would be asked about.
    pub fn summary(&self) -> String {
        match self {
            Target::Path { path, recursive: true } if path.is_dir() => {
                format!("recursive delete of `{}`", path.display())
            }
            Target::Path { path, .. } => format!("delete of `{}`", path.display()),
            Target::Command { finding, .. } => finding.why.clone(),
            Target::Vm { name } => format!("stopping the running VM `{name}`"),
            Target::Disk { path, why } => format!("{why} (`{}`)", path.display()),
            Target::Worktree { path, why } => format!("{why} (`{}`)", path.display()),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Path { path, recursive: true } => {
                format!("`{}` and everything in it", path.display())
            }
            Target::Path { path, .. } => format!("`{}`", path.display()),
            Target::Command { argv, finding } => {
                format!("`{}` ({})", crate::process::display_argv(argv), finding.why)
            }
            Target::Vm { name } => format!("the running VM `{name}`"),
            Target::Disk { path, why } => format!("the disk image `{}` ({why})", path.display()),
            Target::Worktree { path, why } => {
                format!("the git worktree `{}` ({why})", path.display())
            }
        }
    }
}

/// One thing a primitive is about to do to the machine.
#[derive(Debug, Clone)]
pub struct Action {
    pub kind: &'static str,
    pub detail: String,
    pub args: Value,
    pub destroys: Vec<Target>,
    pub undo: Value,
    /// Paths the action moves away or replaces recoverably (trash, rename): never asked about,
    /// but refused when protected. `(path, whole tree)`.
    pub touches: Vec<(PathBuf, bool)>,
}

impl Action {
    pub fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Action {
            kind,
            detail: detail.into(),
            args: Value::Null,
            destroys: vec![],
            undo: Value::Null,
            touches: vec![],
        }
    }
    pub fn args(mut self, args: Value) -> Self {
        self.args = args;
        self
    }
    pub fn destroys(mut self, target: Target) -> Self {
        self.destroys.push(target);
        self
    }
    pub fn undo(mut self, undo: Value) -> Self {
        self.undo = undo;
        self
    }
    /// The action moves `path` away or replaces it recoverably: refused if protected (with
    /// `tree`, also if anything inside is), never asked about.
    pub fn touches(mut self, path: &std::path::Path, tree: bool) -> Self {
        self.touches.push((path.to_path_buf(), tree));
        self
    }

    /// Running `argv` in `cwd` with `stdin` and `env` (on top of helix's environment): the
    /// guard classifies it here, and the finding travels in the action — nothing to remember,
    /// nothing looked up later.
    pub fn command(
        argv: &[String],
        cwd: Option<&std::path::Path>,
        stdin: Option<&[u8]>,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Self {
        Action::new("process.run", format!("run `{}`", display(argv)))
            .args(serde_json::json!({ "argv": argv }))
            .runs(argv, cwd, stdin, env)
    }

    /// A richer action (a primitive's own kind and detail) that runs `argv`: the command is
    /// classified all the same, and what it destroys joins what the action already says.
    pub fn runs(
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
                        self.destroys.iter().any(|t| match t {
                            Target::Path { path, .. } | Target::Disk { path, .. } => {
                                protect::physical(path) == protect::physical(p)
                            }
                            _ => false,
                        })
                    })
                });
            if !covered {
                self.destroys.push(Target::Command { argv: argv.to_vec(), finding });
            }
        }
        self
    }

    /// Replace `secrets` by `***` in what is shown and journaled.
    pub fn redact(mut self, secrets: &[String]) -> Self {
        let hide = |s: &str| {
            secrets
                .iter()
                .filter(|x| !x.is_empty())
                .fold(s.to_string(), |acc, x| acc.replace(x.as_str(), "***"))
        };
        self.detail = hide(&self.detail);
        if let Ok(text) = serde_json::to_string(&self.args) {
            if let Ok(v) = serde_json::from_str(&hide(&text)) {
                self.args = v;
            }
        }
        for t in &mut self.destroys {
            if let Target::Command { argv, finding } = t {
                *argv = argv.iter().map(|a| hide(a)).collect();
                finding.why = hide(&finding.why);
                for h in &mut finding.hits {
                    h.written = hide(&h.written);
                }
            }
        }
        self
    }

    /// The findings of the commands this action runs.
    pub fn findings(&self) -> impl Iterator<Item = &classify::Finding> {
        self.destroys.iter().filter_map(|t| match t {
            Target::Command { finding, .. } => Some(finding),
            _ => None,
        })
    }
}

/// Quote an argv for display the way a shell user would type it.
fn display(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+~".contains(c));
            if plain { a.clone() } else { format!("'{}'", a.replace('\'', r"'\''")) }
        })
        .collect::<Vec<_>>()
        .join(" ")
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
                                command: action.detail.replace('`', ""),
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
fn needs_person(t: &Target, ctx: &crate::ctx::Ctx) -> bool {
    match t {
        Target::Path { path, .. } | Target::Disk { path, .. } => !ctx.created_by_run(path),
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
pub fn act<T: Default>(action: Action, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let ctx = crate::ctx::get();
    // Protected paths first: no confirmation can unlock them.
    if let Some(err) = refusal(&action, &ctx.config) {
        if ctx.dry_run {
            let why = match &err {
                Error::Protected { rule, .. } => format!("protected by {rule}"),
                other => other.to_string(),
            };
            crate::ui::plan(&format!("refused: {why} — {}", action.detail));
            journal(&action, "dry-run: refused (protected)", Instant::now());
            return Ok(T::default());
        }
        journal(&action, &format!("refused: {err}"), Instant::now());
        return Err(err);
    }
    let needs: Vec<Target> =
        action.destroys.iter().filter(|t| needs_person(t, ctx)).cloned().collect();
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
    crate::ctx::get().with_journal(|j| {
        j.action(
            action.kind,
            &action.detail,
            action.args.clone(),
            result,
            started.elapsed(),
            action.undo.clone(),
        )
    });
}

/// Refuse outright (used where no confirmation may unlock an action).
pub fn refuse(command: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Refused { command: command.into(), reason: reason.into() }
}

/// Keep the current bytes of `path` before it is overwritten; returns where they were kept:
/// a copy in the helix trash on the same filesystem, linked to the run, which `helix undo`
/// restores from (and `helix trash list` shows).
pub fn keep_previous(path: &std::path::Path) -> Result<PathBuf> {
    Ok(trash::keep_copy(path)?.stored())
}

#[cfg(test)]
mod chokepoint {
    //! The guard is the one way to spawn or delete: this test fails when a module other than
    //! `process.rs` spawns a process, or one outside `guard/` deletes a file, another way.

    use std::path::{Path, PathBuf};

    /// Deleting calls allowed outside `src/guard/`: `(file, needle)`, each with its reason.
    /// Prefer `guard::trash::remove` (user data), `remove_permanently` (asks), or
    /// `remove_scratch` (helix's own sockets and temp dirs) to adding a line here.
    /// Deletes outside the guard that are helix's own scratch, each with why it is not user data.
    const ALLOWED_DELETES: &[(&str, &str)] = &[
        // A stale QMP socket of an earlier QEMU in the VM dir: QEMU recreates it.
        ("qemu.rs", "remove_file(&qmp)"),
        // helix's own per-VM QEMU log, rewritten at each start.
        ("qemu.rs", "remove_file(&qemu_log)"),
        // The partial output of a failed `qemu-img convert` helix itself started.
        ("qemu_img.rs", "remove_file(&partial)"),
        // A `.part` download whose checksum did not match: never put in place.
        ("net.rs", "remove_file(&part)"),
        // The private 0700 ControlPath dir of this process's SSH masters.
        ("ssh.rs", "remove_dir_all(dir)"),
    ];

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                rust_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }

    /// The code of a file without its `#[cfg(test)]` tail and without comments.
    fn code(text: &str) -> Vec<(usize, String)> {
        let mut out = vec![];
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            let t = line.trim_start();
            if t.starts_with("//") {
                continue;
            }
            out.push((i + 1, line.to_string()));
        }
        out
    }

    #[test]
    fn only_process_spawns_and_only_the_guard_deletes() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![];
        rust_files(&src, &mut files);
        assert!(files.len() > 10);
        let spawners = [
            "Command::new",
            "std::process::Command",
            "process::Command",
            "libc::fork",
            "libc::exec",
            "posix_spawn",
            "libc::system",
            "CommandExt",
        ];
        let deleters = [
            "remove_file",
            "remove_dir_all",
            "remove_dir(",
            "libc::unlink",
            "libc::rmdir",
            "unlinkat",
            "std::fs::remove",
        ];
        let mut bad = vec![];
        for f in &files {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(f).unwrap();
            for (n, line) in code(&text) {
                let spawns = spawners.iter().any(|s| line.contains(s))
                    || (line.contains("use std::process::") && line.contains("Command"));
                if spawns && rel != "process.rs" {
                    bad.push(format!(
                        "src/{rel}:{n}: spawns a process outside src/process.rs: {}",
                        line.trim()
                    ));
                }
                let deletes = deleters.iter().find(|d| line.contains(*d));
                if deletes.is_some() {
                    let allowed = rel.starts_with("guard/")
                        || ALLOWED_DELETES
                            .iter()
                            .any(|(file, needle)| rel == *file && line.contains(needle));
                    if !allowed {
                        bad.push(format!("src/{rel}:{n}: deletes outside src/guard/ (use fs::remove / guard::trash): {}", line.trim()));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "the guard is bypassed:\n{}", bad.join("\n"));
    }

    #[test]
    fn the_scan_catches_a_bypass() {
        let text = "fn f() {\n    let _ = std::process::Command::new(\"rm\");\n    std::fs::remove_dir_all(\"x\").ok();\n}\n#[cfg(test)]\nmod tests { fn g() { std::fs::remove_file(\"y\"); } }\n";
        let lines = code(text);
        assert!(lines.iter().any(|(_, l)| l.contains("Command::new")));
        assert!(lines.iter().any(|(_, l)| l.contains("remove_dir_all")));
        assert!(!lines.iter().any(|(_, l)| l.contains("remove_file")), "test code is not scanned");
    }
}
