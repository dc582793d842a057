//! Builds the Rhai engine: the options (strict variables, no `eval`), the module resolver for
//! `stdlib/`, printing through the console, Ctrl-C, and one line per primitive module — the
//! whole scripting surface in one screen.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};

type SharedModule = Shared<Module>;

use crate::recipe::BUILTIN_STDLIB;

/// Every primitive module, as `(namespace, module)`: what recipes call as `fs::write(...)`.
pub(crate) fn primitive_modules() -> Vec<(&'static str, Module)> {
    use crate::api;
    vec![
        ("cmd", api::cmd::module()),
        ("fs", api::fs::module()),
        ("ui", api::ui::module()),
        ("sys", api::sys::module()),
        ("size", api::size::module()),
        ("duration", api::duration::module()),
        ("macho", api::macho::module()),
        ("git", api::git::module()),
        ("deps", api::deps::module()),
        ("build", api::build::module()),
        ("plist", api::plist::module()),
        ("utm", api::utm::module()),
        ("qemu_img", api::qemu_img::module()),
        ("qemu", api::qemu::module()),
        ("cloudinit", api::cloudinit::module()),
        ("ssh", api::ssh::module()),
        ("net", api::net::module()),
    ]
}

pub fn build(stdlib_dirs: Vec<PathBuf>) -> Engine {
    let mut engine = Engine::new();
    engine.set_strict_variables(true);
    engine.disable_symbol("eval");
    engine.set_max_expr_depths(128, 64);
    // Rhai's default is 8 in debug builds and 64 in release: recipes → stdlib → stdlib nests
    // deeper than 8, and a recipe must behave the same whichever way helix was built.
    engine.set_max_call_levels(64);
    engine.on_print(|s| println!("{}", crate::run::current().redact(s)));
    engine.on_debug(|s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(l)) => format!("{src}:{l}: "),
            _ => String::new(),
        };
        eprintln!("{} {at}{}", console::style("[debug]").dim(), crate::run::current().redact(s));
    });
    // Ctrl-C: the handler flags the context; the script stops at its next operation.
    engine.on_progress(|_| {
        crate::run::current().is_cancelled().then(|| "interrupted (Ctrl-C)".into())
    });
    engine.register_global_module(crate::api::global::module().into());
    for (name, module) in primitive_modules() {
        engine.register_static_module(name, module.into());
    }
    engine.set_module_resolver(StdlibResolver {
        dirs: stdlib_dirs,
        cache: Mutex::new(HashMap::new()),
    });
    engine
}

/// Resolves `import "vm" as vm;` into the stdlib dirs (user dirs first), then the built-ins.
pub(crate) struct StdlibResolver {
    dirs: Vec<PathBuf>,
    cache: Mutex<HashMap<String, SharedModule>>,
}

impl StdlibResolver {
    /// Where module `name` comes from: `(source name, text)`.
    pub(crate) fn locate(dirs: &[PathBuf], name: &str) -> Option<(String, String)> {
        for d in dirs {
            let p = d.join(format!("{name}.rhai"));
            if let Ok(text) = std::fs::read_to_string(&p) {
                return Some((p.display().to_string(), text));
            }
        }
        let f = BUILTIN_STDLIB.get_file(format!("{name}.rhai"))?;
        Some((format!("builtin:stdlib/{name}.rhai"), f.contents_utf8()?.to_string()))
    }
}

impl ModuleResolver for StdlibResolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(m) = self.cache.lock().unwrap().get(path) {
            return Ok(m.clone());
        }
        let valid = !path.is_empty()
            && path.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let Some((source, text)) = valid.then(|| Self::locate(&self.dirs, path)).flatten() else {
            return Err(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos).into());
        };
        crate::sources::remember(&source, &text);
        let mut ast = engine
            .compile(&text)
            .map_err(|e| EvalAltResult::ErrorInModule(source.clone(), Box::new(e.into()), pos))?;
        ast.set_source(source.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| EvalAltResult::ErrorInModule(source.clone(), e, pos))?;
        let shared: SharedModule = module.into();
        self.cache.lock().unwrap().insert(path.to_string(), shared.clone());
        Ok(shared)
    }
}
