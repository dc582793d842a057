//! The run context: what every primitive needs to know about the run it is part of
//! (dry-run, the journal, cancellation, what the run created, the exit code to end with).
//!
//! One per process: helix runs one recipe per invocation. Library users and unit tests get a
//! default context (not dry-run, no journal) on first use.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::config::Config;
use crate::journal::Journal;

pub struct Ctx {
    pub dry_run: bool,
    pub resume: bool,
    /// `--yes`: answers ordinary prompts ("install missing formulae?"), never the guard's.
    pub assume_yes: bool,
    pub config: Config,
    journal: Mutex<Option<Journal>>,
    cancelled: AtomicBool,
    exit_code: Mutex<Option<i32>>,
    created: Mutex<HashSet<PathBuf>>,
    secrets: Mutex<Vec<String>>,
    /// Under `--dry-run`: how many changes were planned (shown as `[dry-run] would …`) instead
    /// of made. From the first one on, the recipe's own result lines are marked as planned.
    planned: AtomicUsize,
    /// The innermost `step()` that failed, for the journal's end record.
    failed_step: Mutex<Option<String>>,
}

static CTX: OnceLock<Ctx> = OnceLock::new();

impl Ctx {
    pub fn new(dry_run: bool, resume: bool, assume_yes: bool, config: Config) -> Self {
        Ctx {
            dry_run,
            resume,
            assume_yes,
            config,
            journal: Mutex::new(None),
            cancelled: AtomicBool::new(false),
            exit_code: Mutex::new(None),
            created: Mutex::new(HashSet::new()),
            secrets: Mutex::new(vec![]),
            planned: AtomicUsize::new(0),
            failed_step: Mutex::new(None),
        }
    }

    /// Install this context for the process; `None` if one is already in use.
    pub fn install(self) -> Option<&'static Ctx> {
        CTX.set(self).ok()?;
        CTX.get()
    }

    pub fn set_journal(&self, journal: Journal) {
        *self.journal.lock().unwrap() = Some(journal);
    }

    /// Run `f` with the journal, if this run keeps one.
    pub fn with_journal<R>(&self, f: impl FnOnce(&mut Journal) -> R) -> Option<R> {
        self.journal.lock().unwrap().as_mut().map(f)
    }

    pub fn run_id(&self) -> Option<String> {
        self.with_journal(|j| j.run_id().to_string())
    }

    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    pub fn set_exit_code(&self, code: i32) {
        *self.exit_code.lock().unwrap() = Some(code);
    }

    pub fn take_exit_code(&self) -> Option<i32> {
        self.exit_code.lock().unwrap().take()
    }

    /// A change was planned, not made (`--dry-run`).
    pub fn note_planned(&self) {
        self.planned.fetch_add(1, Ordering::SeqCst);
    }

    /// How many changes this dry run planned so far.
    pub fn planned(&self) -> usize {
        self.planned.load(Ordering::SeqCst)
    }

    /// Step `name` failed; the innermost failing step (the first reported) is kept.
    pub fn note_failed_step(&self, name: &str) {
        let mut s = self.failed_step.lock().unwrap();
        if s.is_none() {
            *s = Some(name.to_string());
        }
    }

    pub fn failed_step(&self) -> Option<String> {
        self.failed_step.lock().unwrap().clone()
    }

    /// Remember a path this run created: removing it again is not destroying user data.
    pub fn note_created(&self, path: &Path) {
        self.created.lock().unwrap().insert(crate::paths::absolute(path));
    }

    pub fn created_by_run(&self, path: &Path) -> bool {
        let path = crate::paths::absolute(path);
        self.created.lock().unwrap().iter().any(|c| path.starts_with(c))
    }

    /// Remember a value (a credential read from a file) that must never be shown: every
    /// message, command line, error and journal record of the run shows `***` instead.
    pub fn add_secret(&self, value: &str) {
        // Very short values would blot out ordinary text; they are not credentials anyway.
        if value.len() >= 4 {
            let mut s = self.secrets.lock().unwrap();
            if !s.iter().any(|v| v == value) {
                s.push(value.to_string());
            }
        }
    }

    /// `text` with every secret of the run (raw or JSON-escaped) replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap();
        let mut out = text.to_string();
        for v in secrets.iter() {
            out = out.replace(v.as_str(), "***");
            let escaped = serde_json::to_string(v).unwrap_or_default();
            let escaped = &escaped[1..escaped.len().saturating_sub(1)];
            if escaped != v && !escaped.is_empty() {
                out = out.replace(escaped, "***");
            }
        }
        out
    }
}

/// The context of this process's run.
pub fn get() -> &'static Ctx {
    CTX.get_or_init(|| Ctx::new(false, false, false, Config::default()))
}
