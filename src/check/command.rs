//! The `helix check [RECIPE]` command, and the same check as the gate in front of `helix run`.

use std::path::PathBuf;

use super::{Checker, Diagnostic};
use crate::cli::Failure;
use crate::recipe::{self, Recipe};

/// `helix check`: every recipe and stdlib module (or one recipe), one line each, the findings
/// on stderr. Exit 1 when anything failed.
pub(crate) fn run(dirs: &[PathBuf], only: Option<&str>) -> Result<i32, Failure> {
    let checker = Checker::new(recipe::stdlib_dirs(dirs));
    let recipes: Vec<Recipe> = match only {
        Some(name) => vec![recipe::find(dirs, name).map_err(Failure::usage)?],
        None => recipe::discover(dirs).map_err(Failure::error)?,
    };
    let mut failed = 0;
    let mut checked = 0;
    let mut report = |label: String, found: Vec<Diagnostic>| {
        checked += 1;
        if found.is_empty() {
            println!("{} {label}", console::style("ok").green());
        } else {
            failed += 1;
            println!("{} {label}", console::style("FAILED").red().bold());
            for d in &found {
                eprint!("{}", d.render());
            }
        }
    };
    for r in &recipes {
        report(r.name.clone(), checker.recipe(r));
    }
    if only.is_none() {
        for (name, source, text) in stdlib_modules(&checker.stdlib_dirs) {
            report(format!("stdlib/{name}"), checker.module(&text, &source));
        }
    }
    if failed > 0 {
        return Err(Failure {
            message: format!("{failed} of {checked} failed the check\n"),
            code: 1,
        });
    }
    Ok(0)
}

/// The check `helix run` does before anything runs: the rendered findings, or nothing.
pub(crate) fn gate(dirs: &[PathBuf], recipe: &Recipe) -> Result<(), Failure> {
    let found = Checker::new(recipe::stdlib_dirs(dirs)).recipe(recipe);
    if found.is_empty() {
        return Ok(());
    }
    let mut message: String = found.iter().map(Diagnostic::render).collect();
    message.push_str(&format!(
        "  = `{}` did not start: {} found by `helix check {}`\n",
        recipe.name,
        if found.len() == 1 {
            "1 problem".to_string()
        } else {
            format!("{} problems", found.len())
        },
        recipe.name
    ));
    Err(Failure { message, code: 1 })
}

/// Every stdlib module visible: `(name, source name, text)`, user dirs shadowing built-ins.
pub(crate) fn stdlib_modules(dirs: &[PathBuf]) -> Vec<(String, String, String)> {
    let mut names: Vec<String> = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "rhai") {
                    names.push(p.file_stem().unwrap_or_default().to_string_lossy().into_owned());
                }
            }
        }
    }
    for f in recipe::BUILTIN_STDLIB.files() {
        names.push(f.path().file_stem().unwrap_or_default().to_string_lossy().into_owned());
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| crate::engine::StdlibResolver::locate(dirs, &n).map(|(s, t)| (n, s, t)))
        .collect()
}
