//! The only place helix spawns a child process: argv arrays (never a shell string, except the
//! one named escape hatch the guard parses), checked exit status, live streaming with the tail of
//! stderr kept for the error, timeouts, and process groups so Ctrl-C never leaves children behind.
// The one place that spawns, redirects and signals child processes (see clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]
mod background;
mod children;
mod logged;
mod stderr;

pub(crate) use background::Background;
pub(crate) use children::terminate_all;
use children::{children, stop_group};
use stderr::{StderrLog, tee_stderr};

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::guard::{self, Action};

/// How a command's output is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Output {
    /// stdout and stderr go to the terminal as they come; the stderr tail is kept for errors.
    #[default]
    Stream,
    /// stdout and stderr are captured and returned.
    Capture,
    /// Both are discarded (the stderr tail is still kept).
    Quiet,
    /// A person drives it: stdin, stdout and stderr are helix's terminal, and it stays in
    /// helix's process group (the terminal's foreground group) so it may read the terminal.
    Interactive,
}

/// A command to run: built from an argv, configured, then run through the guard.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cmd {
    pub argv: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub env: BTreeMap<String, String>,
    pub env_remove: Vec<String>,
    pub timeout: Option<Duration>,
    pub output: Output,
    /// Non-zero exit is returned, not an error.
    pub unchecked: bool,
    /// Run through `sudo` (non-interactive when there is no terminal).
    pub sudo: bool,
    /// Values replaced by `***` wherever the command is shown or journaled.
    pub secrets: Vec<String>,
    /// Bytes fed to stdin (else stdin is null: a child never reads helix's stdin).
    pub stdin: Option<Vec<u8>>,
    /// Runs under `--dry-run` too: the caller vouches it changes nothing.
    pub read_only: bool,
}

/// Runs one command that passed the guard inside [`Cmd::guarded`].
pub(crate) struct Runner<'a>(&'a Cmd);

impl Runner<'_> {
    pub(crate) fn run(&self) -> Result<Finished> {
        self.0.spawn_and_wait()
    }
    /// Run it with another timeout (a poll's time left).
    pub(crate) fn run_for(&self, timeout: Option<Duration>) -> Result<Finished> {
        Cmd { timeout, ..self.0.clone() }.spawn_and_wait()
    }
}

/// What a finished command produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

impl Cmd {
    pub(crate) fn new<S: AsRef<str>>(argv: &[S]) -> Cmd {
        Cmd { argv: argv.iter().map(|s| s.as_ref().to_string()).collect(), ..Default::default() }
    }
    pub(crate) fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    pub(crate) fn capture(mut self) -> Self {
        self.output = Output::Capture;
        self
    }
    pub(crate) fn quiet(mut self) -> Self {
        self.output = Output::Quiet;
        self
    }
    pub(crate) fn unchecked(mut self) -> Self {
        self.unchecked = true;
        self
    }
    pub(crate) fn sudo(mut self) -> Self {
        self.sudo = true;
        self
    }
    pub(crate) fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
    #[cfg(test)]
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }
    #[cfg(test)]
    pub(crate) fn secret(mut self, value: impl Into<String>) -> Self {
        self.secrets.push(value.into());
        self
    }

    /// The argv that is really executed (with `sudo` when asked).
    pub(crate) fn full_argv(&self) -> Vec<String> {
        let mut argv = Vec::with_capacity(self.argv.len() + 2);
        if self.sudo && !is_root() {
            argv.push("sudo".to_string());
            if !crate::ui::has_tty() {
                // No terminal to type a password at: fail at once instead of hanging.
                argv.push("-n".to_string());
            }
        }
        argv.extend(self.argv.iter().cloned());
        argv
    }

    /// The command as shown to people and in the journal, secrets redacted.
    pub(crate) fn display(&self) -> String {
        redact(&display_argv(&self.full_argv()), &self.secrets)
    }

    /// Run it: classified by the guard (destructive commands need a person), skipped under
    /// `--dry-run` unless read-only, journaled.
    pub(crate) fn run(&self) -> Result<Finished> {
        if self.argv.is_empty() {
            return Err(Error::invalid("command", "[]", "an argv needs at least the program"));
        }
        let action = self.action();
        if self.read_only && action.destroys.is_empty() && crate::run::current().dry_run {
            return self.spawn_and_wait();
        }
        guard::act(action, || self.spawn_and_wait())
    }

    /// The guard's action for this command: classified by the guard itself (argv, directory,
    /// stdin, environment), shown and journaled with secrets redacted.
    fn action(&self) -> Action {
        Action::command(&self.argv, self.cwd.as_deref(), self.stdin.as_deref(), &self.env)
            .args(serde_json::json!({ "argv": self.full_argv() }))
            .redact(&self.secrets)
    }

    /// Run under a primitive's own richer action (its kind, detail and targets, e.g. the disk
    /// `qemu_img::snapshot_delete` names): the command is classified all the same and its
    /// finding joins the action. `f` gets a runner for exactly this command (a poll may run it
    /// many times); nothing else can be spawned through it.
    pub(crate) fn guarded<T: Default>(
        &self,
        action: Action,
        f: impl FnOnce(&Runner) -> Result<T>,
    ) -> Result<T> {
        let action = action
            .runs(&self.argv, self.cwd.as_deref(), self.stdin.as_deref(), &self.env)
            .redact(&self.secrets);
        let runner = Runner(self);
        if self.read_only && action.destroys.is_empty() && crate::run::current().dry_run {
            return f(&runner);
        }
        guard::act(action, || f(&runner))
    }

    fn spawn_and_wait(&self) -> Result<Finished> {
        let ctx = crate::run::current();
        if ctx.is_cancelled() {
            return Err(Error::Cancelled(format!("`{}` was not started", self.display())));
        }
        let mut cmd = self.confined();
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
        let interactive = self.output == Output::Interactive;
        cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
        cmd.stdout(match self.output {
            Output::Stream | Output::Interactive => Stdio::inherit(),
            Output::Capture => Stdio::piped(),
            Output::Quiet => Stdio::null(),
        });
        // A streamed child writes straight into a log file helix's stderr goes to; its tail is
        // read back from the file afterwards.
        let mut log = if self.output == Output::Stream { StderrLog::open() } else { None };
        let direct = log.as_ref().and_then(StderrLog::for_child);
        if direct.is_none() {
            log = None;
        }
        cmd.stderr(match direct {
            _ if interactive => Stdio::inherit(),
            Some(fd) => Stdio::from(fd),
            None => Stdio::piped(),
        });
        if !interactive {
            // Own process group: Ctrl-C and timeouts stop the whole tree, not just the leader.
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        }
        let child = cmd.spawn().map_err(|e| Error::Spawn { command: self.display(), source: e })?;
        let pid = child.id();
        children().lock().unwrap().insert(pid);
        let result = self.wait(child, log);
        children().lock().unwrap().remove(&pid);
        result
    }

    fn wait(&self, mut child: Child, log: Option<StderrLog>) -> Result<Finished> {
        let stdin = child.stdin.take();
        let input = self.stdin.clone();
        let feeder = stdin.map(|mut s| {
            std::thread::spawn(move || {
                let _ = s.write_all(&input.unwrap_or_default());
            })
        });
        let stdout_reader = child.stdout.take().map(|mut out| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = out.read_to_end(&mut buf);
                buf
            })
        });
        let stream = self.output == Output::Stream;
        let capture = self.output == Output::Capture;
        let stderr_reader = child
            .stderr
            .take()
            .map(|err| std::thread::spawn(move || tee_stderr(err, stream, capture)));
        // A waiter thread blocks in wait(2) so a fast command is noticed at once; this thread
        // only wakes to check Ctrl-C and the timeout, and stops the group by its id.
        let pgid = child.id() as i32;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait());
        });
        let started = Instant::now();
        let status = loop {
            match rx.recv_timeout(Duration::from_millis(25)) {
                Ok(status) => {
                    break status
                        .map_err(|e| Error::Spawn { command: self.display(), source: e })?;
                }
                Err(_) => {
                    if crate::run::current().is_cancelled() {
                        stop_group(pgid, &rx);
                        return Err(Error::Cancelled(format!(
                            "`{}` was interrupted",
                            self.display()
                        )));
                    }
                    if let Some(t) = self.timeout
                        && started.elapsed() >= t
                    {
                        stop_group(pgid, &rx);
                        return Err(Error::Timeout {
                            command: self.display(),
                            seconds: t.as_secs_f64(),
                        });
                    }
                }
            }
        };
        if let Some(f) = feeder {
            let _ = f.join();
        }
        let stdout = stdout_reader.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        let (stderr_all, tail) =
            stderr_reader.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        // Written straight into our log file: the tail is read back from there.
        let tail = log.map_or(tail, |l| l.tail());
        let finished = Finished {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr_all).into_owned(),
            success: status.success(),
        };
        if !status.success() && !self.unchecked {
            let tail: Vec<String> = tail.lines().map(|l| redact(l, &self.secrets)).collect();
            return Err(Error::CommandFailed {
                command: self.display(),
                status: describe_status(status),
                code: status.code(),
                stderr_tail: tail.join("\n"),
            });
        }
        Ok(finished)
    }
}

fn describe_status(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit code {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => "an unknown status".into(),
    }
}
impl Cmd {
    /// The command to spawn, confined by the guard's OS layer: protected paths are
    /// write-denied for the child by the operating system (see `guard::sandbox`).
    fn confined(&self) -> Command {
        let c = guard::sandbox::confine(self.full_argv(), self.cwd.as_deref(), try_run);
        let mut cmd = Command::new(&c.argv[0]);
        cmd.args(&c.argv[1..]);
        if let Some(d) = &self.cwd {
            cmd.current_dir(d);
        }
        if let Some(hook) = c.hook {
            // SAFETY: the hook only makes async-signal-safe system calls on memory prepared
            // before the fork (see `guard::sandbox::Hook::apply`).
            unsafe { std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || hook.apply()) };
        }
        cmd
    }
}

/// Run a fixed argv quietly, unconfined, and say whether it succeeded (the OS layer's trial).
fn try_run(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the OS layer confines children on this machine, and how (for `doctor`).
pub(crate) fn sandbox_state() -> &'static guard::sandbox::State {
    guard::sandbox::state(try_run)
}

pub(crate) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub(crate) use crate::guard::quote::display_argv;

fn redact(s: &str, secrets: &[String]) -> String {
    let mut s = s.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        s = s.replace(secret.as_str(), "***");
    }
    // And the run's own secrets (credentials a recipe read from a file).
    crate::run::current().redact(&s)
}

/// Find a program on `PATH`.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
#[cfg(test)]
mod tests {
    use super::stderr::TAIL_LINES;
    use super::*;

    #[test]
    fn captures_stdout_and_checks_status() {
        let out = Cmd::new(&["sh", "-c", "echo hi; echo oops >&2"]).capture().run().unwrap();
        assert_eq!(out.stdout, "hi\n");
        assert_eq!(out.stderr, "oops\n");
        let err = Cmd::new(&["sh", "-c", "echo bad thing >&2; exit 3"]).quiet().run().unwrap_err();
        assert_eq!(err.exit_code(), Some(3));
        let msg = err.to_string();
        assert!(msg.contains("exit code 3") && msg.contains("bad thing"), "{msg}");
    }

    #[test]
    fn the_error_keeps_the_last_lines_of_a_long_stderr() {
        let err = Cmd::new(&["sh", "-c", "seq 1 100000 >&2; exit 2"]).quiet().run().unwrap_err();
        let Error::CommandFailed { stderr_tail, .. } = err else { panic!("not a command failure") };
        let lines: Vec<&str> = stderr_tail.lines().collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines.first(), Some(&"99981"));
        assert_eq!(lines.last(), Some(&"100000"));
    }

    #[test]
    fn unchecked_returns_the_status() {
        let out = Cmd::new(&["sh", "-c", "exit 4"]).quiet().unchecked().run().unwrap();
        assert_eq!((out.code, out.success), (Some(4), false));
    }

    #[test]
    fn timeout_stops_the_whole_group() {
        let t = Instant::now();
        let err = Cmd::new(&["sh", "-c", "sleep 30 & sleep 30"])
            .quiet()
            .timeout(Duration::from_millis(200))
            .run()
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn secrets_are_redacted_from_errors() {
        let err = Cmd::new(&["sh", "-c", "echo token=hunter2 >&2; exit 1", "hunter2"])
            .secret("hunter2")
            .quiet()
            .run()
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2") && err.contains("***"), "{err}");
    }

    #[test]
    fn stdin_is_fed_and_never_inherited() {
        let out = Cmd::new(&["cat"]).stdin("abc").capture().run().unwrap();
        assert_eq!(out.stdout, "abc");
        let out = Cmd::new(&["cat"]).capture().run().unwrap();
        assert_eq!(out.stdout, "");
    }

    #[test]
    fn missing_program_names_itself() {
        let err = Cmd::new(&["no-such-program-xyz"]).run().unwrap_err().to_string();
        assert!(err.contains("no-such-program-xyz"), "{err}");
    }

    #[test]
    fn quoting() {
        assert_eq!(
            display_argv(&["ls".into(), "a b".into(), "it's".into()]),
            r"ls 'a b' 'it'\''s'"
        );
    }
}
