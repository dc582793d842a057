//! Finding recipes: the recipe dirs (user dirs shadow built-ins), the stdlib dirs beside them,
//! every recipe with what it shadows, and one by name with "did you mean" when it is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::error::{Error, Result};

/// The directories searched for recipes, highest priority first.
pub(crate) fn recipe_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = explicit {
        dirs.push(d.to_path_buf());
    }
    if let Some(v) = std::env::var_os("HELIX_RECIPES") {
        dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Some(root) = crate::config::project_root(&cwd)
        && root.join("recipes").is_dir()
    {
        dirs.push(root.join("recipes"));
    }
    dirs.push(crate::config::config_dir().join("recipes"));
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let k = crate::paths::absolute(d);
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    dirs
}

/// The stdlib directories that go with the recipe dirs: `stdlib/` beside each `recipes/`.
pub(crate) fn stdlib_dirs(recipe_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(v) = std::env::var_os("HELIX_STDLIB") {
        out.extend(std::env::split_paths(&v));
    }
    for d in recipe_dirs {
        if let Some(p) = d.parent() {
            let s = p.join("stdlib");
            if s.is_dir() && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Every recipe, user dirs first; a name found earlier shadows later ones.
pub fn discover(dirs: &[PathBuf]) -> Result<Vec<Recipe>> {
    let mut found: BTreeMap<String, Recipe> = BTreeMap::new();
    let mut add = |name: String, origin: Origin, source_name: String, text: String| -> Result<()> {
        if let Some(existing) = found.get_mut(&name) {
            existing.shadows.push(source_name);
            return Ok(());
        }
        let header = parse_header(&text, &source_name)?;
        found.insert(
            name.clone(),
            Recipe { name, origin, source_name, text, header, shadows: vec![] },
        );
        Ok(())
    };
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.extension().is_some_and(|e| e == "rhai") && p.is_file() {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&p).map_err(|e| Error::read(&p, e))?;
                add(name, Origin::Dir(dir.clone()), p.display().to_string(), text)?;
            }
        }
    }
    for f in BUILTIN_RECIPES.files() {
        let p = f.path();
        if p.extension().is_some_and(|e| e == "rhai") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = f.contents_utf8().unwrap_or_default().to_string();
            add(name, Origin::BuiltIn, format!("builtin:recipes/{}", p.display()), text)?;
        }
    }
    Ok(found.into_values().collect())
}

pub(crate) fn find(dirs: &[PathBuf], name: &str) -> Result<Recipe> {
    // A path to a file runs that file.
    if name.ends_with(".rhai") || name.contains('/') {
        let p = PathBuf::from(name);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::read(&p, e))?;
        let source_name = p.display().to_string();
        let header = parse_header(&text, &source_name)?;
        let stem = p.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        let origin = Origin::Dir(p.parent().map(Path::to_path_buf).unwrap_or_default());
        return Ok(Recipe { name: stem, origin, source_name, text, header, shadows: vec![] });
    }
    let all = discover(dirs)?;
    let names: Vec<String> = all.iter().map(|r| r.name.clone()).collect();
    all.into_iter().find(|r| r.name == name).ok_or_else(|| {
        let close: Vec<&String> = names.iter().filter(|n| similar(n, name)).collect();
        let hint = if close.is_empty() {
            "see `helix list`".to_string()
        } else {
            format!(
                "did you mean {}?",
                close.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )
        };
        Error::invalid("recipe", name, format!("no such recipe: {hint}"))
    })
}

pub(super) fn similar(a: &str, b: &str) -> bool {
    a.contains(b) || b.contains(a) || levenshtein(a, b) <= 2
}

/// Edit distance between two names: the one "did you mean" measure ([`crate::check::suggest`]).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    crate::check::suggest::distance(a, b)
}
