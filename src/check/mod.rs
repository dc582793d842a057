//! `helix check`: a static analysis of recipes and stdlib modules that finds an author's
//! mistakes before anything runs — it compiles with strict variables, then walks the AST:
//! every namespaced call resolved against the registered primitives and the stdlib modules by
//! name and number of arguments, every `args.X` against the header, the header itself read
//! strictly, and the in-place methods whose `()` result is used. Each finding is reported like a
//! run-time error (`file:line:col`, the source line, a caret) with a "did you mean".
//!
//! `helix run` runs the same check first, so no recipe starts with a detectable mistake.

mod args;
mod calls;
pub(crate) mod command;
pub(crate) mod header;
mod inplace;
pub(crate) mod suggest;
pub(crate) mod surface;

pub(crate) use suggest::hint;

use std::collections::BTreeMap;
use std::path::PathBuf;

use rhai::{AST, ASTNode, Engine, Position, Scope, Stmt};

use crate::recipe::Recipe;
use surface::{Func, Surface};

/// One finding: where, what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub help: String,
}

impl Diagnostic {
    /// `error: …`, `--> file:line:col`, the line, a caret, `= help: …`.
    pub(crate) fn render(&self) -> String {
        let mut out = crate::report::at(&self.source, self.line, self.col, &self.message);
        if !self.help.is_empty() {
            out.push_str(&format!("  = help: {}\n", self.help));
        }
        out
    }
}

/// A stdlib module as an `import` sees it.
#[derive(Debug, Default)]
pub(crate) struct ModuleInfo {
    pub source: String,
    pub text: String,
    pub fns: Vec<Func>,
    pub vars: Vec<String>,
    /// Its map keys: a map it returns may carry closures a recipe calls as methods.
    pub map_keys: Vec<String>,
}

/// What the walk knows about the file it checks.
pub(crate) struct Context<'a> {
    pub surface: &'a Surface,
    pub source: String,
    /// Import alias → module.
    pub imports: BTreeMap<String, ModuleInfo>,
    /// Functions the file defines.
    pub local_fns: Vec<Func>,
    /// Every name the file binds (`let`, `const`, parameters, loop variables).
    pub declared: Vec<String>,
    /// Every name the file uses as a map key or property (a map may hold a closure there).
    pub map_keys: Vec<String>,
    /// The recipe's parameter names; `None` for a stdlib module (it has no `args`).
    pub params: Option<Vec<String>>,
    /// The words of each `choice(…)` parameter.
    pub choices: BTreeMap<String, Vec<String>>,
    /// Imports that failed (reported once, at the import): calls through them are not judged.
    pub failed_imports: Vec<String>,
}

impl Context<'_> {
    fn at(&self, pos: Position, message: String, help: String) -> Diagnostic {
        Diagnostic {
            source: self.source.clone(),
            line: pos.line().unwrap_or(0),
            col: pos.position().unwrap_or(1),
            message,
            help,
        }
    }
}

/// Everything `check` needs that does not depend on the file: the engine's surface and where
/// stdlib modules are found. Build it once, check many files.
pub struct Checker {
    pub engine: Engine,
    pub surface: Surface,
    pub stdlib_dirs: Vec<PathBuf>,
}

impl Checker {
    pub fn new(stdlib_dirs: Vec<PathBuf>) -> Checker {
        let mut engine = crate::engine::build(stdlib_dirs.clone());
        // Check what was written: the optimiser would drop dead code (`if false { … }`) and fold
        // constants before the walk sees them.
        engine.set_optimization_level(rhai::OptimizationLevel::None);
        let surface = Surface::of(&engine);
        Checker { engine, surface, stdlib_dirs }
    }

    /// Every problem in `recipe`: its header, its compilation, its calls and `args`.
    pub fn recipe(&self, recipe: &Recipe) -> Vec<Diagnostic> {
        let mut out = header::check(&recipe.text, &recipe.source_name);
        let mut params: Vec<String> = recipe.header.params.iter().map(|p| p.name.clone()).collect();
        // A parameter whose line is wrong is reported once, not again at every `args.X`.
        params.extend(header::declared_names(&recipe.text));
        params.sort();
        params.dedup();
        let mut scope = Scope::new();
        let args: rhai::Map =
            params.iter().map(|p| (p.as_str().into(), rhai::Dynamic::UNIT)).collect();
        scope.push("args", args);
        scope.push("config", rhai::Map::new());
        let choices = recipe
            .header
            .params
            .iter()
            .filter(|p| !p.choices.is_empty())
            .map(|p| (p.name.clone(), p.choices.clone()))
            .collect();
        let (found, mut imported) =
            self.script_with(&recipe.text, &recipe.source_name, &scope, Some(params), choices);
        out.extend(found);
        // The stdlib modules it imports, and theirs: a mistake in one stops the run just as well.
        let mut seen = vec![recipe.source_name.clone()];
        while let Some((source, text)) = imported.pop() {
            if seen.contains(&source) {
                continue;
            }
            seen.push(source.clone());
            let (found, more) = self.script(&text, &source, &Scope::new(), None);
            out.extend(found);
            imported.extend(more);
        }
        out
    }

    /// Every problem in a stdlib module's text.
    pub(crate) fn module(&self, text: &str, source: &str) -> Vec<Diagnostic> {
        self.script(text, source, &Scope::new(), None).0
    }

    fn script(
        &self,
        text: &str,
        source: &str,
        scope: &Scope,
        params: Option<Vec<String>>,
    ) -> (Vec<Diagnostic>, Vec<(String, String)>) {
        self.script_with(text, source, scope, params, BTreeMap::new())
    }

    fn script_with(
        &self,
        text: &str,
        source: &str,
        scope: &Scope,
        params: Option<Vec<String>>,
        choices: BTreeMap<String, Vec<String>>,
    ) -> (Vec<Diagnostic>, Vec<(String, String)>) {
        crate::sources::remember(source, text);
        let ast = match self.engine.compile_with_scope(scope, text) {
            Ok(a) => a,
            Err(e) => return (vec![compile_error(&e, text, source, &self.surface)], vec![]),
        };
        let mut out = Vec::new();
        let mut cx = Context {
            surface: &self.surface,
            source: source.to_string(),
            imports: BTreeMap::new(),
            local_fns: script_fns(&ast),
            declared: declared(&ast),
            map_keys: map_keys(&ast),
            params,
            choices,
            failed_imports: Vec::new(),
        };
        for (alias, path, pos) in imports(&ast) {
            match self.load_module(&path) {
                Ok(m) => {
                    cx.map_keys.extend(m.map_keys.iter().cloned());
                    cx.imports.insert(alias, m);
                }
                Err(e) => {
                    cx.failed_imports.push(alias);
                    match e {
                        LoadError::Missing(message, help) => out.push(cx.at(pos, message, help)),
                        LoadError::Broken(d) => out.push(d),
                    }
                }
            }
        }
        ast.walk(&mut |path: &[ASTNode]| {
            calls::visit(path, &cx, &mut out);
            args::visit(path, &cx, &mut out);
            inplace::visit(path, &cx, &mut out);
            true
        });
        out.sort_by_key(|d| (d.line, d.col));
        out.dedup();
        let imported = cx.imports.values().map(|m| (m.source.clone(), m.text.clone())).collect();
        (out, imported)
    }

    /// Compile stdlib module `path` (without running it) and list what it offers.
    fn load_module(&self, path: &str) -> Result<ModuleInfo, LoadError> {
        let Some((source, text)) = crate::engine::StdlibResolver::locate(&self.stdlib_dirs, path)
        else {
            let known = command::stdlib_modules(&self.stdlib_dirs);
            let names: Vec<&str> = known.iter().map(|(n, _, _)| n.as_str()).collect();
            let help = hint(path, names.iter().copied());
            return Err(LoadError::Missing(
                format!("there is no stdlib module `{path}`"),
                if help.is_empty() { format!("the modules: {}", names.join(", ")) } else { help },
            ));
        };
        crate::sources::remember(&source, &text);
        // Its own compile error, at its own line: that is where the fix goes.
        let ast = self
            .engine
            .compile(&text)
            .map_err(|e| LoadError::Broken(compile_error(&e, &text, &source, &self.surface)))?;
        let mut vars = Vec::new();
        for s in ast.statements() {
            match s {
                // Only what a module exports is visible as `alias::NAME`.
                Stmt::Var(x, flags, _) if flags.contains(rhai::ASTFlags::EXPORTED) => {
                    vars.push(x.0.name.to_string())
                }
                Stmt::Export(x, _) => vars.push(if x.1.name.is_empty() {
                    x.0.name.to_string()
                } else {
                    x.1.name.to_string()
                }),
                _ => {}
            }
        }
        Ok(ModuleInfo { fns: script_fns(&ast), vars, map_keys: map_keys(&ast), source, text })
    }
}

/// Why an `import` found nothing to check against.
enum LoadError {
    /// No such module: the message and help, reported at the `import`.
    Missing(String, String),
    /// The module does not compile: its own error, in its own file.
    Broken(Diagnostic),
}

/// The public functions an AST defines, with signatures written as `name(a, b)`.
fn script_fns(ast: &AST) -> Vec<Func> {
    ast.iter_functions()
        .filter(|f| f.access != rhai::FnAccess::Private)
        .map(|f| Func {
            name: f.name.to_string(),
            arity: f.params.len(),
            raw: format!("{}({})", f.name, f.params.join(", ")),
        })
        .collect()
}

/// `import "path" as alias;` anywhere in the file.
fn imports(ast: &AST) -> Vec<(String, String, Position)> {
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last()
            && let rhai::Expr::StringConstant(p, _) = &x.0
        {
            out.push((x.1.name.to_string(), p.to_string(), *pos));
        }
        true
    });
    out
}

/// Every name the file binds: variables, constants, loop variables, function parameters.
fn declared(ast: &AST) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::Var(x, ..))) => out.push(x.0.name.to_string()),
            Some(ASTNode::Stmt(Stmt::For(x, _))) => {
                out.push(x.0.name.to_string());
                if let Some(i) = &x.1 {
                    out.push(i.name.to_string());
                }
            }
            _ => {}
        }
        true
    });
    for f in ast.iter_functions() {
        // A closure that uses `args` gets it as a (captured) parameter: that is not a new `args`.
        let closure = f.name.starts_with("anon$");
        out.extend(f.params.iter().filter(|p| !(closure && **p == "args")).map(|p| p.to_string()));
    }
    out.sort();
    out.dedup();
    out
}

/// Keys of map literals and properties written anywhere in the file.
fn map_keys(ast: &AST) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(rhai::Expr::Map(m, _))) => {
                out.extend(m.0.iter().map(|(k, _)| k.name.to_string()))
            }
            Some(ASTNode::Expr(rhai::Expr::Property(p, _))) => out.push(p.2.to_string()),
            _ => {}
        }
        true
    });
    out.sort();
    out.dedup();
    out
}

/// A compile error, with a "did you mean" for an undefined variable or module.
fn compile_error(e: &rhai::ParseError, text: &str, source: &str, surface: &Surface) -> Diagnostic {
    let pos = crate::report::parse_position(e, text);
    let (message, help) = match &*e.0 {
        rhai::ParseErrorType::VariableUndefined(name) => {
            let words = bound_words(text);
            let candidates = words.iter().map(String::as_str).chain(["args", "config"]);
            (
                format!("there is no variable `{name}` here"),
                or(hint(name, candidates), "declare it with `let` first".into()),
            )
        }
        rhai::ParseErrorType::ModuleUndefined(name) => {
            let mut known: Vec<String> = surface.modules.keys().cloned().collect();
            known.extend(import_aliases(text));
            (
                format!("there is no module `{name}`"),
                or(
                    hint(name, known.iter().map(String::as_str)),
                    format!("a stdlib module needs `import \"{name}\" as {name};` first"),
                ),
            )
        }
        other => (crate::report::parse_message(other), String::new()),
    };
    Diagnostic {
        source: source.to_string(),
        line: pos.line().unwrap_or(0),
        col: pos.position().unwrap_or(1),
        message,
        help,
    }
}

fn or(a: String, b: String) -> String {
    if a.is_empty() { b } else { a }
}

/// Names a file binds, found in its text (used when it does not compile, so there is no AST):
/// the word after `let`, `const`, `for`, `fn` parameters and closure parameters.
fn bound_words(text: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(i) = rest.find(|c: char| c.is_alphabetic() || c == '|') {
            rest = &rest[i..];
            for kw in ["let ", "const ", "for "] {
                if let Some(r) = rest.strip_prefix(kw) {
                    let r = r.trim_start().trim_start_matches('(');
                    out.push(ident(r));
                    if let Some((_, second)) = r.split_once(',') {
                        out.push(ident(second));
                    }
                }
            }
            if let Some(r) = rest.strip_prefix("fn ")
                && let Some(open) = r.find('(')
                && let Some(close) = r[open..].find(')')
            {
                out.extend(r[open + 1..open + close].split(',').map(ident));
            }
            if let Some(r) = rest.strip_prefix('|')
                && let Some(close) = r.find('|')
            {
                out.extend(r[..close].split(',').map(ident));
            }
            let skip = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())
                .max(1);
            rest = &rest[skip..];
        }
    }
    out.retain(|w| !w.is_empty());
    out.sort();
    out.dedup();
    out
}

fn import_aliases(text: &str) -> Vec<String> {
    text.match_indices(" as ")
        .map(|(i, _)| {
            text[i + 4..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
        })
        .filter(|s: &String| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
