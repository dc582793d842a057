//! The text of every script a run compiled, by source name, so an error anywhere (a recipe, a
//! stdlib module, a built-in) can show its line. Each [`crate::run::Run`] keeps its own; the
//! free functions use the current run's (see [`crate::run::current`]).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Sources(Mutex<HashMap<String, String>>);

impl Sources {
    pub(crate) fn remember(&self, name: &str, text: &str) {
        self.0.lock().unwrap().insert(name.to_string(), text.to_string());
    }

    /// Line `line` (1-based) of source `name`.
    pub(crate) fn line(&self, name: &str, line: usize) -> Option<String> {
        let m = self.0.lock().unwrap();
        m.get(name)?.lines().nth(line.checked_sub(1)?).map(String::from)
    }

    /// The whole text of source `name`.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }
}

/// Remember `text` as source `name` in the current run.
pub(crate) fn remember(name: &str, text: &str) {
    crate::run::current().sources.remember(name, text)
}

/// Line `line` (1-based) of the current run's source `name`.
pub(crate) fn line(name: &str, line: usize) -> Option<String> {
    crate::run::current().sources.line(name, line)
}

/// The whole text of the current run's source `name`.
pub(crate) fn text(name: &str) -> Option<String> {
    crate::run::current().sources.text(name)
}
