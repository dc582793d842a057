//! Recipes: finding them (user dirs shadow built-ins), reading their `//!` header without
//! evaluating anything, and turning command-line words into a validated `args` map.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Serialize;

use crate::error::{Error, Result};

pub static BUILTIN_RECIPES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/recipes");
pub static BUILTIN_STDLIB: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stdlib");

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

/// Parse the leading `//!` block. Never evaluates the script. A `@param` line helix cannot read
/// is left out here (so `helix list` still lists the recipe) and reported by `helix check`,
/// which `helix run` runs first.
pub fn parse_header(text: &str, source: &str) -> Result<Header> {
    let mut h = Header::default();
    let mut prose = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() && prose.is_empty() && h.params.is_empty() {
            continue;
        }
        let Some(doc) = t.strip_prefix("//!") else { break };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if let Some(rest) = doc.trim_start().strip_prefix("@param") {
            h.params.extend(parse_param(rest, false, source, i + 1).ok());
        } else if let Some(rest) = doc.trim_start().strip_prefix("@flag") {
            h.params.extend(parse_param(rest, true, source, i + 1).ok());
        } else {
            prose.push(doc.trim_end().to_string());
        }
    }
    while prose.last().is_some_and(|l| l.is_empty()) {
        prose.pop();
    }
    if let Some((first, rest)) = prose.split_first() {
        h.summary = first.clone();
        h.details = rest.join("\n").trim().to_string();
    }
    Ok(h)
}

/// `NAME[:TYPE]  description [(required)] [(default: VALUE)]`; TYPE may be
/// `choice(a|b|c)`.
pub(crate) fn parse_param(rest: &str, flag: bool, source: &str, line: usize) -> Result<Param> {
    let rest = rest.trim();
    let (spec, desc) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let bad =
        |why: &str| Error::invalid("recipe header", format!("{source}:{line}"), why.to_string());
    if spec.is_empty() {
        return Err(bad("`@param`/`@flag` needs a name"));
    }
    let mut choices = Vec::new();
    let (name, kind) = match spec.split_once(':') {
        Some((n, k)) if k.starts_with("choice(") => {
            let Some(inner) = k.strip_prefix("choice(").and_then(|k| k.strip_suffix(')')) else {
                return Err(bad("`choice(…)` needs its words in parentheses: `choice(a|b|c)`"));
            };
            choices = inner.split('|').map(|c| c.trim().to_string()).collect();
            if choices.iter().any(String::is_empty) {
                return Err(bad(&format!("`{k}` has an empty choice: write `choice(a|b|c)`")));
            }
            (n, Kind::Choice)
        }
        Some((n, k)) => (
            n,
            Kind::parse(k).ok_or_else(|| {
                bad(&format!(
                    "unknown type `{k}` (string, int, float, bool, path, size, list, choice(a|b))"
                ))
            })?,
        ),
        None => (spec, if flag { Kind::Bool } else { Kind::String }),
    };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(bad(&format!("`{name}` is not a valid parameter name")));
    }
    let mut description = desc.trim().to_string();
    let mut required = false;
    let mut default = None;
    if let Some(i) = description.find("(required)") {
        required = true;
        description.replace_range(i..i + "(required)".len(), "");
    }
    if let Some(i) = description.find("(default:")
        && let Some(j) = description[i..].find(')')
    {
        default = Some(description[i + 9..i + j].trim().to_string());
        description.replace_range(i..i + j + 1, "");
    }
    Ok(Param {
        name: name.to_string(),
        kind,
        flag,
        required,
        default,
        description: description.trim().to_string(),
        choices,
    })
}

/// The directories searched for recipes, highest priority first.
pub fn recipe_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
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
pub fn stdlib_dirs(recipe_dirs: &[PathBuf]) -> Vec<PathBuf> {
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

pub fn find(dirs: &[PathBuf], name: &str) -> Result<Recipe> {
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

fn similar(a: &str, b: &str) -> bool {
    a.contains(b) || b.contains(a) || levenshtein(a, b) <= 2
}

/// Edit distance between two names: the one "did you mean" measure ([`crate::check::suggest`]).
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    crate::check::suggest::distance(a, b)
}

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<String>),
}

/// Turn `--name value`, `--name=value` and `--flag` words into a validated map.
/// Every problem is reported before anything runs.
pub fn parse_args(recipe: &Recipe, words: &[String]) -> Result<BTreeMap<String, Value>> {
    let params = &recipe.header.params;
    let mut out = BTreeMap::new();
    let mut i = 0;
    let usage = |why: String| {
        Error::invalid(
            "arguments",
            format!("helix run {}", recipe.name),
            format!("{why} (see `helix run {} --help`)", recipe.name),
        )
    };
    while i < words.len() {
        let w = &words[i];
        let Some(opt) = w.strip_prefix("--") else {
            return Err(usage(format!("unexpected `{w}`: parameters are given as `--name value`")));
        };
        let (name, inline) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (opt, None),
        };
        let (name, negated) = match params.iter().find(|p| p.name == name) {
            Some(_) => (name, false),
            None => match name.strip_prefix("no-") {
                Some(n) if params.iter().any(|p| p.name == n && p.flag) => (n, true),
                _ => return Err(usage(format!("unknown parameter `--{name}`"))),
            },
        };
        let p = params.iter().find(|p| p.name == name).expect("found above");
        let raw = if p.flag {
            match inline {
                Some(v) => v,
                None => (!negated).to_string(),
            }
        } else if let Some(v) = inline {
            v
        } else {
            i += 1;
            words.get(i).cloned().ok_or_else(|| usage(format!("`--{name}` needs a value")))?
        };
        out.insert(name.to_string(), convert(p, &raw).map_err(usage)?);
        i += 1;
    }
    for p in params {
        if out.contains_key(&p.name) {
            continue;
        }
        if let Some(d) = &p.default
            && let Ok(v) = convert(p, d)
        {
            out.insert(p.name.clone(), v);
            continue;
        }
        if p.required {
            return Err(usage(format!("`--{}` is required", p.name)));
        }
        if p.flag {
            out.insert(p.name.clone(), Value::Bool(false));
        }
    }
    Ok(out)
}

/// `raw` as a value of `p`'s type, or why it is not one.
pub(crate) fn convert(p: &Param, raw: &str) -> std::result::Result<Value, String> {
    let bad = |what: &str| format!("`--{}` takes {what}, not `{raw}`", p.name);
    Ok(match p.kind {
        Kind::String | Kind::Path => Value::Str(if p.kind == Kind::Path {
            crate::paths::expand(raw).display().to_string()
        } else {
            raw.to_string()
        }),
        Kind::Int => Value::Int(raw.parse().map_err(|_| bad("a whole number"))?),
        Kind::Float => Value::Float(raw.parse().map_err(|_| bad("a number"))?),
        Kind::Bool => Value::Bool(match raw {
            "true" | "yes" | "1" | "on" => true,
            "false" | "no" | "0" | "off" => false,
            _ => return Err(bad("true or false")),
        }),
        Kind::Size => {
            crate::size::parse(raw).map_err(|_| bad("a size like 256G, 1T or 512M"))?;
            Value::Str(raw.to_string())
        }
        Kind::List => Value::List(
            raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
        ),
        Kind::Choice => {
            if !p.choices.iter().any(|c| c == raw) {
                return Err(bad(&format!("one of {}", p.choices.join(", "))));
            }
            Value::Str(raw.to_string())
        }
    })
}

/// The `helix run NAME --help` text.
pub fn help(recipe: &Recipe) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "//! Grow a VM's root disk.\n//!\n//! Stops the VM first.\n//!\n//! @param size:size  New virtual size, e.g. 1T (required)\n//! @param vm         VM UUID or name (default: dev)\n//! @param cpus:int   CPUs (default: 4)\n//! @flag  no-start   Leave it stopped\nlet x = 1;\n";

    fn recipe() -> Recipe {
        Recipe {
            name: "expand".into(),
            origin: Origin::BuiltIn,
            source_name: "t".into(),
            text: TEXT.into(),
            header: parse_header(TEXT, "t").unwrap(),
            shadows: vec![],
        }
    }

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn header_parses_params() {
        let h = parse_header(TEXT, "t").unwrap();
        assert_eq!(h.summary, "Grow a VM's root disk.");
        assert_eq!(h.details, "Stops the VM first.");
        assert_eq!(h.params.len(), 4);
        assert!(h.params[0].required && h.params[0].kind == Kind::Size);
        assert_eq!(h.params[1].default.as_deref(), Some("dev"));
        assert_eq!(h.params[1].description, "VM UUID or name");
        assert!(h.params[3].flag);
    }

    #[test]
    fn args_are_validated_before_running() {
        let r = recipe();
        let a = parse_args(&r, &words("--size 1T --cpus=8 --no-start")).unwrap();
        assert_eq!(a["size"], Value::Str("1T".into()));
        assert_eq!(a["cpus"], Value::Int(8));
        assert_eq!(a["vm"], Value::Str("dev".into()));
        assert_eq!(a["no-start"], Value::Bool(true));
        let e = parse_args(&r, &words("--cpus 8")).unwrap_err().to_string();
        assert!(e.contains("`--size` is required"), "{e}");
        let e = parse_args(&r, &words("--size 1T --cpu 8")).unwrap_err().to_string();
        assert!(e.contains("unknown parameter `--cpu`"), "{e}");
        let e = parse_args(&r, &words("--size 1T --cpus many")).unwrap_err().to_string();
        assert!(e.contains("whole number"), "{e}");
        let e = parse_args(&r, &words("--size huge")).unwrap_err().to_string();
        assert!(e.contains("a size like"), "{e}");
    }

    #[test]
    fn bad_header_type_is_left_out_for_check_to_report() {
        let h =
            parse_header("//! x\n//! @param a:blob thing\n//! @param b  B\n", "r.rhai").unwrap();
        assert_eq!(h.params.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["b"]);
        let e = parse_param("a:blob thing", false, "r.rhai", 2).unwrap_err().to_string();
        assert!(e.contains("r.rhai:2") && e.contains("blob"), "{e}");
    }

    #[test]
    fn typo_suggests() {
        assert!(similar("build-qemu", "biuld-qemu"));
        assert!(!similar("setup", "expand-disk"));
    }
}

#[cfg(test)]
mod builtin_commands {
    //! Every command the built-in recipes run passes the guard's classifier unasked.

    use std::collections::BTreeMap;
    use std::path::Path;

    use crate::guard::classify::command;

    use crate::guard::classify::tests::words;

    fn env_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn fixture() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    /// The guest steps of `stdlib/provision.rhai` (both profiles), as the recipe sends them.
    fn provision_steps() -> Vec<String> {
        let text = include_str!("../stdlib/provision.rhai");
        let mut out = vec![];
        let mut rest = text;
        while let Some(i) = rest.find("run: ") {
            rest = &rest[i + 5..];
            let quote = rest.chars().next().unwrap();
            if quote != '"' && quote != '`' {
                continue;
            }
            let end = rest[1..].find(quote).unwrap() + 1;
            out.push(rest[1..end].replace("${go_version}", "1.23.4"));
            rest = &rest[end + 1..];
        }
        out
    }

    /// Every command the built-in recipes run — locally (with the directory and environment they
    /// give it) and over SSH (with the stdin they feed it) — passes the classifier unasked.
    #[test]
    fn the_built_in_recipes_commands_run_unasked() {
        let d = fixture();
        let root = d.path();
        std::fs::create_dir_all(root.join("qemu/build")).unwrap();
        std::fs::write(root.join("qemu/configure"), "#!/bin/sh\n").unwrap();
        std::fs::write(root.join("qemu/build/build.ninja"), "").unwrap();
        let r = root.display().to_string();
        let sysroot_path = format!("{r}/sysroot/host/bin:{}", std::env::var("PATH").unwrap());
        let build_env = env_map(&[
            ("PKG_CONFIG", &format!("{r}/sysroot/host/bin/pkg-config")),
            ("PKG_CONFIG_PATH", &format!("{r}/sysroot/lib/pkgconfig")),
            ("MACOSX_DEPLOYMENT_TARGET", "14.0"),
            ("PATH", &sysroot_path),
        ]);
        let ninja_env = env_map(&[("PATH", &sysroot_path), ("NINJA_STATUS", "[%f/%t] ")]);
        let none = env_map(&[]);
        type Local<'a> = (Vec<String>, Option<String>, &'a BTreeMap<String, String>);
        let local: Vec<Local> = vec![
            // build-qemu
            (
                words(&format!(
                    "./configure --prefix={r}/prefix --target-list=aarch64-softmmu --enable-cocoa"
                )),
                Some(format!("{r}/qemu")),
                &build_env,
            ),
            (words(&format!("ninja -C {r}/qemu/build -j4")), None, &ninja_env),
            (words(&format!("ninja -C {r}/qemu/build install")), None, &ninja_env),
            (words(&format!("meson setup {r}/qemu/build {r}/qemu")), None, &build_env),
            // build-images, setup, test-video
            (words("./stack build-ubuntu"), Some(r.clone()), &none),
            (words("Scripts/build_dependencies.sh -p macos -a arm64"), Some(r.clone()), &none),
            (words(&format!("go build -o {r}/bin/helix .")), Some(r.clone()), &none),
            (
                words(&format!("{r}/bin/helix spectask start --project p -n x")),
                Some(r.clone()),
                &none,
            ),
            (words(&format!("{r}/bin/helix spectask screenshot ses_1")), Some(r.clone()), &none),
            // deps, utm, macho, qemu_img, procs, ssh housekeeping
            (words("brew info --json=v2 --installed"), None, &none),
            (words("brew install bison ninja"), None, &none),
            (words("python3 -m pip list --format=json --disable-pip-version-check"), None, &none),
            (
                words(
                    "python3 -m pip install --user --break-system-packages --disable-pip-version-check --quiet pyyaml",
                ),
                None,
                &none,
            ),
            (words("ninja --version"), None, &none),
            (words("osascript -e 'application \"UTM\" is running'"), None, &none),
            (words("osascript -e 'quit app \"UTM\"'"), None, &none),
            (words("open -a /Applications/UTM.app"), None, &none),
            (words("utmctl list"), None, &none),
            (words("utmctl start 0A1B"), None, &none),
            (
                words(&format!(
                    "codesign --force --sign - --preserve-metadata=identifier,entitlements,flags,runtime {r}/UTM.app"
                )),
                None,
                &none,
            ),
            (words(&format!("qemu-img info --output=json -U {r}/disk.qcow2")), None, &none),
            (words(&format!("qemu-img create -f qcow2 {r}/fresh.qcow2 64G")), None, &none),
            (words(&format!("qemu-img resize {r}/disk.qcow2 +10G")), None, &none),
            (words(&format!("qemu-img snapshot -c helix-before {r}/disk.qcow2")), None, &none),
            (words(&format!("qemu-img check --output=json {r}/disk.qcow2")), None, &none),
            (words(&format!("lsof -t -- {r}/disk.qcow2")), None, &none),
            (words("ps -o command= -p 1"), None, &none),
            (words("ssh -o ControlPath=/tmp/cp -O exit -p 2222 -l luke 127.0.0.1"), None, &none),
            (words("qemu-system-aarch64 -machine virt -accel tcg -m 2048 -nographic"), None, &none),
        ];
        let mut asked = vec![];
        for (argv, cwd, env) in &local {
            if let Some(f) = command(argv, cwd.as_deref().map(Path::new), None, env) {
                asked.push(format!("{argv:?}: {}", f.why));
            }
        }
        let mut remote: Vec<(String, Option<Vec<u8>>)> = [
            "findmnt -no SOURCE /",
            "lsblk -no PKNAME /dev/vda1",
            "cat /sys/class/block/vda1/partition",
            "df -h /",
            "sudo growpart /dev/vda 1",
            "sudo resize2fs /dev/vda1",
            "test -f /var/lib/cloud/instance/provision-ready",
            "sudo fstrim -av",
            "sudo netplan generate",
            "df -P / | tail -1",
            "true",
        ]
        .iter()
        .map(|s| (s.to_string(), None))
        .collect();
        let steps = provision_steps();
        assert!(steps.len() >= 7, "{steps:?}");
        remote.extend(steps.into_iter().map(|s| (s, None)));
        for sudo in [false, true] {
            let opts = crate::ssh::WriteOptions { sudo, mode: Some(0o600) };
            remote.push((
                crate::ssh::write_script("/etc/netplan/99-helix-override.yaml", &opts),
                Some(b"network: {}\n".to_vec()),
            ));
            let opts = crate::ssh::WriteOptions { sudo, mode: None };
            remote.push((
                crate::ssh::write_script("/home/luke/.bashrc", &opts),
                Some(b"x\n".to_vec()),
            ));
        }
        for (script, stdin) in &remote {
            let argv: Vec<String> =
                ["ssh", "-o", "BatchMode=yes", "-p", "2222", "-l", "luke", "127.0.0.1", script]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
            if let Some(f) = command(&argv, None, stdin.as_deref(), &none) {
                asked.push(format!("ssh {script:?}: {} {:?}", f.why, f.hits));
            }
        }
        assert!(asked.is_empty(), "the recipes' own commands would ask:\n{}", asked.join("\n"));
    }
}
