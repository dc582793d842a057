//! Compiling and running a recipe: the scope it sees (`args`, `config`), strict compilation
//! for `helix check`, and the run itself with its journal.

use std::collections::BTreeMap;

use rhai::{AST, Dynamic, Engine, Scope};

use crate::recipe::{Recipe, Value};

/// The scope a recipe is compiled and run in.
pub fn scope(args: &BTreeMap<String, Value>) -> Scope<'static> {
    let mut scope = Scope::new();
    let args = rhai::serde::to_dynamic(args).unwrap_or(Dynamic::UNIT);
    scope.push_constant("args", args);
    scope.push_constant(
        "config",
        crate::api::convert::from_json(&crate::ctx::get().config.to_json()),
    );
    scope
}

/// Compile a recipe with strict variables; errors are rendered with file:line:col.
pub fn compile(engine: &Engine, recipe: &Recipe, scope: &Scope) -> Result<AST, String> {
    crate::sources::remember(&recipe.source_name, &recipe.text);
    let mut ast = engine
        .compile_with_scope(scope, &recipe.text)
        .map_err(|e| crate::report::parse(&e, &recipe.source_name))?;
    ast.set_source(recipe.source_name.as_str());
    Ok(ast)
}

/// Run an already-compiled recipe.
pub fn execute(
    engine: &Engine,
    ast: &AST,
    scope: &mut Scope,
) -> Result<(), Box<rhai::EvalAltResult>> {
    engine.run_ast_with_scope(scope, ast)
}
