//! One run of a recipe, as a value: its options (dry-run, resume, assume-yes), config, journal,
//! cancellation, the exit code `exit()` asked for, what it created, its secrets, step state,
//! sources, the `plist::edit` stack, the paths it protects — everything a run has, so two
//! runs in one process (a library user's) never see each other's. Dropping the last handle
//! tears the run down ([`Run::teardown`]).
//!
//! How code reaches it: the lifecycle ([`lifecycle`]) builds it and enters it on the thread
//! that executes the recipe ([`Run::enter`]); Rhai wrappers get it from the engine
//! ([`of`]), domain code from [`current`] (the entered run, or outside any run a default:
//! not dry-run, no journal), helix's own threads by being handed it ([`Run::enter`] there).

mod created;
mod current;
pub(crate) mod lifecycle;
mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::journal::Journal;
use crate::recipe::Value;
use crate::secrets::Secrets;
use crate::sources::Sources;
use crate::step::Steps;

pub(crate) use created::Created;
pub use current::current;
pub(crate) use current::{live, of};
pub(crate) use lifecycle::{End, Outcome};
pub(crate) use resources::{Resource, Teardown};

pub struct Run {
    pub dry_run: bool,
    pub resume: bool,
    /// `--yes`: answers ordinary prompts ("install missing formulae?"), never the guard's.
    pub assume_yes: bool,
    pub config: Config,
    /// The recipe's name (for step state) and its parsed arguments.
    recipe: String,
    args: BTreeMap<String, Value>,
    journal: Mutex<Option<Journal>>,
    cancelled: AtomicBool,
    /// The exit code `exit(code, …)` asked for.
    exit: Mutex<Option<i32>>,
    created: Mutex<Created>,
    secrets: Arc<Secrets>,
    /// Under `--dry-run`: how many changes were planned (shown as `[dry-run] would …`) instead
    /// of made. From the first one on, the recipe's own result lines are marked as planned.
    planned: AtomicUsize,
    /// Under `--dry-run`: how many acts the guard would refuse (a real run stops at the first).
    refused: AtomicUsize,
    /// The innermost `step()` that failed, for the journal's end record.
    failed_step: Mutex<Option<String>>,
    steps: Mutex<Steps>,
    /// The text of every script this run compiled, for error reports.
    pub sources: Sources,
    /// The documents of the `plist::edit` calls in progress, innermost last.
    pub editing: Mutex<Vec<rhai::Dynamic>>,
    /// Paths protected for the rest of this run and why (the disks of the VMs it knows).
    protected: Mutex<Vec<(PathBuf, String)>>,
    /// The one-time notices this run has given (see [`Run::first_time`]).
    said: Mutex<Vec<&'static str>>,
    /// Each domain's registry of what the run keeps running (children, VMs, SSH masters).
    resources: resources::Resources,
}

impl Run {
    pub(crate) fn new(dry_run: bool, resume: bool, assume_yes: bool, config: Config) -> Self {
        Run {
            dry_run,
            resume,
            assume_yes,
            config,
            recipe: String::new(),
            args: BTreeMap::new(),
            journal: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            exit: Mutex::new(None),
            created: Mutex::new(Created::default()),
            secrets: Arc::new(Secrets::default()),
            planned: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
            failed_step: Mutex::new(None),
            steps: Mutex::new(Steps::default()),
            sources: Sources::default(),
            editing: Mutex::new(Vec::new()),
            protected: Mutex::new(Vec::new()),
            said: Mutex::new(Vec::new()),
            resources: resources::Resources::default(),
        }
    }

    /// This run is of recipe `name` with `args`.
    pub(crate) fn with_recipe(mut self, name: &str, args: BTreeMap<String, Value>) -> Self {
        self.recipe = name.to_string();
        self.args = args;
        self
    }

    /// For a command that is the whole process (`helix undo`, `helix macho`, `helix trash`):
    /// this run is the calling thread's for the rest of the thread. `None` if the thread is
    /// already in a run.
    pub(crate) fn install(self) -> Option<Arc<Run>> {
        if current::entered() {
            return None;
        }
        let run = Arc::new(self);
        std::mem::forget(run.enter());
        Some(run)
    }

    pub(crate) fn args(&self) -> &BTreeMap<String, Value> {
        &self.args
    }

    pub(crate) fn set_journal(&self, mut journal: Journal) {
        journal.redact_with(self.secrets.clone());
        *self.journal.lock().unwrap() = Some(journal);
    }

    /// Run `f` with the journal, if this run keeps one.
    pub(crate) fn with_journal<R>(&self, f: impl FnOnce(&mut Journal) -> R) -> Option<R> {
        self.journal.lock().unwrap().as_mut().map(f)
    }

    pub(crate) fn run_id(&self) -> Option<String> {
        self.with_journal(|j| j.run_id().to_string())
    }

    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// `exit(code, …)`: the recipe asked to end with `code`.
    pub(crate) fn ask_exit(&self, code: i32) {
        *self.exit.lock().unwrap() = Some(code);
    }

    /// The exit code the recipe asked for with `exit(…)`, if it did (taken once).
    pub(crate) fn take_exit(&self) -> Option<i32> {
        self.exit.lock().unwrap().take()
    }

    /// A change was planned, not made (`--dry-run`).
    pub(crate) fn note_planned(&self) {
        self.planned.fetch_add(1, Ordering::SeqCst);
    }

    /// An act this dry run found the guard would refuse (`--dry-run`).
    pub(crate) fn note_refused(&self) {
        self.refused.fetch_add(1, Ordering::SeqCst);
    }

    /// How many acts this dry run found the guard would refuse.
    pub(crate) fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }

    /// How many changes this dry run planned so far.
    pub(crate) fn planned(&self) -> usize {
        self.planned.load(Ordering::SeqCst)
    }

    /// Step `name` failed; the innermost failing step (the first reported) is kept.
    pub(crate) fn note_failed_step(&self, name: &str) {
        let mut s = self.failed_step.lock().unwrap();
        if s.is_none() {
            *s = Some(name.to_string());
        }
    }

    pub(crate) fn failed_step(&self) -> Option<String> {
        self.failed_step.lock().unwrap().clone()
    }

    /// Keep this run's step state in `file` (e.g. `<vm-dir>/.helix-steps.json`).
    pub(crate) fn set_steps_file(&self, file: PathBuf) {
        self.steps.lock().unwrap().set_state_file(file);
    }

    /// Decide whether step `name` runs (see [`Steps::begin`]).
    pub(crate) fn begin_step(
        &self,
        name: &str,
        only: &[String],
        skip: &[String],
    ) -> crate::error::Result<crate::step::Decision> {
        let mut steps = self.steps.lock().unwrap();
        steps.begin(&self.recipe, name, only, skip, self.resume, self.dry_run)
    }

    /// The steps recorded as done, which `--resume` would skip (none under `--dry-run`, which
    /// records nothing).
    pub(crate) fn completed_steps(&self) -> Vec<String> {
        if self.dry_run {
            return vec![];
        }
        self.steps.lock().unwrap().completed(&self.recipe)
    }

    /// Record step `name` as done with the value it returned (never under `--dry-run`).
    pub(crate) fn step_done(
        &self,
        name: &str,
        value: Option<serde_json::Value>,
    ) -> crate::error::Result<()> {
        if self.dry_run {
            return Ok(());
        }
        self.steps.lock().unwrap().done(&self.recipe, name, value)
    }

    /// Remember that this run created `path` (just now, inside the primitive that made it):
    /// its (device, inode) — and, for a directory, those of everything in it — are the run's.
    /// A name whose inode has other links too (a hard link the run made to an older file) is
    /// not recorded: the data behind it is not the run's.
    pub(crate) fn note_created(&self, path: &Path) {
        self.created.lock().unwrap().note(path);
    }

    /// **The** answer to "is this the run's own?": `path` — and, for a directory, every entry
    /// in it, all the way down — was created by this run (same device and inode), so removing
    /// it destroys nothing that was there before. Anything moved in, hard-linked in or made by
    /// someone else makes the tree not the run's. A final symlink is followed exactly when the
    /// path ends in `/` (as `rm` and the kernel do): the link the run made is its own, the
    /// target is not. A path that does not exist is the run's when the directory it would be
    /// in is.
    pub(crate) fn created_by_run(&self, path: &Path) -> bool {
        self.created.lock().unwrap().owns(path)
    }

    /// Remember a value (a credential read from a file) that must never be shown: every
    /// message, command line, error and journal record of the run shows `***` instead.
    pub(crate) fn add_secret(&self, value: &str) {
        self.secrets.add(value)
    }

    /// `text` with every secret of the run (raw or JSON-escaped) replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    /// Protect `path` (physical) for the rest of this run, saying `why`.
    #[cfg(test)]
    pub(crate) fn protect(&self, path: PathBuf, why: &str) {
        let mut r = self.protected.lock().unwrap();
        if !r.iter().any(|(q, _)| *q == path) {
            r.push((path, why.to_string()));
        }
    }

    /// The paths protected with [`Run::protect`] and why.
    pub(crate) fn protected(&self) -> Vec<(PathBuf, String)> {
        self.protected.lock().unwrap().clone()
    }

    /// The run's registry of type `T` (a domain's: its children, VMs, SSH masters), made on
    /// first use and torn down with the run.
    pub(crate) fn resource<T: Resource>(&self) -> Arc<T> {
        self.resources.get::<T>()
    }

    /// Whether this is the first time the run asks about `notice` (a warning said once per
    /// run); later calls say no.
    pub(crate) fn first_time(&self, notice: &'static str) -> bool {
        let mut said = self.said.lock().unwrap();
        let first = !said.contains(&notice);
        if first {
            said.push(notice);
        }
        first
    }

    /// Ask every child of this run to stop (SIGTERM to its group): Ctrl-C, from the handler's
    /// own thread.
    pub(crate) fn stop_children(self: &Arc<Self>) {
        let _in = self.enter();
        crate::process::terminate_all();
    }

    /// End what the run left running: VMs it started (unless detached), children, SSH masters.
    /// Each registry once (what it holds is taken out); [`Drop`] calls it too.
    pub(crate) fn teardown(&self) {
        self.resources.teardown();
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.teardown();
    }
}
