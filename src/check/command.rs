//! The `helix check [RECIPE]` command, and the same check as the gate in front of `helix run`.

use std::collections::BTreeMap;
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
    // Checking every file lists the stdlib modules too: a mistake inside one is reported once,
    // under it, and a recipe that imports it says so (a check of one recipe shows it there).
    let modules = if only.is_none() { stdlib_modules(&checker.stdlib_dirs) } else { vec![] };
    let listed: BTreeMap<&str, String> = modules
        .iter()
        .map(|(name, source, _)| (source.as_str(), format!("stdlib/{name}")))
        .collect();
    let mut failed = 0;
    let mut checked = 0;
    let mut report = |label: String, found: Vec<Diagnostic>, broken: Vec<String>| {
        checked += 1;
        if found.is_empty() && broken.is_empty() {
            println!("{} {label}", console::style("ok").green());
            return;
        }
        failed += 1;
        let imports = match broken.len() {
            0 => String::new(),
            n => format!(
                "{} it {}imports {}, which {} the check",
                if found.is_empty() { ":" } else { ";" },
                if found.is_empty() { "" } else { "also " },
                broken.join(", "),
                if n == 1 { "fails" } else { "fail" }
            ),
        };
        println!("{} {label}{imports}", console::style("FAILED").red().bold());
        for d in &found {
            eprint!("{}", d.render());
        }
    };
    for r in &recipes {
        let (found, broken) = split_imported(checker.recipe(r), &r.source_name, &listed);
        report(r.name.clone(), found, broken);
    }
    for (name, source, text) in &modules {
        let (found, broken) = split_imported(checker.module(text, source), source, &listed);
        report(format!("stdlib/{name}"), found, broken);
    }
    if failed > 0 {
        return Err(Failure {
            message: format!("{failed} of {checked} failed the check\n"),
            code: 1,
        });
    }
    Ok(0)
}

/// The findings of file `source` split in two: those to show under it (in it, or in a module
/// not listed), and the listed modules (by label) that hold the rest — each of those is shown
/// under its own entry.
fn split_imported(
    found: Vec<Diagnostic>,
    source: &str,
    listed: &BTreeMap<&str, String>,
) -> (Vec<Diagnostic>, Vec<String>) {
    let mut own = Vec::new();
    let mut broken: Vec<String> = Vec::new();
    for d in found {
        match listed.get(d.source.as_str()).filter(|_| d.source != source) {
            Some(label) => {
                if !broken.contains(label) {
                    broken.push(label.clone());
                }
            }
            None => own.push(d),
        }
    }
    (own, broken)
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
