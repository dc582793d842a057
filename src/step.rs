//! Named steps with resume: a step is recorded in a state file only after it succeeds, and
//! `--resume` skips recorded steps. This generalises provision-vm's `.provision-state`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct State {
    pub recipe: String,
    pub completed: Vec<String>,
    /// What each completed step returned (when it returned a value JSON can hold), so a resumed
    /// run gets it back from the skipped step.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub values: std::collections::BTreeMap<String, serde_json::Value>,
}

/// A run's step state: where it is kept and how many steps the run has begun.
#[derive(Debug, Default)]
pub(crate) struct Steps {
    file: Option<PathBuf>,
    /// Whether the state file was reset for this run (only once, and only without --resume).
    started: bool,
    count: usize,
}

fn default_file(recipe: &str) -> PathBuf {
    crate::config::state_dir().join("steps").join(format!("{recipe}.json"))
}

pub(crate) fn load(file: &Path) -> Result<State> {
    match std::fs::read_to_string(file) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| {
            Error::invalid(
                "step state file",
                file.display().to_string(),
                format!("{e}; move it aside to start over"),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(Error::read(file, e)),
    }
}

fn save(file: &Path, state: &State) -> Result<()> {
    if let Some(d) = file.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::fs("create", d, e))?;
    }
    let text = serde_json::to_string_pretty(state).expect("state serialises");
    crate::fs::atomic_write_raw(file, text.as_bytes(), None)
}

/// What to do with step `name`.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    Run {
        index: usize,
    },
    /// Done in an earlier run: what it returned then, if it was kept.
    SkipDone(Option<serde_json::Value>),
    SkipFiltered,
}

impl Steps {
    /// Keep this run's step state in `file` (e.g. `<vm-dir>/.helix-steps.json`).
    pub(crate) fn set_state_file(&mut self, file: PathBuf) {
        self.file = Some(file);
        self.started = false;
    }

    fn file(&self, recipe: &str) -> PathBuf {
        self.file.clone().unwrap_or_else(|| default_file(recipe))
    }

    /// Decide whether step `name` of `recipe` runs, honouring `--resume` (`resume`) and the
    /// `only`/`skip` lists; a fresh run (not resumed, not a dry run) starts a fresh record.
    pub(crate) fn begin(
        &mut self,
        recipe: &str,
        name: &str,
        only: &[String],
        skip: &[String],
        resume: bool,
        dry_run: bool,
    ) -> Result<Decision> {
        let file = self.file(recipe);
        self.count += 1;
        let index = self.count;
        if !only.is_empty() && !only.iter().any(|o| o == name) || skip.iter().any(|o| o == name) {
            return Ok(Decision::SkipFiltered);
        }
        if !self.started {
            self.started = true;
            if !resume && !dry_run && file.exists() {
                // A fresh run starts a fresh record; --resume keeps it.
                save(&file, &State { recipe: recipe.into(), ..State::default() })?;
            }
        }
        if resume {
            let mut state = load(&file)?;
            if state.completed.iter().any(|c| c == name) {
                return Ok(Decision::SkipDone(state.values.remove(name)));
            }
        }
        Ok(Decision::Run { index })
    }

    /// The steps of `recipe` recorded as done (what `--resume` would skip), oldest first; none
    /// if this run began no step (the record is then an older run's).
    pub(crate) fn completed(&self, recipe: &str) -> Vec<String> {
        let file = self.file(recipe);
        if !self.started || !file.exists() {
            return vec![];
        }
        load(&file).map(|s| s.completed).unwrap_or_default()
    }

    /// Record step `name` as done, with the value it returned (the caller skips this under
    /// `--dry-run`).
    pub(crate) fn done(
        &self,
        recipe: &str,
        name: &str,
        value: Option<serde_json::Value>,
    ) -> Result<()> {
        let file = self.file(recipe);
        let mut state = load(&file)?;
        state.recipe = recipe.to_string();
        if !state.completed.iter().any(|c| c == name) {
            state.completed.push(name.to_string());
        }
        match value {
            Some(v) => state.values.insert(name.to_string(), v),
            None => state.values.remove(name),
        };
        save(&file, &state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completed_names_only_what_this_runs_record_holds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("steps.json");
        let older = State { recipe: "r".into(), completed: vec!["a".into()], ..State::default() };
        save(&file, &older).unwrap();

        // A run that failed before its first step: the record is an older run's.
        let mut steps = Steps::default();
        steps.set_state_file(file.clone());
        assert!(steps.completed("r").is_empty());

        // A fresh run starts a fresh record at its first step; what it finishes is listed.
        assert!(matches!(steps.begin("r", "a", &[], &[], false, false), Ok(Decision::Run { .. })));
        assert!(steps.completed("r").is_empty());
        steps.done("r", "a", None).unwrap();
        assert_eq!(steps.completed("r"), ["a"]);

        // A resumed run skips it, and --resume would still skip it.
        let mut resumed = Steps::default();
        resumed.set_state_file(file);
        assert!(matches!(
            resumed.begin("r", "a", &[], &[], true, false),
            Ok(Decision::SkipDone(None))
        ));
        assert_eq!(resumed.completed("r"), ["a"]);
    }
}
