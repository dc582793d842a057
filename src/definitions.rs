//! Editor support: `helix api --definitions DIR` writes Rhai definition files (`*.d.rhai`, the
//! format of Rhai's `Engine::definitions()` that the Rhai language server reads) for every
//! primitive module, every stdlib module (its functions with their `///` docs, its exported
//! constants), and the names a recipe sees (`args` — with the recipe's parameters in its docs —
//! and `config`), so an editor completes and documents what a recipe can call.

use std::path::{Path, PathBuf};

use rhai::{ASTNode, Stmt};

use crate::recipe::{Kind, Recipe};

/// `helix api --definitions DIR [--recipe NAME]`.
pub(crate) fn command(
    dir: &Path,
    recipe: Option<&str>,
    dirs: &[PathBuf],
) -> Result<i32, crate::cli::Failure> {
    use crate::cli::Failure;
    let recipe =
        recipe.map(|n| crate::recipe::find(dirs, n)).transpose().map_err(Failure::usage)?;
    let files = write(dir, &crate::recipe::stdlib_dirs(dirs), recipe.as_ref()).map_err(|e| {
        Failure::error(format!("could not write definitions to `{}`: {e}", dir.display()))
    })?;
    eprintln!("wrote {} Rhai definition files to {}", files.len(), dir.display());
    Ok(0)
}

/// Write the definition files into `dir`; returns the files written.
pub(crate) fn write(
    dir: &Path,
    stdlib_dirs: &[PathBuf],
    recipe: Option<&Recipe>,
) -> std::io::Result<Vec<PathBuf>> {
    let engine = crate::engine::build(stdlib_dirs.to_vec());
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, text) in engine.definitions().with_headers(true).iter_files() {
        written.push(put(dir, &name, &text)?);
    }
    for (name, _source, text) in crate::check::command::stdlib_modules(stdlib_dirs) {
        if let Ok(ast) = engine.compile(&text) {
            written.push(put(dir, &format!("{name}.d.rhai"), &module(&name, &ast))?);
        }
    }
    written.push(put(dir, "__scope__.d.rhai", &scope(recipe))?);
    Ok(written)
}

fn put(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    let p = dir.join(name);
    crate::fs::atomic_write_raw(&p, text.as_bytes(), Some(0o644))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(p)
}

/// `module NAME;` with the module's public functions and exported constants.
pub(crate) fn module(name: &str, ast: &rhai::AST) -> String {
    let mut out = format!("module {name};\n");
    let mut consts = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if path.len() == 1
            && let Some(ASTNode::Stmt(Stmt::Var(x, flags, _))) = path.last()
            && flags.contains(rhai::ASTFlags::EXPORTED)
        {
            consts.push(x.0.name.to_string());
        }
        true
    });
    for c in consts {
        out.push_str(&format!("\nconst {c}: ?;\n"));
    }
    let mut fns: Vec<_> =
        ast.iter_functions().filter(|f| f.access != rhai::FnAccess::Private).collect();
    fns.sort_by(|a, b| (a.name, a.params.len()).cmp(&(b.name, b.params.len())));
    for f in fns {
        out.push('\n');
        for c in &f.comments {
            out.push_str(&format!("{c}\n"));
        }
        let params: Vec<String> = f.params.iter().map(|p| format!("{p}: ?")).collect();
        out.push_str(&format!("fn {}({}) -> ?;\n", f.name, params.join(", ")));
    }
    out
}

/// `args` and `config`, the constants every recipe sees; `args`'s docs list the recipe's
/// parameters with their types.
pub(crate) fn scope(recipe: Option<&Recipe>) -> String {
    let mut out = String::from("module static;\n\n");
    match recipe {
        Some(r) => {
            out.push_str(&format!(
                "/// The parameters of recipe `{}`, from its header (`helix run {} --help`):\n",
                r.name, r.name
            ));
            for p in &r.header.params {
                let ty = match p.kind {
                    Kind::Choice => format!("one of {}", p.choices.join(", ")),
                    Kind::Bool => "bool".into(),
                    Kind::Int => "int".into(),
                    Kind::Float => "float".into(),
                    Kind::List => "array of strings".into(),
                    Kind::String | Kind::Path | Kind::Size => "string".into(),
                };
                let key = if p.name.contains('-') {
                    format!("args[\"{}\"]", p.name)
                } else {
                    format!("args.{}", p.name)
                };
                let mut line = format!("/// - `{key}` ({ty}): {}", p.description);
                if let Some(d) = &p.default {
                    line.push_str(&format!(" (default: {d})"));
                }
                if p.required {
                    line.push_str(" (required)");
                }
                out.push_str(&line);
                out.push('\n');
            }
        }
        None => out.push_str(
            "/// The recipe's parameters, from its header (`helix api --definitions DIR --recipe NAME` lists them).\n",
        ),
    }
    out.push_str(
        "const args: Map;\n\n/// The merged configuration (`helix config`).\nconst config: Map;\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stdlib_module_becomes_a_definition_module() {
        let engine = crate::engine::build(vec![]);
        let ast = engine
            .compile("export const LIMIT = 3;\nlet hidden = 1;\n/// Twice x.\nfn twice(x) { x * 2 }\nprivate fn p() {}\n")
            .unwrap();
        let d = module("util", &ast);
        assert!(d.starts_with("module util;\n"), "{d}");
        assert!(d.contains("const LIMIT: ?;"), "{d}");
        assert!(!d.contains("hidden") && !d.contains("fn p("), "{d}");
        assert!(d.contains("/// Twice x.\nfn twice(x: ?) -> ?;"), "{d}");
    }

    #[test]
    fn args_document_the_recipe_parameters() {
        let text = "//! X.\n//! @param action:choice(a|b)  What (default: a)\n//! @flag no-start  Stay\n//! @param n:int  Count (required)\n";
        let r = Recipe {
            name: "x".into(),
            origin: crate::recipe::Origin::BuiltIn,
            source_name: "x".into(),
            text: text.into(),
            header: crate::recipe::parse_header(text, "x").unwrap(),
            shadows: vec![],
        };
        let s = scope(Some(&r));
        assert!(s.contains("- `args.action` (one of a, b): What (default: a)"), "{s}");
        assert!(s.contains("- `args[\"no-start\"]` (bool): Stay"), "{s}");
        assert!(s.contains("- `args.n` (int): Count (required)"), "{s}");
        assert!(s.contains("const args: Map;") && s.contains("const config: Map;"), "{s}");
    }
}
