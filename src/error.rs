//! The one error type of helix's primitives: one variant per failed operation.
//!
//! Messages are lower-case, name their subject in backticks and end with `: cause`.
//! They are turned into Rhai errors once, in [`Error::into_rhai`], so Rhai can add the
//! recipe position.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    #[error("`{command}` was refused: {reason}")]
    Refused { command: String, reason: String },
    #[error("`{}` is protected by {rule}: {hint}", path.display())]
    Protected { path: PathBuf, rule: String, hint: String },
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("invalid {what} `{value}`: {why}")]
    Invalid { what: &'static str, value: String, why: String },
    /// An options map a primitive could not read: `problem` is "unknown", "missing" or
    /// "invalid", `key` the path to the option (`disks[1].size`).
    #[error("{problem} option `{key}` for `{primitive}`: {why}")]
    Options { problem: &'static str, key: String, primitive: String, why: String },
    #[error("config `{}`: {message}", path.display())]
    Config { path: PathBuf, message: String },
    #[error("git: could not {op} `{}`: {message}", repo.display())]
    Git { op: String, repo: PathBuf, message: String },
    #[error("{} of {total} repositories failed:\n{}", failed.len(), failed.join("\n"))]
    EnsureRepositories { total: usize, failed: Vec<String> },
    /// A build dependency (a tool, a Homebrew formula, a Python package) missing or not
    /// installable; `tool` is what was asked (`brew`, `pip`, `python3`, `build tools`).
    #[error("{message}")]
    Dependency { tool: &'static str, message: String },
    #[error("`{question}` needs an answer and there is no terminal to ask at: {hint}")]
    NoTerminal { question: String, hint: String },
    #[error("could not {op}: {message}")]
    Terminal { op: String, message: String },
    #[error("could not stop process {pid}: {message}")]
    StopProcess { pid: u32, message: String },
    #[error("could not {op} `{}`: {why}; the file is untouched", path.display())]
    MachO { op: &'static str, path: PathBuf, why: String },
    #[error("`{command}` succeeded but `{}` has no build.ninja; is build_dir right?", build_dir.display())]
    Configure { command: String, build_dir: PathBuf },
    #[error("{what}: `{}` has no line matching `{pattern}`; {said}\nlook at `{}`", log.display(), log.display())]
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
    #[error(
        "undo stopped at `{at}` ({kind}): {cause}\n  {undone} of {total} action(s) of run `{run}` were undone before it; \
         the {} older one(s) were left as they are",
        total - undone
    )]
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
    #[error("{0}")]
    Other(String),
}

fn tail_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        let indented: Vec<String> = tail.lines().map(|l| format!("  | {l}")).collect();
        format!(":\n{}", indented.join("\n"))
    }
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
    pub fn other(msg: impl Into<String>) -> Self {
        Error::Other(msg.into())
    }

    /// The exit code helix should end with when this error ends a run.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Error::CommandFailed { code, .. } => *code,
            Error::Cancelled(_) => Some(130),
            _ => None,
        }
    }

    /// The boundary to Rhai: Rhai adds the call position to `ErrorRuntime` itself.
    pub fn into_rhai(self) -> Box<rhai::EvalAltResult> {
        if let Some(code) = self.exit_code() {
            crate::ctx::get().set_exit_code(code);
        }
        if matches!(self, Error::Cancelled(_)) {
            crate::ctx::get().cancel();
        }
        rhai::EvalAltResult::ErrorRuntime(self.to_string().into(), rhai::Position::NONE).into()
    }
}

impl From<Error> for Box<rhai::EvalAltResult> {
    fn from(e: Error) -> Self {
        e.into_rhai()
    }
}

/// Shorthand for the Rhai wrappers: convert helix's result into Rhai's.
pub type RhaiResult<T> = std::result::Result<T, Box<rhai::EvalAltResult>>;

/// Convert at the boundary, at the position of the call. Rhai 1.27 does not fill in the call
/// position for errors from namespaced (`fs::write`) plugin functions, so wrappers take the
/// `NativeCallContext` and pass it here; errors then point at the recipe line.
pub fn rhai<T>(ctx: &rhai::NativeCallContext, r: Result<T>) -> RhaiResult<T> {
    r.map_err(|e| {
        let mut e = e.into_rhai();
        e.set_position(ctx.call_position());
        e
    })
}
