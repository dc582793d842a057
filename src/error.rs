//! The one error type of helix's primitives: one variant per failed operation.
//!
//! Messages are lower-case, name their subject in backticks and end with `: cause`.
//! They are turned into Rhai errors once, in [`Error::into_rhai`], so Rhai can add the
//! recipe position.

use std::path::{Path, PathBuf};

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not read `{}`: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("could not write `{}`: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("could not {op} `{}`: {source}", path.display())]
    Fs { op: &'static str, path: PathBuf, source: std::io::Error },
    #[error("could not start `{command}`: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("`{command}` failed with {status}{}", tail_suffix(stderr_tail))]
    CommandFailed { command: String, status: String, code: Option<i32>, stderr_tail: String },
    #[error("`{command}` timed out after {seconds}s and was stopped")]
    Timeout { command: String, seconds: f64 },
    #[error("`{command}` did not finish within {seconds}s and was stopped; its output is in `{}`", log.display())]
    LoggedTimeout { command: String, seconds: u64, log: PathBuf },
    /// A download failed (HTTP status, transport, cut off, wrong checksum); the message says
    /// what was kept.
    #[error("{message}")]
    Download { url: String, message: String },
    /// helix would not do `op` (what it was about to do, in its words: "run `rm -rf build`",
    /// "write `…/Data/disk.img`").
    #[error("refused to {op}: {reason}")]
    Refused { op: String, reason: String },
    #[error("`{}` is protected by {rule}: {hint}", path.display())]
    Protected { path: PathBuf, rule: String, hint: String },
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("invalid {what} `{value}`: {why}")]
    Invalid { what: &'static str, value: String, why: String },
    /// An options map a primitive could not read: `problem` is "unknown", "missing" or
    /// "invalid", `noun` "option" (or "key" in a map given as a value, such as an ssh target),
    /// `key` the path to it (`disks[1].size`), `whose` the map's place in words ("for
    /// `qemu::start`", "in the ssh target given to `ssh::run`").
    #[error("{problem} {noun} `{key}` {whose}: {why}")]
    Options { problem: &'static str, noun: &'static str, key: String, whose: String, why: String },
    #[error("config `{}`: {message}", path.display())]
    Config { path: PathBuf, message: String },
    // QEMU, QMP and qemu-img.
    /// A file a VM or an image operation needs is not there.
    #[error("the {what} `{}` does not exist: {hint}", path.display())]
    Missing { what: &'static str, path: PathBuf, hint: &'static str },
    /// A program helix runs is not installed.
    #[error("`{program}` is not installed (or not on PATH): {hint}")]
    NotInstalled { program: String, hint: &'static str },
    /// A disk image is locked by the VM that uses it.
    #[error("the VM using `{}` is running: stop it first", path.display())]
    DiskInUse { path: PathBuf },
    /// A host port a VM would forward is taken.
    #[error(
        "port {port} on {bind} is already in use, so it cannot be forwarded to the guest's port \
         {guest}: stop what listens there (another VM?) or pick another host port"
    )]
    PortInUse { bind: String, port: u16, guest: u16 },
    /// A host port a VM would forward cannot be bound for another reason.
    #[error("cannot forward {bind}:{port} to the guest: {source}")]
    Forward { bind: String, port: u16, source: std::io::Error },
    /// QEMU itself could not set up the forwards (`ports`: `127.0.0.1:2222, …`).
    #[error(
        "QEMU could not forward {ports}: a port is already in use; stop what listens there or \
         pick another host port"
    )]
    QemuForward { ports: String },
    /// QEMU exited while the VM was starting; `log` is the end of QEMU's own log.
    #[error("the VM `{name}` did not start: QEMU exited:\n{}", indent(log))]
    VmStart { name: String, log: String },
    /// QEMU runs but its QMP socket never answered.
    #[error("the VM `{name}` started but its QMP socket never answered; QEMU said:\n{log}")]
    VmQmpSilent { name: String, log: String },
    /// The VM exited while helix waited for it.
    #[error("the VM `{name}` exited; QEMU said:\n{qemu_log}\nlast serial output:\n{serial_log}")]
    VmExited { name: String, qemu_log: String, serial_log: String },
    /// A forwarded port did not accept connections in time.
    #[error("port {port} of the VM `{name}` did not accept connections within {seconds}s")]
    VmPortTimeout { name: String, port: u16, seconds: u64 },
    /// The serial console did not print the awaited text in time.
    #[error(
        "the VM `{name}` did not print `{text}` on its serial console within {seconds}s; last \
         lines:\n{tail}"
    )]
    VmSerialTimeout { name: String, text: String, seconds: u64, tail: String },
    /// A detached VM did not stop through its QMP socket.
    #[error("the VM (pid {pid}) did not stop through QMP `{}`: stop it with `kill {pid}`", socket.display())]
    VmStop { pid: u32, socket: PathBuf },
    /// A UEFI vars file is missing and helix knows no template for the firmware.
    #[error(
        "the UEFI vars file `{}` does not exist and helix knows no vars template for the firmware \
         `{}`: give `firmware.vars_template` (the firmware's empty vars file)",
        vars.display(),
        code.display()
    )]
    VarsTemplate { vars: PathBuf, code: PathBuf },
    /// The QMP socket answers: another VM still runs there.
    #[error(
        "the QMP socket `{}` belongs to a VM that is still running: stop it first, or give this VM \
         another `dir`",
        socket.display()
    )]
    QmpSocketBusy { socket: PathBuf },
    /// Talking QMP over `socket` failed (connect, read, write, time-out, not QMP).
    #[error("QMP `{}`: {problem}", socket.display())]
    Qmp { socket: PathBuf, problem: String },
    /// QEMU answered a QMP command with an error.
    #[error("QMP command `{command}` failed: {message}")]
    QmpCommand { command: String, message: String },
    /// qemu-img's output could not be read.
    #[error("could not read `qemu-img {command}` of `{}`: {why}", path.display())]
    QemuImgOutput { command: &'static str, path: PathBuf, why: String },
    #[error("`{}` already has a snapshot named `{name}`: pick another name or delete it first", path.display())]
    SnapshotExists { path: PathBuf, name: String },
    #[error("`{}` has no snapshot named `{name}`", path.display())]
    SnapshotMissing { path: PathBuf, name: String },
    /// Undoing a checkpoint whose snapshot was deleted since.
    #[error("`{}` no longer has snapshot `{name}`, so helix cannot go back to it", path.display())]
    CheckpointGone { path: PathBuf, name: String },
    #[error("git: could not {op} `{}`: {message}", repo.display())]
    Git { op: String, repo: PathBuf, message: String },
    #[error("{} of {total} repositories failed:\n{}", failed.len(), failed.join("\n"))]
    EnsureRepositories { total: usize, failed: Vec<String> },
    /// A build dependency (a tool, a Homebrew formula, a Python package) missing or not
    /// installable; `tool` is what was asked (`brew`, `pip`, `python3`, `build tools`).
    #[error("{message}")]
    Dependency { tool: &'static str, message: String },
    #[error(
        "the question \"{question}\" needs an answer and there is no terminal to ask at: {hint}"
    )]
    NoTerminal { question: String, hint: String },
    #[error("could not {op}: {message}")]
    Terminal { op: String, message: String },
    #[error("could not stop process {pid}: {message}")]
    StopProcess { pid: u32, message: String },
    #[error("could not {op} `{}`: {why}; the file is untouched", path.display())]
    MachO { op: &'static str, path: PathBuf, why: String },
    #[error("`{command}` succeeded but `{}` has no build.ninja; is build_dir right?", build_dir.display())]
    Configure { command: String, build_dir: PathBuf },
    /// `said`: the log's lines about it (`it says:` and `  | …` lines, like a command's output),
    /// or that it has none.
    #[error("{what}: `{}` has no line matching `{pattern}`; {said}", log.display())]
    LogCheck { what: String, log: PathBuf, pattern: String, said: String },
    #[error("could not edit the config's [{table}] table safely: {why}")]
    ConfigEdit { table: &'static str, why: String },
    #[error("could not encode {what}: {message}")]
    Encode { what: String, message: String },
    #[error("could not {op} the {kind} seed: {message}")]
    Seed { kind: &'static str, op: &'static str, message: String },
    #[error("`{}` line {line}: {why}; each line must be `NAME=value` (or a `#` comment)", path.display())]
    EnvFile { path: PathBuf, line: usize, why: String },
    /// `helix undo` cannot restore something: the message says what, and why.
    #[error("{0}")]
    Undo(String),
    /// `helix undo` stopped at one action; the newer ones were undone, the older ones not.
    #[error("undo stopped at {at} ({kind}): {cause}\n  {}", undo_progress(*undone, *total, run))]
    UndoStopped {
        at: String,
        kind: String,
        cause: Box<Error>,
        undone: usize,
        total: usize,
        run: String,
    },
    /// `utmctl` (UTM's command-line tool) failed, or answered what helix does not understand:
    /// `problem` says which, and what to do.
    #[error("`{command}` {problem}")]
    Utmctl { command: String, problem: String },
    /// `utmctl` is neither inside `UTM.app` nor on `PATH`.
    #[error(
        "utmctl not found: it ships inside UTM at `{}`, which is missing — install UTM, or set paths.utm_app in helix's config to where UTM.app is",
        expected.display()
    )]
    UtmctlMissing { expected: PathBuf },
    /// Restarting UTM stopped at a step that did not finish in time (nothing restarted).
    #[error("{reason}")]
    UtmRestart { reason: String },
    /// A bundle UTM has not registered, which only UTM's own UI can do.
    #[error(
        "UTM does not know the bundle `{b}` yet. UTM 5 registers bundles only through its own UI \
         (File > Open, or dragging the bundle into its window): its registry holds security-scoped \
         bookmarks only the app can create, and entries written by other tools are ignored. \
         Register it by opening it in UTM: `open -a UTM {b}` (helix does that when you answer yes \
         at a terminal, or with --yes), then confirm in UTM's window",
        b = bundle.display()
    )]
    UtmNotRegistered { bundle: PathBuf },
    /// No helix trash can be made on the filesystem of `location` (helix never copies across
    /// filesystems to delete).
    #[error(
        "found no place for a helix trash on the filesystem of `{}` (tried its mount point and its directory); \
         helix never copies across filesystems to delete",
        location.display()
    )]
    TrashPlace { location: PathBuf },
    /// A trash item to restore whose stored copy is gone.
    #[error("the trash item `{id}` is gone from `{}`", stored.display())]
    TrashItemGone { id: String, stored: PathBuf },
    /// `helix log`/`undo last` with an empty journal.
    #[error("no runs recorded yet")]
    NoRuns,
    /// `ssh` to a target failed or cannot be done here: the message says what and what to do.
    #[error("{message}")]
    Ssh { target: String, message: String },
    /// SSH on a target did not answer in time.
    #[error("SSH on {target} was not ready within {seconds}s: {why}")]
    SshNotReady { target: String, seconds: f64, why: String },
    /// A command polled over SSH did not succeed in time.
    #[error("`{command}` did not succeed on {target} within {seconds}s{seen}")]
    SshWaitTimeout { command: String, target: String, seconds: f64, seen: String },
    /// The run's private directory for SSH master sockets could not be made.
    #[error("{0}")]
    SshControlDir(String),
    /// Nothing accepted connections on a port in time.
    #[error(
        "nothing accepted connections on {host}:{port} within {seconds}s: is the service (or VM) running and the port forwarded?"
    )]
    WaitPort { host: String, port: u16, seconds: f64 },
    /// A background command was only planned (`--dry-run`), so there is nothing to hand back.
    #[error("dry run: `{command}` was not started")]
    NotStarted { command: String },
}

/// Lines of a program's output, indented under the message that quotes them.
fn indent(log: &str) -> String {
    log.lines().map(|l| format!("  | {l}")).collect::<Vec<_>>().join("\n")
}

fn tail_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        let indented: Vec<String> = tail.lines().map(|l| format!("  | {l}")).collect();
        format!(":\n{}", indented.join("\n"))
    }
}

/// How far an undo got before it stopped: "2 of 3 actions of run `X` were undone before it; the
/// older one was left as it is".
fn undo_progress(undone: usize, total: usize, run: &str) -> String {
    let left = total.saturating_sub(undone);
    format!(
        "{undone} of {} of run `{run}` {} undone before it; {}",
        crate::count::count(total as u64, "action"),
        if undone == 1 { "was" } else { "were" },
        if left == 1 {
            "the older one was left as it is".to_string()
        } else {
            format!("the {left} older ones were left as they are")
        }
    )
}

impl Error {
    pub fn read(path: &Path, source: std::io::Error) -> Self {
        Error::Read { path: path.to_path_buf(), source }
    }
    pub fn write(path: &Path, source: std::io::Error) -> Self {
        Error::Write { path: path.to_path_buf(), source }
    }
    pub fn fs(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Fs { op, path: path.to_path_buf(), source }
    }
    pub fn invalid(what: &'static str, value: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Invalid { what, value: value.into(), why: why.into() }
    }

    /// The exit code helix should end with when this error ends a run.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::CommandFailed { code, .. } => *code,
            Error::Cancelled(_) => Some(130),
            _ => None,
        }
    }

    /// The boundary to Rhai: Rhai adds the call position to `ErrorRuntime` itself. The value
    /// is the message (what `catch (e)` gets and reports show); the exit code the error asks
    /// for rides along as the value's tag, for the runner to read back with [`carried`].
    pub fn into_rhai(self) -> Box<rhai::EvalAltResult> {
        let tag = match (&self, self.exit_code()) {
            (Error::Cancelled(_), _) => TAG_CANCELLED,
            (_, Some(code)) if code >= 0 => code.saturating_add(1),
            _ => TAG_NONE,
        };
        let mut message: rhai::Dynamic = self.to_string().into();
        message.set_tag(tag);
        rhai::EvalAltResult::ErrorRuntime(message, rhai::Position::NONE).into()
    }
}

/// The tag of an error value that asks for no particular exit code (Rhai's default tag).
const TAG_NONE: i32 = 0;
/// The tag of a [`Error::Cancelled`] value: the run was interrupted (exit 130).
const TAG_CANCELLED: i32 = -1;

/// What a failed run's error asks for, read back from the error value ([`Error::into_rhai`]).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Carried {
    /// The exit code (a failed command's own status, 130 for a cancel).
    pub code: Option<i32>,
    /// The error was a cancellation.
    pub cancelled: bool,
}

/// Read what the innermost error of `err` (through the calls and modules it passed) carries.
pub(crate) fn carried(err: &rhai::EvalAltResult) -> Carried {
    use rhai::EvalAltResult as E;
    match err {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => carried(inner),
        E::ErrorRuntime(v, _) => match v.tag() {
            TAG_CANCELLED => Carried { code: Some(130), cancelled: true },
            t if t > 0 => Carried { code: Some(t - 1), cancelled: false },
            _ => Carried::default(),
        },
        _ => Carried::default(),
    }
}

impl From<Error> for Box<rhai::EvalAltResult> {
    fn from(e: Error) -> Self {
        e.into_rhai()
    }
}

/// Shorthand for the Rhai wrappers: convert helix's result into Rhai's.
pub(crate) type RhaiResult<T> = std::result::Result<T, Box<rhai::EvalAltResult>>;

/// Convert at the boundary, at the position of the call. Rhai 1.27 does not fill in the call
/// position for errors from namespaced (`fs::write`) plugin functions, so wrappers take the
/// `NativeCallContext` and pass it here; errors then point at the recipe line.
pub(crate) fn rhai<T>(ctx: &rhai::NativeCallContext, r: Result<T>) -> RhaiResult<T> {
    r.map_err(|e| {
        let mut e = e.into_rhai();
        e.set_position(ctx.call_position());
        e
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_progress_counts_in_words() {
        assert_eq!(
            super::undo_progress(0, 1, "r"),
            "0 of 1 action of run `r` were undone before it; the older one was left as it is"
        );
        assert_eq!(
            super::undo_progress(1, 4, "r"),
            "1 of 4 actions of run `r` was undone before it; the 3 older ones were left as they are"
        );
    }

    #[test]
    fn the_exit_code_rides_in_the_error_value_not_in_a_context() {
        let failed = Error::CommandFailed {
            command: "make".into(),
            status: "exit code 7".into(),
            code: Some(7),
            stderr_tail: String::new(),
        };
        let e = failed.into_rhai();
        let rhai::EvalAltResult::ErrorRuntime(v, _) = &*e else { panic!("{e:?}") };
        assert_eq!(v.clone().into_string().unwrap(), "`make` failed with exit code 7");
        // Through a call chain, as the runner sees it.
        let wrapped = rhai::EvalAltResult::ErrorInFunctionCall(
            "f".into(),
            String::new(),
            e,
            rhai::Position::NONE,
        );
        assert_eq!(carried(&wrapped), Carried { code: Some(7), cancelled: false });
        let cancelled = Error::Cancelled("x".into()).into_rhai();
        assert_eq!(carried(&cancelled), Carried { code: Some(130), cancelled: true });
        assert_eq!(carried(&Error::NoRuns.into_rhai()), Carried::default());
        assert!(!crate::run::current().is_cancelled(), "no context was told anything");
    }
}
