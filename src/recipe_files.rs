//! A recipe's file for the person who wants to read or change it: `helix show NAME` prints the
//! source helix would run (built-ins included, which live inside the binary after
//! `cargo install`) and says where it comes from; `helix new NAME` writes a skeleton, or with
//! `--from` a copy of an existing recipe — and says when the new file shadows another recipe.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::recipe::{self, Origin, Recipe};

/// Where a recipe comes from, in words: `built-in`, or its file and what it hides.
pub(crate) fn origin_line(r: &Recipe) -> String {
    let mut s = match r.origin {
        Origin::BuiltIn => format!(
            "`{}` is built into helix ({}); to change it: helix new {} --from {}",
            r.name, r.source_name, r.name, r.name
        ),
        Origin::Dir(_) => format!("`{}` is {}", r.name, r.source_name),
    };
    if !r.shadows.is_empty() {
        s.push_str(&format!("; it shadows {}", r.shadows.join(", ")));
    }
    s
}

/// `helix show NAME`: the source on stdout (so it can be redirected), where it comes from on
/// stderr.
pub(crate) fn show(dirs: &[PathBuf], name: &str) -> Result<()> {
    let r = recipe::find(dirs, name)?;
    eprintln!("{}", origin_line(&r));
    print!("{}", r.text);
    if !r.text.ends_with('\n') {
        println!();
    }
    Ok(())
}

/// Whether `name` can be a recipe file name.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The default home of new recipes: the project's `recipes/` (see `config::project_root`),
/// else `./recipes`.
pub(crate) fn default_dir() -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| crate::config::project_root(&cwd))
        .map(|root| root.join("recipes"))
        .unwrap_or_else(|| PathBuf::from("recipes"))
}

/// `helix new NAME [--from RECIPE] [--dir DIR]`: write the new file (never over an existing
/// one) and return what to tell the person. `recipes` is `--recipes DIR`, if given.
pub(crate) fn new(
    recipes: Option<&Path>,
    name: &str,
    from: Option<&str>,
    dir: Option<&Path>,
) -> Result<String> {
    if !valid_name(name) {
        return Err(Error::invalid(
            "recipe name",
            name,
            "use letters, digits, `-` and `_` (it becomes NAME.rhai)",
        ));
    }
    let text = match from {
        Some(f) => source_of(&recipe::recipe_dirs(recipes), f)?.text,
        None => skeleton(name),
    };
    let dir = dir.map(Path::to_path_buf).unwrap_or_else(default_dir);
    let path = dir.join(format!("{name}.rhai"));
    if path.symlink_metadata().is_ok() {
        return Err(Error::invalid(
            "recipe",
            path.display().to_string(),
            "it already exists; helix does not overwrite it (edit it, or pick another name)",
        ));
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::fs("create", &dir, e))?;
    crate::fs::atomic_write_raw(&path, text.as_bytes(), Some(0o644))?;
    let mut msg = format!("created {}", path.display());
    if let Some(f) = from {
        msg.push_str(&format!(" (a copy of `{f}`)"));
    }
    msg.push('\n');
    // What `helix run NAME` means now (the new file may have made a new project folder).
    let dirs = &recipe::recipe_dirs(recipes);
    let searched = dirs.iter().any(|d| crate::paths::absolute(d) == crate::paths::absolute(&dir));
    match recipe::find(dirs, name) {
        _ if !searched => msg.push_str(&format!(
            "note: {} is not searched for recipes: run it with `helix --recipes {} run {name}`\n",
            dir.display(),
            dir.display()
        )),
        Ok(found)
            if crate::paths::absolute(Path::new(&found.source_name))
                != crate::paths::absolute(&path) =>
        {
            msg.push_str(&format!(
                "note: `helix run {name}` still runs {}, which comes first in the recipe search \
                 (see `helix list`)\n",
                found.source_name
            ))
        }
        Ok(found) if !found.shadows.is_empty() => msg.push_str(&format!(
            "note: it shadows {}: `helix run {name}` now runs this file (remove it to get the \
             other back)\n",
            found.shadows.join(", ")
        )),
        _ => {}
    }
    if from.is_none() {
        msg.push_str(&format!("run it with: helix run {name} --who you\n"));
    }
    Ok(msg)
}

/// The recipe `--from` names: the built-in of that name first (shadowing a built-in is what
/// copying is for), else whatever `helix run` would run.
fn source_of(dirs: &[PathBuf], from: &str) -> Result<Recipe> {
    let builtin = recipe::discover(&[])?.into_iter().find(|r| r.name == from);
    match builtin {
        Some(r) => Ok(r),
        None => recipe::find(dirs, from),
    }
}

fn skeleton(name: &str) -> String {
    format!(
        r#"//! One line that says what `{name}` does (shown by `helix list`).
//!
//! More about it: what it changes, what it needs. Shown by `helix run {name} --help`.
//!
//! @param who        Whom to greet (default: world)
//! @param times:int  How many times (default: 1)
//! @flag  loud       Shout

// `args` holds the parameters above, already checked; `config` the merged configuration.
// `helix api` lists every primitive (fs::, cmd::, ui::, ...). `helix check` compiles this file.

step("greet", || {{
    let text = `hello, ${{args.who}}`;
    if args.loud {{ text = text.to_upper(); }}
    for i in 0..args.times {{
        ui::info(text);
    }}
}});

// Changes go through primitives, so `--dry-run` shows them and the guard protects your data:
// fs::write("/tmp/{name}.txt", "done\n");
"#
    )
}
