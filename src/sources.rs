//! The text of every script compiled in this process, by source name, so an error anywhere
//! (a recipe, a stdlib module, a built-in) can show its line.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

fn map() -> &'static Mutex<HashMap<String, String>> {
    static M: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(HashMap::new()))
}

pub fn remember(name: &str, text: &str) {
    map().lock().unwrap().insert(name.to_string(), text.to_string());
}

/// Line `line` (1-based) of source `name`.
pub fn line(name: &str, line: usize) -> Option<String> {
    let m = map().lock().unwrap();
    m.get(name)?.lines().nth(line.checked_sub(1)?).map(String::from)
}

/// The whole text of source `name`.
pub fn text(name: &str) -> Option<String> {
    map().lock().unwrap().get(name).cloned()
}
