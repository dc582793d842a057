//! `helix run` without a recipe name: at a terminal, a picker (like `just --choose`) that then
//! asks for the recipe's required parameters; elsewhere, the list of recipes and how to run one.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::recipe::{self, Recipe};

/// What `helix run` alone leads to.
pub(crate) enum Picked {
    /// Run this recipe with these parameter words (`--name value`).
    Run(Box<Recipe>, Vec<String>),
    /// Nothing to run: the list was printed.
    Listed,
}

pub(crate) fn pick(dirs: &[PathBuf]) -> Result<Picked> {
    let recipes = recipe::discover(dirs)?;
    if !crate::ui::interactive() {
        print!("{}", listing(&recipes));
        eprintln!("run one with `helix run NAME` (`helix run NAME --help` lists its parameters)");
        return Ok(Picked::Listed);
    }
    let width = recipes.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let items: Vec<String> =
        recipes.iter().map(|r| format!("{:width$}  {}", r.name, r.header.summary)).collect();
    let Some(i) = dialoguer::Select::new()
        .with_prompt("Which recipe? (Esc to cancel)")
        .items(&items)
        .default(0)
        .interact_opt()
        .map_err(|e| {
            let dialoguer::Error::IO(io) = &e;
            if io.kind() == std::io::ErrorKind::Interrupted {
                // dialoguer hid the cursor and leaves it hidden when interrupted, and leaves
                // its lines (the prompt and each item, when they fit the screen unpaged) where
                // Escape would have erased them.
                let term = console::Term::stderr();
                if items.len() + 1 < term.size().0 as usize {
                    let _ = term.clear_last_lines(items.len() + 1);
                }
                let _ = term.show_cursor();
                Error::Cancelled("no recipe chosen (interrupted)".into())
            } else {
                Error::Terminal { op: "show the recipe picker".into(), message: e.to_string() }
            }
        })?
    else {
        return Err(Error::Cancelled("no recipe chosen".into()));
    };
    let chosen = recipes.into_iter().nth(i).expect("picked from the list");
    let mut words = vec![];
    for p in chosen.header.params.iter().filter(|p| p.required && p.default.is_none()) {
        let prompt = if p.description.is_empty() {
            format!("--{}", p.name)
        } else {
            format!("--{} ({})", p.name, p.description)
        };
        let value = crate::ui::input(&prompt, None)?;
        words.push(format!("--{}", p.name));
        words.push(value);
    }
    Ok(Picked::Run(Box::new(chosen), words))
}

/// The recipes as `helix list` shows them, for a person who typed `helix run` alone.
fn listing(recipes: &[Recipe]) -> String {
    let mut rows = vec![vec!["RECIPE".to_string(), "DESCRIPTION".to_string()]];
    for r in recipes {
        rows.push(vec![r.name.clone(), r.header.summary.clone()]);
    }
    crate::ui::table_fitted_keeping(&rows, crate::ui::output_width(), 1)
}
