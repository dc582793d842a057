//! `deps::` — build tools and their versions, Homebrew formulae, Python packages.

use rhai::plugin::*;

use crate::api::convert;

pub fn module() -> rhai::Module {
    exported_module!(deps_api)
}

fn versions(m: std::collections::BTreeMap<String, Option<String>>) -> rhai::Map {
    m.into_iter().map(|(k, v)| (k.into(), v.map(Dynamic::from).unwrap_or(Dynamic::UNIT))).collect()
}

fn missing(m: std::collections::BTreeMap<String, Option<String>>) -> rhai::Array {
    m.into_iter().filter(|(_, v)| v.is_none()).map(|(k, _)| Dynamic::from(k)).collect()
}

fn names(a: &rhai::Array) -> crate::error::Result<Vec<String>> {
    convert::strings(a, "name")
}

#[export_module]
mod deps_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Check build tools: each `"name"` or `"name >= version"` must be on `PATH` (Homebrew's
    /// keg-only `opt/<name>/bin` is searched first, so Homebrew's bison wins over macOS's 2.3),
    /// with its `--version` new enough. Every problem is reported at once, in one table.
    /// Returns `#{ name: #{ path, version } }`.
    ///
    /// ```rhai
    /// let tools = deps::require(["bison >= 3.0", "pkg-config", "meson", "ninja", "nasm", "cmake"]);
    /// print(tools.bison.path);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn require(ctx: NativeCallContext, requirements: rhai::Array) -> RhaiResult<rhai::Map> {
        r(&ctx, names(&requirements).and_then(|s| crate::deps::require(&s))).map(|tools| {
            tools
                .into_iter()
                .map(|t| {
                    let mut m = rhai::Map::new();
                    m.insert("path".into(), t.path.display().to_string().into());
                    m.insert(
                        "version".into(),
                        t.version.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
                    );
                    (t.name.into(), Dynamic::from(m))
                })
                .collect()
        })
    }

    /// Where a tool would be run from (Homebrew's keg-only prefix first), or `()`.
    ///
    /// ```rhai
    /// let bison = deps::find("bison");
    /// ```
    pub fn find(name: &str) -> Dynamic {
        crate::deps::find_tool(name, crate::deps::brew_prefix().as_deref())
            .map(|p| Dynamic::from(p.display().to_string()))
            .unwrap_or(Dynamic::UNIT)
    }

    /// The version a tool reports with `--version`, or `()`.
    ///
    /// ```rhai
    /// print(deps::version("ninja"));
    /// ```
    pub fn version(name: &str) -> Dynamic {
        crate::deps::find_tool(name, crate::deps::brew_prefix().as_deref())
            .and_then(|p| crate::deps::tool_version(&p))
            .map(Dynamic::from)
            .unwrap_or(Dynamic::UNIT)
    }

    /// What Homebrew really has installed: `#{ formula: version }`, `()` for formulae that are
    /// not installed (asked with `brew info --json=v2 --installed`, not `brew --prefix`, which
    /// succeeds for formulae that are not installed). Without Homebrew it says so.
    ///
    /// ```rhai
    /// let have = deps::brew_installed(["bison", "glib-utils"]);
    /// if have.bison == () { print("no bison"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brew_installed(ctx: NativeCallContext, formulae: rhai::Array) -> RhaiResult<rhai::Map> {
        r(&ctx, names(&formulae).and_then(|f| crate::deps::brew_installed(&f))).map(versions)
    }

    /// The formulae Homebrew does not have installed.
    ///
    /// ```rhai
    /// let missing = deps::brew_missing(["bison", "pkg-config", "meson"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brew_missing(ctx: NativeCallContext, formulae: rhai::Array) -> RhaiResult<rhai::Array> {
        r(&ctx, names(&formulae).and_then(|f| crate::deps::brew_installed(&f))).map(missing)
    }

    /// Install the formulae that are missing with `brew install`, after asking (`--yes`
    /// answers). Returns the ones it installed.
    ///
    /// ```rhai
    /// deps::brew_install(["bison", "pkg-config", "gettext", "glib-utils", "libgpg-error", "nasm", "make", "meson", "cmake", "libclc"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brew_install(ctx: NativeCallContext, formulae: rhai::Array) -> RhaiResult<rhai::Array> {
        r(&ctx, names(&formulae).and_then(|f| crate::deps::brew_install(&f)))
            .map(|v| v.into_iter().map(Dynamic::from).collect())
    }

    /// What `python3` has installed (user site included): `#{ package: version }`, `()` when
    /// missing. Names match the way pip matches them (`PyYAML` = `pyyaml`).
    ///
    /// ```rhai
    /// let have = deps::pip_installed(["six", "pyyaml", "mako"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pip_installed(ctx: NativeCallContext, packages: rhai::Array) -> RhaiResult<rhai::Map> {
        r(&ctx, names(&packages).and_then(|p| crate::deps::pip_installed(&p))).map(versions)
    }

    /// The Python packages `python3` does not have.
    ///
    /// ```rhai
    /// let missing = deps::pip_missing(["six", "pyparsing", "pyyaml", "setuptools", "distlib", "mako"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pip_missing(ctx: NativeCallContext, packages: rhai::Array) -> RhaiResult<rhai::Array> {
        r(&ctx, names(&packages).and_then(|p| crate::deps::pip_installed(&p))).map(missing)
    }

    /// Install the missing packages with `pip install --user --break-system-packages`, after
    /// asking (`--yes` answers). Returns the ones it installed.
    ///
    /// ```rhai
    /// deps::pip_install(["six", "pyparsing", "pyyaml", "setuptools", "distlib", "mako"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pip_install(ctx: NativeCallContext, packages: rhai::Array) -> RhaiResult<rhai::Array> {
        r(&ctx, names(&packages).and_then(|p| crate::deps::pip_install(&p)))
            .map(|v| v.into_iter().map(Dynamic::from).collect())
    }
}
