//! The only place helix spawns a child process: argv arrays (never a shell string, except the
//! one named escape hatch the guard parses), checked exit status, live streaming with the tail of
//! stderr kept for the error, timeouts, and process groups so Ctrl-C never leaves children behind.
// The one place that spawns, redirects and signals child processes (see clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::guard::{self, Action};

const TAIL_LINES: usize = 20;

/// How a command's output is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
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
pub struct Cmd {
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
pub struct Runner<'a>(&'a Cmd);

impl Runner<'_> {
    pub fn run(&self) -> Result<Finished> {
        self.0.spawn_and_wait()
    }
    /// Run it with another timeout (a poll's time left).
    pub fn run_for(&self, timeout: Option<Duration>) -> Result<Finished> {
        Cmd { timeout, ..self.0.clone() }.spawn_and_wait()
    }
}

/// What a finished command produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

impl Cmd {
    pub fn new<S: AsRef<str>>(argv: &[S]) -> Cmd {
        Cmd { argv: argv.iter().map(|s| s.as_ref().to_string()).collect(), ..Default::default() }
    }
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    pub fn capture(mut self) -> Self {
        self.output = Output::Capture;
        self
    }
    pub fn quiet(mut self) -> Self {
        self.output = Output::Quiet;
        self
    }
    pub fn unchecked(mut self) -> Self {
        self.unchecked = true;
        self
    }
    pub fn sudo(mut self) -> Self {
        self.sudo = true;
        self
    }
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        self.secrets.push(value.into());
        self
    }

    /// The argv that is really executed (with `sudo` when asked).
    pub fn full_argv(&self) -> Vec<String> {
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
    pub fn display(&self) -> String {
        redact(&display_argv(&self.full_argv()), &self.secrets)
    }

    /// Run it: classified by the guard (destructive commands need a person), skipped under
    /// `--dry-run` unless read-only, journaled.
    pub fn run(&self) -> Result<Finished> {
        if self.argv.is_empty() {
            return Err(Error::invalid("command", "[]", "an argv needs at least the program"));
        }
        let action = self.action();
        if self.read_only && action.destroys.is_empty() && crate::ctx::get().dry_run {
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
    pub fn guarded<T: Default>(
        &self,
        action: Action,
        f: impl FnOnce(&Runner) -> Result<T>,
    ) -> Result<T> {
        let action = action
            .runs(&self.argv, self.cwd.as_deref(), self.stdin.as_deref(), &self.env)
            .redact(&self.secrets);
        let runner = Runner(self);
        if self.read_only && action.destroys.is_empty() && crate::ctx::get().dry_run {
            return f(&runner);
        }
        guard::act(action, || f(&runner))
    }

    fn spawn_and_wait(&self) -> Result<Finished> {
        let ctx = crate::ctx::get();
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
                    if crate::ctx::get().is_cancelled() {
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

/// The stderr tail kept for error messages: the newest bytes, trimmed to whole lines at the end.
const WINDOW: usize = 16 * 1024;

/// Append `chunk` to the tail `window`, keeping at most about `2 * WINDOW` bytes with
/// memcpy-sized operations only.
fn keep_tail(window: &mut Vec<u8>, chunk: &[u8]) {
    if chunk.len() >= WINDOW {
        window.clear();
        window.extend_from_slice(&chunk[chunk.len() - WINDOW..]);
    } else {
        window.extend_from_slice(chunk);
        if window.len() > 2 * WINDOW {
            window.drain(..window.len() - WINDOW);
        }
    }
}

/// helix's stderr when it is a regular file (a CI log, `2> log`): a streamed child gets the
/// same open file, so its output lands there with no relay at all, and the lines an error
/// shows are read back from the part of the file the child wrote.
struct StderrLog {
    reader: std::fs::File,
    start: u64,
}

impl StderrLog {
    fn open() -> Option<StderrLog> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: borrow fd 2 without closing it (ManuallyDrop).
        let ours = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
        let a = ours.metadata().ok()?;
        if !a.file_type().is_file() {
            return None;
        }
        let reader = std::fs::File::open(Self::path()?).ok()?;
        // Same inode: not a file that was replaced since.
        use std::os::unix::fs::MetadataExt;
        let b = reader.metadata().ok()?;
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return None;
        }
        // SAFETY: lseek on our own fd 2 to read its offset.
        let start = unsafe { libc::lseek(ours.as_raw_fd(), 0, libc::SEEK_CUR) };
        (start >= 0).then_some(StderrLog { reader, start: start as u64 })
    }

    #[cfg(target_os = "linux")]
    fn path() -> Option<PathBuf> {
        std::fs::read_link("/proc/self/fd/2").ok()
    }

    #[cfg(target_os = "macos")]
    fn path() -> Option<PathBuf> {
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        // SAFETY: F_GETPATH writes at most PATH_MAX bytes into buf.
        if unsafe { libc::fcntl(2, libc::F_GETPATH, buf.as_mut_ptr()) } != 0 {
            return None;
        }
        let end = buf.iter().position(|b| *b == 0)?;
        Some(PathBuf::from(String::from_utf8_lossy(&buf[..end]).into_owned()))
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    fn path() -> Option<PathBuf> {
        None
    }

    /// Our stderr for the child (the same open file, so writes share its offset).
    fn for_child(&self) -> Option<std::os::fd::OwnedFd> {
        use std::os::fd::{AsFd, BorrowedFd};
        // SAFETY: fd 2 is open for the whole life of helix.
        unsafe { BorrowedFd::borrow_raw(2) }.as_fd().try_clone_to_owned().ok()
    }

    /// The last lines of what was written since `open`.
    fn tail(&self) -> String {
        use std::os::unix::fs::FileExt;
        // SAFETY: lseek on fd 2 only reads its offset.
        let end = unsafe { libc::lseek(2, 0, libc::SEEK_CUR) };
        let end = if end < 0 { return String::new() } else { end as u64 };
        let from = self.start.max(end.saturating_sub(WINDOW as u64));
        let mut buf = vec![0u8; (end - from.min(end)) as usize];
        let n = self.reader.read_at(&mut buf, from).unwrap_or(0);
        last_lines(&buf[..n])
    }
}

/// The last `TAIL_LINES` lines of some output.
fn last_lines(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Copy a child's stderr to ours, keeping everything when capturing and the last
/// `TAIL_LINES` lines for the error message.
fn tee_stderr(
    mut err: std::process::ChildStderr,
    stream: bool,
    capture: bool,
) -> (Vec<u8>, String) {
    let mut all = Vec::new();
    let mut tail: Vec<u8> = Vec::with_capacity(2 * WINDOW);
    #[cfg(target_os = "linux")]
    let relayed = stream && !capture && splice::relay(&err, &mut tail);
    #[cfg(not(target_os = "linux"))]
    let relayed = false;
    if !relayed {
        // One write per read, not per line: a noisy compiler costs next to nothing.
        let mut buf = vec![0u8; 64 * 1024];
        let stderr = std::io::stderr();
        loop {
            let n = match err.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if stream {
                let _ = stderr.lock().write_all(chunk);
            }
            if capture {
                all.extend_from_slice(chunk);
            }
            keep_tail(&mut tail, chunk);
        }
    }
    (all, last_lines(&tail))
}

/// Linux: stream a child's stderr into ours without copying it through helix. `tee(2)`
/// duplicates what is in the child's pipe into a second pipe (page references, no copy),
/// `splice(2)` moves the original to our stderr, and of the duplicate only the last `WINDOW`
/// bytes are read (the rest is spliced to `/dev/null`). A relay through `read`/`write` costs
/// about as much as the noisy command itself writing to a file; this costs next to nothing.
#[cfg(target_os = "linux")]
mod splice {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use super::{WINDOW, keep_tail};

    const CHUNK: usize = 1 << 20;
    /// How long output gathers before it is moved (the latency a person could see: none).
    const BATCH: std::time::Duration = std::time::Duration::from_micros(200);

    /// Relay `src` to fd 2 until EOF, keeping the tail. `false` when our stderr cannot take
    /// a splice (a terminal, an `O_APPEND` file) and nothing was consumed yet: the caller
    /// then copies the ordinary way.
    pub fn relay(src: &impl AsRawFd, tail: &mut Vec<u8>) -> bool {
        let src = src.as_raw_fd();
        let Some((dup_r, dup_w)) = pipe() else { return false };
        let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return false;
        };
        // SAFETY: plain fcntl on pipe fds we own or were given; failure only keeps 64 KiB pipes.
        unsafe {
            libc::fcntl(src, libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
            libc::fcntl(dup_w.as_raw_fd(), libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
        }
        let mut buf = vec![0u8; WINDOW];
        let mut first = true;
        loop {
            // Wait until the child wrote (or closed its end), then let a moment's output gather
            // in the 1 MiB pipe: a noisy child writes 4 KiB at a time, and waking for each write
            // costs more than moving the bytes.
            let mut pfd = libc::pollfd { fd: src, events: libc::POLLIN, revents: 0 };
            // SAFETY: poll on one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, -1) } < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return !first;
            }
            std::thread::sleep(BATCH);
            // 0 once the child closed its end and everything was read.
            // SAFETY: tee between two valid pipe fds.
            let n = unsafe { libc::tee(src, dup_w.as_raw_fd(), CHUNK, libc::SPLICE_F_NONBLOCK) };
            if n == 0 {
                return true;
            }
            if n < 0 {
                let kind = std::io::Error::last_os_error().kind();
                if kind == std::io::ErrorKind::Interrupted || kind == std::io::ErrorKind::WouldBlock
                {
                    continue;
                }
                return !first;
            }
            let n = n as usize;
            if !move_all(src, 2, n) {
                if first {
                    // Nothing left the child's pipe: the caller reads it the ordinary way.
                    return false;
                }
                // Our stderr went away mid-stream: drain so the child is not blocked.
                let _ = move_all(src, null.as_raw_fd(), n);
            }
            first = false;
            let keep = n.min(WINDOW);
            let _ = move_all(dup_r.as_raw_fd(), null.as_raw_fd(), n - keep);
            let mut got = 0;
            while got < keep {
                // SAFETY: reading into a buffer of at least `keep` bytes.
                let r = unsafe {
                    libc::read(dup_r.as_raw_fd(), buf[got..].as_mut_ptr().cast(), keep - got)
                };
                if r <= 0 {
                    break;
                }
                got += r as usize;
            }
            keep_tail(tail, &buf[..got]);
        }
    }

    /// Splice exactly `n` bytes from pipe `from` to `to`; `false` if that failed.
    fn move_all(from: RawFd, to: RawFd, mut n: usize) -> bool {
        while n > 0 {
            // SAFETY: splice between valid fds; null offsets (pipes and stream fds).
            let m =
                unsafe { libc::splice(from, std::ptr::null_mut(), to, std::ptr::null_mut(), n, 0) };
            if m < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if m <= 0 {
                return false;
            }
            n -= m as usize;
        }
        true
    }

    fn pipe() -> Option<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds, owned from here on.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both were just opened.
        Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }
}

/// SIGTERM the group, give it three seconds, then SIGKILL; reap through the waiter.
fn stop_group(pgid: i32, rx: &std::sync::mpsc::Receiver<std::io::Result<ExitStatus>>) {
    signal_group(pgid, libc::SIGTERM);
    if rx.recv_timeout(Duration::from_secs(3)).is_err() {
        signal_group(pgid, libc::SIGKILL);
        let _ = rx.recv_timeout(Duration::from_secs(3));
    } else {
        // The leader is gone; make sure nothing it left in the group lingers.
        signal_group(pgid, libc::SIGKILL);
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

/// The children a run started, by process group: its [`crate::run::Resource`], ended with it.
#[derive(Default)]
struct Children(Mutex<HashSet<u32>>);

impl std::ops::Deref for Children {
    type Target = Mutex<HashSet<u32>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl crate::run::Teardown for Children {
    fn teardown(&self) {
        terminate_children(self);
    }
}

impl crate::run::Resource for Children {
    const ORDER: u8 = 2;
}

/// The current run's children.
fn children() -> std::sync::Arc<Children> {
    crate::run::current().resource::<Children>()
}

/// SIGTERM the child's process group, give it a moment, then SIGKILL.
fn terminate(child: &mut Child) {
    let pgid = child.id() as i32;
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            signal_group(pgid, libc::SIGKILL);
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(pgid, libc::SIGKILL);
    let _ = child.wait();
}

fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// Stop every child of the current run still running (Ctrl-C, or the end of a run).
pub fn terminate_all() {
    terminate_children(&children());
}

fn terminate_children(children: &Children) {
    let pids: Vec<u32> = children.lock().unwrap().iter().copied().collect();
    for pid in pids {
        signal_group(pid as i32, libc::SIGTERM);
    }
}

/// A long-running child that outlives one call (a VM, an sshd for tests): spawned here so this
/// stays the one place that spawns, killed with its group when dropped unless detached.
pub struct Background {
    child: Option<Child>,
    pub display: String,
    detached: bool,
}

impl Background {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
    /// Wait up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            children().lock().unwrap().remove(&c.id());
            terminate(&mut c);
        }
    }
    /// Let the process outlive helix.
    pub fn detach(mut self) -> u32 {
        self.detached = true;
        let pid = self.pid();
        if let Some(c) = self.child.take() {
            children().lock().unwrap().remove(&c.id());
        }
        pid
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if !self.detached {
            self.kill();
        }
    }
}

impl Cmd {
    /// Start the command in the background (stdout/stderr to `log`, or null), through the guard.
    pub fn spawn_background(&self, log: Option<&std::path::Path>) -> Result<Background> {
        let shown = self.display();
        let mut action = self.action();
        action.kind = "process.spawn";
        action.detail = format!("start `{shown}`");
        guard::act(action, || {
            let mut cmd = self.confined();
            cmd.envs(&self.env).stdin(Stdio::null());
            match log {
                Some(p) => {
                    let f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|e| Error::write(p, e))?;
                    let f2 = f.try_clone().map_err(|e| Error::write(p, e))?;
                    cmd.stdout(f).stderr(f2);
                }
                None => {
                    cmd.stdout(Stdio::null()).stderr(Stdio::null());
                }
            }
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child =
                cmd.spawn().map_err(|e| Error::Spawn { command: shown.clone(), source: e })?;
            children().lock().unwrap().insert(child.id());
            Ok(Some(Background { child: Some(child), display: shown.clone(), detached: false }))
        })
        .and_then(|b: Option<Background>| {
            b.ok_or_else(|| Error::other(format!("dry run: `{shown}` was not started")))
        })
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
pub fn sandbox_state() -> &'static guard::sandbox::State {
    guard::sandbox::state(try_run)
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub use crate::guard::quote::display_argv;

fn redact(s: &str, secrets: &[String]) -> String {
    let mut s = s.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        s = s.replace(secret.as_str(), "***");
    }
    // And the run's own secrets (credentials a recipe read from a file).
    crate::ctx::get().redact(&s)
}

/// Find a program on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
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

impl Cmd {
    /// Run with stdout and stderr appended to `log` (kept for later), a spinner showing the
    /// newest line, and the timeout honoured. A non-zero exit is an error that shows the last
    /// lines of the log and where it is. Returns the seconds it took.
    pub fn run_logged(&self, log: &std::path::Path) -> Result<f64> {
        if crate::ctx::get().dry_run {
            // Prints the plan; nothing is started.
            let _ = self.spawn_background(Some(log));
            return Ok(0.0);
        }
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        }
        let shown = self.display();
        let started = Instant::now();
        let offset = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
        let mut child = self.spawn_background(Some(log))?;
        let mut file = std::fs::File::open(log).map_err(|e| Error::read(log, e))?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))
            .map_err(|e| Error::read(log, e))?;
        let bar = crate::ui::spinner(&shown);
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut read_new = |tail: &mut VecDeque<String>, pending: &mut Vec<u8>| -> Result<()> {
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::read(log, e))?;
                if n == 0 {
                    return Ok(());
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(i) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    // Shown on the spinner and in the error: never a secret of the run.
                    let line = crate::ctx::get().redact(
                        console::strip_ansi_codes(&String::from_utf8_lossy(&line)).trim_end(),
                    );
                    if line.is_empty() {
                        continue;
                    }
                    let shown_line: String = line.chars().take(100).collect();
                    bar.set_message(shown_line);
                    tail.push_back(line);
                    if tail.len() > TAIL_LINES {
                        tail.pop_front();
                    }
                }
            }
        };
        let status = loop {
            read_new(&mut tail, &mut pending)?;
            if let Some(s) = child.wait_exit(Duration::from_millis(100)) {
                break s;
            }
            if crate::ctx::get().is_cancelled() {
                child.kill();
                bar.finish_and_clear();
                return Err(Error::Cancelled(format!("`{shown}` was interrupted")));
            }
            if let Some(t) = self.timeout
                && started.elapsed() > t
            {
                child.kill();
                bar.finish_and_clear();
                return Err(Error::other(format!(
                    "`{shown}` did not finish within {}s and was stopped; its output is in `{}`",
                    t.as_secs(),
                    log.display()
                )));
            }
        };
        read_new(&mut tail, &mut pending)?;
        if !pending.is_empty() {
            tail.push_back(String::from_utf8_lossy(&pending).trim_end().to_string());
        }
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        if status.success() {
            return Ok(secs);
        }
        let code = status.code().map(|c| c.to_string()).unwrap_or_else(|| "a signal".into());
        Err(Error::other(format!(
            "`{shown}` failed (exit {code}) after {}; the last lines of `{}`:\n{}",
            crate::duration::format_secs(secs),
            log.display(),
            tail.iter().cloned().collect::<Vec<_>>().join("\n")
        )))
    }
}

#[cfg(test)]
mod tests {
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
