//! The command classifier: decides from an argv (with its directory, stdin and environment) or
//! from a shell script whether a command destroys data — and what, resolved, so the guard can
//! refuse protected targets and the question can name what will really be touched.
//!
//! The line it draws (the README's Safety section says the same):
//! - Programs it knows have rules ([`programs`], [`git`], [`remote`]): `rm`, `dd`, `mkfs`,
//!   `git reset --hard`, `mv`/`cp` onto or away from an existing path, `tar -x` into a
//!   non-empty directory, …
//! - Wrappers it knows are looked through ([`wrappers`]): `sudo`, `env`, `nice`, `timeout`, …;
//!   wrappers it does not parse (`su -c`, `chroot`, `nsenter`, `strace`, `script -c`, `at`, …)
//!   count as destructive.
//! - Code it cannot see counts as destructive ([`interpreters`]): an interpreter given inline
//!   code, a script file or stdin; `sh FILE`, `. FILE`; `make -f -`, `cmake -E`/`-P`; a build
//!   tool outside a configured build dir; environment that changes what runs ([`environment`]).
//!   Shell scripts it can see are walked as they will run ([`shell`]), tracking `cd`,
//!   variables, links and files made earlier in the script ([`state`]).
//! - A program it has no rule for runs unasked: what it does inside is the OS layer's to
//!   contain, not the classifier's.

mod environment;
mod finding;
mod git;
mod interpreters;
mod programs;
mod remote;
mod shell;
mod state;
mod words;
mod wrappers;

#[cfg(test)]
pub(crate) mod tests;

use std::collections::BTreeMap;
use std::path::Path;

pub(crate) use finding::{Finding, Hit, Place, Severity};
pub(crate) use state::Scope;
use words::{Arg, basename};

/// Classify a local command: `argv` run in `cwd` (else helix's directory) with `stdin` bytes
/// and `env` on top of helix's environment. `None` means ordinary.
pub(crate) fn command(
    argv: &[String],
    cwd: Option<&Path>,
    stdin: Option<&[u8]>,
    env: &BTreeMap<String, String>,
) -> Option<Finding> {
    let mut scope = Scope::local(cwd);
    scope.stdin = stdin.map(|s| String::from_utf8_lossy(s).into_owned());
    scope.env = env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let args: Vec<Arg> = argv.iter().map(|a| Arg::lit(a)).collect();
    let from_env = env.keys().find_map(|k| environment::check(k));
    let f = analyze(&args, &scope);
    match (from_env, f) {
        (Some(a), Some(b)) => Some(a.merge(b)),
        (a, b) => a.or(b),
    }
}

/// Why a local shell script is destructive, or `None`.
pub fn classify_shell(script: &str) -> Option<String> {
    analyze_shell(script, &Scope::local(None)).map(|f| f.why)
}

/// The full classification of a shell script in `scope`.
pub(crate) fn analyze_shell(script: &str, scope: &Scope) -> Option<Finding> {
    shell::script(script, scope)
}

#[cfg(test)]
/// The full classification of an argv in `scope`.
pub(crate) fn analyze_argv(argv: &[String], scope: &Scope) -> Option<Finding> {
    let args: Vec<Arg> = argv.iter().map(|a| Arg::lit(a)).collect();
    analyze(&args, scope)
}

pub(crate) fn is_shell(prog: &str) -> bool {
    matches!(
        prog,
        "sh" | "bash"
            | "zsh"
            | "dash"
            | "ksh"
            | "ash"
            | "fish"
            | "mksh"
            | "busybox-sh"
            | "csh"
            | "tcsh"
            | "yash"
            | "posh"
            | "rbash"
    )
}

/// Classify one simple command (already expanded into words) and resolve what it destroys in
/// `scope`; what the same script created itself is not destroyed.
pub(crate) fn analyze(args: &[Arg], scope: &Scope) -> Option<Finding> {
    let f = rules(args, scope)?;
    f.resolve(scope).without_own()
}

fn rules(args: &[Arg], scope: &Scope) -> Option<Finding> {
    let first = args.first()?;
    if first.dynamic {
        return Some(Finding::new(
            format!("unknown command `{}` (the program is only known at run time)", first.text),
            Severity::YesNo,
        ));
    }
    if let Some(f) = environment::path_changes_program(&first.text, scope) {
        return Some(f);
    }
    let prog = basename(&first.text);
    let rest = &args[1..];
    if let Some(r) = wrappers::classify(prog, rest, scope) {
        return r;
    }
    if let Some(r) = interpreters::classify(prog, rest, scope) {
        return r;
    }
    match prog {
        "ssh" => remote::ssh(rest, scope),
        "scp" | "sftp" => remote::scp(prog, rest, scope),
        "git" => git::git(rest, scope),
        _ => programs::classify(prog, rest, scope),
    }
}

/// Nesting beyond what the classifier looks into counts as destructive.
fn too_deep() -> Finding {
    Finding::new("commands nested too deeply to inspect", Severity::YesNo)
}
