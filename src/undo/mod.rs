//! `helix undo <run>`: reverse what a run changed, newest first, from the `undo` records its
//! journal keeps; stop with a clear message at the first thing that cannot be restored.
//!
//! # Undo records
//!
//! Every journaled action may carry an undo record (`Action::undo(Undo::…)`), one [`Undo`]
//! variant (`record.rs`; the journal keeps it as the JSON shown):
//!
//! | record | written by | undone by |
//! |---|---|---|
//! | `Restore` `{"restore": BACKUP, "to": PATH, "sha256"?: HEX}` | `fs::write`, `fs::copy` over a file | copying BACKUP's bytes back to PATH (through `fs::write`, so the current bytes are kept too). With `sha256` (of what the run wrote), refused if PATH changed since. |
//! | `RemoveCreated` `{"remove_created": PATH}` | `fs::write`/`copy`/`mkdir`/`symlink` of a new path | moving PATH to the trash (never a permanent delete); `null` = nothing |
//! | `MoveBack` `{"move_back": TO, "to": FROM}` | `fs::move` | renaming TO back to FROM, refused if FROM is taken |
//! | `Untrash` `{"untrash": ID, "dir"?: TRASH}` | `fs::remove` | restoring trash item ID, refused if its path is taken |
//! | `Run` `{"run": [ARGV…], "why": TEXT}` | anything a command reverses | running ARGV through `process` (so the guard classifies it) |
//! | `Steps` `{"steps": [RECORD…]}` | an action with several effects | each step, last first |
//! | `Domain` `{"kind": NAME, …}` | a domain with its own reversal (qemu-img snapshots, git remotes and checkouts) | the domain's function for that [`Domain`] variant, called from [`apply`] |
//!
//! A domain adds a reversal with a [`Domain`] variant (its `kind` name and fields) and one arm
//! in [`apply`] and [`plan`] calling the domain's function, which returns an [`Outcome`] or an
//! error saying why it cannot restore. The JSON is the shape helix always wrote, so old
//! journals stay readable; unknown fields are ignored, unknown shapes stop the undo with a
//! message.

pub(crate) mod record;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::journal::{Record, Run};

pub use record::{Domain, Undo};

/// What undoing one record did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(String),
    /// Nothing to do (already in the earlier state).
    Skipped(String),
}

/// A path from an undo record, refused when relative (a journal from before records were made
/// absolute): restoring it would write wherever `helix undo` happens to run. `by_hand` says what
/// the person would do instead (`restore it`, `remove it`, `move it back`).
fn recorded_path<'a>(p: &'a Path, by_hand: &str) -> Result<&'a Path> {
    if p.is_absolute() {
        return Ok(p);
    }
    Err(Error::Undo(format!(
        "the journal names `{}` by a relative path, so helix cannot tell which file it was; {by_hand} by hand",
        p.display()
    )))
}

/// Read a journaled undo value; one this helix cannot read stops the undo with why.
pub fn read(v: &Value) -> Result<Undo> {
    Undo::from_json(v).map_err(|u| match u {
        record::Unknown::Kind(kind) => Error::Undo(format!(
            "helix does not know how to undo a `{kind}` record (this helix has no handler for it)"
        )),
        record::Unknown::Shape(v) => Error::Undo(format!("helix does not know how to undo `{v}`")),
    })
}

/// Reverse one record.
pub fn apply(u: &Undo) -> Result<Outcome> {
    match u {
        Undo::Domain(d) => match d {
            Domain::SnapshotKept { path, name } => crate::qemu_img::undo_snapshot_kept(path, name),
            Domain::Checkpoint { path, name } => crate::qemu_img::undo_checkpoint(path, name),
            Domain::GitRemoteRemove { path, name } => crate::git::undo_remote_add(path, name),
            Domain::GitRemoteSetUrl { path, name, url } => {
                crate::git::undo_set_url(path, name, url)
            }
            Domain::GitCheckout { path, rev } => crate::git::undo_checkout(path, rev.as_deref()),
        },
        Undo::Steps { steps } => {
            let mut done = vec![];
            for s in steps.iter().rev() {
                if let Outcome::Done(m) = apply(s)? {
                    done.push(m);
                }
            }
            Ok(if done.is_empty() {
                Outcome::Skipped("nothing to do".into())
            } else {
                Outcome::Done(done.join("; "))
            })
        }
        Undo::Restore { backup, to, sha256 } => {
            restore(backup, recorded_path(to, "restore it")?, sha256.as_deref())
        }
        Undo::RemoveCreated { path: None } => Ok(Outcome::Skipped("nothing was created".into())),
        Undo::RemoveCreated { path: Some(p) } => {
            let p = recorded_path(p, "remove it (the run created it)")?;
            if p.symlink_metadata().is_err() {
                return Ok(Outcome::Skipped(format!("`{}` is already gone", p.display())));
            }
            crate::trash::remove(p)?;
            Ok(Outcome::Done(format!("moved `{}` (created by the run) to the trash", p.display())))
        }
        Undo::MoveBack { from, to } => {
            move_back(recorded_path(from, "move it back")?, recorded_path(to, "move it back")?)
        }
        Undo::Untrash { id, .. } => {
            let item = crate::trash::find(id).map_err(|_| {
                Error::Undo(format!("trash item `{id}` is no longer in the trash (emptied?)"))
            })?;
            if item.original.symlink_metadata().is_ok() && !item.stored().exists() {
                return Ok(Outcome::Skipped(format!(
                    "`{}` is already restored",
                    item.original.display()
                )));
            }
            crate::trash::restore(&item)?;
            Ok(Outcome::Done(format!("restored `{}` from the trash", item.original.display())))
        }
        Undo::Run { argv, .. } => {
            crate::process::Cmd::new(argv).run()?;
            Ok(Outcome::Done(format!("ran `{}`", crate::process::display_argv(argv))))
        }
    }
}

/// [`Undo::Restore`]: `to` gets `backup`'s bytes back, unless it changed after the run wrote
/// it (`sha256`).
fn restore(backup: &Path, to: &Path, sha256: Option<&str>) -> Result<Outcome> {
    let Ok(old) = std::fs::read(backup) else {
        return Err(Error::Undo(format!(
            "the previous version of `{}` was kept at `{}`, which is gone (was the trash emptied?)",
            to.display(),
            backup.display()
        )));
    };
    let current = std::fs::read(to).ok();
    if current.as_deref() == Some(old.as_slice()) {
        return Ok(Outcome::Skipped(format!("`{}` already has its previous bytes", to.display())));
    }
    if let (Some(want), Some(cur)) = (sha256, &current)
        && crate::fs::sha256_hex(cur) != want
    {
        return Err(Error::Undo(format!(
            "`{}` changed after the run wrote it; helix does not overwrite newer changes — \
                 the previous version is at `{}` if you want it back",
            to.display(),
            backup.display()
        )));
    }
    crate::fs::write(to, &old, None)?;
    Ok(Outcome::Done(format!("restored `{}` to its previous bytes", to.display())))
}

/// [`Undo::MoveBack`]: rename `now_at` back to `back_to`, refused when something stands there.
fn move_back(now_at: &Path, back_to: &Path) -> Result<Outcome> {
    let here = now_at.symlink_metadata().is_ok();
    let there = back_to.symlink_metadata().is_ok();
    if !here && there {
        return Ok(Outcome::Skipped(format!("`{}` is already back", back_to.display())));
    }
    if there {
        return Err(Error::Undo(format!(
            "cannot move `{}` back: something stands at `{}` now",
            now_at.display(),
            back_to.display()
        )));
    }
    if !here {
        return Err(Error::Undo(format!(
            "cannot move `{}` back to `{}`: it is gone",
            now_at.display(),
            back_to.display()
        )));
    }
    crate::fs::rename(now_at, back_to)?;
    Ok(Outcome::Done(format!("moved `{}` back to `{}`", now_at.display(), back_to.display())))
}

/// What undoing one record would do, in words (for `helix undo --dry-run`): it reads the
/// record, touches nothing. `kind` and `detail` are the journaled action's.
pub(crate) fn plan(kind: &str, detail: &str, u: &Undo) -> String {
    match u {
        Undo::Domain(Domain::Checkpoint { path, name }) => format!(
            "revert `{}` to snapshot `{name}` (the state it has now kept as another snapshot)",
            path.display()
        ),
        Undo::Domain(Domain::SnapshotKept { path, name }) => {
            format!("keep snapshot `{name}` of `{}` (nothing to undo)", path.display())
        }
        Undo::Domain(_) => format!("reverse {detail} ({kind})"),
        Undo::Steps { steps } => {
            let parts: Vec<String> = steps.iter().rev().map(|s| plan(kind, detail, s)).collect();
            parts.join("; then ")
        }
        Undo::Restore { backup, to, .. } => {
            let gone =
                if backup.exists() { "" } else { " — but that copy is gone, so it would stop" };
            format!(
                "restore `{}` to its previous bytes (kept at `{}`){gone}",
                to.display(),
                backup.display()
            )
        }
        Undo::RemoveCreated { path: Some(p) } => {
            format!("move `{}` (created by the run) to the trash", p.display())
        }
        Undo::RemoveCreated { path: None } => "do nothing (nothing was created)".into(),
        Undo::MoveBack { from, to } => {
            format!("move `{}` back to `{}`", from.display(), to.display())
        }
        Undo::Untrash { id, .. } => format!("restore trash item `{id}` to where it came from"),
        Undo::Run { argv, .. } => format!("run `{}`", crate::process::display_argv(argv)),
    }
}

/// [`plan`] for a journaled value; one this helix cannot read is planned as its action
/// (undoing it would stop there).
pub(crate) fn plan_journaled(kind: &str, detail: &str, v: &Value) -> String {
    match read(v) {
        Ok(u) => plan(kind, detail, &u),
        Err(_) => format!("reverse {detail} ({kind})"),
    }
}

/// Undo every successful action of `run` that recorded how, newest first. Returns one line per
/// action undone or skipped; stops at the first failure with what was and was not undone.
pub(crate) fn undo_run(run: &Run) -> Result<Vec<String>> {
    let todo: Vec<(&str, &str, &Value)> = run
        .records
        .iter()
        .filter_map(|r| match r {
            Record::Action { kind, detail, result, undo, .. }
                if result == "ok" && !undo.is_null() =>
            {
                Some((kind.as_str(), detail.as_str(), undo))
            }
            _ => None,
        })
        .collect();
    let mut lines = vec![];
    if crate::run::current().dry_run {
        // Say what would be restored; restore nothing.
        for (kind, detail, undo) in todo.iter().rev() {
            lines.push(format!("would {}", plan_journaled(kind, detail, undo)));
        }
        return Ok(lines);
    }
    for (n, (kind, detail, undo)) in todo.iter().rev().enumerate() {
        match read(undo).and_then(|u| apply(&u)) {
            Ok(Outcome::Done(m)) => lines.push(format!("undone: {m}")),
            Ok(Outcome::Skipped(m)) => lines.push(format!("skipped: {m}")),
            Err(e) => {
                return Err(Error::UndoStopped {
                    at: detail.to_string(),
                    kind: kind.to_string(),
                    cause: Box::new(e),
                    undone: n,
                    total: todo.len(),
                    run: run.id.clone(),
                });
            }
        }
    }
    Ok(lines)
}

/// `helix undo <run>`: runs as its own journaled run (so an undo can be undone too).
pub(crate) fn cli(run_id: &str, dry_run: bool, config: crate::config::Config) -> Result<i32> {
    let dir = crate::config::state_dir().join("runs");
    // `last`: the newest run that changed something undoable.
    let run = if run_id == "last" {
        crate::journal::list_runs(&dir)?
            .into_iter()
            .find(|r| r.records.iter().any(|x| matches!(x, Record::Action { result, undo, .. } if result == "ok" && !undo.is_null())))
            .ok_or_else(|| Error::Undo("no run recorded anything to undo yet (see `helix log`)".into()))?
    } else {
        crate::journal::find_run(&dir, run_id)?
    };
    let ctx = crate::run::Run::new(dry_run, false, false, config)
        .install()
        .ok_or_else(|| Error::Undo("a run is already in progress in this process".into()))?;
    let mut undo_id = String::new();
    if !dry_run {
        // The undo is a run of its own, so it can be undone too.
        let journal = crate::journal::Journal::start(
            &dir,
            &format!("undo {}", run.id),
            serde_json::json!({ "undo": run.id }),
            false,
        )?;
        undo_id = journal.run_id().to_string();
        ctx.set_journal(journal);
    }
    let result = undo_run(&run);
    let error = result.as_ref().err().map(|e| format!("error: {e}"));
    ctx.with_journal(|j| {
        j.end_with(if result.is_ok() { "ok" } else { "failed" }, error.as_deref(), None)
    });
    let lines = result?;
    if lines.is_empty() {
        println!("run `{}` ({}) recorded nothing to undo", run.id, run.recipe());
    }
    for l in &lines {
        println!("{l}");
    }
    if dry_run {
        eprintln!("{}", crate::dry_run::summary(lines.len(), 0, true));
    }
    if !dry_run && !lines.is_empty() {
        println!(
            "undid run `{}`; this undo is run `{undo_id}` (`helix undo {undo_id}` reverses it)",
            run.id
        );
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::plan_journaled as plan;

    #[test]
    fn a_plan_names_what_would_be_restored() {
        let v =
            serde_json::json!({"kind": "qemu_img.checkpoint", "path": "/vm/d.qcow2", "name": "c1"});
        assert!(
            plan("qemu_img.checkpoint", "d", &v)
                .starts_with("revert `/vm/d.qcow2` to snapshot `c1`")
        );
        let v = serde_json::json!({"steps": [{"remove_created": "/a"}, {"move_back": "/b", "to": "/c"}]});
        assert_eq!(
            plan("fs.x", "d", &v),
            "move `/b` back to `/c`; then move `/a` (created by the run) to the trash"
        );
        let v = serde_json::json!({"kind": "plist.set", "path": "/p"});
        assert_eq!(plan("plist.set", "set `Name`", &v), "reverse set `Name` (plist.set)");
    }
}
