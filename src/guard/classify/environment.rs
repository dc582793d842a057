//! Environment that changes what a command runs: shell functions exported as `BASH_FUNC_*`,
//! start-up files (`BASH_ENV`, `ENV`), preloaded libraries, interpreter options that run code,
//! git's command-valued variables, and a `PATH` under which a program name finds another
//! program than helix's own `PATH` would. Each counts as destructive: the code that runs is not
//! the code the classifier sees.

use std::path::PathBuf;

use super::finding::{Finding, Severity};
use super::state::Scope;

/// Variables whose value is code, a file of code, or a program to run instead.
const CODE_VARS: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "DYLD_FRAMEWORK_PATH",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "NODE_OPTIONS",
    "RUBYOPT",
    "RUBYLIB",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_TEMPLATE_DIR",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "MAKEFLAGS",
    "MFLAGS",
    "GNUMAKEFLAGS",
    "MAKEFILES",
    "LESSOPEN",
    "LESSCLOSE",
    "TAR_OPTIONS",
    "RSYNC_RSH",
    "RSYNC_CONNECT_PROG",
    "EDITOR",
    "VISUAL",
];

/// A variable `name` set in a command's environment: destructive when it changes what runs
/// (whatever its value: an empty `LD_PRELOAD` is harmless, but the rule stays simple).
pub(super) fn check(name: &str) -> Option<Finding> {
    let code = name.starts_with("BASH_FUNC_") || CODE_VARS.contains(&name);
    code.then(|| {
        Finding::new(
            format!(
                "the environment sets `{name}`, which makes the program run code helix cannot see"
            ),
            Severity::YesNo,
        )
    })
}

/// Under an overridden `PATH`, `prog` (a bare name) finds another program than under helix's
/// own `PATH`: what runs is not what the classifier judged.
pub(super) fn path_changes_program(prog: &str, scope: &Scope) -> Option<Finding> {
    let path = scope.env.get("PATH")?;
    if prog.contains('/') {
        return None;
    }
    if scope.is_remote() {
        return Some(Finding::new(
            format!("a `PATH` set for the command decides which `{prog}` runs on the remote host"),
            Severity::YesNo,
        ));
    }
    let ours = std::env::var("PATH").unwrap_or_default();
    if which(prog, path, scope) == which(prog, &ours, scope) {
        return None;
    }
    Some(Finding::new(
        format!("the `PATH` set for the command runs another `{prog}` than helix's `PATH` finds"),
        Severity::YesNo,
    ))
}

fn which(prog: &str, path: &str, scope: &Scope) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let d = scope.absolute(dir)?;
        let p = d.join(prog);
        if p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) {
            return Some(p.canonicalize().unwrap_or(p));
        }
    }
    None
}
