//! Programs that run another command. Those whose options helix parses (`sudo`, `env`, `nice`,
//! `nohup`, `time`, `timeout`, `xargs`, `flock`, …) are looked through: the command they run is
//! classified. Those it does not parse — or that change what a path means (`chroot`,
//! `nsenter`), who runs it (`su -c`, `runuser`, `setpriv`, `pkexec`), or when (`at`, `batch`),
//! or that record or drive it (`strace`, `script -c`, `expect`, `tmux`) — count as destructive.

use super::finding::{Finding, Severity};
use super::state::Scope;
use super::words::{Arg, is_assignment, skip_opts};
use super::{analyze, environment, shell, too_deep};

/// Wrappers that run code helix does not look through.
const OPAQUE: &[&str] = &[
    "su",
    "runuser",
    "setpriv",
    "pkexec",
    "chroot",
    "nsenter",
    "unshare",
    "taskset",
    "chrt",
    "strace",
    "ltrace",
    "dtruss",
    "gdb",
    "lldb",
    "valgrind",
    "script",
    "at",
    "batch",
    "crontab",
    "expect",
    "tmux",
    "screen",
    "parallel",
    "sshpass",
    "firejail",
    "bwrap",
    "systemd-run",
    "launchctl",
    "sandbox-exec",
    "fakeroot",
    "proot",
    "schroot",
    "dbus-run-session",
    "setarch",
    "linux32",
    "linux64",
    "prlimit",
    "cgexec",
    "numactl",
    "ld.so",
    "ld-linux.so.2",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
];

/// `Some(result)` when `prog` is a wrapper.
pub(super) fn classify(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Option<Finding>> {
    let r = match prog {
        "sudo" | "doas" => wrapped(
            skip_opts(
                rest,
                &[
                    "-u",
                    "-g",
                    "-h",
                    "-p",
                    "-C",
                    "-D",
                    "-r",
                    "-t",
                    "-T",
                    "-U",
                    "--user",
                    "--group",
                    "--host",
                    "--prompt",
                    "--chdir",
                    "--role",
                    "--type",
                    "--close-from",
                    "--other-user",
                    "--command-timeout",
                ],
                true,
            ),
            scope,
        ),
        "env" => env_cmd(rest, scope),
        "nice" => wrapped(skip_opts(rest, &["-n", "--adjustment"], true), scope),
        "ionice" => wrapped(
            skip_opts(rest, &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"], true),
            scope,
        ),
        "nohup" | "caffeinate" | "unbuffer" | "setsid" | "chronic" | "catchsegv" => {
            wrapped(skip_opts(rest, &["-w", "-t"], true), scope)
        }
        "time" => wrapped(skip_opts(rest, &["-f", "-o", "--format", "--output"], true), scope),
        "stdbuf" => wrapped(skip_opts(rest, &["-i", "-o", "-e"], true), scope),
        "arch" => wrapped(skip_opts(rest, &["-e", "-d"], true), scope),
        "command" | "builtin" => {
            // `command -v rm` only looks a name up.
            if rest
                .iter()
                .take_while(|a| a.text.starts_with('-'))
                .any(|a| a.text.contains('v') || a.text.contains('V'))
            {
                return Some(None);
            }
            wrapped(skip_opts(rest, &[], true), scope)
        }
        "exec" => wrapped(skip_opts(rest, &["-a"], true), scope),
        "timeout" | "gtimeout" => {
            let r = skip_opts(rest, &["-s", "-k", "--signal", "--kill-after"], true);
            wrapped(r.get(1..).unwrap_or(&[]), scope)
        }
        "watch" => {
            wrapped(skip_opts(rest, &["-n", "-d", "--interval", "--differences"], true), scope)
        }
        "flock" => {
            let r = skip_opts(rest, &["-w", "-E", "--timeout", "--conflict-exit-code"], true);
            // flock FILE -c 'cmd' | flock FILE cmd args
            match r {
                [_, c, script, ..] if c.text == "-c" || c.text == "--command" => {
                    shell::sub_script(script, scope)
                }
                [_, cmd @ ..] => wrapped(cmd, scope),
                _ => None,
            }
        }
        "xargs" => {
            let r = skip_opts(
                rest,
                &[
                    "-I",
                    "-L",
                    "-n",
                    "-P",
                    "-s",
                    "-d",
                    "-E",
                    "-a",
                    "--arg-file",
                    "--delimiter",
                    "--max-args",
                    "--max-procs",
                    "--max-lines",
                    "--replace",
                    "--eof",
                    "--max-chars",
                    "--process-slot-var",
                ],
                true,
            );
            if r.is_empty() {
                // `xargs` alone runs `echo`.
                return Some(None);
            }
            let mut cmd: Vec<Arg> = r.to_vec();
            cmd.push(Arg::unknown("{xargs input}"));
            wrapped(&cmd, scope)
        }
        "eval" => {
            if rest.iter().any(|a| a.dynamic) {
                Some(Finding::new("`eval` of a script only known at run time", Severity::YesNo))
            } else {
                let script: Vec<String> = rest.iter().map(|a| a.text.clone()).collect();
                shell::sub_script(&Arg::lit(&script.join(" ")), scope)
            }
        }
        "busybox" => wrapped(rest, scope),
        p if OPAQUE.contains(&p) => opaque(p, rest),
        _ => return None,
    };
    Some(r)
}

/// A wrapper helix does not look through: destructive unless it only prints help or version.
fn opaque(prog: &str, rest: &[Arg]) -> Option<Finding> {
    let info = !rest.is_empty()
        && rest.iter().all(|a| matches!(a.text.as_str(), "--help" | "-h" | "--version" | "-V"));
    if info || (prog == "crontab" && rest.iter().all(|a| a.text == "-l")) && !rest.is_empty() {
        return None;
    }
    Some(Finding::new(
        format!(
            "`{prog}` runs a command helix does not look into (or changes who, where or when it runs)"
        ),
        Severity::YesNo,
    ))
}

/// A command a wrapper runs (`sudo X`, `env A=b X`, `xargs X`, …): leading assignments go
/// into its environment.
pub(super) fn wrapped(args: &[Arg], scope: &Scope) -> Option<Finding> {
    let Some(mut scope) = scope.deeper() else { return Some(too_deep()) };
    let mut i = 0;
    let mut found: Option<Finding> = None;
    while i < args.len() && is_assignment(&args[i].text) {
        let (k, v) = args[i].text.split_once('=').unwrap_or_default();
        if let Some(f) = environment::check(k) {
            found = Some(f);
        }
        scope.env.insert(k.to_string(), v.to_string());
        i += 1;
    }
    let inner = analyze(&args[i..], &scope);
    match (found, inner) {
        (Some(a), Some(b)) => Some(a.merge(b)),
        (a, b) => a.or(b),
    }
}

fn env_cmd(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let mut i = 0;
    let mut scope = scope.clone();
    while i < rest.len() {
        let a = &rest[i].text;
        if a == "--" {
            i += 1;
            break;
        }
        // `-S STRING`, `-vS STRING`, `-S'…'`, `--split-string=…`: the string is a command line.
        if let Some(s) = a.strip_prefix("--split-string=") {
            return shell::sub_script(
                &Arg { text: s.to_string(), dynamic: rest[i].dynamic, own: false },
                &scope,
            );
        }
        if a == "--split-string" {
            return match rest.get(i + 1) {
                Some(s) => shell::sub_script(s, &scope),
                None => None,
            };
        }
        if a.starts_with('-') && !a.starts_with("--") && a.contains('S') {
            let after = &a[a.find('S').unwrap_or(0) + 1..];
            return if !after.is_empty() {
                shell::sub_script(
                    &Arg { text: after.to_string(), dynamic: rest[i].dynamic, own: false },
                    &scope,
                )
            } else {
                match rest.get(i + 1) {
                    Some(s) => shell::sub_script(s, &scope),
                    None => None,
                }
            };
        }
        if matches!(a.as_str(), "-u" | "--unset" | "-C" | "--chdir") {
            if a == "-C" || a == "--chdir" {
                let d = rest.get(i + 1).map(|d| d.text.clone()).unwrap_or_default();
                scope.cwd = scope.absolute(&d);
            }
            i += 2;
            continue;
        }
        if let Some(d) = a.strip_prefix("--chdir=") {
            scope.cwd = scope.absolute(d);
            i += 1;
            continue;
        }
        if !a.starts_with('-') && a.contains('=') {
            // env takes any `NAME=value` (even names a shell would not: `BASH_FUNC_ls%%`).
            let (k, v) = a.split_once('=').unwrap_or_default();
            if let Some(f) = environment::check(k) {
                return Some(f);
            }
            scope.env.insert(k.to_string(), v.to_string());
            i += 1;
            continue;
        }
        if a.starts_with('-') {
            if a == "-i" || a == "--ignore-environment" || a == "-" {
                scope.env.clear();
            }
            i += 1;
            continue;
        }
        break;
    }
    scope.stdin = None;
    wrapped(&rest[i.min(rest.len())..], &scope)
}
