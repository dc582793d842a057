//! `helix undo <run>`: reverse what a run changed, newest first, from the `undo` records its
//! journal keeps; stop with a clear message at the first thing that cannot be restored.
//!
//! # Undo records
//!
//! Every journaled action may carry an `undo` value (`Action::undo(json!(…))`). It is one of:
//!
//! | record | written by | undone by |
//! |---|---|---|
//! | `{"restore": BACKUP, "to": PATH, "sha256"?: HEX}` | `fs::write`, `fs::copy` over a file | copying BACKUP's bytes back to PATH (through `fs::write`, so the current bytes are kept too). With `sha256` (of what the run wrote), refused if PATH changed since. |
//! | `{"remove_created": PATH}` | `fs::write`/`copy`/`mkdir`/`symlink` of a new path | moving PATH to the trash (never a permanent delete); `null` = nothing |
//! | `{"move_back": TO, "to": FROM}` | `fs::move` | renaming TO back to FROM, refused if FROM is taken |
//! | `{"untrash": ID, "dir"?: TRASH}` | `fs::remove` | restoring trash item ID, refused if its path is taken |
//! | `{"run": [ARGV…], "why": TEXT}` | anything a command reverses (e.g. `qemu-img snapshot -a`) | running ARGV through `process` (so the guard classifies it) |
//! | `{"steps": [RECORD…]}` | an action with several effects | each step, last first |
//! | `{"kind": NAME, …}` | a domain with its own reversal (plist key edits, Mach-O edits) | the handler registered for NAME in [`HANDLERS`] |
//!
//! A domain adds a kind with one line in [`HANDLERS`]: `("plist.set", crate::plist::undo_set)`,
//! where the handler takes the record and returns an [`Outcome`] or an error saying why it
//! cannot restore. Records are plain JSON so old journals stay readable; unknown fields are
//! ignored, unknown shapes stop the undo with a message.

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::journal::{Record, Run};

/// What undoing one record did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done(String),
    /// Nothing to do (already in the earlier state).
    Skipped(String),
}

pub type Handler = fn(&Value) -> Result<Outcome>;

/// Undo kinds of other domains: `(kind, handler)`, one line each.
pub const HANDLERS: &[(&str, Handler)] = &[
    ("qemu_img.snapshot_kept", crate::qemu_img::undo_snapshot_kept),
    ("qemu_img.checkpoint", crate::qemu_img::undo_checkpoint),
    ("git.remote_remove", crate::git::undo_remote_add),
    ("git.remote_set_url", crate::git::undo_set_url),
    ("git.checkout", crate::git::undo_checkout),
];

/// A path from an undo record, refused when relative (a journal from before records were made
/// absolute): restoring it would write wherever `helix undo` happens to run.
fn recorded_path(v: &Value, key: &str) -> Result<Option<PathBuf>> {
    match v.get(key).and_then(Value::as_str) {
        None => Ok(None),
        Some(s) if std::path::Path::new(s).is_absolute() => Ok(Some(PathBuf::from(s))),
        Some(s) => Err(Error::other(format!(
            "the journal names `{s}` by a relative path, so helix cannot tell which file it was; restore it by hand"
        ))),
    }
}

fn path_of(v: &Value, key: &str) -> Option<PathBuf> {
    v.get(key).and_then(Value::as_str).map(PathBuf::from)
}

/// Reverse one record.
pub fn apply(v: &Value) -> Result<Outcome> {
    if let Some(kind) = v.get("kind").and_then(Value::as_str) {
        let handler = HANDLERS.iter().find(|(k, _)| *k == kind).map(|(_, h)| *h);
        return match handler {
            Some(h) => h(v),
            None => Err(Error::other(format!(
                "helix does not know how to undo a `{kind}` record (this helix has no handler for it)"
            ))),
        };
    }
    if let Some(steps) = v.get("steps").and_then(Value::as_array) {
        let mut done = vec![];
        for s in steps.iter().rev() {
            if let Outcome::Done(m) = apply(s)? {
                done.push(m);
            }
        }
        return Ok(if done.is_empty() {
            Outcome::Skipped("nothing to do".into())
        } else {
            Outcome::Done(done.join("; "))
        });
    }
    if v.get("restore").is_some() {
        recorded_path(v, "to")?;
    }
    if v.get("move_back").is_some() {
        recorded_path(v, "move_back")?;
        recorded_path(v, "to")?;
    }
    if let Some(Value::String(_)) = v.get("remove_created") {
        recorded_path(v, "remove_created")?;
    }
    if let (Some(backup), Some(to)) = (path_of(v, "restore"), path_of(v, "to")) {
        let Ok(old) = std::fs::read(&backup) else {
            return Err(Error::other(format!(
                "the previous version of `{}` was kept at `{}`, which is gone (was the trash emptied?)",
                to.display(),
                backup.display()
            )));
        };
        let current = std::fs::read(&to).ok();
        if current.as_deref() == Some(old.as_slice()) {
            return Ok(Outcome::Skipped(format!(
                "`{}` already has its previous bytes",
                to.display()
            )));
        }
        if let (Some(want), Some(cur)) = (v.get("sha256").and_then(Value::as_str), &current)
            && crate::fs::sha256_hex(cur) != want
        {
            return Err(Error::other(format!(
                "`{}` changed after the run wrote it; helix does not overwrite newer changes — \
                     the previous version is at `{}` if you want it back",
                to.display(),
                backup.display()
            )));
        }
        crate::fs::write(&to, &old, None)?;
        return Ok(Outcome::Done(format!("restored `{}` to its previous bytes", to.display())));
    }
    if let Some(created) = v.get("remove_created") {
        let Some(p) = created.as_str().map(PathBuf::from) else {
            return Ok(Outcome::Skipped("nothing was created".into()));
        };
        if p.symlink_metadata().is_err() {
            return Ok(Outcome::Skipped(format!("`{}` is already gone", p.display())));
        }
        crate::trash::remove(&p)?;
        return Ok(Outcome::Done(format!(
            "moved `{}` (created by the run) to the trash",
            p.display()
        )));
    }
    if let (Some(now_at), Some(back_to)) = (path_of(v, "move_back"), path_of(v, "to")) {
        let here = now_at.symlink_metadata().is_ok();
        let there = back_to.symlink_metadata().is_ok();
        if !here && there {
            return Ok(Outcome::Skipped(format!("`{}` is already back", back_to.display())));
        }
        if there {
            return Err(Error::other(format!(
                "cannot move `{}` back: something stands at `{}` now",
                now_at.display(),
                back_to.display()
            )));
        }
        if !here {
            return Err(Error::other(format!(
                "cannot move `{}` back to `{}`: it is gone",
                now_at.display(),
                back_to.display()
            )));
        }
        crate::fs::rename(&now_at, &back_to)?;
        return Ok(Outcome::Done(format!(
            "moved `{}` back to `{}`",
            now_at.display(),
            back_to.display()
        )));
    }
    if let Some(id) = v.get("untrash").and_then(Value::as_str) {
        let item = crate::trash::find(id).map_err(|_| {
            Error::other(format!("trash item `{id}` is no longer in the trash (emptied?)"))
        })?;
        if item.original.symlink_metadata().is_ok() && !item.stored().exists() {
            return Ok(Outcome::Skipped(format!(
                "`{}` is already restored",
                item.original.display()
            )));
        }
        crate::trash::restore(&item)?;
        return Ok(Outcome::Done(format!("restored `{}` from the trash", item.original.display())));
    }
    if let Some(argv) = v.get("run").and_then(Value::as_array) {
        let argv: Vec<String> = argv.iter().filter_map(|a| a.as_str().map(String::from)).collect();
        crate::process::Cmd::new(&argv).run()?;
        return Ok(Outcome::Done(format!("ran `{}`", crate::process::display_argv(&argv))));
    }
    Err(Error::other(format!("helix does not know how to undo `{v}`")))
}

/// What undoing one record would do, in words (for `helix undo --dry-run`): it reads the
/// record, touches nothing.
pub fn plan(kind: &str, detail: &str, v: &Value) -> String {
    if let Some(k) = v.get("kind").and_then(Value::as_str) {
        let (path, name) = (v.get("path").and_then(Value::as_str), v.get("name"));
        return match (k, path, name.and_then(Value::as_str)) {
            ("qemu_img.checkpoint", Some(p), Some(n)) => format!(
                "revert `{p}` to snapshot `{n}` (the state it has now kept as another snapshot)"
            ),
            ("qemu_img.snapshot_kept", Some(p), Some(n)) => {
                format!("keep snapshot `{n}` of `{p}` (nothing to undo)")
            }
            _ => format!("reverse {detail} ({kind})"),
        };
    }
    if let Some(steps) = v.get("steps").and_then(Value::as_array) {
        let parts: Vec<String> = steps.iter().rev().map(|s| plan(kind, detail, s)).collect();
        return parts.join("; then ");
    }
    if let (Some(backup), Some(to)) = (path_of(v, "restore"), path_of(v, "to")) {
        let gone =
            if backup.exists() { "" } else { " — but that copy is gone, so it would stop" };
        return format!(
            "restore `{}` to its previous bytes (kept at `{}`){gone}",
            to.display(),
            backup.display()
        );
    }
    if let Some(created) = v.get("remove_created") {
        return match created.as_str() {
            Some(p) => format!("move `{p}` (created by the run) to the trash"),
            None => "do nothing (nothing was created)".into(),
        };
    }
    if let (Some(now_at), Some(back_to)) = (path_of(v, "move_back"), path_of(v, "to")) {
        return format!("move `{}` back to `{}`", now_at.display(), back_to.display());
    }
    if let Some(id) = v.get("untrash").and_then(Value::as_str) {
        return format!("restore trash item `{id}` to where it came from");
    }
    if let Some(argv) = v.get("run").and_then(Value::as_array) {
        let argv: Vec<String> = argv.iter().filter_map(|a| a.as_str().map(String::from)).collect();
        return format!("run `{}`", crate::process::display_argv(&argv));
    }
    format!("reverse {detail} ({kind})")
}

/// Undo every successful action of `run` that recorded how, newest first. Returns one line per
/// action undone or skipped; stops at the first failure with what was and was not undone.
pub fn undo_run(run: &Run) -> Result<Vec<String>> {
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
    if crate::ctx::get().dry_run {
        // Say what would be restored; restore nothing.
        for (kind, detail, undo) in todo.iter().rev() {
            lines.push(format!("would {}", plan(kind, detail, undo)));
        }
        return Ok(lines);
    }
    for (n, (kind, detail, undo)) in todo.iter().rev().enumerate() {
        match apply(undo) {
            Ok(Outcome::Done(m)) => lines.push(format!("undone: {m}")),
            Ok(Outcome::Skipped(m)) => lines.push(format!("skipped: {m}")),
            Err(e) => {
                return Err(Error::other(format!(
                    "undo stopped at `{detail}` ({kind}): {e}\n  {n} of {} action(s) of run `{}` were undone before it; \
                     the {} older one(s) were left as they are",
                    todo.len(),
                    run.id,
                    todo.len() - n
                )));
            }
        }
    }
    Ok(lines)
}

/// `helix undo <run>`: runs as its own journaled run (so an undo can be undone too).
pub fn cli(run_id: &str, dry_run: bool, config: crate::config::Config) -> Result<i32> {
    let dir = crate::config::state_dir().join("runs");
    // `last`: the newest run that changed something undoable.
    let run = if run_id == "last" {
        crate::journal::list_runs(&dir)?
            .into_iter()
            .find(|r| r.records.iter().any(|x| matches!(x, Record::Action { result, undo, .. } if result == "ok" && !undo.is_null())))
            .ok_or_else(|| Error::other("no run recorded anything to undo yet (see `helix log`)"))?
    } else {
        crate::journal::find_run(&dir, run_id)?
    };
    let ctx = crate::ctx::Ctx::new(dry_run, false, false, config)
        .install()
        .ok_or_else(|| Error::other("a run is already in progress in this process"))?;
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
        eprintln!("{}", crate::dry_run::summary(lines.len(), true));
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
    use super::plan;

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
