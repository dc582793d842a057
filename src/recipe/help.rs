//! The `helix run NAME --help` text, made from the recipe's header.

use super::*;

/// The `helix run NAME --help` text.
pub(crate) fn help(recipe: &Recipe) -> String {
    let mut out = format!("{}\n", recipe.header.summary);
    if !recipe.header.details.is_empty() {
        out.push_str(&format!("\n{}\n", recipe.header.details));
    }
    out.push_str(&format!("\nUsage: helix run {} [--dry-run] [--resume]", recipe.name));
    for p in recipe.header.params.iter().filter(|p| p.required) {
        out.push_str(&format!(" --{} <{}>", p.name, value_name(p)));
    }
    if recipe.header.params.iter().any(|p| !p.required) {
        out.push_str(" [OPTIONS]");
    }
    out.push('\n');
    if !recipe.header.params.is_empty() {
        out.push_str("\nParameters:\n");
        let rows: Vec<Vec<String>> = recipe
            .header
            .params
            .iter()
            .map(|p| {
                let left = if p.flag {
                    format!("  --{}", p.name)
                } else {
                    format!("  --{} <{}>", p.name, value_name(p))
                };
                let mut d = p.description.clone();
                if p.required {
                    d.push_str(" (required)");
                }
                if let Some(def) = &p.default {
                    d.push_str(&format!(" [default: {def}]"));
                }
                vec![left, d]
            })
            .collect();
        out.push_str(&crate::ui::table(&rows));
    }
    out.push_str(&format!("\nFrom: {}\n", recipe.source_name));
    out
}

/// What `--help` shows for a parameter's value: its type, or a choice's words.
fn value_name(p: &Param) -> String {
    match p.kind {
        Kind::Choice => p.choices.join("|"),
        k => kind_name(k).to_string(),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::String => "TEXT",
        Kind::Int => "N",
        Kind::Float => "X",
        Kind::Bool => "BOOL",
        Kind::Path => "PATH",
        Kind::Size => "SIZE",
        Kind::List => "A,B,..",
        Kind::Choice => "CHOICE",
    }
}
