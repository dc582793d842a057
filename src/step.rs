//! Named steps with resume: a step is recorded in a state file only after it succeeds, and
//! `--resume` skips recorded steps. This generalises provision-vm's `.provision-state`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub recipe: String,
    pub completed: Vec<String>,
    /// What each completed step returned (when it returned a value JSON can hold), so a resumed
    /// run gets it back from the skipped step.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub values: std::collections::BTreeMap<String, serde_json::Value>,
}

struct Steps {
    file: Option<PathBuf>,
    /// Whether the state file was reset for this run (only once, and only without --resume).
    started: bool,
    count: usize,
}

static STEPS: Mutex<Steps> = Mutex::new(Steps { file: None, started: false, count: 0 });

/// Keep this run's step state in `file` (e.g. `<vm-dir>/.helix-steps.json`).
pub fn set_state_file(file: PathBuf) {
    let mut s = STEPS.lock().unwrap();
    s.file = Some(file);
    s.started = false;
}

fn default_file(recipe: &str) -> PathBuf {
    crate::config::state_dir().join("steps").join(format!("{recipe}.json"))
}

pub fn load(file: &Path) -> Result<State> {
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
pub enum Decision {
    Run {
        index: usize,
    },
    /// Done in an earlier run: what it returned then, if it was kept.
    SkipDone(Option<serde_json::Value>),
    SkipFiltered,
}

/// Decide whether step `name` runs, honouring `--resume` and the `only`/`skip` lists.
pub fn begin(recipe: &str, name: &str, only: &[String], skip: &[String]) -> Result<Decision> {
    let ctx = crate::ctx::get();
    let mut s = STEPS.lock().unwrap();
    let file = s.file.clone().unwrap_or_else(|| default_file(recipe));
    s.count += 1;
    let index = s.count;
    if !only.is_empty() && !only.iter().any(|o| o == name) || skip.iter().any(|o| o == name) {
        return Ok(Decision::SkipFiltered);
    }
    if !s.started {
        s.started = true;
        if !ctx.resume && !ctx.dry_run && file.exists() {
            // A fresh run starts a fresh record; --resume keeps it.
            save(&file, &State { recipe: recipe.into(), ..State::default() })?;
        }
    }
    if ctx.resume {
        let mut state = load(&file)?;
        if state.completed.iter().any(|c| c == name) {
            return Ok(Decision::SkipDone(state.values.remove(name)));
        }
    }
    Ok(Decision::Run { index })
}

/// Record step `name` as done, with the value it returned (never under `--dry-run`).
pub fn done(recipe: &str, name: &str, value: Option<serde_json::Value>) -> Result<()> {
    if crate::ctx::get().dry_run {
        return Ok(());
    }
    let file = STEPS.lock().unwrap().file.clone().unwrap_or_else(|| default_file(recipe));
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
