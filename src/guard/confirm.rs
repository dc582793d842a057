//! Confirmation at the controlling terminal (`/dev/tty`), never stdin: a pipe fed to helix
//! cannot answer. The terminal is not proof of a person, though: any program that drives a
//! pseudo-terminal (`script -qec "helix run g"`, `expect`, an agent's terminal tool) can type
//! into the question. That is why protected paths are refused before anyone is asked, and why
//! every child process runs with them write-denied by the OS: the question guards what helix
//! cannot undo, not what it must never touch.
//!
//! The prompt shows what will be destroyed — resolved paths, sizes, file counts, the exact
//! command. Recursive or large (≥ 1 GiB) deletions and disk overwrites ask the person to type
//! the target's name; smaller ones ask y/N, defaulting to No. Input typed before the question
//! appeared is discarded. With no terminal the operation is refused with an error that says
//! what was refused and how to run it interactively. No flag, environment variable or config
//! key answers these prompts.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::error::{Error, Result};

use super::Target;
use super::classify::{Hit, Place, Severity};

/// A deletion at least this large asks for the target's name.
pub(crate) const LARGE: u64 = 1 << 30;

/// What a person is asked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Prompt {
    /// The operation, as in the journal: "run `rm -rf build`".
    pub op: String,
    /// One line per thing destroyed (or moved aside).
    pub lines: Vec<String>,
    /// What the action does to them, said in one sentence for a refusal: "it would destroy
    /// `…`", "recursive delete (`rm -r`), which would destroy `…`".
    pub said: String,
    /// Whether anything is destroyed (not only moved aside where `helix undo` finds it).
    pub destroys: bool,
    /// The word to type, or `None` for a y/N question.
    pub typed: Option<String>,
}

/// Ask before `detail`, which destroys `targets`.
pub(crate) fn confirm(detail: &str, targets: &[Target]) -> Result<()> {
    ask(&prompt_for(detail, targets))
}

/// Build the question for `targets`: what each destroys, and whether a name must be typed.
pub(crate) fn prompt_for(detail: &str, targets: &[Target]) -> Prompt {
    let mut lines = vec![];
    let mut said = vec![];
    let mut destroys = false;
    let mut typed: Option<String> = None;
    let mut want_name = |name: String| {
        if typed.is_none() {
            typed = Some(name);
        }
    };
    for t in targets {
        destroys |= !matches!(t, Target::MovedAside { .. });
        match t {
            Target::Path { path, recursive } => {
                let (line, bytes, is_dir) = describe_path(path);
                said.push(format!("it would destroy {line}"));
                lines.push(line);
                if *recursive && is_dir || bytes >= LARGE {
                    want_name(file_name(path));
                }
            }
            Target::MovedAside { path, to } => {
                let (line, _, _) = describe_path(path);
                let (name, what) = line.split_once(" — ").unwrap_or((&line, ""));
                let what = if what.is_empty() { String::new() } else { format!(" ({what})") };
                let to = to.display();
                said.push(format!(
                    "it would move {name}{what} aside to `{to}` (`helix undo` puts it back)"
                ));
                lines.push(format!("{line}: moved aside to `{to}` (`helix undo` puts it back)"));
            }
            Target::Disk { path, why } => {
                let (line, _, _) = describe_path(path);
                said.push(format!("it would destroy {line} — {why}"));
                lines.push(format!("{line} — {why}"));
                want_name(file_name(path));
            }
            Target::Command { argv: _, finding, shown, named } => {
                let on = finding.host.as_deref().map(|h| format!(" on `{h}`")).unwrap_or_default();
                lines.push(format!("the command `{shown}`{on} — {}", finding.why));
                let mut large = false;
                let mut hits = vec![];
                for h in &finding.hits {
                    let (line, bytes) = describe_hit(h, finding.host.as_deref(), &finding.why);
                    large |= bytes >= LARGE;
                    lines.push(format!("  {line}"));
                    hits.push(line);
                }
                // The action's own words name the command already ("run `rm -rf x`"): said once.
                let runs = if *named { String::new() } else { format!("it runs `{shown}`{on}: ") };
                let destroyed = if hits.is_empty() {
                    String::new()
                } else {
                    format!(", which would destroy {}", hits.join("; "))
                };
                said.push(format!("{runs}{}{destroyed}", finding.why));
                if finding.severity == Severity::TypeName || large {
                    // The resolved name: `rm -rf .` asks for the directory's own name.
                    let resolved = finding.local_paths().first().map(|p| file_name(p));
                    want_name(resolved.unwrap_or_else(|| finding.name_to_type()));
                }
            }
            Target::Vm { name } => {
                let line = format!("the running VM `{name}` (whatever it has not saved is lost)");
                said.push(format!("it would stop {line}"));
                lines.push(line);
            }
            Target::Worktree { path, why } => {
                let line = format!("the uncommitted changes in `{}` — {why}", path.display());
                said.push(format!("it would set aside {line}"));
                lines.push(line);
            }
        }
    }
    // Resolved paths may hold a secret of the run (a token in a directory name): never shown.
    let ctx = crate::run::current();
    let lines = lines.iter().map(|l| ctx.redact(l)).collect();
    let said = ctx.redact(&said.join("; "));
    Prompt { op: ctx.redact(detail), lines, said, destroys, typed }
}

fn file_name(p: &Path) -> String {
    let s = p.to_string_lossy();
    let t = s.trim_end_matches('/');
    t.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("yes").to_string()
}

/// One resolved target of a command: where it is, what it is now, what the command does to it,
/// as written when that differs, and the link on the way (followed or not); the effect is left
/// out where it only repeats the command's `why`. Returns the line and the bytes at stake.
fn describe_hit(h: &Hit, host: Option<&str>, why: &str) -> (String, u64) {
    let written = |shown: &str| {
        if h.written.trim_end_matches('/') != shown.trim_end_matches('/') {
            format!(" (written `{}`)", h.written)
        } else {
            String::new()
        }
    };
    // "`cp` onto an existing path replaces it" once, not after every path as well.
    let repeats = why == h.effect
        || why.strip_prefix(h.effect.as_str()).is_some_and(|rest| rest.starts_with(" on `"));
    let effect = if repeats { String::new() } else { format!(": {}", h.effect) };
    match &h.place {
        Place::Local(p) => {
            let (what, bytes, _) = describe_path(p);
            let via = match &h.link {
                Some((link, to, true)) => format!(
                    "; reached through the symbolic link `{}` → `{}`",
                    link.display(),
                    to.display()
                ),
                Some((_, to, false)) => format!(
                    "; only the link is affected — `{}`, where it points, is not",
                    to.display()
                ),
                None => String::new(),
            };
            (format!("{what}{effect}{}{via}", written(&p.to_string_lossy())), bytes)
        }
        Place::Remote(s) => {
            (format!("`{s}` on `{}`{effect}{}", host.unwrap_or("the remote host"), written(s)), 0)
        }
        Place::Named(s) => (format!("`{s}`{effect}"), 0),
        Place::Unresolved => {
            (format!("`{}` (only known when the command runs){effect}", h.written), 0)
        }
    }
}

/// "`/abs/path` — directory, 1.2 GiB in 3402 files"; returns the line, bytes, is-directory.
pub(crate) fn describe_path(path: &Path) -> (String, u64, bool) {
    let shown = super::protect::physical(path);
    match path.symlink_metadata() {
        Err(_) => (format!("`{}` (does not exist now)", shown.display()), 0, false),
        Ok(m) if m.file_type().is_symlink() => {
            let to = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
            (format!("`{}` — a symbolic link to `{to}`", shown.display()), 0, false)
        }
        Ok(m) if m.is_dir() => {
            let (bytes, files) = tree_size(path);
            (
                format!(
                    "`{}` — directory, {} in {files} file{}",
                    shown.display(),
                    crate::size::format(bytes),
                    if files == 1 { "" } else { "s" }
                ),
                bytes,
                true,
            )
        }
        Ok(m) => (
            format!("`{}` — file, {}", shown.display(), crate::size::format(m.len())),
            m.len(),
            false,
        ),
    }
}

/// Bytes and files under a directory (links not followed).
fn tree_size(path: &Path) -> (u64, u64) {
    match path.symlink_metadata() {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|rd| {
                rd.flatten()
                    .map(|e| tree_size(&e.path()))
                    .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
            })
            .unwrap_or((0, 0)),
        Ok(m) => (m.len(), 1),
        Err(_) => (0, 0),
    }
}

/// How to run the refused operation with a person present.
fn how_to_run() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let line = if args.is_empty() {
        "helix …".to_string()
    } else {
        format!("helix {}", super::quote::display_argv(&args))
    };
    format!(
        "run `{line}` yourself in an interactive terminal to be asked (no flag, environment variable or config key answers it)"
    )
}

/// Ask the person at the controlling terminal; `Ok` only on an explicit yes.
pub(crate) fn ask(p: &Prompt) -> Result<()> {
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty");
    let Ok(mut tty) = tty else {
        return Err(Error::Refused {
            op: p.op.clone(),
            reason: format!(
                "{}. That needs a person to confirm it at a terminal, and there is none \
                 (no controlling terminal: started from a script, a pipe or an agent); {}",
                p.said,
                how_to_run()
            ),
        });
    };
    let mut text = String::new();
    text.push_str(&format!("\n{} helix is about to {}\n", console::style("!").red().bold(), p.op));
    text.push_str(if p.destroys { "which destroys:\n" } else { "which moves aside:\n" });
    for l in &p.lines {
        // A command's hits are indented under it: a nested item, not a dash and spaces.
        text.push_str(&match l.strip_prefix("  ") {
            Some(hit) => format!("    - {hit}\n"),
            None => format!("  - {l}\n"),
        });
    }
    let question = match &p.typed {
        Some(name) => {
            format!("Type {} to go ahead (anything else cancels): ", console::style(name).bold())
        }
        None => "Go ahead? [y/N] ".to_string(),
    };
    text.push_str(&question);
    let answer = read_answer(&mut tty, &text).map_err(|e| Error::Terminal {
        op: "ask at the terminal".into(),
        message: e.to_string(),
    })?;
    let Some(answer) = answer else {
        // No answer (Ctrl-C or end of input at the question): the person stops the run.
        crate::run::current().cancel();
        return Err(Error::Cancelled(format!("{} was not confirmed", p.op)));
    };
    let answer = answer.trim();
    let ok = match &p.typed {
        Some(name) => answer == name,
        None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
    };
    if ok {
        let _ = tty.write_all(b"confirmed.\n");
        Ok(())
    } else {
        let _ = tty.write_all(b"cancelled; nothing was changed.\n");
        Err(Error::Refused {
            op: p.op.clone(),
            reason: "declined at the terminal; nothing was changed".into(),
        })
    }
}

/// Write the question, discard type-ahead, read one line in canonical mode with echo.
/// `None` when the run was interrupted (Ctrl-C) while waiting.
fn read_answer(tty: &mut std::fs::File, question: &str) -> std::io::Result<Option<String>> {
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a valid fd.
    let mut original: libc::termios = unsafe { std::mem::zeroed() };
    let have_termios = unsafe { libc::tcgetattr(fd, &mut original) } == 0;
    if have_termios {
        let mut t = original;
        t.c_lflag |= libc::ICANON | libc::ECHO | libc::ISIG;
        // SAFETY: valid fd and termios; TCIFLUSH drops input typed before the question.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &t);
            libc::tcflush(fd, libc::TCIFLUSH);
        }
    }
    tty.write_all(question.as_bytes())?;
    tty.flush()?;
    let mut line = Vec::new();
    let result = loop {
        if crate::run::current().is_cancelled() {
            break Ok(None);
        }
        let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 200) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break Err(e);
        }
        if n == 0 {
            continue;
        }
        let mut buf = [0u8; 256];
        match tty.read(&mut buf) {
            Ok(0) => break Ok(Some(String::from_utf8_lossy(&line).into_owned())),
            Ok(k) => {
                line.extend_from_slice(&buf[..k]);
                if line.contains(&b'\n') {
                    let s = String::from_utf8_lossy(&line);
                    break Ok(Some(s.lines().next().unwrap_or("").to_string()));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    if have_termios {
        // SAFETY: restores the attributes read above.
        unsafe {
            libc::tcsetattr(fd, libc::TCSANOW, &original);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recursive_and_large_ask_for_the_name() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("build");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a"), "abc").unwrap();
        let p = prompt_for("delete", &[Target::Path { path: dir.clone(), recursive: true }]);
        assert_eq!(p.typed.as_deref(), Some("build"));
        assert!(p.lines[0].contains("directory") && p.lines[0].contains("1 file"), "{:?}", p.lines);
        let f = d.path().join("small.txt");
        std::fs::write(&f, "x").unwrap();
        assert_eq!(
            prompt_for("delete", &[Target::Path { path: f.clone(), recursive: false }]).typed,
            None
        );
        let big = d.path().join("disk.img");
        std::fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
        assert_eq!(
            prompt_for("delete", &[Target::Path { path: big, recursive: false }]).typed.as_deref(),
            Some("disk.img")
        );
        let argv: Vec<String> = ["rm", "-rf", "build"].iter().map(|s| s.to_string()).collect();
        let finding =
            crate::guard::classify::command(&argv, Some(d.path()), None, &Default::default())
                .unwrap();
        let shown = crate::guard::quote::display_argv(&argv);
        let p = prompt_for("run", &[Target::Command { argv, finding, shown, named: true }]);
        assert_eq!(p.typed.as_deref(), Some("build"));
        assert!(p.lines.iter().any(|l| l.contains("1 file")), "{:?}", p.lines);
    }

    #[test]
    fn a_refusal_names_the_command_once_and_what_it_does() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("build");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("a"), "abc").unwrap();
        let argv: Vec<String> = ["rm", "-rf", "build"].iter().map(|s| s.to_string()).collect();
        let finding =
            crate::guard::classify::command(&argv, Some(d.path()), None, &Default::default())
                .unwrap();
        let shown = crate::guard::quote::display_argv(&argv);
        let target = |named| Target::Command {
            argv: argv.clone(),
            finding: finding.clone(),
            shown: shown.clone(),
            named,
        };
        // The action says "run `rm -rf build`": the command is not named again.
        let p = prompt_for("run `rm -rf build`", &[target(true)]);
        let at = crate::guard::protect::physical(&dir).display().to_string();
        assert_eq!(
            p.said,
            format!(
                "recursive delete (`rm -r`), which would destroy `{at}` — directory, 3B in 1 file: \
                 deleted with everything in it (written `build`)"
            )
        );
        assert!(!p.said.contains("the command"), "{}", p.said);
        // A richer action that runs it names it.
        let p = prompt_for("configure the build", &[target(false)]);
        assert!(p.said.starts_with("it runs `rm -rf build`: recursive delete"), "{}", p.said);
        assert!(p.destroys);
    }

    #[test]
    fn a_move_aside_is_said_as_a_move_that_undo_reverses() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("build");
        std::fs::create_dir(&dir).unwrap();
        let to = d.path().join(".build.helix-old-1");
        let p = prompt_for("move", &[Target::MovedAside { path: dir.clone(), to: to.clone() }]);
        assert_eq!(
            p.said,
            format!(
                "it would move `{}` (directory, 0B in 0 files) aside to `{}` (`helix undo` puts it back)",
                crate::guard::protect::physical(&dir).display(),
                to.display()
            )
        );
        assert!(!p.destroys && p.typed.is_none(), "{p:?}");
        assert!(!p.said.contains("destroy") && !p.lines[0].contains("delete"), "{p:?}");
    }
}
