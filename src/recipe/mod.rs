//! Recipes: finding them (user dirs shadow built-ins), reading their `//!` header without
//! evaluating anything, and turning command-line words into a validated `args` map.
//!
//! This file holds the types; `discover.rs` finds recipes, `header.rs` reads the `//!` block,
//! `args.rs` parses the command line and `help.rs` writes `--help`.

use std::path::PathBuf;

use include_dir::{Dir, include_dir};
use serde::Serialize;

mod args;
mod discover;
mod header;
mod help;

pub(crate) use args::convert;
pub(crate) use args::{Value, parse_args};
pub use discover::discover;
pub(crate) use discover::levenshtein;
pub(crate) use discover::{find, recipe_dirs, stdlib_dirs};
pub(crate) use header::parse_header;
pub(crate) use header::parse_param;
pub(crate) use help::help;

pub(crate) static BUILTIN_RECIPES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/recipes");
pub(crate) static BUILTIN_STDLIB: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stdlib");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    String,
    Int,
    Float,
    Bool,
    Path,
    Size,
    List,
    /// One of the words listed in the header: `choice(list|status|start)`.
    Choice,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "string" | "str" => Kind::String,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "path" => Kind::Path,
            "size" => Kind::Size,
            "list" => Kind::List,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
    /// A `@flag`: present or absent, takes no value.
    pub flag: bool,
    pub required: bool,
    pub default: Option<String>,
    pub description: String,
    /// The accepted words of a `choice(a|b|c)` parameter (empty for other types).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Header {
    /// The first line of the `//!` block.
    pub summary: String,
    /// The rest of the prose.
    pub details: String,
    pub params: Vec<Param>,
}

/// Where a recipe was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Origin {
    Dir(PathBuf),
    BuiltIn,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Dir(d) => write!(f, "{}", d.display()),
            Origin::BuiltIn => write!(f, "built-in"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recipe {
    pub name: String,
    pub origin: Origin,
    /// The name errors use: the file path, or `builtin:recipes/NAME.rhai`.
    pub source_name: String,
    #[serde(skip)]
    pub text: String,
    pub header: Header,
    /// Built-in recipes and files in lower-priority dirs that this one hides.
    pub shadows: Vec<String>,
}

#[cfg(test)]
mod builtin_commands;
#[cfg(test)]
mod tests;
