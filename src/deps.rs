//! Build dependencies: tools on `PATH` with a minimum version (Homebrew's keg-only prefix is
//! searched first, since macOS ships bison 2.3 in /usr/bin), Homebrew formulae that are really
//! installed (asked with `brew info --json=v2 --installed`; `brew --prefix X` succeeds for
//! formulae that are not installed), and Python packages, each with an install-after-asking.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::process::Cmd;

/// A comparison in a requirement such as `bison >= 3.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Ge,
    Gt,
    Eq,
    Le,
    Lt,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "=",
            Op::Le => "<=",
            Op::Lt => "<",
        }
    }
    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Ge => o != Ordering::Less,
            Op::Gt => o == Ordering::Greater,
            Op::Eq => o == Ordering::Equal,
            Op::Le => o != Ordering::Greater,
            Op::Lt => o == Ordering::Less,
        }
    }
}

/// `name`, or `name OP version`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Requirement {
    pub name: String,
    pub constraint: Option<(Op, String)>,
}

impl Requirement {
    pub(crate) fn parse(s: &str) -> Result<Requirement> {
        let s = s.trim();
        let bad = |why: &str| {
            Error::invalid(
                "requirement",
                s,
                format!("{why}; write it like `bison >= 3.0` or `ninja`"),
            )
        };
        let Some(i) = s.find(['<', '>', '=']) else {
            if s.is_empty() || s.contains(char::is_whitespace) {
                return Err(bad("expected a tool name"));
            }
            return Ok(Requirement { name: s.to_string(), constraint: None });
        };
        let name = s[..i].trim();
        let rest = &s[i..];
        let (op, version) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(sym, op)| rest.strip_prefix(sym).map(|v| (*op, v.trim())))
        .ok_or_else(|| bad("unknown comparison"))?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad("expected a tool name before the comparison"));
        }
        if parse_version(version).is_none() || version.contains(char::is_whitespace) {
            return Err(bad("expected a version such as 3.0 after the comparison"));
        }
        Ok(Requirement { name: name.to_string(), constraint: Some((op, version.to_string())) })
    }

    fn wanted(&self) -> String {
        match &self.constraint {
            Some((op, v)) => format!("{} {v}", op.symbol()),
            None => "any".into(),
        }
    }
}

/// Version components: `2.16.01` -> [2, 16, 1]; `v1.2.3-rc1` -> [1, 2, 3].
pub(crate) fn parse_version(s: &str) -> Option<Vec<u64>> {
    let s = s.trim().trim_start_matches(['v', 'V']);
    let mut parts = vec![];
    for p in s.split('.') {
        let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.is_empty() {
            break;
        }
        parts.push(digits.parse().ok()?);
        if digits.len() != p.len() {
            break;
        }
    }
    (!parts.is_empty()).then_some(parts)
}

pub(crate) fn compare_versions(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse_version(a)?, parse_version(b)?);
    let n = a.len().max(b.len());
    let get = |v: &Vec<u64>, i: usize| v.get(i).copied().unwrap_or(0);
    Some(
        (0..n)
            .map(|i| get(&a, i).cmp(&get(&b, i)))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal),
    )
}

/// The version in a `--version` output: the first word that looks like `N.N[.N…]`
/// (`bison (GNU Bison) 3.8.2`, `cmake version 3.25.1`, `NASM version 2.16.01 compiled on …`).
pub(crate) fn version_from_output(text: &str) -> Option<String> {
    for line in text.lines() {
        for word in line.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')') {
            let w = word.trim_start_matches(['v', 'V']);
            let mut chars = w.chars();
            if !chars.next().is_some_and(|c| c.is_ascii_digit()) || !w.contains('.') {
                continue;
            }
            let end = w.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(w.len());
            let v = w[..end].trim_end_matches('.');
            if v.contains('.') && v.split('.').all(|p| !p.is_empty()) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Homebrew's prefix: `$HOMEBREW_PREFIX`, else `brew --prefix` when brew is on PATH, else the
/// default for the platform if it exists.
pub(crate) fn brew_prefix() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOMEBREW_PREFIX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if crate::process::which("brew").is_some()
        && let Ok(out) = Cmd::new(&["brew", "--prefix"])
            .capture()
            .read_only()
            .timeout(Duration::from_secs(30))
            .run()
        && !out.stdout.trim().is_empty()
    {
        return Some(PathBuf::from(out.stdout.trim()));
    }
    let default = if cfg!(target_arch = "aarch64") || crate::paths::mac_root().is_some() {
        crate::paths::system("/opt/homebrew")
    } else {
        PathBuf::from("/usr/local")
    };
    (crate::paths::is_macos() && default.join("bin/brew").exists()).then_some(default)
}

/// Where `name` would be run from: Homebrew's keg-only `opt/NAME/bin` first, then `PATH`.
pub(crate) fn find_tool(name: &str, brew: Option<&Path>) -> Option<PathBuf> {
    if let Some(prefix) = brew {
        let keg = prefix.join("opt").join(name).join("bin").join(name);
        if crate::process::which(&keg.display().to_string()).is_some() {
            return Some(keg);
        }
    }
    crate::process::which(name)
}

/// The version a tool reports with `--version`, if any.
pub(crate) fn tool_version(path: &Path) -> Option<String> {
    let out = Cmd::new(&[path.display().to_string(), "--version".into()])
        .capture()
        .unchecked()
        .read_only()
        .timeout(Duration::from_secs(20))
        .run()
        .ok()?;
    version_from_output(&out.stdout).or_else(|| version_from_output(&out.stderr))
}

/// A tool that was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Tool {
    pub name: String,
    pub path: PathBuf,
    pub version: Option<String>,
}

/// Check every requirement; on success every tool with its path and version, otherwise one
/// error with a table of every problem (not just the first).
pub(crate) fn require(specs: &[String]) -> Result<Vec<Tool>> {
    let reqs: Vec<Requirement> =
        specs.iter().map(|s| Requirement::parse(s)).collect::<Result<_>>()?;
    let brew = brew_prefix();
    let mut rows = vec![vec![
        "TOOL".to_string(),
        "WANTED".into(),
        "FOUND".into(),
        "VERSION".into(),
        "PROBLEM".into(),
    ]];
    let mut tools = vec![];
    let mut missing = vec![];
    for r in &reqs {
        let Some(path) = find_tool(&r.name, brew.as_deref()) else {
            rows.push(vec![
                r.name.clone(),
                r.wanted(),
                "-".into(),
                "-".into(),
                "not found on PATH".into(),
            ]);
            missing.push(r.name.clone());
            continue;
        };
        let version = if r.constraint.is_some() { tool_version(&path) } else { None };
        let problem = match (&r.constraint, &version) {
            (None, _) => None,
            (Some(_), None) => Some("could not read its version from `--version`".to_string()),
            (Some((op, want)), Some(have)) => match compare_versions(have, want) {
                Some(o) if op.holds(o) => None,
                _ => Some(format!("version {have} is not {} {want}", op.symbol())),
            },
        };
        let shown_path = path.display().to_string();
        match problem {
            Some(p) => {
                rows.push(vec![
                    r.name.clone(),
                    r.wanted(),
                    shown_path,
                    version.clone().unwrap_or("?".into()),
                    p,
                ]);
                missing.push(r.name.clone());
            }
            None => tools.push(Tool { name: r.name.clone(), path, version }),
        }
    }
    if missing.is_empty() {
        return Ok(tools);
    }
    let where_brew = match &brew {
        Some(p) => format!(
            " (helix looks in `{}/opt/<name>/bin` first for keg-only formulae)",
            p.display()
        ),
        None => String::new(),
    };
    Err(Error::Dependency {
        tool: "build tools",
        message: format!(
            "{} of {} build tools are missing or too old:\n{}install them (macOS: `brew install {}`){where_brew} and run again",
            missing.len(),
            reqs.len(),
            indent(&crate::ui::table(&rows)),
            missing.join(" ")
        ),
    })
}

fn indent(t: &str) -> String {
    t.lines().map(|l| format!("  {l}\n")).collect()
}

fn brew() -> Result<PathBuf> {
    crate::process::which("brew").ok_or_else(|| {
        Error::Dependency {
            tool: "brew",
            message: "Homebrew is not installed here (`brew` is not on PATH): the Homebrew checks are \
                      for macOS — install it from https://brew.sh, or on Linux install the equivalent \
                      packages with the system package manager"
                .into(),
        }
    })
}

/// Every name an installed formula answers to (name, full name, aliases, old names), with
/// the installed version — from `brew info --json=v2 --installed`.
fn brew_index(json: &str) -> Result<BTreeMap<String, String>> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::Dependency {
        tool: "brew",
        message: format!("could not read the output of `brew info --json=v2 --installed`: {e}"),
    })?;
    let mut idx = BTreeMap::new();
    for f in v["formulae"].as_array().into_iter().flatten() {
        let Some(version) =
            f["installed"].as_array().and_then(|a| a.last()).and_then(|i| i["version"].as_str())
        else {
            continue;
        };
        let mut names: Vec<&str> = vec![];
        names.extend(f["name"].as_str());
        names.extend(f["full_name"].as_str());
        names.extend(f["oldname"].as_str());
        for key in ["aliases", "oldnames"] {
            names.extend(f[key].as_array().into_iter().flatten().filter_map(|n| n.as_str()));
        }
        for n in names {
            idx.entry(n.to_string()).or_insert_with(|| version.to_string());
        }
    }
    Ok(idx)
}

/// For each formula, the installed version or `None` — what Homebrew really has installed.
pub(crate) fn brew_installed(formulae: &[String]) -> Result<BTreeMap<String, Option<String>>> {
    let brew = brew()?;
    let out = Cmd::new(&[
        brew.display().to_string(),
        "info".into(),
        "--json=v2".into(),
        "--installed".into(),
    ])
    .capture()
    .read_only()
    .timeout(Duration::from_secs(120))
    .run()?;
    let idx = brew_index(&out.stdout)?;
    Ok(formulae.iter().map(|f| (f.clone(), idx.get(f).cloned())).collect())
}

fn missing_of(m: &BTreeMap<String, Option<String>>) -> Vec<String> {
    m.iter().filter(|(_, v)| v.is_none()).map(|(k, _)| k.clone()).collect()
}

/// Install the formulae that are not installed, after asking (`--yes` answers). Returns the
/// ones it installed.
pub(crate) fn brew_install(formulae: &[String]) -> Result<Vec<String>> {
    let missing = missing_of(&brew_installed(formulae)?);
    if missing.is_empty() {
        return Ok(vec![]);
    }
    let prompt = format!(
        "Install {} missing Homebrew {} with `brew install {}`?",
        missing.len(),
        if missing.len() == 1 { "formula" } else { "formulae" },
        missing.join(" ")
    );
    if !crate::ui::confirm(&prompt, None)? {
        return Err(Error::Dependency {
            tool: "brew",
            message: format!(
                "not installed (declined): {}; install them with `brew install {}`",
                missing.join(", "),
                missing.join(" ")
            ),
        });
    }
    let mut argv = vec![brew()?.display().to_string(), "install".into()];
    argv.extend(missing.iter().cloned());
    Cmd::new(&argv).run()?;
    if crate::run::current().dry_run {
        return Ok(missing);
    }
    let still = missing_of(&brew_installed(&missing)?);
    if !still.is_empty() {
        return Err(Error::Dependency {
            tool: "brew",
            message: format!(
                "`brew install` finished but Homebrew still lists {} as not installed",
                still.join(", ")
            ),
        });
    }
    Ok(missing)
}

/// PEP 503 name normalisation: `PyYAML` and `pyyaml`, `zope_interface` and `zope.interface` match.
pub(crate) fn normalise_python_name(n: &str) -> String {
    let mut out = String::new();
    let mut last_sep = false;
    for c in n.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

fn python() -> Result<PathBuf> {
    crate::process::which("python3").ok_or_else(|| Error::Dependency {
        tool: "python3",
        message: "`python3` is not on PATH; install Python 3 (macOS: `brew install python`)".into(),
    })
}

/// For each package, the version importable by `python3` (user site included) or `None`.
/// Everything the interpreter sees counts, not only `--user` installs: `setuptools` that ships
/// with Python is there, and installing a second copy would be wrong.
pub(crate) fn pip_installed(packages: &[String]) -> Result<BTreeMap<String, Option<String>>> {
    let out = Cmd::new(&[
        python()?.display().to_string(),
        "-m".into(),
        "pip".into(),
        "list".into(),
        "--format=json".into(),
        "--disable-pip-version-check".into(),
    ])
    .capture()
    .read_only()
    .timeout(Duration::from_secs(120))
    .run()?;
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).map_err(|e| Error::Dependency {
            tool: "pip",
            message: format!(
                "could not read the output of `python3 -m pip list --format=json`: {e}"
            ),
        })?;
    let mut idx = BTreeMap::new();
    for p in v.as_array().into_iter().flatten() {
        if let (Some(n), Some(ver)) = (p["name"].as_str(), p["version"].as_str()) {
            idx.insert(normalise_python_name(n), ver.to_string());
        }
    }
    Ok(packages.iter().map(|p| (p.clone(), idx.get(&normalise_python_name(p)).cloned())).collect())
}

/// `pip install --user --break-system-packages` the missing packages, after asking.
pub(crate) fn pip_install(packages: &[String]) -> Result<Vec<String>> {
    let missing = missing_of(&pip_installed(packages)?);
    if missing.is_empty() {
        return Ok(vec![]);
    }
    let prompt = format!(
        "Install {} missing Python package{} with `pip install --user {}`?",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" },
        missing.join(" ")
    );
    if !crate::ui::confirm(&prompt, None)? {
        return Err(Error::Dependency {
            tool: "pip",
            message: format!(
                "not installed (declined): {}; install them with `pip3 install --break-system-packages --user {}`",
                missing.join(", "),
                missing.join(" ")
            ),
        });
    }
    let mut argv: Vec<String> =
        vec![python()?.display().to_string(), "-m".into(), "pip".into(), "install".into()];
    argv.extend(
        ["--user", "--break-system-packages", "--disable-pip-version-check", "--quiet"]
            .map(String::from),
    );
    argv.extend(missing.iter().cloned());
    Cmd::new(&argv).run()?;
    if crate::run::current().dry_run {
        return Ok(missing);
    }
    let still = missing_of(&pip_installed(&missing)?);
    if !still.is_empty() {
        return Err(Error::Dependency {
            tool: "pip",
            message: format!(
                "`pip install` finished but python3 still does not see {}",
                still.join(", ")
            ),
        });
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_parse() {
        assert_eq!(
            Requirement::parse("bison >= 3.0").unwrap().constraint,
            Some((Op::Ge, "3.0".into()))
        );
        assert_eq!(
            Requirement::parse("ninja").unwrap(),
            Requirement { name: "ninja".into(), constraint: None }
        );
        assert_eq!(
            Requirement::parse("meson>1.0").unwrap().constraint,
            Some((Op::Gt, "1.0".into()))
        );
        assert!(Requirement::parse("bison >= ").is_err());
        assert!(Requirement::parse("two words").is_err());
        assert!(Requirement::parse("bison ~ 3").is_err());
    }

    #[test]
    fn versions_from_real_outputs() {
        assert_eq!(
            version_from_output("bison (GNU Bison) 3.8.2\nWritten by Robert Corbett").as_deref(),
            Some("3.8.2")
        );
        assert_eq!(version_from_output("bison (GNU Bison) 2.3\n").as_deref(), Some("2.3"));
        assert_eq!(
            version_from_output("cmake version 3.25.1\n\nCMake suite").as_deref(),
            Some("3.25.1")
        );
        assert_eq!(
            version_from_output("NASM version 2.16.01 compiled on Jan  1 2023").as_deref(),
            Some("2.16.01")
        );
        assert_eq!(version_from_output("1.11.1\n").as_deref(), Some("1.11.1"));
        assert_eq!(version_from_output("GNU Make 4.3\nBuilt for x86_64").as_deref(), Some("4.3"));
        assert_eq!(version_from_output("no digits"), None);
    }

    #[test]
    fn version_comparison() {
        assert_eq!(compare_versions("3.8.2", "3.0"), Some(Ordering::Greater));
        assert_eq!(compare_versions("2.3", "3.0"), Some(Ordering::Less));
        assert_eq!(compare_versions("3.0.0", "3"), Some(Ordering::Equal));
        assert_eq!(compare_versions("1.10", "1.9"), Some(Ordering::Greater));
        assert_eq!(compare_versions("2.16.01", "2.16.1"), Some(Ordering::Equal));
    }

    #[test]
    fn brew_index_knows_aliases_and_old_names() {
        let json = r#"{"formulae":[
          {"name":"pkgconf","full_name":"pkgconf","oldnames":["pkg-config"],"aliases":[],"installed":[{"version":"2.3.0_1"}]},
          {"name":"bison","full_name":"bison","oldname":null,"aliases":["bison@3.8"],"installed":[{"version":"3.8.2"}]},
          {"name":"llvm","full_name":"llvm","aliases":[],"installed":[]}
        ],"casks":[]}"#;
        let idx = brew_index(json).unwrap();
        assert_eq!(idx.get("pkg-config").map(String::as_str), Some("2.3.0_1"));
        assert_eq!(idx.get("bison@3.8").map(String::as_str), Some("3.8.2"));
        assert!(!idx.contains_key("llvm"));
    }

    #[test]
    fn python_names_normalise() {
        assert_eq!(normalise_python_name("PyYAML"), "pyyaml");
        assert_eq!(
            normalise_python_name("zope_interface"),
            normalise_python_name("Zope.Interface")
        );
    }
}
