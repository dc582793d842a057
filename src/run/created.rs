//! What a run created, by identity (device, inode, birth time) rather than by name: the one
//! answer to "is this the run's own?" that `fs::remove`, the guard and undo ask.

use std::collections::HashSet;
use std::path::Path;

/// Everything one run created.
#[derive(Debug, Default)]
pub(crate) struct Created(HashSet<Identity>);

impl Created {
    /// Remember that the run created `path` (just now): its identity — and, for a directory,
    /// those of everything in it — are the run's. A name whose inode has other links too (a
    /// hard link the run made to an older file) is not recorded: the data behind it is not
    /// the run's.
    pub(crate) fn note(&mut self, path: &Path) {
        record_tree(path, &mut self.0);
    }

    /// Whether `path` (and, for a directory, everything in it) is the run's; see
    /// [`crate::run::Run::created_by_run`].
    pub(crate) fn owns(&self, path: &Path) -> bool {
        let set = &self.0;
        if path.symlink_metadata().is_err() {
            let abs = crate::paths::absolute(path);
            return abs
                .ancestors()
                .skip(1)
                .find(|a| a.symlink_metadata().is_ok())
                .is_some_and(|a| a.symlink_metadata().is_ok_and(|m| set.contains(&identity(&m))));
        }
        own_tree(path, set, 0)
    }
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

/// How deep [`Created::owns`] looks before it stops and says "not the run's".
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
    use crate::config::Config;
    use crate::run::Run;

    fn ctx() -> Run {
        Run::new(false, false, false, Config::default())
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
