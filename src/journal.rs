//! The journal: one JSON-lines file per run, recording every action with its arguments,
//! result and duration, so `helix log` can show it and `helix undo` can reverse it.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Record {
    Start {
        run: String,
        recipe: String,
        args: Value,
        dry_run: bool,
        ts: String,
        cwd: String,
    },
    Action {
        kind: String,
        detail: String,
        #[serde(default, skip_serializing_if = "Value::is_null")]
        args: Value,
        result: String,
        ms: u64,
        /// How to reverse this action, for `helix undo` (kind-specific).
        #[serde(default, skip_serializing_if = "Value::is_null")]
        undo: Value,
    },
    End {
        status: String,
        ms: u64,
        ts: String,
        /// A failed run's error, as the person saw it (without colour).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// The innermost `step()` that was running when it failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
}

pub(crate) struct Journal {
    run_id: String,
    path: PathBuf,
    file: File,
    started: std::time::Instant,
    /// An action recorded how to undo it: the journal is fsynced at the end so `helix undo`
    /// survives a crash. Without one there is nothing worth a flush (on ext4 an fsync also
    /// writes out every file the run's commands just wrote, e.g. a big build log).
    undoable: bool,
    /// The run's secrets, blotted out of every record (see [`Journal::redact_with`]).
    secrets: std::sync::Arc<crate::secrets::Secrets>,
}

impl Journal {
    /// Start a new run's journal under `dir` (the `runs/` folder of the state dir).
    #[allow(clippy::disallowed_methods)] // the journal appends to its own file
    pub(crate) fn start(dir: &Path, recipe: &str, args: Value, dry_run: bool) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(|e| Error::fs("create", dir, e))?;
        let run_id = new_run_id();
        let path = dir.join(format!("{run_id}.jsonl"));
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::write(&path, e))?;
        let mut j = Journal {
            run_id: run_id.clone(),
            path,
            file,
            started: std::time::Instant::now(),
            undoable: false,
            secrets: Default::default(),
        };
        let cwd = std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default();
        j.append(&Record::Start {
            run: run_id,
            recipe: recipe.to_string(),
            args,
            dry_run,
            ts: timestamp(SystemTime::now()),
            cwd,
        })?;
        Ok(j)
    }

    /// Blot `secrets` (the run's, which grow while it runs) out of every record from now on.
    pub(crate) fn redact_with(&mut self, secrets: std::sync::Arc<crate::secrets::Secrets>) {
        self.secrets = secrets;
    }

    pub(crate) fn run_id(&self) -> &str {
        &self.run_id
    }

    pub(crate) fn append(&mut self, record: &Record) -> Result<()> {
        let mut line =
            self.secrets.redact(&serde_json::to_string(record).expect("records serialise"));
        line.push('\n');
        // One write per record: a crash leaves at most a truncated last line, which readers skip.
        self.file.write_all(line.as_bytes()).map_err(|e| Error::write(&self.path, e))
    }

    pub(crate) fn action(
        &mut self,
        kind: &str,
        detail: &str,
        args: Value,
        result: &str,
        took: Duration,
        undo: Value,
    ) {
        // Only what succeeded is undone (`undo::undo_run`), so only that makes the run undoable:
        // a refused or failed action with an undo record must not make the end say so.
        self.undoable |= result == "ok" && !undo.is_null();
        let _ = self.append(&Record::Action {
            kind: kind.into(),
            detail: detail.into(),
            args,
            result: result.into(),
            ms: took.as_millis() as u64,
            undo,
        });
    }

    /// Whether an action of this run recorded how to undo it.
    pub(crate) fn undoable(&self) -> bool {
        self.undoable
    }

    pub(crate) fn end(&mut self, status: &str) {
        self.end_with(status, None, None)
    }

    /// End the run, keeping a failed run's error and the step it failed in.
    pub(crate) fn end_with(&mut self, status: &str, error: Option<&str>, step: Option<&str>) {
        let _ = self.append(&Record::End {
            status: status.into(),
            ms: self.started.elapsed().as_millis() as u64,
            ts: timestamp(SystemTime::now()),
            error: error.map(|e| console::strip_ansi_codes(e).into_owned()),
            step: step.map(String::from),
        });
        if self.undoable {
            let _ = self.file.sync_all();
        }
    }
}

/// A run as read back from its journal file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Run {
    pub id: String,
    pub path: PathBuf,
    pub records: Vec<Record>,
}

impl Run {
    pub(crate) fn recipe(&self) -> &str {
        match self.records.first() {
            Some(Record::Start { recipe, .. }) => recipe,
            _ => "?",
        }
    }
    pub(crate) fn started(&self) -> &str {
        match self.records.first() {
            Some(Record::Start { ts, .. }) => ts,
            _ => "?",
        }
    }
    pub(crate) fn status(&self) -> &str {
        match self.end() {
            Some(Record::End { status, .. }) => status,
            _ => "unfinished",
        }
    }
    /// Whether this was a `--dry-run` (nothing changed).
    pub(crate) fn dry_run(&self) -> bool {
        matches!(self.records.first(), Some(Record::Start { dry_run: true, .. }))
    }
    pub(crate) fn args(&self) -> &Value {
        match self.records.first() {
            Some(Record::Start { args, .. }) => args,
            _ => &Value::Null,
        }
    }
    /// How long the run took, if it ended.
    pub(crate) fn duration(&self) -> Option<Duration> {
        match self.end() {
            Some(Record::End { ms, .. }) => Some(Duration::from_millis(*ms)),
            _ => None,
        }
    }
    /// A failed run's error and the step it failed in.
    pub(crate) fn failure(&self) -> Option<(&str, Option<&str>)> {
        match self.end() {
            Some(Record::End { error: Some(e), step, .. }) => Some((e, step.as_deref())),
            _ => None,
        }
    }
    fn end(&self) -> Option<&Record> {
        self.records.last().filter(|r| matches!(r, Record::End { .. }))
    }
    pub(crate) fn actions(&self) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(|r| matches!(r, Record::Action { .. }))
    }
}

pub(crate) fn read_run(path: &Path) -> Result<Run> {
    let f = File::open(path).map_err(|e| Error::read(path, e))?;
    let records = BufReader::new(f)
        .lines()
        .map_while(|l| l.ok())
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let id = path.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    Ok(Run { id, path: path.to_path_buf(), records })
}

/// Runs under `dir`, newest first.
pub(crate) fn list_runs(dir: &Path) -> Result<Vec<Run>> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
        Err(e) => return Err(Error::read(dir, e)),
    };
    // Run ids start with a UTC timestamp, so name order is time order.
    paths.sort();
    paths.reverse();
    paths.iter().map(|p| read_run(p)).collect()
}

/// Find a run by id or unique prefix (`last` for the newest).
pub(crate) fn find_run(dir: &Path, id: &str) -> Result<Run> {
    let runs = list_runs(dir)?;
    if id == "last" {
        return runs.into_iter().next().ok_or(Error::NoRuns);
    }
    let mut matching: Vec<Run> = runs.into_iter().filter(|r| r.id.starts_with(id)).collect();
    match matching.len() {
        0 => Err(Error::invalid("run id", id, "no such run: see `helix log`")),
        1 => Ok(matching.remove(0)),
        n => Err(Error::invalid("run id", id, format!("{n} runs start with it: give more of it"))),
    }
}

fn new_run_id() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, d, h, mi, s) = crate::clock::civil(now.as_secs() as i64);
    // Milliseconds keep ids in time order; the suffix keeps two processes apart.
    let suffix = (now.subsec_nanos() ^ std::process::id().rotate_left(7)) & 0xfff;
    format!("{y:04}{mo:02}{d:02}-{h:02}{mi:02}{s:02}{:03}-{suffix:03x}", now.subsec_millis())
}

/// RFC 3339 UTC timestamp with milliseconds.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, mo, day, h, mi, s) = crate::clock::civil(d.as_secs() as i64);
    format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", d.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::start(dir.path(), "demo", serde_json::json!({"a": 1}), false).unwrap();
        j.action("fs.write", "write `x`", Value::Null, "ok", Duration::from_millis(3), Value::Null);
        j.end("ok");
        let runs = list_runs(dir.path()).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].recipe(), "demo");
        assert_eq!(runs[0].status(), "ok");
        assert_eq!(runs[0].actions().count(), 1);
        assert_eq!(find_run(dir.path(), "last").unwrap().id, runs[0].id);
        assert!(!runs[0].dry_run());
        assert_eq!(runs[0].failure(), None);
    }

    #[test]
    fn a_failed_run_keeps_its_error_step_args_and_duration() {
        let dir = tempfile::tempdir().unwrap();
        let mut j =
            Journal::start(dir.path(), "demo", serde_json::json!({"who": "x"}), true).unwrap();
        j.end_with(
            "failed",
            Some("\u{1b}[31merror:\u{1b}[0m boom\n  --> r.rhai:3:1"),
            Some("write"),
        );
        let run = find_run(dir.path(), "last").unwrap();
        assert!(run.dry_run());
        assert_eq!(run.status(), "failed");
        assert_eq!(run.args()["who"], "x");
        assert!(run.duration().is_some());
        // Stored without colour codes: `helix log` prints it anywhere.
        assert_eq!(run.failure(), Some(("error: boom\n  --> r.rhai:3:1", Some("write"))));
        // A journal from before these fields reads as it did.
        let old = dir.path().join("20200101-000000000-000.jsonl");
        std::fs::write(&old, "{\"type\":\"start\",\"run\":\"r\",\"recipe\":\"o\",\"args\":{},\"dry_run\":false,\"ts\":\"t\",\"cwd\":\"/\"}\n{\"type\":\"end\",\"status\":\"ok\",\"ms\":5,\"ts\":\"t\"}\n").unwrap();
        let old = read_run(&old).unwrap();
        assert_eq!((old.status(), old.failure()), ("ok", None));
    }
}
