//! Internal qcow2 snapshots: list, create, checkpoint (the state `helix undo` goes back to),
//! apply (keeping the current state first unless told not to) and delete, with their undos.

use std::path::Path;

use serde_json::json;

use super::{Snapshot, info, program, run, run_as, s};
use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::undo::{Domain, Outcome, Undo};

/// The image's internal snapshots.
pub(crate) fn snapshot_list(path: &Path) -> Result<Vec<Snapshot>> {
    Ok(info(path)?.snapshots)
}

fn check_snapshot_name(name: &str) -> Result<()> {
    if name.is_empty() || name.starts_with('-') || name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "snapshot name",
            name,
            "use letters, digits, `-`, `_` or `.`, not starting with `-`",
        ));
    }
    Ok(())
}

fn has_snapshot(path: &Path, name: &str) -> Result<bool> {
    Ok(snapshot_list(path)?.iter().any(|s| s.name == name))
}

/// The name a reverted-from state is kept under: `before-<name>-<unix time>`.
pub(crate) fn kept_state_name(name: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("before-{name}-{secs}")
}

/// Take an internal snapshot named `name` (the VM must be stopped). Undoing the run keeps it:
/// a snapshot only adds a way back, and deleting it would lose what it holds.
pub(crate) fn snapshot_create(path: &Path, name: &str) -> Result<()> {
    snapshot_action(
        path,
        name,
        Undo::Domain(Domain::SnapshotKept { path: path.into(), name: name.into() }),
    )
}

/// Take snapshot `name` as the state to go back to: undoing the run reverts the disk to it
/// (the state at undo time is kept as another snapshot first).
pub(crate) fn checkpoint(path: &Path, name: &str) -> Result<()> {
    snapshot_action(
        path,
        name,
        Undo::Domain(Domain::Checkpoint { path: path.into(), name: name.into() }),
    )
}

/// Undo of [`snapshot_create`]: nothing to do, the snapshot stays.
pub(crate) fn undo_snapshot_kept(path: &Path, name: &str) -> Result<Outcome> {
    Ok(Outcome::Skipped(format!(
        "snapshot `{name}` of `{}` is kept (`qemu_img::snapshot_delete` removes it)",
        path.display()
    )))
}

/// Undo of [`checkpoint`]: revert to it, keeping the current state as a snapshot.
pub(crate) fn undo_checkpoint(path: &Path, name: &str) -> Result<Outcome> {
    if !has_snapshot(path, name)? {
        return Err(Error::CheckpointGone { path: path.into(), name: name.into() });
    }
    let kept = kept_state_name(name);
    snapshot_apply(path, name, Some(&kept))?;
    Ok(Outcome::Done(format!(
        "reverted `{}` to snapshot `{name}` (the state it had is kept as snapshot `{kept}`)",
        path.display()
    )))
}

fn snapshot_action(path: &Path, name: &str, undo: Undo) -> Result<()> {
    check_snapshot_name(name)?;
    if has_snapshot(path, name)? {
        return Err(Error::SnapshotExists { path: path.to_path_buf(), name: name.into() });
    }
    let argv = vec![program(), "snapshot".into(), "-c".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_create",
        format!("snapshot `{}` as `{name}`", path.display()),
    )
    .args(json!({ "path": path, "name": name }))
    .undo(undo);
    guard::act(action, || run(path, argv).map(|_| ()))
}

/// Revert the image to snapshot `name`. The current state is lost unless `save_current` names a
/// snapshot to keep it in first (then nothing is destroyed and no confirmation is needed).
/// Returns the name the current state was saved under, or `""`.
pub(crate) fn snapshot_apply(
    path: &Path,
    name: &str,
    save_current: Option<&str>,
) -> Result<String> {
    check_snapshot_name(name)?;
    if !has_snapshot(path, name)? {
        return Err(Error::SnapshotMissing { path: path.to_path_buf(), name: name.into() });
    }
    if let Some(keep) = save_current {
        snapshot_create(path, keep)?;
    }
    let argv = vec![program(), "snapshot".into(), "-a".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_apply",
        format!("revert `{}` to snapshot `{name}`", path.display()),
    )
    .args(json!({ "path": path, "name": name, "saved_current_as": save_current }));
    let action = match save_current {
        None => action.destroys(Target::Disk {
            path: path.to_path_buf(),
            why: format!("its current contents are replaced by snapshot `{name}`"),
        }),
        // The current state was just kept as a snapshot: the revert destroys nothing.
        Some(_) => action.recovers(path),
    };
    run_as(path, argv, action, |_| save_current.unwrap_or_default().to_string())
}

/// Delete snapshot `name`: what it kept is gone, so it is guarded.
pub(crate) fn snapshot_delete(path: &Path, name: &str) -> Result<()> {
    check_snapshot_name(name)?;
    if !has_snapshot(path, name)? {
        return Err(Error::SnapshotMissing { path: path.to_path_buf(), name: name.into() });
    }
    let argv = vec![program(), "snapshot".into(), "-d".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_delete",
        format!("delete snapshot `{name}` of `{}`", path.display()),
    )
    .args(json!({ "path": path, "name": name }))
    .destroys(Target::Disk {
        path: path.to_path_buf(),
        why: format!("snapshot `{name}` is deleted"),
    });
    run_as(path, argv, action, |_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu_img::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn snapshots() {
        let d = tmp();
        let p = d.path().join("s.qcow2");
        create(&p, Some("64M"), &CreateOptions::default()).unwrap();
        snapshot_create(&p, "clean").unwrap();
        let e = snapshot_create(&p, "clean").unwrap_err().to_string();
        assert!(e.contains("already has a snapshot named `clean`"), "{e}");
        let l = snapshot_list(&p).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "clean");
        assert!(l[0].date > 1_600_000_000);
        // Keeping the current state first: nothing is destroyed, so no person is needed.
        assert_eq!(snapshot_apply(&p, "clean", Some("before-revert")).unwrap(), "before-revert");
        let names: Vec<String> = snapshot_list(&p).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["clean", "before-revert"]);
        // This run created the image, so its snapshots are the run's own to delete.
        snapshot_delete(&p, "before-revert").unwrap();
        assert_eq!(snapshot_list(&p).unwrap().len(), 1);
        let e = snapshot_apply(&p, "nope", None).unwrap_err().to_string();
        assert!(e.contains("no snapshot named `nope`"), "{e}");
        assert!(snapshot_create(&p, "-x").is_err());
    }
}
