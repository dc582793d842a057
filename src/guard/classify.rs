//! The command classifier: decides from an argv, or from a shell string, whether a command
//! destroys data — and what it destroys, so the confirmation can show it.
//!
//! Argv forms are recognised through wrappers (`sudo -u u`, `env A=b`, `nice -n 5`, `nohup`,
//! `time`, `command`, `exec`, `xargs`, `timeout`, absolute paths to the binary, …) and through
//! shells (`sh -c '…'`, `bash -lc '…'`, `ssh host '…'`), recursively. Shell strings are parsed
//! with `brush-parser` (a maintained POSIX/bash parser) and every simple command in them —
//! pipelines, `&&`/`||`/`;` lists, subshells, brace groups, `$(…)` and backquotes, `if`/`for`/
//! `while`/`until`/`case` bodies, function bodies, heredocs fed to a shell — is classified the
//! same way. A string that cannot be parsed is destructive. A variable, glob or command
//! substitution in the target of a destructive-capable command makes it an "unknown target",
//! which is destructive too.
//!
//! Two entry points keep their signatures for the rest of helix: [`classify_argv`] and
//! [`classify_shell`] (`None` means ordinary). [`analyze_argv`]/[`analyze_shell`] return the
//! full [`Finding`].

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use brush_parser::ast;
use brush_parser::word::WordPiece;

/// How much a person must do to confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// A y/N question, defaulting to No.
    YesNo,
    /// Typing the target's name (recursive deletes, disk overwrites).
    TypeName,
}

/// Why a command is destructive, and what it would destroy.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// A short reason: "recursive delete", "`dd of=` overwrites its target", …
    pub why: String,
    pub severity: Severity,
    /// The operands it destroys, as written (may start with `~`; relative to `cwd`).
    pub targets: Vec<String>,
    /// Whether some target is unknown (a variable, glob or substitution).
    pub unknown_target: bool,
    /// The directory relative targets are resolved against, when known.
    pub cwd: Option<PathBuf>,
    /// Whether the targets are on this machine (false for `ssh host …`).
    pub local: bool,
}

impl Finding {
    fn new(why: impl Into<String>, severity: Severity) -> Self {
        Finding {
            why: why.into(),
            severity,
            targets: vec![],
            unknown_target: false,
            cwd: None,
            local: true,
        }
    }
    fn with_targets(mut self, targets: &[Arg]) -> Self {
        for t in targets {
            if t.dynamic {
                self.unknown_target = true;
            }
            self.targets.push(t.text.clone());
        }
        if self.unknown_target {
            self.why.push_str(" (unknown target: it contains a variable, glob or substitution)");
        }
        self
    }
    fn type_name(mut self) -> Self {
        self.severity = Severity::TypeName;
        self
    }

    /// The word a person must type to confirm (the target's last path component).
    pub fn name_to_type(&self) -> String {
        self.targets
            .iter()
            .find_map(|t| {
                let t = t.trim_end_matches('/');
                let name = t.rsplit('/').next().unwrap_or(t);
                (!name.is_empty() && name != "." && name != "..").then(|| name.to_string())
            })
            .unwrap_or_else(|| "yes".to_string())
    }

    /// Known local targets, resolved against `cwd` (or the process's), `~` expanded.
    pub fn local_paths(&self) -> Vec<PathBuf> {
        if !self.local || self.unknown_target {
            return vec![];
        }
        self.targets
            .iter()
            .filter(|t| !t.is_empty() && !t.starts_with("of=") && !t.contains('{'))
            .map(|t| {
                let p = crate::paths::expand(t);
                match (&self.cwd, p.is_absolute()) {
                    (Some(c), false) => c.join(p),
                    _ => p,
                }
            })
            .collect()
    }

    fn merge(self, other: Finding) -> Finding {
        let (mut a, b) = if other.severity > self.severity { (other, self) } else { (self, other) };
        a.unknown_target |= b.unknown_target;
        for t in b.targets {
            if !a.targets.contains(&t) {
                a.targets.push(t);
            }
        }
        a
    }
}

/// One word of a command after parsing: its literal text and whether it is only known at
/// run time (variables, globs, substitutions).
#[derive(Debug, Clone, PartialEq)]
struct Arg {
    text: String,
    dynamic: bool,
}

impl Arg {
    fn lit(s: &str) -> Arg {
        Arg { text: s.to_string(), dynamic: false }
    }
    fn unknown(s: &str) -> Arg {
        Arg { text: s.to_string(), dynamic: true }
    }
}

/// What the classifier may know about the machine the command runs on.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// Check the local filesystem ("onto an existing path" rules).
    pub fs_checks: bool,
    /// The command's working directory (else the process's).
    pub cwd: Option<&'a Path>,
    /// Bytes fed to the command's stdin (a script for `sh -s`/`bash`).
    pub stdin: Option<&'a str>,
    /// Stdin is a pipe from an earlier command in a shell pipeline (contents unknown).
    piped: bool,
    depth: u32,
}

impl<'a> Env<'a> {
    pub fn local(cwd: Option<&'a Path>) -> Self {
        Env { fs_checks: true, cwd, stdin: None, piped: false, depth: 0 }
    }
    pub fn remote() -> Self {
        Env { fs_checks: false, cwd: None, stdin: None, piped: false, depth: 0 }
    }
    fn deeper(self) -> Option<Self> {
        (self.depth < 16).then_some(Env {
            depth: self.depth + 1,
            stdin: None,
            piped: self.piped,
            ..self
        })
    }
    fn exists(&self, p: &str) -> bool {
        if !self.fs_checks || p.is_empty() {
            return false;
        }
        let p = crate::paths::expand(p);
        let p = match (self.cwd, p.is_absolute()) {
            (Some(c), false) => c.join(p),
            _ => p,
        };
        p.symlink_metadata().is_ok()
    }
    fn is_dir(&self, p: &str) -> bool {
        if !self.fs_checks {
            return false;
        }
        let p = crate::paths::expand(p);
        match (self.cwd, p.is_absolute()) {
            (Some(c), false) => c.join(p).is_dir(),
            _ => p.is_dir(),
        }
    }
}

/// Why `argv` is destructive, or `None` when it is an ordinary command.
pub fn classify_argv(argv: &[String]) -> Option<String> {
    analyze_argv(argv, Env::local(None)).map(|f| f.why)
}

/// [`classify_argv`] for a command that runs in `cwd`. The full finding is kept for the guard
/// (see [`take_finding`]) so the confirmation can show resolved targets.
pub fn classify_argv_in(argv: &[String], cwd: Option<&Path>) -> Option<String> {
    classify_cmd(argv, cwd, None, None)
}

/// [`classify_argv_in`] with the bytes fed to the command's stdin (a script for `bash -s`);
/// `shown` is the argv as the guard will see it (secrets redacted), if it differs.
pub fn classify_cmd(
    argv: &[String],
    cwd: Option<&Path>,
    stdin: Option<&[u8]>,
    shown: Option<&[String]>,
) -> Option<String> {
    let text = stdin.map(String::from_utf8_lossy);
    let env = Env { stdin: text.as_deref(), ..Env::local(cwd) };
    let f = analyze_argv(argv, env)?;
    let why = f.why.clone();
    LAST.with(|l| *l.borrow_mut() = Some((shown.unwrap_or(argv).to_vec(), f)));
    Some(why)
}

thread_local! {
    static LAST: RefCell<Option<(Vec<String>, Finding)>> = const { RefCell::new(None) };
}

/// The finding for `argv` made by the last [`classify_argv_in`]/[`classify_cmd`] on this
/// thread (which knew the command's directory and stdin), else a fresh one.
pub fn take_finding(argv: &[String]) -> Option<Finding> {
    let kept = LAST.with(|l| match &*l.borrow() {
        Some((a, f)) if a == argv => Some(f.clone()),
        _ => None,
    });
    kept.or_else(|| analyze_argv(argv, Env::local(None)))
}

/// Why a shell script is destructive, or `None`. Used for `cmd::shell` and for remote commands
/// sent over SSH; every command inside is classified, and an unparseable script is destructive.
/// The local filesystem is consulted for "onto an existing path" rules; for a remote command
/// prefer [`classify_remote`], which does not.
pub fn classify_shell(script: &str) -> Option<String> {
    analyze_shell(script, Env::local(None)).map(|f| f.why)
}

/// [`classify_shell`] for a command that runs on another machine: no local filesystem checks,
/// so "onto an existing path" rules only fire when the command forces an overwrite.
pub fn classify_remote(script: &str) -> Option<String> {
    analyze_shell(script, Env::remote()).map(|mut f| {
        f.local = false;
        f.why
    })
}

/// The full classification of an argv.
pub fn analyze_argv(argv: &[String], env: Env) -> Option<Finding> {
    let args: Vec<Arg> = argv.iter().map(|a| Arg::lit(a)).collect();
    let mut f = analyze(&args, env)?;
    if f.cwd.is_none() {
        f.cwd = env.cwd.map(Path::to_path_buf);
    }
    Some(f)
}

/// The full classification of a shell script.
pub fn analyze_shell(script: &str, env: Env) -> Option<Finding> {
    let mut f = shell(script, env)?;
    if f.cwd.is_none() {
        f.cwd = env.cwd.map(Path::to_path_buf);
    }
    if !env.fs_checks {
        f.local = false;
    }
    Some(f)
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn is_shell(prog: &str) -> bool {
    matches!(prog, "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "fish" | "mksh" | "busybox-sh")
}

/// Classify one simple command (already split into words).
fn analyze(args: &[Arg], env: Env) -> Option<Finding> {
    let first = args.first()?;
    if first.dynamic {
        return Some(
            Finding::new(
                format!("unknown command `{}` (the program is only known at run time)", first.text),
                Severity::YesNo,
            )
            .with_targets(&[]),
        );
    }
    let prog = basename(&first.text);
    let rest = &args[1..];
    match prog {
        // ---- wrappers: classify what they run ----
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
            env,
        ),
        "env" => env_cmd(rest, env),
        "nice" => wrapped(skip_opts(rest, &["-n", "--adjustment"], true), env),
        "ionice" => wrapped(
            skip_opts(rest, &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"], true),
            env,
        ),
        "nohup" | "caffeinate" | "unbuffer" | "setsid" | "chronic" | "catchsegv" => {
            wrapped(skip_opts(rest, &["-w", "-t"], true), env)
        }
        "time" => wrapped(skip_opts(rest, &["-f", "-o", "--format", "--output"], true), env),
        "stdbuf" => wrapped(skip_opts(rest, &["-i", "-o", "-e"], true), env),
        "arch" => wrapped(skip_opts(rest, &["-e", "-d"], true), env),
        "command" | "builtin" => {
            // `command -v rm` only looks a name up.
            if rest
                .iter()
                .take_while(|a| a.text.starts_with('-'))
                .any(|a| a.text.contains('v') || a.text.contains('V'))
            {
                return None;
            }
            wrapped(skip_opts(rest, &[], true), env)
        }
        "exec" => wrapped(skip_opts(rest, &["-a"], true), env),
        "timeout" | "gtimeout" => {
            let r = skip_opts(rest, &["-s", "-k", "--signal", "--kill-after"], true);
            wrapped(r.get(1..).unwrap_or(&[]), env)
        }
        "watch" => {
            wrapped(skip_opts(rest, &["-n", "-d", "--interval", "--differences"], true), env)
        }
        "flock" => {
            let r = skip_opts(rest, &["-w", "-E", "--timeout", "--conflict-exit-code"], true);
            // flock FILE -c 'cmd' | flock FILE cmd args
            match r {
                [_, c, script, ..] if c.text == "-c" || c.text == "--command" => {
                    sub_shell(script, env)
                }
                [_, cmd @ ..] => wrapped(cmd, env),
                _ => None,
            }
        }
        "busybox" => wrapped(rest, env),
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
                return None;
            }
            let mut cmd: Vec<Arg> = r.to_vec();
            cmd.push(Arg::unknown("{xargs input}"));
            wrapped(&cmd, env)
        }
        "ssh" => ssh(rest, env),
        p if is_shell(p) => shell_argv(rest, env),
        "eval" => {
            let script: Vec<String> = rest.iter().map(|a| a.text.clone()).collect();
            if rest.iter().any(|a| a.dynamic) {
                return Some(Finding::new(
                    "`eval` of a script only known at run time",
                    Severity::YesNo,
                ));
            }
            sub_shell(&Arg::lit(&script.join(" ")), env)
        }
        // ---- deleting ----
        "rm" | "grm" => rm(rest),
        "srm" => Some(
            Finding::new("`srm` securely deletes files", Severity::TypeName)
                .with_targets(&operands(rest, &[])),
        ),
        "rmdir" => Some(
            Finding::new("`rmdir` deletes directories", Severity::YesNo)
                .with_targets(&operands(rest, &[])),
        ),
        "unlink" => Some(
            Finding::new("`unlink` deletes a file", Severity::YesNo)
                .with_targets(&operands(rest, &[])),
        ),
        "shred" => Some(
            Finding::new("`shred` overwrites and destroys files", Severity::TypeName).with_targets(
                &operands(rest, &["-n", "-s", "--iterations", "--size", "--random-source"]),
            ),
        ),
        "truncate" => Some(
            Finding::new("`truncate` cuts files to a size", Severity::YesNo)
                .with_targets(&operands(rest, &["-s", "-r", "--size", "--reference"])),
        ),
        "find" | "gfind" => find(rest, env),
        "wipefs" => {
            let ops = operands(rest, &["-o", "-t", "--offset", "--types", "-b", "--backup"]);
            let erase = has_flag(rest, 'a', &["all"]) || has_flag(rest, 'o', &["offset"]);
            let no_act = has_flag(rest, 'n', &["no-act"]);
            (erase && !no_act).then(|| {
                Finding::new("`wipefs` erases filesystem signatures", Severity::TypeName)
                    .with_targets(&ops)
            })
        }
        p if p.starts_with("mkfs")
            || p.starts_with("newfs")
            || p == "mke2fs"
            || p == "mkswap"
            || p == "mkdosfs" =>
        {
            Some(
                Finding::new(
                    format!("`{p}` formats a filesystem (everything on it is lost)"),
                    Severity::TypeName,
                )
                .with_targets(
                    &operands(
                        rest,
                        &[
                            "-t", "-L", "-n", "-b", "-c", "-E", "-O", "-T", "-U", "-v", "-F", "-S",
                            "-s", "-i", "-I", "-m", "-N", "-g", "-G",
                        ],
                    )
                    .into_iter()
                    .last()
                    .into_iter()
                    .collect::<Vec<_>>(),
                ),
            )
        }
        "dd" | "gdd" => {
            let of: Vec<&Arg> = rest.iter().filter(|a| a.text.starts_with("of=")).collect();
            let of = of.last()?;
            let target = Arg { text: of.text["of=".len()..].to_string(), dynamic: of.dynamic };
            let device = target.text.starts_with("/dev/")
                && !matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr");
            if matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr") {
                return None;
            }
            let f = Finding::new("`dd of=` overwrites its target", Severity::YesNo)
                .with_targets(&[target]);
            Some(if device || f.unknown_target { f.type_name() } else { f })
        }
        "blkdiscard" => Some(
            Finding::new("`blkdiscard` discards every block of a device", Severity::TypeName)
                .with_targets(&operands(rest, &["-o", "-l", "-p"])),
        ),
        "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted" | "cfdisk" => {
            let listing = rest.iter().any(|a| {
                matches!(
                    a.text.as_str(),
                    "-l" | "--list"
                        | "-p"
                        | "--print"
                        | "print"
                        | "-d"
                        | "--dump"
                        | "-V"
                        | "--verify"
                        | "--version"
                        | "-h"
                        | "--help"
                )
            });
            if listing {
                return None;
            }
            Some(
                Finding::new(format!("`{prog}` rewrites a partition table"), Severity::TypeName)
                    .with_targets(&operands(rest, &[]).into_iter().take(1).collect::<Vec<_>>()),
            )
        }
        "fallocate" => {
            let holes = rest.iter().any(|a| {
                matches!(
                    a.text.as_str(),
                    "-p" | "--punch-hole"
                        | "-c"
                        | "--collapse-range"
                        | "-d"
                        | "--dig-holes"
                        | "-z"
                        | "--zero-range"
                        | "-i"
                        | "--insert-range"
                )
            });
            holes.then(|| {
                Finding::new("`fallocate` punches holes into (zeroes) a file", Severity::YesNo)
                    .with_targets(&operands(rest, &["-o", "-l", "--offset", "--length"]))
            })
        }
        "zpool" => zpool(rest),
        "zfs" => {
            let sub = operands(rest, &[]);
            match sub.first().map(|a| a.text.as_str()) {
                Some("destroy") => Some(
                    Finding::new("`zfs destroy` destroys a dataset", Severity::TypeName)
                        .with_targets(&sub[1..]),
                ),
                Some("rollback") => Some(
                    Finding::new(
                        "`zfs rollback` discards everything after a snapshot",
                        Severity::TypeName,
                    )
                    .with_targets(&sub[1..]),
                ),
                _ => None,
            }
        }
        "diskutil" => diskutil(rest),
        "git" => git(rest),
        "qemu-img" => qemu_img(rest, env),
        "mv" | "gmv" => mv_cp(prog, rest, env),
        "cp" | "gcp" => mv_cp(prog, rest, env),
        "ln" | "gln" => ln(rest, env),
        "tee" => {
            if rest.iter().any(|a| a.text == "-a" || a.text == "--append") {
                return None;
            }
            let ops = operands(rest, &[]);
            let over: Vec<Arg> = ops
                .into_iter()
                .filter(|a| a.dynamic || (env.exists(&a.text) && !is_harmless_device(&a.text)))
                .collect();
            (!over.is_empty()).then(|| {
                Finding::new("`tee` overwrites an existing file", Severity::YesNo)
                    .with_targets(&over)
            })
        }
        "tar" | "gtar" | "bsdtar" => rest.iter().any(|a| a.text == "--remove-files").then(|| {
            Finding::new("`tar --remove-files` deletes what it archives", Severity::YesNo)
                .with_targets(&operands(rest, &["-f", "-C", "--file", "--directory", "-T", "-X"]))
        }),
        "rsync" => {
            let deletes = rest.iter().any(|a| {
                a.text.starts_with("--delete")
                    || a.text == "--del"
                    || a.text == "--remove-source-files"
            });
            deletes.then(|| {
                let ops = operands(
                    rest,
                    &[
                        "-e",
                        "--rsh",
                        "--exclude",
                        "--include",
                        "--filter",
                        "-f",
                        "--backup-dir",
                        "--suffix",
                        "--rsync-path",
                        "--password-file",
                        "--port",
                        "--log-file",
                        "--files-from",
                        "--exclude-from",
                        "--include-from",
                        "--chmod",
                        "--chown",
                        "--timeout",
                        "--bwlimit",
                        "--partial-dir",
                        "--temp-dir",
                        "-T",
                        "--compare-dest",
                        "--copy-dest",
                        "--link-dest",
                        "--max-size",
                        "--min-size",
                        "--max-delete",
                        "--info",
                        "--debug",
                    ],
                );
                let dest: Vec<Arg> = ops.last().cloned().into_iter().collect();
                Finding::new(
                    "`rsync --delete` deletes files in the destination",
                    Severity::TypeName,
                )
                .with_targets(&dest)
            })
        }
        "docker" | "podman" | "nerdctl" => docker(rest),
        "killall" | "pkill" => Some(
            Finding::new(
                format!("`{prog}` kills processes by name (a VM's unsaved state is lost)"),
                Severity::YesNo,
            )
            .with_targets(&operands(
                rest,
                &["-s", "-u", "-g", "-t", "-U", "-G", "-P", "--signal", "--user"],
            )),
        ),
        "utmctl" => {
            let sub = operands(rest, &[]);
            (sub.first().map(|a| a.text.as_str()) == Some("delete")).then(|| {
                Finding::new("`utmctl delete` deletes a VM and its disks", Severity::TypeName)
                    .with_targets(&sub[1..])
            })
        }
        _ => None,
    }
}

/// A command a wrapper runs (`sudo X`, `env A=b X`, `xargs X`, …): leading assignments skipped.
fn wrapped(args: &[Arg], env: Env) -> Option<Finding> {
    let Some(env) = env.deeper() else { return Some(too_deep()) };
    let mut i = 0;
    while i < args.len() && is_assignment(&args[i].text) {
        i += 1;
    }
    analyze(&args[i..], env)
}

fn is_assignment(s: &str) -> bool {
    match s.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Skip leading options; `with_arg` lists options that take a value in the next word.
/// With `stop_at_operand`, the first word not starting with `-` ends the options.
fn skip_opts<'a>(args: &'a [Arg], with_arg: &[&str], stop_at_operand: bool) -> &'a [Arg] {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i].text;
        if a == "--" {
            return &args[i + 1..];
        }
        if !a.starts_with('-') || a == "-" {
            if stop_at_operand {
                break;
            }
            i += 1;
            continue;
        }
        // `-u root` / `--user root` take the next word; `-uroot`, `--user=root` do not.
        let takes = with_arg.iter().any(|o| a == o);
        i += if takes { 2 } else { 1 };
    }
    &args[i.min(args.len())..]
}

/// The operands of a command: words that are not options (and not option values).
fn operands(args: &[Arg], with_arg: &[&str]) -> Vec<Arg> {
    let mut out = vec![];
    let mut i = 0;
    let mut opts_done = false;
    while i < args.len() {
        let a = &args[i];
        if !opts_done && a.text == "--" {
            opts_done = true;
        } else if !opts_done && a.text.starts_with('-') && a.text != "-" {
            if with_arg.iter().any(|o| a.text == *o) {
                i += 1;
            }
        } else {
            out.push(a.clone());
        }
        i += 1;
    }
    out
}

/// Short flags of an option cluster (`-rf` → `r`, `f`), or long options as themselves.
fn has_flag(args: &[Arg], short: char, long: &[&str]) -> bool {
    args.iter().take_while(|a| a.text != "--").any(|a| {
        let t = a.text.as_str();
        if let Some(l) = t.strip_prefix("--") {
            long.iter().any(|x| l == *x || l.starts_with(&format!("{x}=")))
        } else {
            t.starts_with('-')
                && t.len() > 1
                && t[1..].chars().all(|c| c.is_ascii_alphanumeric())
                && t[1..].contains(short)
        }
    })
}

fn env_cmd(rest: &[Arg], env: Env) -> Option<Finding> {
    let mut i = 0;
    let mut cwd_change: Option<PathBuf> = None;
    while i < rest.len() {
        let a = &rest[i].text;
        if a == "--" {
            i += 1;
            break;
        }
        if a == "-S" || a == "--split-string" {
            // env -S 'rm -rf x': the string is split into words like a (quote-aware) shell line.
            let script = rest.get(i + 1)?;
            return sub_shell(script, env);
        }
        if let Some(s) = a
            .strip_prefix("--split-string=")
            .or_else(|| a.strip_prefix("-S").filter(|s| !s.is_empty()))
        {
            return sub_shell(&Arg::lit(s), env);
        }
        if matches!(a.as_str(), "-u" | "--unset" | "-C" | "--chdir") {
            if a == "-C" || a == "--chdir" {
                cwd_change = rest.get(i + 1).map(|d| PathBuf::from(&d.text));
            }
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        if is_assignment(a) {
            i += 1;
            continue;
        }
        break;
    }
    let cwd_owned;
    let mut env = env;
    if let Some(c) = cwd_change {
        cwd_owned = match env.cwd {
            Some(base) if c.is_relative() => base.join(c),
            _ => c,
        };
        // The borrowed cwd must outlive the call: leak-free by scoping the analysis here.
        let env2 = Env { cwd: Some(cwd_owned.as_path()), ..env };
        return wrapped(&rest[i.min(rest.len())..], env2).map(|mut f| {
            f.cwd = Some(cwd_owned.clone());
            f
        });
    }
    env.stdin = None;
    wrapped(&rest[i.min(rest.len())..], env)
}

/// `sh -c SCRIPT`, `bash -lc SCRIPT`, `bash -s < script`, `bash script.sh`.
fn shell_argv(rest: &[Arg], env: Env) -> Option<Finding> {
    let mut i = 0;
    while i < rest.len() {
        let a = &rest[i].text;
        if a == "--" {
            i += 1;
            break;
        }
        if a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" || a == "--init-file"
        {
            i += 2;
            continue;
        }
        if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 && a[1..].contains('c') {
            let script = rest.get(i + 1)?;
            return sub_shell(script, env);
        }
        if a.starts_with('-') || a.starts_with('+') {
            i += 1;
            continue;
        }
        break;
    }
    if i >= rest.len() || rest[i..].first().is_some_and(|a| a.text == "-s") {
        // The script comes from stdin.
        if env.piped {
            return Some(Finding::new(
                "a shell reading its script from a pipe (helix cannot see what it runs)",
                Severity::YesNo,
            ));
        }
        return env.stdin.and_then(|s| sub_shell(&Arg::lit(s), env));
    }
    // `bash script.sh`: a script file helix cannot see into; treated as ordinary (documented).
    None
}

fn sub_shell(script: &Arg, env: Env) -> Option<Finding> {
    if script.dynamic {
        return Some(Finding::new("a shell script only known at run time", Severity::YesNo));
    }
    let Some(env) = env.deeper() else { return Some(too_deep()) };
    shell(&script.text, env)
}

/// Nesting beyond what the classifier looks into counts as destructive.
fn too_deep() -> Finding {
    Finding::new("commands nested too deeply to inspect", Severity::YesNo)
}

fn ssh(rest: &[Arg], env: Env) -> Option<Finding> {
    let with_arg = [
        "-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-O",
        "-Q", "-S", "-W", "-w", "-B", "-I",
    ];
    let r = skip_opts(rest, &with_arg, true);
    let (host, cmd) = r.split_first()?;
    if cmd.is_empty() {
        return None;
    }
    let script: Vec<String> = cmd.iter().map(|a| a.text.clone()).collect();
    let remote =
        Env { fs_checks: false, cwd: None, stdin: env.stdin, piped: false, depth: env.depth + 1 };
    let mut f = shell(&script.join(" "), remote)?;
    f.local = false;
    f.why = format!("{} on `{}`", f.why, host.text);
    Some(f)
}

fn rm(rest: &[Arg]) -> Option<Finding> {
    let recursive = has_flag(rest, 'r', &["recursive"]) || has_flag(rest, 'R', &[]);
    let force = has_flag(rest, 'f', &["force", "no-preserve-root"]);
    // `-i`/`-I` make rm ask for itself (and with no terminal it answers no); the last of
    // `-i`/`-f` wins, as in rm.
    if last_is_interactive(rest) && !rest.iter().any(|a| a.text == "--no-preserve-root") {
        return None;
    }
    let targets = operands(rest, &[]);
    let f = if recursive {
        Finding::new("recursive delete (`rm -r`)", Severity::TypeName)
    } else if force {
        Finding::new("forced delete (`rm -f`)", Severity::YesNo)
    } else {
        Finding::new("delete (`rm`)", Severity::YesNo)
    };
    Some(f.with_targets(&targets))
}

fn last_is_interactive(rest: &[Arg]) -> bool {
    let mut last = None;
    for a in rest.iter().take_while(|a| a.text != "--") {
        let t = a.text.as_str();
        if t == "--force" {
            last = Some(false);
        } else if t == "--interactive" || t.starts_with("--interactive=") && !t.ends_with("=never")
        {
            last = Some(true);
        } else if t.starts_with('-') && !t.starts_with("--") {
            for c in t[1..].chars() {
                match c {
                    'i' | 'I' => last = Some(true),
                    'f' => last = Some(false),
                    _ => {}
                }
            }
        }
    }
    last == Some(true)
}

fn find(rest: &[Arg], env: Env) -> Option<Finding> {
    // Start points: the operands before the first expression word.
    let starts: Vec<Arg> = rest
        .iter()
        .skip_while(|a| {
            matches!(a.text.as_str(), "-H" | "-L" | "-P")
                || a.text.starts_with("-O")
                || a.text.starts_with("-D")
        })
        .take_while(|a| !a.text.starts_with('-') && a.text != "(" && a.text != "!")
        .cloned()
        .collect();
    let starts = if starts.is_empty() { vec![Arg::lit(".")] } else { starts };
    let mut found: Option<Finding> = None;
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i].text.as_str();
        if t == "-delete" {
            let f = Finding::new(
                "`find -delete` deletes every match (recursively)",
                Severity::TypeName,
            )
            .with_targets(&starts);
            found = Some(match found {
                Some(g) => g.merge(f),
                None => f,
            });
        } else if matches!(t, "-exec" | "-execdir" | "-ok" | "-okdir") {
            let end = rest[i + 1..]
                .iter()
                .position(|a| a.text == ";" || a.text == "+")
                .map(|p| i + 1 + p)
                .unwrap_or(rest.len());
            let cmd: Vec<Arg> = rest[i + 1..end]
                .iter()
                .map(|a| if a.text.contains("{}") { Arg::unknown(&a.text) } else { a.clone() })
                .collect();
            if let Some(f) = env.deeper().map_or(Some(too_deep()), |e| analyze(&cmd, e)) {
                let mut f = f.with_targets(&starts);
                f.why = format!("{} for every match of `find`", f.why);
                f.severity = Severity::TypeName;
                found = Some(match found {
                    Some(g) => g.merge(f),
                    None => f,
                });
            }
            i = end;
        }
        i += 1;
    }
    found
}

fn zpool(rest: &[Arg]) -> Option<Finding> {
    let sub = operands(rest, &["-o", "-O", "-m", "-R", "-t"]);
    match sub.first().map(|a| a.text.as_str()) {
        Some("create") if has_flag(rest, 'f', &["force"]) => Some(
            Finding::new("`zpool create -f` overwrites the disks it is given", Severity::TypeName)
                .with_targets(&sub[1..]),
        ),
        Some("destroy") => Some(
            Finding::new("`zpool destroy` destroys a pool", Severity::TypeName)
                .with_targets(&sub[1..]),
        ),
        Some("labelclear") => Some(
            Finding::new("`zpool labelclear` erases a device's pool label", Severity::TypeName)
                .with_targets(&sub[1..]),
        ),
        _ => None,
    }
}

fn diskutil(rest: &[Arg]) -> Option<Finding> {
    let ops = operands(rest, &[]);
    let verb = ops.first()?.text.to_ascii_lowercase();
    let (verb, args) =
        if matches!(verb.as_str(), "apfs" | "ap" | "cs" | "corestorage" | "ar" | "appleraid") {
            (
                ops.get(1).map(|a| a.text.to_ascii_lowercase()).unwrap_or_default(),
                ops.get(2..).unwrap_or(&[]),
            )
        } else {
            (verb, ops.get(1..).unwrap_or(&[]))
        };
    let destructive = verb.starts_with("erase")
        || verb.starts_with("delete")
        || matches!(
            verb.as_str(),
            "partitiondisk"
                | "reformat"
                | "zerodisk"
                | "randomdisk"
                | "secureerase"
                | "splitpartition"
                | "mergepartitions"
                | "resizevolume"
                | "deletevolume"
                | "deletecontainer"
        );
    destructive.then(|| {
        Finding::new(format!("`diskutil {verb}` erases or repartitions a disk"), Severity::TypeName)
            .with_targets(&args.iter().rev().take(1).cloned().collect::<Vec<_>>())
    })
}

fn git(rest: &[Arg]) -> Option<Finding> {
    // Global options before the subcommand.
    let mut i = 0;
    let mut dir: Option<Arg> = None;
    while i < rest.len() {
        let t = rest[i].text.as_str();
        if matches!(
            t,
            "-C" | "-c"
                | "--git-dir"
                | "--work-tree"
                | "--namespace"
                | "--exec-path"
                | "--super-prefix"
                | "--config-env"
        ) {
            if t == "-C" {
                dir = rest.get(i + 1).cloned();
            }
            i += 2;
        } else if t.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let sub = rest.get(i)?.text.as_str();
    let args = &rest[i + 1..];
    let worktree: Vec<Arg> = dir.into_iter().collect();
    let has = |s: &str| args.iter().any(|a| a.text == s);
    match sub {
        "clean" => {
            let force = has_flag(args, 'f', &["force"]);
            let dry = has_flag(args, 'n', &["dry-run"]);
            (force && !dry).then(|| {
                Finding::new(
                    "`git clean -f` deletes untracked files",
                    if has_flag(args, 'd', &[]) || has_flag(args, 'x', &[]) {
                        Severity::TypeName
                    } else {
                        Severity::YesNo
                    },
                )
                .with_targets(&worktree)
            })
        }
        "reset" => has("--hard").then(|| {
            Finding::new("`git reset --hard` discards uncommitted changes", Severity::YesNo)
                .with_targets(&worktree)
        }),
        "checkout" | "co" => {
            let discards = has("--")
                || has(".")
                || has_flag(args, 'f', &["force"])
                || has("--ours")
                || has("--theirs");
            discards.then(|| {
                Finding::new(
                    "`git checkout` over files discards their uncommitted changes",
                    Severity::YesNo,
                )
                .with_targets(&worktree)
            })
        }
        "restore" => {
            let staged_only = has("--staged") || has("-S") || has_flag(args, 'S', &["staged"]);
            let worktree_too = has("--worktree") || has("-W") || has_flag(args, 'W', &["worktree"]);
            (!staged_only || worktree_too).then(|| {
                Finding::new("`git restore` discards uncommitted changes", Severity::YesNo)
                    .with_targets(&worktree)
            })
        }
        "stash" => {
            matches!(args.first().map(|a| a.text.as_str()), Some("drop" | "clear")).then(|| {
                Finding::new("`git stash drop/clear` deletes stashed changes", Severity::YesNo)
                    .with_targets(&worktree)
            })
        }
        "branch" => (has("-D")
            || has_flag(args, 'D', &[])
            || (has_flag(args, 'd', &["delete"]) && has_flag(args, 'f', &["force"])))
        .then(|| {
            Finding::new("`git branch -D` deletes an unmerged branch", Severity::YesNo)
                .with_targets(&worktree)
        }),
        "push" => (has_flag(args, 'f', &["force", "force-with-lease", "mirror", "delete"])
            || args.iter().any(|a| a.text.starts_with('+') || a.text.starts_with(':')))
        .then(|| {
            Finding::new("`git push --force` overwrites remote history", Severity::YesNo)
                .with_targets(&worktree)
        }),
        "worktree" => matches!(args.first().map(|a| a.text.as_str()), Some("remove" | "prune"))
            .then(|| {
                Finding::new("`git worktree remove` deletes a worktree", Severity::TypeName)
                    .with_targets(&operands(&args[1..], &[]))
            }),
        "rm" => has_flag(args, 'f', &["force"]).then(|| {
            Finding::new(
                "`git rm -f` deletes files with their uncommitted changes",
                Severity::YesNo,
            )
            .with_targets(&operands(args, &[]))
        }),
        _ => None,
    }
}

fn qemu_img(rest: &[Arg], env: Env) -> Option<Finding> {
    let sub = rest.iter().position(|a| !a.text.starts_with('-'))?;
    let verb = rest[sub].text.as_str();
    let args = &rest[sub + 1..];
    let with_arg = [
        "-f",
        "-o",
        "-b",
        "-F",
        "-B",
        "-O",
        "-l",
        "-s",
        "-S",
        "-t",
        "-T",
        "-r",
        "-a",
        "-c",
        "-d",
        "--object",
        "--image-opts",
        "--target-image-opts",
        "-m",
        "-W",
    ];
    let ops = operands(args, &with_arg);
    match verb {
        "create" => {
            let file = ops.first()?;
            (file.dynamic || env.exists(&file.text)).then(|| {
                Finding::new(
                    "`qemu-img create` over an existing disk image destroys its contents",
                    Severity::TypeName,
                )
                .with_targets(std::slice::from_ref(file))
            })
        }
        "convert" | "dd" => {
            let out = if verb == "dd" {
                args.iter().find_map(|a| {
                    a.text
                        .strip_prefix("of=")
                        .map(|t| Arg { text: t.to_string(), dynamic: a.dynamic })
                })?
            } else {
                ops.last()?.clone()
            };
            (out.dynamic || env.exists(&out.text)).then(|| {
                Finding::new(
                    format!("`qemu-img {verb}` over an existing image destroys its contents"),
                    Severity::TypeName,
                )
                .with_targets(&[out])
            })
        }
        "resize" => args
            .iter()
            .any(|a| a.text == "--shrink" || ops.last().is_some_and(|l| l.text.starts_with('-')))
            .then(|| {
                Finding::new(
                    "`qemu-img resize --shrink` cuts off the end of a disk",
                    Severity::TypeName,
                )
                .with_targets(&ops.iter().take(1).cloned().collect::<Vec<_>>())
            }),
        "snapshot" => {
            let deletes = args.iter().any(|a| a.text == "-d" || a.text == "-a");
            deletes.then(|| {
                Finding::new(
                    "`qemu-img snapshot -d/-a` deletes a snapshot or reverts the disk to one",
                    Severity::TypeName,
                )
                .with_targets(&ops.iter().rev().take(1).cloned().collect::<Vec<_>>())
            })
        }
        "commit" => Some(
            Finding::new(
                "`qemu-img commit` writes an overlay into its backing image",
                Severity::YesNo,
            )
            .with_targets(&ops),
        ),
        _ => None,
    }
}

fn mv_cp(prog: &str, rest: &[Arg], env: Env) -> Option<Finding> {
    let cmd = if prog.ends_with("mv") { "mv" } else { "cp" };
    if has_flag(rest, 'n', &["no-clobber", "update=none"])
        || has_flag(rest, 'i', &["interactive"]) && !has_flag(rest, 'f', &["force"])
    {
        return None;
    }
    let with_arg = ["-t", "--target-directory", "-S", "--suffix", "--backup"];
    let ops = operands(rest, &with_arg);
    // `-t DIR` names the destination directory.
    let target_dir = rest
        .iter()
        .position(|a| a.text == "-t" || a.text == "--target-directory")
        .and_then(|p| rest.get(p + 1))
        .cloned()
        .or_else(|| {
            rest.iter().find_map(|a| {
                a.text
                    .strip_prefix("--target-directory=")
                    .map(|d| Arg { text: d.to_string(), dynamic: a.dynamic })
            })
        });
    let (sources, dest): (Vec<Arg>, Arg) = match target_dir {
        Some(d) => (ops.clone(), d),
        None => {
            if ops.len() < 2 {
                return None;
            }
            let (last, srcs) = ops.split_last()?;
            (srcs.to_vec(), last.clone())
        }
    };
    if dest.dynamic {
        return Some(
            Finding::new(
                format!("`{cmd}` onto a path only known at run time may replace what is there"),
                Severity::YesNo,
            )
            .with_targets(&[dest]),
        );
    }
    let mut over = vec![];
    if env.is_dir(&dest.text) {
        for s in &sources {
            let name = basename(s.text.trim_end_matches('/'));
            let inside = format!("{}/{}", dest.text.trim_end_matches('/'), name);
            if s.dynamic {
                over.push(Arg::unknown(&inside));
            } else if env.exists(&inside) {
                over.push(Arg::lit(&inside));
            }
        }
    } else if env.exists(&dest.text) && !is_harmless_device(&dest.text) {
        over.push(dest.clone());
    }
    if over.is_empty() {
        return None;
    }
    Some(
        Finding::new(format!("`{cmd}` onto an existing path replaces it"), Severity::YesNo)
            .with_targets(&over),
    )
}

fn ln(rest: &[Arg], env: Env) -> Option<Finding> {
    if !has_flag(rest, 'f', &["force"]) {
        return None;
    }
    let ops = operands(rest, &["-t", "--target-directory", "-S", "--suffix"]);
    let dest =
        if ops.len() >= 2 { ops.last()?.clone() } else { Arg::lit(basename(&ops.first()?.text)) };
    let replaces =
        dest.dynamic || (env.exists(&dest.text) && !env.is_dir(&dest.text)) || !env.fs_checks;
    replaces.then(|| {
        Finding::new("`ln -f` replaces an existing path", Severity::YesNo).with_targets(&[dest])
    })
}

fn docker(rest: &[Arg]) -> Option<Finding> {
    let ops = operands(
        rest,
        &["-H", "--host", "--context", "-c", "--config", "-l", "--log-level", "-f", "--filter"],
    );
    let words: Vec<&str> = ops.iter().map(|a| a.text.as_str()).collect();
    let prune = words.contains(&"prune");
    let volume_rm =
        words.first() == Some(&"volume") && matches!(words.get(1), Some(&"rm" | &"remove"));
    let down_v = words.first() == Some(&"compose")
        && words.contains(&"down")
        && rest.iter().any(|a| a.text == "-v" || a.text == "--volumes");
    if prune || volume_rm || down_v {
        let what = if prune {
            "`docker … prune` deletes images, containers or volumes"
        } else {
            "`docker volume rm` deletes a volume's data"
        };
        return Some(Finding::new(what, Severity::YesNo));
    }
    None
}

fn is_harmless_device(p: &str) -> bool {
    matches!(p, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty")
        || p.starts_with("/dev/fd/")
}

fn is_disk_device(p: &str) -> bool {
    [
        "/dev/disk",
        "/dev/rdisk",
        "/dev/sd",
        "/dev/hd",
        "/dev/vd",
        "/dev/xvd",
        "/dev/nvme",
        "/dev/mmcblk",
        "/dev/loop",
        "/dev/md",
        "/dev/dm-",
        "/dev/mapper/",
        "/dev/zd",
    ]
    .iter()
    .any(|d| p.starts_with(d))
}

// ---------------------------------------------------------------------------------------------
// Shell strings

fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions { enable_extended_globbing: false, ..Default::default() }
}

fn shell(script: &str, env: Env) -> Option<Finding> {
    let mut parser =
        brush_parser::Parser::new(std::io::Cursor::new(script.as_bytes()), &parser_options());
    let program = match parser.parse_program() {
        Ok(p) => p,
        Err(e) => {
            return Some(Finding::new(
                format!("a shell script that cannot be parsed ({e}) is treated as destructive"),
                Severity::YesNo,
            ));
        }
    };
    let mut w = Walker { env, found: None };
    for cc in &program.complete_commands {
        w.list(cc);
    }
    w.found
}

struct Walker<'a> {
    env: Env<'a>,
    found: Option<Finding>,
}

impl Walker<'_> {
    fn add(&mut self, f: Option<Finding>) {
        if let Some(f) = f {
            self.found = Some(match self.found.take() {
                Some(g) => g.merge(f),
                None => f,
            });
        }
    }

    fn list(&mut self, list: &ast::CompoundList) {
        for item in &list.0 {
            self.and_or(&item.0);
        }
    }

    fn and_or(&mut self, l: &ast::AndOrList) {
        self.pipeline(&l.first);
        for a in &l.additional {
            match a {
                ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p),
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline) {
        let outer = self.env.piped;
        for (i, c) in p.seq.iter().enumerate() {
            self.env.piped = outer || i > 0;
            self.command(c);
        }
        self.env.piped = outer;
    }

    fn command(&mut self, c: &ast::Command) {
        match c {
            ast::Command::Simple(s) => self.simple(s),
            ast::Command::Compound(cc, redirects) => {
                self.compound(cc);
                if let Some(r) = redirects {
                    for io in &r.0 {
                        self.redirect(io);
                    }
                }
            }
            ast::Command::Function(f) => {
                self.compound(&f.body.0);
            }
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, c: &ast::CompoundCommand) {
        match c {
            ast::CompoundCommand::BraceGroup(b) => self.list(&b.list),
            ast::CompoundCommand::Subshell(s) => self.list(&s.list),
            ast::CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.word(&w.value);
                }
                self.list(&f.body.list);
            }
            ast::CompoundCommand::ArithmeticForClause(f) => self.list(&f.body.list),
            ast::CompoundCommand::CaseClause(c) => {
                self.word(&c.value.value);
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.list(l);
                    }
                }
            }
            ast::CompoundCommand::IfClause(i) => {
                self.list(&i.condition);
                self.list(&i.then);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c);
                    }
                    self.list(&e.body);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.list(&w.0);
                self.list(&w.1.list);
            }
            ast::CompoundCommand::Coprocess(c) => self.command(&c.body),
            ast::CompoundCommand::Arithmetic(_) => {}
        }
    }

    /// Expand a word statically; nested `$(…)` are classified on the way.
    fn word(&mut self, raw: &str) -> Arg {
        match brush_parser::word::parse(raw, &parser_options()) {
            Ok(pieces) => {
                let mut text = String::new();
                let mut dynamic = false;
                for p in &pieces {
                    self.piece(&p.piece, &mut text, &mut dynamic, false);
                }
                Arg { text, dynamic }
            }
            Err(_) => Arg::unknown(raw),
        }
    }

    fn piece(&mut self, p: &WordPiece, text: &mut String, dynamic: &mut bool, quoted: bool) {
        match p {
            WordPiece::Text(t) => {
                let bracket = t.find('[').is_some_and(|i| t[i + 1..].contains(']'));
                if !quoted
                    && (t.contains(['*', '?']) || bracket || (t.contains('{') && t.contains(',')))
                {
                    *dynamic = true;
                }
                text.push_str(t);
            }
            WordPiece::SingleQuotedText(t) | WordPiece::AnsiCQuotedText(t) => text.push_str(t),
            WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
                for s in seq {
                    self.piece(&s.piece, text, dynamic, true);
                }
            }
            WordPiece::TildeExpansion(t) => match t {
                brush_parser::word::TildeExpr::Home => text.push('~'),
                _ => {
                    *dynamic = true;
                    text.push('~');
                }
            },
            WordPiece::ParameterExpansion(_) => {
                *dynamic = true;
                text.push_str("$VAR");
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                let f = match self.env.deeper() {
                    Some(e) => shell(s, e),
                    None => Some(too_deep()),
                };
                self.add(f);
                *dynamic = true;
                text.push_str("$(…)");
            }
            WordPiece::EscapeSequence(s) => text.push_str(s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::ArithmeticExpression(_) => {
                *dynamic = true;
                text.push_str("$((…))");
            }
        }
    }

    fn simple(&mut self, s: &ast::SimpleCommand) {
        let mut words: Vec<Arg> = vec![];
        let mut heredoc_scripts: Vec<String> = vec![];
        let mut redirects: Vec<&ast::IoRedirect> = vec![];
        let mut items: Vec<&ast::CommandPrefixOrSuffixItem> = vec![];
        if let Some(p) = &s.prefix {
            items.extend(p.0.iter());
        }
        let name_pos = items.len();
        if let Some(suffix) = &s.suffix {
            items.extend(suffix.0.iter());
        }
        let mut name_inserted = false;
        for (i, item) in items.iter().enumerate() {
            if i == name_pos && !name_inserted {
                if let Some(w) = &s.word_or_name {
                    let a = self.word(&w.value);
                    words.push(a);
                }
                name_inserted = true;
            }
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w) => {
                    let a = self.word(&w.value);
                    words.push(a);
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) if i >= name_pos => {
                    // After the command name `if=/dev/zero` is an ordinary argument.
                    let a = self.word(&w.value);
                    words.push(a);
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => {
                    // The value may hide a `$(…)`.
                    match &a.value {
                        ast::AssignmentValue::Scalar(w) => {
                            self.word(&w.value);
                        }
                        ast::AssignmentValue::Array(ws) => {
                            for (k, v) in ws {
                                if let Some(k) = k {
                                    self.word(&k.value);
                                }
                                self.word(&v.value);
                            }
                        }
                    }
                }
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => {
                    if let ast::IoRedirect::HereDocument(_, doc) = r {
                        heredoc_scripts.push(doc.doc.value.clone());
                    }
                    if let ast::IoRedirect::HereString(_, w) = r {
                        heredoc_scripts.push(self.word(&w.value).text);
                    }
                    redirects.push(r);
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => self.list(&sub.list),
            }
        }
        if !name_inserted && let Some(w) = &s.word_or_name {
            let a = self.word(&w.value);
            words.push(a);
        }
        // A heredoc or here-string fed to a shell is a script: classify it.
        let feeds_shell = words.first().is_some_and(|a| !a.dynamic && is_shell(basename(&a.text)))
            || words.iter().take(4).any(|a| is_shell(basename(&a.text)));
        for r in redirects {
            self.redirect(r);
        }
        if feeds_shell {
            for h in &heredoc_scripts {
                let f = match self.env.deeper() {
                    Some(e) => shell(h, e),
                    None => Some(too_deep()),
                };
                self.add(f);
            }
        }
        if !words.is_empty() {
            let f = analyze(&words, self.env);
            self.add(f);
        }
    }

    /// `> file` truncates an existing file; `> /dev/disk2` overwrites a disk.
    fn redirect(&mut self, r: &ast::IoRedirect) {
        let target = match r {
            ast::IoRedirect::File(
                _,
                ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber,
                ast::IoFileRedirectTarget::Filename(w),
            ) => Some(self.word(&w.value)),
            ast::IoRedirect::File(_, _, ast::IoFileRedirectTarget::ProcessSubstitution(_, sub)) => {
                self.list(&sub.list);
                None
            }
            ast::IoRedirect::OutputAndError(w, false) => Some(self.word(&w.value)),
            _ => None,
        };
        let Some(t) = target else { return };
        if is_harmless_device(&t.text) {
            return;
        }
        if is_disk_device(&t.text) {
            self.add(Some(
                Finding::new("a redirect onto a disk device overwrites it", Severity::TypeName)
                    .with_targets(&[t]),
            ));
        } else if t.dynamic {
            self.add(Some(
                Finding::new(
                    "a `>` redirect onto a path only known at run time may truncate a file",
                    Severity::YesNo,
                )
                .with_targets(&[t]),
            ));
        } else if self.env.exists(&t.text) && !self.env.is_dir(&t.text) {
            self.add(Some(
                Finding::new("a `>` redirect truncates an existing file", Severity::YesNo)
                    .with_targets(&[t]),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// Split a test line into an argv (whitespace, with '…' quoting for one word).
    fn words(line: &str) -> Vec<String> {
        let mut out = vec![];
        let mut cur = String::new();
        let mut quoted = false;
        let mut any = false;
        for c in line.chars() {
            match c {
                '\'' => {
                    quoted = !quoted;
                    any = true;
                }
                c if c.is_whitespace() && !quoted => {
                    if any || !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                        any = false;
                    }
                }
                c => cur.push(c),
            }
        }
        if any || !cur.is_empty() {
            out.push(cur);
        }
        out
    }

    /// Files some rules need to exist ("onto an existing path").
    fn fixture() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for f in ["disk.qcow2", "existing.txt", "dir/existing.txt", "base.img"] {
            let p = d.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        d
    }

    // (form, kind) — kind: "a" argv (split by words()), "s" shell string, "r" remote shell string.
    const DESTRUCTIVE: &[(&str, &str)] = &[
        // rm in every spelling
        ("rm -rf build", "a"),
        ("rm -fr build", "a"),
        ("rm -r -f build", "a"),
        ("rm -R build", "a"),
        ("rm --recursive build", "a"),
        ("rm --force build.log", "a"),
        ("rm -f build.log", "a"),
        ("rm --no-preserve-root -rf /", "a"),
        ("rm -rfv build", "a"),
        ("rm -vrf build", "a"),
        ("rm build.log", "a"),
        ("rm -i -f build.log", "a"),
        ("/bin/rm -rf build", "a"),
        ("/usr/bin/rm -rf build", "a"),
        ("./rm -rf build", "a"),
        ("rm -rf -- -weird", "a"),
        // wrappers
        ("sudo rm -rf /var/tmp/x", "a"),
        ("sudo -u root rm -rf x", "a"),
        ("sudo -n -E rm -rf x", "a"),
        ("sudo --user=root rm -rf x", "a"),
        ("sudo -H -u luke -- rm -rf x", "a"),
        ("env FOO=1 rm -rf x", "a"),
        ("env -i PATH=/bin rm -rf x", "a"),
        ("env -u HOME rm -rf x", "a"),
        ("env -S 'rm -rf x'", "a"),
        ("nice -n 10 rm -rf x", "a"),
        ("nice rm -rf x", "a"),
        ("nohup rm -rf x", "a"),
        ("time rm -rf x", "a"),
        ("time -p rm -rf x", "a"),
        ("command rm -rf x", "a"),
        ("exec rm -rf x", "a"),
        ("xargs rm", "a"),
        ("xargs -0 rm -f", "a"),
        ("xargs -I {} rm -rf {}", "a"),
        ("timeout 10 rm -rf x", "a"),
        ("timeout -s KILL 10 rm -rf x", "a"),
        ("sudo nice -n 5 env A=b nohup /bin/rm -rf x", "a"),
        ("stdbuf -oL rm -rf x", "a"),
        ("caffeinate -i rm -rf x", "a"),
        ("doas rm -rf x", "a"),
        // shells through argv
        ("sh -c 'rm -rf x'", "a"),
        ("bash -c 'cd x && rm -rf y'", "a"),
        ("bash -lc 'rm -rf ~/x'", "a"),
        ("sudo sh -c 'rm -rf /tmp/x'", "a"),
        ("zsh -ec 'echo hi; rm -rf x'", "a"),
        ("sh -c 'sh -c \"rm -rf x\"'", "a"),
        ("ssh vm 'rm -rf ~/helix'", "a"),
        ("ssh -p 2222 -i key luke@127.0.0.1 sudo rm -rf /tmp/x", "a"),
        // other deleters
        ("rmdir empty", "a"),
        ("unlink file", "a"),
        ("find . -name '*.o' -delete", "a"),
        ("find /tmp -exec rm {} ;", "a"),
        ("find . -type d -execdir rm -rf {} +", "a"),
        ("dd if=/dev/zero of=disk.img bs=1M", "a"),
        ("dd if=x.iso of=/dev/disk4 bs=4m", "a"),
        ("sudo dd of=/dev/rdisk2 if=img", "a"),
        ("mkfs.ext4 /dev/sdb1", "a"),
        ("mkfs -t vfat /dev/sdc", "a"),
        ("newfs_apfs /dev/disk5", "a"),
        ("mkfs.vfat -n CIDATA seed.img", "a"),
        ("wipefs -a /dev/sdb", "a"),
        ("shred -u secret", "a"),
        ("truncate -s 0 log", "a"),
        ("zpool create -f tank /dev/sdb", "a"),
        ("zpool destroy tank", "a"),
        ("zfs destroy -r tank/vm", "a"),
        ("diskutil eraseDisk APFS Big disk4", "a"),
        ("diskutil eraseVolume APFS X /Volumes/X", "a"),
        ("diskutil partitionDisk disk4 GPT APFS X 100%", "a"),
        ("diskutil apfs deleteContainer disk5", "a"),
        ("git clean -fdx", "a"),
        ("git clean -f", "a"),
        ("git -C /src/qemu clean -xdf", "a"),
        ("git reset --hard origin/main", "a"),
        ("git -C repo reset --hard", "a"),
        ("git checkout -- .", "a"),
        ("git checkout .", "a"),
        ("git restore src/main.rs", "a"),
        ("git stash drop", "a"),
        ("git push --force origin main", "a"),
        ("git branch -D feature", "a"),
        ("qemu-img create -f qcow2 disk.qcow2 10G", "a"),
        ("qemu-img convert -O qcow2 in.raw disk.qcow2", "a"),
        ("qemu-img snapshot -d base disk.qcow2", "a"),
        ("qemu-img resize --shrink disk.qcow2 10G", "a"),
        ("mv new.txt existing.txt", "a"),
        ("cp new.txt existing.txt", "a"),
        ("cp -f existing.txt dir", "a"),
        ("mv existing.txt dir", "a"),
        ("ln -sf /x existing.txt", "a"),
        ("tar --remove-files -czf a.tgz dir", "a"),
        ("rsync -a --delete src/ dst/", "a"),
        ("rsync -a --delete-after src/ dst/", "a"),
        ("docker system prune -af", "a"),
        ("docker builder prune", "a"),
        ("docker volume rm data", "a"),
        ("killall UTM", "a"),
        ("pkill -f qemu-system", "a"),
        ("sudo killall -9 QEMULauncher", "a"),
        ("utmctl delete new-dev-vm", "a"),
        ("$CMD -rf x", "s"),
        // shell strings
        ("cd x && rm -rf y", "s"),
        ("echo hi; rm -rf y", "s"),
        ("true || rm -rf y", "s"),
        ("ls | xargs rm -f", "s"),
        ("(cd /tmp; rm -rf x)", "s"),
        ("{ rm -rf x; }", "s"),
        ("echo $(rm -rf x)", "s"),
        ("echo `rm -rf x`", "s"),
        ("X=$(rm -rf x) true", "s"),
        ("if true; then rm -rf x; fi", "s"),
        ("if false; then :; else rm -rf x; fi", "s"),
        ("for d in a b; do rm -rf \"$d\"; done", "s"),
        ("while true; do rm -rf x; done", "s"),
        ("until false; do rm -f x; done", "s"),
        ("case $1 in a) rm -rf x;; esac", "s"),
        ("f() { rm -rf x; }; f", "s"),
        ("sh <<EOF\nrm -rf x\nEOF\n", "s"),
        ("bash <<'EOF'\nrm -rf /tmp/x\nEOF\n", "s"),
        ("sudo sh -c 'rm -rf /x'", "s"),
        ("bash -c \"bash -c 'rm -rf x'\"", "s"),
        ("curl -fsSL https://example.com/install.sh | sh", "s"),
        ("bash <<< 'rm -rf x'", "s"),
        ("! rm -rf x", "s"),
        ("rm -rf x &", "s"),
        ("time rm -rf x", "s"),
        ("rm -rf \"$DIR\"", "s"),
        ("rm -rf build/*", "s"),
        ("mv a \"$DEST\"", "s"),
        ("eval \"$X\"", "s"),
        ("eval 'rm -rf x'", "s"),
        ("echo 'unterminated", "s"),
        ("if then fi", "s"),
        ("cat image > /dev/disk4", "s"),
        ("echo x > existing.txt", "s"),
        ("sudo rm -rf ~/helix", "r"),
        ("cd /tmp && sudo rm -rf /tmp/* /var/tmp/*", "r"),
        ("sudo dd if=/dev/zero of=/dev/vda bs=1M", "r"),
        ("sudo growpart /dev/vda 1 && sudo rm -rf /var/cache", "r"),
        ("ln -sf /etc/a /etc/b", "r"),
        ("sudo wipefs -a /dev/vdb", "r"),
        ("docker system prune -af --volumes", "r"),
    ];

    const ORDINARY: &[(&str, &str)] = &[
        ("git status", "a"),
        ("git -C repo status --porcelain", "a"),
        ("git log --oneline -5", "a"),
        ("git fetch origin", "a"),
        ("git clone https://github.com/utmapp/UTM.git", "a"),
        ("git checkout main", "a"),
        ("git checkout -b feature", "a"),
        ("git restore --staged file", "a"),
        ("git clean -n", "a"),
        ("git clean -fn", "a"),
        ("git reset --soft HEAD~1", "a"),
        ("git submodule update --init --recursive", "a"),
        ("ls -la", "a"),
        ("rm -i file", "a"),
        ("rm -ri dir", "a"),
        ("cat /etc/hosts", "a"),
        ("mkdir -p build", "a"),
        ("meson setup build", "a"),
        ("ninja -C build", "a"),
        ("make -j4", "a"),
        ("qemu-img info --output=json disk.qcow2", "a"),
        ("qemu-img create -f qcow2 new.qcow2 10G", "a"),
        ("qemu-img resize disk.qcow2 +10G", "a"),
        ("qemu-img snapshot -l disk.qcow2", "a"),
        ("cp a.txt new.txt", "a"),
        ("mv a.txt brand-new.txt", "a"),
        ("cp -n new.txt existing.txt", "a"),
        ("mv -i new.txt existing.txt", "a"),
        ("ln -s /x newlink", "a"),
        ("tar -czf a.tgz dir", "a"),
        ("rsync -a src/ dst/", "a"),
        ("docker ps", "a"),
        ("docker volume ls", "a"),
        ("diskutil list", "a"),
        ("diskutil info disk4", "a"),
        ("sudo -n true", "a"),
        ("sudo ls /root", "a"),
        ("env FOO=1 make", "a"),
        ("command -v rm", "a"),
        ("xargs echo", "a"),
        ("find . -name '*.rs'", "a"),
        ("find . -exec grep -l x {} ;", "a"),
        ("dd if=/dev/zero of=/dev/null count=1", "a"),
        ("sh -c 'echo hi && ls'", "a"),
        ("bash script.sh", "a"),
        ("ssh vm uname -a", "a"),
        ("ssh -p 2222 luke@127.0.0.1 'sudo netplan apply'", "a"),
        ("codesign --force --sign - UTM.app", "a"),
        ("install_name_tool -id x lib.dylib", "a"),
        ("pkg-config --modversion glib-2.0", "a"),
        ("fdisk -l /dev/sda", "a"),
        ("parted /dev/vda print", "a"),
        ("zpool status", "a"),
        ("kill 1234", "a"),
        ("echo hi | grep h", "s"),
        ("cd build && ninja", "s"),
        ("for f in *.c; do echo $f; done", "s"),
        ("if [ -d x ]; then echo yes; fi", "s"),
        ("cat > /dev/null", "s"),
        ("echo x > new-file.txt", "s"),
        ("echo x >> existing.txt", "s"),
        ("ls 2>&1 | tee /tmp/helix-new-log.txt", "s"),
        ("X=$(git rev-parse HEAD); echo $X", "s"),
        ("sudo netplan generate && sudo netplan apply", "r"),
        ("sudo growpart /dev/vda 1 && sudo resize2fs /dev/vda1", "r"),
        ("cloud-init status --wait", "r"),
        ("ip -j addr show", "r"),
        ("sudo systemctl restart ssh", "r"),
        ("df -h / | tail -1", "r"),
        ("cat /etc/netplan/50-cloud-init.yaml", "r"),
        ("mv /tmp/x.yaml /etc/netplan/x.yaml", "r"),
        ("echo 'rm -rf /' > /dev/null", "r"),
        ("grep -r 'rm -rf' .", "r"),
        ("cat /etc/hosts | sort | uniq", "s"),
        ("sh -c 'ls' | cat", "s"),
    ];

    fn classify(form: &str, kind: &str, cwd: &Path) -> Option<Finding> {
        match kind {
            "a" => analyze_argv(&words(form), Env::local(Some(cwd))),
            "s" => analyze_shell(form, Env::local(Some(cwd))),
            _ => analyze_shell(form, Env::remote()),
        }
    }

    #[test]
    fn destructive_forms_need_confirmation() {
        let d = fixture();
        assert!(DESTRUCTIVE.len() >= 80, "{}", DESTRUCTIVE.len());
        let missed: Vec<&str> = DESTRUCTIVE
            .iter()
            .filter(|(f, k)| classify(f, k, d.path()).is_none())
            .map(|(f, _)| *f)
            .collect();
        assert!(missed.is_empty(), "not classified destructive: {missed:#?}");
    }

    #[test]
    fn ordinary_forms_pass() {
        let d = fixture();
        assert!(ORDINARY.len() >= 40, "{}", ORDINARY.len());
        let flagged: Vec<(&str, String)> = ORDINARY
            .iter()
            .filter_map(|(f, k)| classify(f, k, d.path()).map(|x| (*f, x.why)))
            .collect();
        assert!(flagged.is_empty(), "ordinary commands flagged: {flagged:#?}");
    }

    #[test]
    fn signatures_other_modules_use() {
        assert!(classify_argv(&argv(&["sh", "-c", "cd x && rm -rf y"])).is_some());
        assert!(classify_argv(&argv(&["git", "status"])).is_none());
        assert!(classify_shell("sudo sh -c 'rm -rf /tmp/x'").is_some());
        assert!(classify_shell("ls -la").is_none());
        assert!(classify_remote("rm -rf ~/helix").is_some());
    }

    #[test]
    fn severity_and_targets() {
        let d = fixture();
        let f =
            analyze_argv(&argv(&["rm", "-rf", "build/qemu/"]), Env::local(Some(d.path()))).unwrap();
        assert_eq!(f.severity, Severity::TypeName);
        assert_eq!(f.name_to_type(), "qemu");
        assert_eq!(f.local_paths(), vec![d.path().join("build/qemu/")]);
        let f = analyze_argv(&argv(&["rm", "-f", "a.log"]), Env::local(None)).unwrap();
        assert_eq!(f.severity, Severity::YesNo);
        let f = analyze_argv(&argv(&["dd", "if=x", "of=/dev/disk4"]), Env::local(None)).unwrap();
        assert_eq!((f.severity, f.name_to_type().as_str()), (Severity::TypeName, "disk4"));
        let f = analyze_shell("rm -rf \"$X\"", Env::local(None)).unwrap();
        assert!(f.unknown_target && f.why.contains("unknown target"), "{}", f.why);
        let f = analyze_argv(&argv(&["ssh", "vm", "rm", "-rf", "/x"]), Env::local(None)).unwrap();
        assert!(!f.local && f.local_paths().is_empty() && f.why.contains("`vm`"), "{f:?}");
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut s = "rm -rf x".to_string();
        for _ in 0..24 {
            s = format!("echo $({s})");
        }
        assert!(classify_shell(&s).is_some());
        let mut s = "rm -rf x".to_string();
        for _ in 0..24 {
            s = format!("sh -c {}", crate::process::display_argv(&[s]).replace("'\\''", "'\"'\"'"));
            if s.len() > 4000 {
                break;
            }
        }
        // Beyond the depth limit a script is not looked into, but never overflows the stack.
        let _ = classify_shell(&s);
    }
}
