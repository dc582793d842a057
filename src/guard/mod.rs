//! The hardened core: every primitive that changes the machine passes through [`act`], which
//! refuses protected targets, asks a person at the terminal before anything destructive,
//! turns the action into a plan line under `--dry-run`, and journals what happened.

pub mod classify;
pub mod confirm;
pub mod protect;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use crate::error::{Error, Result};

/// What an action would destroy if it went wrong or did what it says.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A file or directory that is deleted or overwritten.
    Path { path: PathBuf, recursive: bool },
    /// A local command the classifier found destructive; `why` says what it destroys.
    Command { argv: Vec<String>, why: String },
    /// A remote shell command the classifier found destructive.
    Remote { host: String, command: String, why: String },
    /// A running VM that is stopped or killed (its guest state may be lost).
    Vm { name: String },
    /// A disk image whose contents are overwritten or shrunk.
    Disk { path: PathBuf, why: String },
    /// Uncommitted changes in a git worktree that would be lost.
    Worktree { path: PathBuf, why: String },
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Target::Path { path, recursive: true } => format!("`{}` and everything in it", path.display()),
            Target::Path { path, .. } => format!("`{}`", path.display()),
            Target::Command { argv, why } => format!("`{}` ({why})", crate::process::display_argv(argv)),
            Target::Remote { host, command, why } => format!("`{command}` on {host} ({why})"),
            Target::Vm { name } => format!("the running VM `{name}`"),
            Target::Disk { path, why } => format!("the disk image `{}` ({why})", path.display()),
            Target::Worktree { path, why } => format!("the git worktree `{}` ({why})", path.display()),
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
}

impl Action {
    pub fn new(kind: &'static str, detail: impl Into<String>) -> Self {
        Action { kind, detail: detail.into(), args: Value::Null, destroys: vec![], undo: Value::Null }
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
}

/// Perform `action` through the guard: protected-path check, confirmation, dry-run, journal.
/// Under `--dry-run` the plan line is printed and `T::default()` returned without calling `f`.
pub fn act<T: Default>(action: Action, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let ctx = crate::ctx::get();
    // Protected paths first: no confirmation can unlock them.
    for t in &action.destroys {
        if let Target::Path { path, .. } | Target::Disk { path, .. } = t {
            if let Some(rule) = protect::rule_for(path, &ctx.config) {
                if ctx.dry_run {
                    crate::ui::plan(&format!("refused: {} — protected by {}", action.detail, rule.name));
                    return Ok(T::default());
                }
                let err = rule.error(path);
                journal(&action, &format!("refused: {err}"), Instant::now());
                return Err(err);
            }
        }
    }
    let needs: Vec<&Target> = action
        .destroys
        .iter()
        .filter(|t| match t {
            Target::Path { path, .. } | Target::Disk { path, .. } => !ctx.created_by_run(path),
            _ => true,
        })
        .collect();
    if ctx.dry_run {
        let line = if needs.is_empty() {
            format!("would {}", action.detail)
        } else {
            let what: Vec<String> = needs.iter().map(|t| t.describe()).collect();
            format!("would ask: {} — destroys {}", action.detail, what.join(", "))
        };
        crate::ui::plan(&line);
        journal(&action, "dry-run", Instant::now());
        return Ok(T::default());
    }
    if !needs.is_empty() {
        let targets: Vec<Target> = needs.into_iter().cloned().collect();
        if let Err(e) = confirm::confirm(&action.detail, &targets) {
            journal(&action, &format!("refused: {e}"), Instant::now());
            return Err(e);
        }
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
        j.action(action.kind, &action.detail, action.args.clone(), result, started.elapsed(), action.undo.clone())
    });
}

/// Refuse outright (used where no confirmation may unlock an action).
pub fn refuse(command: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::Refused { command: command.into(), reason: reason.into() }
}

/// Keep the current bytes of `path` before it is overwritten; returns where they were kept.
/// They go to the run's backup folder in the state dir, named so `helix undo` can restore them.
pub fn keep_previous(path: &std::path::Path) -> Result<PathBuf> {
    let ctx = crate::ctx::get();
    let run = ctx.run_id().unwrap_or_else(|| "no-run".into());
    let dir = crate::config::state_dir().join("backups").join(run);
    std::fs::create_dir_all(&dir).map_err(|e| Error::fs("create", &dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let n = std::fs::read_dir(&dir).map(|rd| rd.count()).unwrap_or(0);
    let dest = dir.join(format!("{n:04}-{name}"));
    std::fs::copy(path, &dest).map_err(|e| Error::fs("back up", path, e))?;
    Ok(dest)
}
