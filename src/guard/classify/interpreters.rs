//! Programs that run code given to them as data: shells, script interpreters, `awk`, editors in
//! batch mode, and build tools. Code the classifier can see (`sh -c '…'`, a script fed on
//! stdin) is classified; code it cannot (`python3 -c`, `perl -e`, `sh FILE`, `. FILE`,
//! `make -f -`, `cmake -E rm`, `cmake -P`) counts as destructive. Build tools run unasked only
//! as the recipe's own build: in a configured build directory (it has `build.ninja`,
//! `config.status`, `CMakeCache.txt` or `meson-private/`), reading that directory's own rules.

use std::path::Path;

use super::finding::{Finding, Severity};
use super::state::Scope;
use super::words::{Arg, has_flag, operands, opt_value};
use super::{is_shell, shell};

/// `Some(result)` when `prog` runs code given to it.
pub(super) fn classify(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Option<Finding>> {
    let r = match prog {
        p if is_shell(p) => shell_argv(p, rest, scope),
        "." | "source" => Some(Finding::new(
            format!("`{prog}` runs a script file in the shell (helix cannot see what it does)"),
            Severity::YesNo,
        )),
        "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => awk(prog, rest),
        "make" | "gmake" | "bmake" => make(prog, rest, scope),
        "ninja" | "samu" => ninja(rest, scope),
        "meson" => meson(rest),
        "cmake" => cmake(rest),
        "ed" | "ex" | "red" => {
            Some(Finding::new(format!("`{prog}` runs editing commands on files"), Severity::YesNo))
        }
        "vim" | "vi" | "nvim" | "view" => rest
            .iter()
            .any(|a| {
                a.text.starts_with('+')
                    || matches!(a.text.as_str(), "-c" | "-s" | "-S" | "--cmd" | "-e" | "-E" | "-es")
            })
            .then(|| Finding::new(format!("`{prog}` runs editor commands"), Severity::YesNo)),
        "emacs" => rest
            .iter()
            .any(|a| {
                matches!(
                    a.text.as_str(),
                    "--batch" | "--script" | "-l" | "--load" | "--eval" | "-x"
                ) || a.text.starts_with("--eval=")
                    || a.text.starts_with("--load=")
            })
            .then(|| Finding::new("`emacs` runs Lisp code", Severity::YesNo)),
        "osascript" => osascript(rest),
        p if is_interpreter(p) => interpreter(p, rest),
        _ => return None,
    };
    Some(r)
}

fn is_interpreter(p: &str) -> bool {
    let base = p.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    matches!(
        base,
        "python"
            | "pypy"
            | "perl"
            | "ruby"
            | "irb"
            | "node"
            | "nodejs"
            | "deno"
            | "bun"
            | "php"
            | "lua"
            | "luajit"
            | "tclsh"
            | "wish"
            | "Rscript"
            | "R"
            | "swift"
            | "pwsh"
            | "powershell"
            | "julia"
            | "guile"
            | "racket"
            | "sbcl"
            | "runghc"
            | "ghci"
            | "groovy"
            | "scala"
            | "jshell"
            | "expect"
            | "osascript"
            | "jxa"
            | "dc"
            | "bc"
    ) && !matches!(p, "bc" | "dc")
}

/// An interpreter runs code unless it is only asked for its version or help, or (Python) one of
/// the standard modules helix itself uses (`pip`, `venv`, `ensurepip`, `json.tool`).
fn interpreter(prog: &str, rest: &[Arg]) -> Option<Finding> {
    let info = rest
        .iter()
        .all(|a| matches!(a.text.as_str(), "--version" | "-V" | "-v" | "--help" | "-h" | "-VV"));
    if info && !rest.is_empty() {
        return None;
    }
    if prog.starts_with("python")
        && let Some(i) = rest.iter().position(|a| a.text == "-m")
        && rest[..i].iter().all(|a| matches!(a.text.as_str(), "-I" | "-E" | "-s" | "-u" | "-B"))
        && rest.get(i + 1).is_some_and(|m| {
            matches!(m.text.as_str(), "pip" | "venv" | "ensurepip" | "json.tool" | "site")
        })
    {
        return None;
    }
    let how = if rest
        .iter()
        .any(|a| matches!(a.text.as_str(), "-c" | "-e" | "-E" | "--eval" | "-p" | "--print" | "-r"))
    {
        "inline code"
    } else if operands(rest, &[]).is_empty() {
        "code from stdin"
    } else {
        "a script file"
    };
    Some(Finding::new(
        format!("`{prog}` runs {how} (helix cannot see what it does)"),
        Severity::YesNo,
    ))
}

/// `osascript -e` for the few read-or-quit forms helix itself uses; anything else is code.
fn osascript(rest: &[Arg]) -> Option<Finding> {
    let mut scripts = vec![];
    let mut i = 0;
    while i < rest.len() {
        if rest[i].text == "-e" {
            match rest.get(i + 1) {
                Some(s) if !s.dynamic => scripts.push(s.text.clone()),
                _ => scripts.push(String::new()),
            }
            i += 2;
        } else {
            scripts.push(String::new());
            i += 1;
        }
    }
    let safe = |s: &str| {
        let s = s.trim();
        let quoted = |t: &str| {
            t.starts_with('"')
                && t.ends_with('"')
                && t.len() >= 2
                && !t[1..t.len() - 1].contains('"')
        };
        s.strip_prefix("application ")
            .and_then(|r| r.strip_suffix(" is running"))
            .is_some_and(quoted)
            || s.strip_prefix("quit app ").is_some_and(quoted)
            || s.strip_prefix("tell application ")
                .and_then(|r| r.strip_suffix(" to quit"))
                .is_some_and(quoted)
            || s.strip_prefix("id of application ").is_some_and(quoted)
    };
    if !scripts.is_empty() && scripts.iter().all(|s| safe(s)) {
        return None;
    }
    Some(Finding::new(
        "`osascript` runs AppleScript (helix cannot see what it does)",
        Severity::YesNo,
    ))
}

/// `sh -c SCRIPT`, `bash -lc SCRIPT`, `bash -s` (script on stdin), `sh FILE`.
fn shell_argv(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let mut i = 0;
    let mut from_stdin = false;
    while i < rest.len() {
        let a = &rest[i].text;
        if a == "--" {
            i += 1;
            break;
        }
        if matches!(a.as_str(), "--rcfile" | "--init-file") {
            return Some(Finding::new(
                format!("`{prog} {a}` runs a start-up file (helix cannot see what it does)"),
                Severity::YesNo,
            ));
        }
        if matches!(a.as_str(), "-o" | "+o" | "-O" | "+O") {
            i += 2;
            continue;
        }
        if a.starts_with('-') && !a.starts_with("--") && a.len() > 1 && a[1..].contains('c') {
            let script = rest.get(i + 1)?;
            return shell::sub_script(script, scope);
        }
        if a.starts_with('-') && !a.starts_with("--") && a[1..].contains('s') {
            from_stdin = true;
        }
        if a.starts_with('-') || a.starts_with('+') {
            i += 1;
            continue;
        }
        break;
    }
    if from_stdin || i >= rest.len() {
        // The script comes from stdin.
        if scope.piped {
            return Some(Finding::new(
                "a shell reading its script from a pipe (helix cannot see what it runs)",
                Severity::YesNo,
            ));
        }
        return scope.stdin.clone().and_then(|s| shell::sub_script(&Arg::lit(&s), scope));
    }
    Some(Finding::new(
        format!("`{prog} {}` runs a script file (helix cannot see what it does)", rest[i].text),
        Severity::YesNo,
    ))
}

/// `awk` programs that run commands (`system()`, pipes, `getline` from a command) or write
/// files (`print > "f"`); `-f FILE` is a program helix cannot see.
fn awk(prog: &str, rest: &[Arg]) -> Option<Finding> {
    if rest
        .iter()
        .any(|a| a.text == "-f" || a.text.starts_with("--file") || a.text.starts_with("-f"))
    {
        return Some(Finding::new(format!("`{prog} -f` runs a program file"), Severity::YesNo));
    }
    let ops = operands(rest, &["-F", "-v", "--assign", "--field-separator"]);
    let program = ops.first()?;
    if program.dynamic {
        return Some(Finding::new(
            format!("`{prog}` runs a program only known at run time"),
            Severity::YesNo,
        ));
    }
    let p = &program.text;
    let writes = p.split(['\n', ';', '}']).any(|stmt| {
        let s = stmt.trim_start();
        s.contains("print") && s.contains('>')
    });
    (p.contains("system") || p.contains('|') || p.contains("getline") || writes).then(|| {
        Finding::new(format!("the `{prog}` program runs commands or writes files"), Severity::YesNo)
    })
}

/// A configured build directory: the build system's generated state is there.
fn is_build_dir(dir: &Path) -> bool {
    ["build.ninja", "config.status", "CMakeCache.txt", "meson-private", "config.log"]
        .iter()
        .any(|f| dir.join(f).exists())
}

fn build_dir(
    rest: &[Arg],
    scope: &Scope,
    dir_opts: &[&str],
    long: &[&str],
) -> Option<std::path::PathBuf> {
    match opt_value(rest, dir_opts, long) {
        Some(d) if d.dynamic => None,
        Some(d) => scope.absolute(&d.text),
        None => scope.cwd.clone(),
    }
}

fn make(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let eval = rest.iter().any(|a| a.text == "-E" || a.text.starts_with("--eval"));
    if eval {
        return Some(Finding::new(
            format!("`{prog} --eval` runs rules given inline"),
            Severity::YesNo,
        ));
    }
    let file = opt_value(rest, &["-f"], &["file", "makefile"]);
    if file.as_ref().is_some_and(|f| f.text == "-" || f.dynamic) {
        return Some(Finding::new(format!("`{prog} -f -` runs rules from stdin"), Severity::YesNo));
    }
    let dir = build_dir(rest, scope, &["-C"], &["directory"]);
    let own = dir.as_deref().is_some_and(is_build_dir)
        && file.as_ref().is_none_or(|f| {
            scope.absolute(&f.text).zip(dir.as_ref()).is_some_and(|(f, d)| f.starts_with(d))
        });
    if own || scope.is_remote() {
        return None;
    }
    Some(Finding::new(
        format!(
            "`{prog}` outside a configured build directory runs rules helix cannot see{}",
            dir.map(|d| format!(" (in `{}`)", d.display())).unwrap_or_default()
        ),
        Severity::YesNo,
    ))
}

fn ninja(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if rest.iter().any(|a| matches!(a.text.as_str(), "--version" | "-h" | "--help")) {
        return None;
    }
    if opt_value(rest, &["-f"], &[]).is_some() {
        return Some(Finding::new("`ninja -f` runs another build file", Severity::YesNo));
    }
    let dir = build_dir(rest, scope, &["-C"], &[]);
    if dir.as_deref().is_some_and(|d| d.join("build.ninja").is_file()) || scope.is_remote() {
        return None;
    }
    Some(Finding::new(
        "`ninja` outside a configured build directory runs rules helix cannot see",
        Severity::YesNo,
    ))
}

fn meson(rest: &[Arg]) -> Option<Finding> {
    if has_flag(rest, '\u{0}', &["wipe"]) {
        return Some(Finding::new(
            "`meson --wipe` deletes the build directory's contents",
            Severity::YesNo,
        ));
    }
    let sub = operands(rest, &[]);
    let sub: Vec<&str> = sub.iter().map(|a| a.text.as_str()).collect();
    match sub.as_slice() {
        ["subprojects", "purge", ..] => {
            Some(Finding::new("`meson subprojects purge` deletes subprojects", Severity::YesNo))
        }
        ["rewrite", ..] => Some(Finding::new("`meson rewrite` edits build files", Severity::YesNo)),
        _ => None,
    }
}

fn cmake(rest: &[Arg]) -> Option<Finding> {
    if let Some(i) = rest.iter().position(|a| a.text == "-E") {
        let sub = rest.get(i + 1).map(|a| a.text.as_str()).unwrap_or("");
        let harmless = matches!(
            sub,
            "echo"
                | "echo_append"
                | "capabilities"
                | "environment"
                | "sleep"
                | "true"
                | "false"
                | "compare_files"
                | "sha1sum"
                | "sha256sum"
                | "sha512sum"
                | "md5sum"
                | "make_directory"
                | "cat"
                | "time"
        );
        if sub == "time" {
            return Some(Finding::new("`cmake -E time` runs a command", Severity::YesNo));
        }
        return (!harmless).then(|| {
            Finding::new(
                format!("`cmake -E {sub}` changes files (or runs code) helix cannot see"),
                Severity::YesNo,
            )
        });
    }
    if rest.iter().any(|a| a.text == "-P") {
        return Some(Finding::new("`cmake -P` runs a script file", Severity::YesNo));
    }
    None
}
