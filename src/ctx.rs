//! The run context: what every primitive needs to know about the run it is part of
//! (dry-run, the journal, cancellation, what the run created, the exit code to end with).
//!
//! One per process: helix runs one recipe per invocation. Library users and unit tests get a
//! default context (not dry-run, no journal) on first use.

use std::collections::HashSet;
use std::path::Path;
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
    /// (device, inode, birth time) of everything this run created.
    created: Mutex<HashSet<Identity>>,
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

    /// Remember that this run created `path` (just now, inside the primitive that made it):
    /// its (device, inode) — and, for a directory, those of everything in it — are the run's.
    /// A name whose inode has other links too (a hard link the run made to an older file) is
    /// not recorded: the data behind it is not the run's.
    pub fn note_created(&self, path: &Path) {
        let mut set = self.created.lock().unwrap();
        record_tree(path, &mut set);
    }

    /// **The** answer to "is this the run's own?": `path` — and, for a directory, every entry
    /// in it, all the way down — was created by this run (same device and inode), so removing
    /// it destroys nothing that was there before. Anything moved in, hard-linked in or made by
    /// someone else makes the tree not the run's. A final symlink is followed exactly when the
    /// path ends in `/` (as `rm` and the kernel do): the link the run made is its own, the
    /// target is not. A path that does not exist is the run's when the directory it would be
    /// in is.
    pub fn created_by_run(&self, path: &Path) -> bool {
        let set = self.created.lock().unwrap();
        if path.symlink_metadata().is_err() {
            let abs = crate::paths::absolute(path);
            return abs
                .ancestors()
                .skip(1)
                .find(|a| a.symlink_metadata().is_ok())
                .is_some_and(|a| a.symlink_metadata().is_ok_and(|m| set.contains(&identity(&m))));
        }
        own_tree(path, &set, 0)
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

/// What a file *is*, across renames: its device and inode, and its birth time where the
/// filesystem keeps one (statx on Linux, `st_birthtime` on macOS) — so an inode number freed by
/// a delete and reused for a new file is not mistaken for the old one.
type Identity = (u64, u64, u128);

fn identity(m: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    let born = m
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    (m.dev(), m.ino(), born)
}

fn record_tree(path: &Path, set: &mut HashSet<Identity>) {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = path.symlink_metadata() else { return };
    if !m.is_dir() && m.nlink() > 1 {
        return;
    }
    set.insert(identity(&m));
    if m.is_dir()
        && let Ok(rd) = std::fs::read_dir(path)
    {
        for e in rd.flatten() {
            record_tree(&e.path(), set);
        }
    }
}

/// How deep [`Ctx::created_by_run`] looks before it stops and says "not the run's".
const OWN_DEPTH: usize = 64;

fn own_tree(path: &Path, set: &HashSet<Identity>, depth: usize) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(m) = path.symlink_metadata() else { return false };
    if depth > OWN_DEPTH || !set.contains(&identity(&m)) || (!m.is_dir() && m.nlink() > 1) {
        return false;
    }
    if !m.is_dir() {
        return true;
    }
    let Ok(rd) = std::fs::read_dir(path) else { return false };
    rd.flatten().all(|e| own_tree(&e.path(), set, depth + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx::new(false, false, false, Config::default())
    }

    #[test]
    fn own_is_identity_not_text() {
        let c = ctx();
        let d = tempfile::tempdir().unwrap();
        let own = d.path().join("own");
        std::fs::create_dir_all(own.join("sub")).unwrap();
        std::fs::write(own.join("sub/f"), "x").unwrap();
        c.note_created(&own);
        assert!(c.created_by_run(&own));
        assert!(c.created_by_run(&own.join("sub/f")));
        assert!(c.created_by_run(&own.join("not-yet")), "a path to come in an own dir");
        // Something moved in makes the tree not the run's; the moved thing is not the run's.
        let old = d.path().join("old");
        std::fs::write(&old, "precious").unwrap();
        std::fs::rename(&old, own.join("sub/t")).unwrap();
        assert!(!c.created_by_run(&own));
        assert!(!c.created_by_run(&own.join("sub")));
        assert!(!c.created_by_run(&own.join("sub/t")));
        assert!(c.created_by_run(&own.join("sub/f")));
        // A same-named replacement is not the run's either.
        std::fs::remove_file(own.join("sub/f")).unwrap();
        std::fs::rename(own.join("sub/t"), own.join("sub/f")).unwrap();
        assert!(!c.created_by_run(&own.join("sub/f")));
    }

    #[test]
    fn a_reused_inode_number_is_not_the_runs() {
        use std::os::unix::fs::MetadataExt;
        let c = ctx();
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        std::fs::write(&a, "x").unwrap();
        c.note_created(&a);
        let ino = std::fs::metadata(&a).unwrap().ino();
        std::fs::remove_file(&a).unwrap();
        // Make files until one gets the freed inode number (filesystems reuse them quickly).
        let mut reused = None;
        for i in 0..2000 {
            let b = d.path().join(format!("b{i}"));
            std::fs::write(&b, "someone else's").unwrap();
            if std::fs::metadata(&b).unwrap().ino() == ino {
                reused = Some(b);
                break;
            }
        }
        let Some(b) = reused else { return }; // this filesystem never reused it: nothing to test
        let born = |p: &Path| std::fs::metadata(p).unwrap().created().is_ok();
        if born(&b) {
            assert!(!c.created_by_run(&b), "the same inode number, another file");
        }
    }

    #[test]
    fn links_the_run_made_do_not_make_their_targets_own() {
        let c = ctx();
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("data"), "x").unwrap();
        let lnk = d.path().join("lnk");
        std::os::unix::fs::symlink(&target, &lnk).unwrap();
        c.note_created(&lnk);
        assert!(c.created_by_run(&lnk), "the link itself");
        assert!(!c.created_by_run(Path::new(&format!("{}/", lnk.display()))), "through it");
        assert!(!c.created_by_run(&lnk.join("data")));
        let hard = d.path().join("hard");
        std::fs::hard_link(target.join("data"), &hard).unwrap();
        c.note_created(&hard);
        assert!(!c.created_by_run(&hard), "a hard link's data is not the run's");
        // A directory the run made holding a hard link to older data is not the run's.
        let own = d.path().join("own");
        std::fs::create_dir(&own).unwrap();
        c.note_created(&own);
        std::fs::hard_link(target.join("data"), own.join("h")).unwrap();
        assert!(!c.created_by_run(&own));
    }
}
