//! The scenario builder: `Test::new().recipe("x", "...").args(["run", "x"]).run()` runs the real
//! binary in a temp project with its own config and state dirs, without a terminal — captured
//! ([`Test::run`], [`Test::helix`]), streaming ([`Test::spawn`], [`Test::command`]) or at a
//! pseudo-terminal (`support::pty`). Every captured `helix run NAME` is checked against just's
//! invariant first: the same run under `--dry-run` leaves the test's world byte-identical.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::tree;

pub const HELIX: &str = env!("CARGO_BIN_EXE_helix");

thread_local! {
    /// Why this test (its thread) runs without the dry-run invariant, if it does.
    static THREAD_NO_DRY_RUN: std::cell::Cell<Option<&'static str>> =
        const { std::cell::Cell::new(None) };
}

/// Exempt every run of the calling test (libtest runs each test on a thread of its own) from
/// the dry-run invariant, saying why: the real-VM harness does this once for all its tests.
pub fn no_dry_run_on_this_thread(reason: &'static str) {
    assert!(!reason.trim().is_empty(), "an opt-out from the dry-run invariant needs a reason");
    THREAD_NO_DRY_RUN.set(Some(reason));
}

pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    unset: Vec<String>,
    stdin: Option<String>,
    cwd: Option<PathBuf>,
    no_dry_run: Option<&'static str>,
    unwatched: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Test {
    pub fn new() -> Test {
        let dir = tempfile::tempdir().expect("temp dir");
        for d in ["recipes", "stdlib", "config", "state", "home"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut env = BTreeMap::new();
        env.insert("HELIX_CONFIG_DIR".into(), dir.path().join("config").display().to_string());
        env.insert("HELIX_STATE_DIR".into(), dir.path().join("state").display().to_string());
        env.insert("HOME".into(), dir.path().join("home").display().to_string());
        env.insert("NO_COLOR".into(), "1".into());
        Test {
            dir,
            args: vec![],
            env,
            unset: vec![],
            stdin: None,
            cwd: None,
            no_dry_run: None,
            unwatched: vec![],
        }
    }

    /// The environment this test gives helix (on top of the defaults it starts from).
    pub fn env_vars(&self) -> &BTreeMap<String, String> {
        &self.env
    }

    /// Where helix runs.
    pub fn workdir(&self) -> PathBuf {
        self.cwd.clone().unwrap_or_else(|| self.dir.path().to_path_buf())
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write `recipes/NAME.rhai`.
    pub fn recipe(self, name: &str, text: &str) -> Self {
        self.file(&format!("recipes/{name}.rhai"), text)
    }

    /// Write `stdlib/NAME.rhai`.
    pub fn module(self, name: &str, text: &str) -> Self {
        self.file(&format!("stdlib/{name}.rhai"), text)
    }

    /// Write any file under the test dir.
    pub fn file(self, rel: &str, text: &str) -> Self {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.unset.retain(|u| u != k);
        self.env.insert(k.into(), v.into());
        self
    }

    /// Run helix without `k` in its environment (even if this process has it).
    pub fn env_remove(mut self, k: &str) -> Self {
        self.env.remove(k);
        self.unset.push(k.into());
        self
    }

    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.into());
        self
    }

    pub fn cwd(mut self, p: &Path) -> Self {
        self.cwd = Some(p.to_path_buf());
        self
    }

    /// Exempt this test's recipe runs from the dry-run invariant (see [`Test::run`]), saying
    /// why a dry run first cannot work for them.
    pub fn no_dry_run(mut self, reason: &'static str) -> Self {
        assert!(!reason.trim().is_empty(), "an opt-out from the dry-run invariant needs a reason");
        self.no_dry_run = Some(reason);
        self
    }

    /// Leave `rel` (under the test dir) out of the dry-run invariant, saying why: for what a
    /// fixture beside helix writes on its own (a server's log of every connection).
    pub fn unwatched(mut self, rel: &str, reason: &'static str) -> Self {
        assert!(!reason.trim().is_empty(), "an unwatched path needs a reason");
        self.unwatched.push(self.path(rel));
        self
    }

    /// `helix ARGS` exactly as [`Test::run`] starts it — this test's cwd and environment, in a
    /// new session (no controlling terminal), stdin from /dev/null, stdout and stderr piped —
    /// but not started: for tests that stream its output, signal it or redirect it.
    pub fn command<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        &self,
        args: I,
    ) -> Command {
        let mut cmd = self.bare_command(args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        detach_from_terminal(&mut cmd);
        cmd
    }

    /// `helix ARGS` started now as by [`Test::command`]: the child's pipes are its handle.
    pub fn spawn<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(&self, args: I) -> Child {
        self.command(args).spawn().expect("helix starts")
    }

    /// `helix ARGS` with this test's cwd and environment, nothing else decided (stdio, session):
    /// the base of [`Test::command`] and of the terminal sessions in `support::pty`.
    pub fn bare_command<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(
        &self,
        args: I,
    ) -> Command {
        let mut cmd = Command::new(HELIX);
        cmd.args(args);
        self.in_world(&mut cmd);
        cmd
    }

    /// `bash -c SCRIPT` with this test's cwd and environment, as a person's shell runs helix
    /// (`$HELIX` names the binary): for pipes and completions the shell itself takes part in.
    pub fn shell(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg(script).env("HELIX", HELIX);
        self.in_world(&mut cmd);
        cmd
    }

    /// Give `cmd` this test's cwd and environment.
    /// The terminal's size is not inherited from whoever runs the tests (`COLUMNS=50 cargo
    /// test` must not rewrap a table or a help text); a test that wants a width sets it.
    fn in_world(&self, cmd: &mut Command) {
        cmd.current_dir(self.workdir()).env_remove("HELIX_RECIPES").env_remove("HELIX_STDLIB");
        cmd.env_remove("COLUMNS").env_remove("LINES");
        for k in &self.unset {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
    }

    /// Run `helix ARGS` now (the builder stays usable for the next run).
    pub fn helix<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> Output {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        self.run_args(&args)
    }

    /// Run `helix ARGS` in the test dir, in a new session (no controlling terminal).
    ///
    /// just's invariant: a `helix run NAME …` is first run with `--dry-run` added, and the
    /// test's world (its dir, and the cwd, `HOME` and state dir when they lie outside it) must
    /// be byte-identical afterwards — except helix's journal of that dry run under the state
    /// dir's `runs/` — and when the real run succeeds, the dry run must have succeeded too.
    pub fn run(&self) -> Output {
        self.run_args(&self.args)
    }

    fn run_args(&self, args: &[String]) -> Output {
        let Some(dry) = self.dry_run_args(args) else { return self.output_of(args) };
        let roots = self.world_roots();
        let skip = self.unwatched_by_invariant();
        let world = || -> Vec<_> { roots.iter().map(|r| tree::snapshot(r, &skip)).collect() };
        let before = world();
        let calls = call_logs(&roots);
        let dry_out = self.output_of(&dry);
        restore_call_logs(&roots, &before, &calls);
        let after = world();
        let changed: Vec<String> = roots
            .iter()
            .zip(before.iter().zip(&after))
            .flat_map(|(r, (b, a))| {
                tree::diff(b, a).into_iter().map(move |d| format!("{}: {d}", r.display()))
            })
            .collect();
        assert!(
            changed.is_empty(),
            "dry-run invariant: `helix {}` changed the world:\n{}\nstdout:\n{}\nstderr:\n{}",
            dry.join(" "),
            changed.join("\n"),
            dry_out.stdout,
            dry_out.stderr
        );
        let out = self.output_of(args);
        if out.code == 0 {
            assert_eq!(
                dry_out.code,
                0,
                "dry-run invariant: `helix {}` succeeds but its dry run failed\nstdout:\n{}\nstderr:\n{}",
                args.join(" "),
                dry_out.stdout,
                dry_out.stderr
            );
        }
        out
    }

    /// `ARGS` with `--dry-run` added when they run a recipe by name for real and this test has
    /// not opted out; `None` otherwise.
    fn dry_run_args(&self, args: &[String]) -> Option<Vec<String>> {
        if self.no_dry_run.is_some() || THREAD_NO_DRY_RUN.get().is_some() {
            return None;
        }
        let at = args.iter().position(|a| a == "run")?;
        let rest = &args[at + 1..];
        let name = rest.first()?;
        if name.starts_with('-')
            || rest.iter().any(|a| a == "--dry-run" || a == "--help" || a == "-h")
        {
            return None;
        }
        let mut dry = args.to_vec();
        dry.insert(at + 1, "--dry-run".into());
        Some(dry)
    }

    /// The directories a run may touch that the invariant watches.
    fn world_roots(&self) -> Vec<PathBuf> {
        let base = self.dir.path().to_path_buf();
        let mut roots = vec![base.clone()];
        let extra = [Some(self.workdir()), self.env.get("HOME").map(PathBuf::from)];
        for r in extra.into_iter().flatten() {
            if !roots.iter().any(|k| r.starts_with(k)) {
                roots.push(r);
            }
        }
        roots
    }

    /// What the invariant does not compare: helix's journal of the dry run (the state dir's
    /// `runs/` and the directories leading to it, made by a first run), helix's SSH cache in
    /// the state dir (`ssh/`: the host keys a dry run's reads learn, control sockets), and the
    /// paths a test declared [`Test::unwatched`].
    fn unwatched_by_invariant(&self) -> impl Fn(&Path) -> bool + use<> {
        let set = |k: &str| self.env.get(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let state = set("HELIX_STATE_DIR")
            .or_else(|| set("XDG_STATE_HOME").map(|x| x.join("helix")))
            .unwrap_or_else(|| set("HOME").unwrap_or_default().join(".local/state/helix"));
        let (runs, ssh) = (state.join("runs"), state.join("ssh"));
        let unwatched = self.unwatched.clone();
        move |p: &Path| {
            p.starts_with(&runs)
                || p.starts_with(&ssh)
                || (runs.starts_with(p) && p.is_dir())
                || unwatched.iter().any(|u| p.starts_with(u))
        }
    }

    fn output_of(&self, args: &[String]) -> Output {
        let mut cmd = self.command(args);
        if self.stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd.spawn().expect("helix runs");
        if let Some(s) = &self.stdin {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(s.as_bytes());
        }
        Output::of(child.wait_with_output().unwrap())
    }
}

/// Whether `p` is a test double's record of its calls (`calls.log`, `NAME.calls`): the doubles
/// (brew, utmctl, osascript, …) append every invocation, reads included, and a dry run reads.
fn is_call_log(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == "calls.log") || p.extension().is_some_and(|e| e == "calls")
}

/// The doubles' call logs under `roots` and their bytes now.
fn call_logs(roots: &[PathBuf]) -> Vec<(PathBuf, Vec<u8>)> {
    roots
        .iter()
        .flat_map(|r| tree::snapshot(r, &|_| false).into_keys().map(move |k| r.join(k)))
        .filter(|p| is_call_log(p))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

/// Put the doubles' call logs back as they were before the dry run (removing the ones, and the
/// directories, it made), so the real run's calls are the only ones a test reads afterwards.
/// The doubles' other state is compared like everything else.
fn restore_call_logs(
    roots: &[PathBuf],
    trees: &[std::collections::BTreeMap<String, String>],
    before: &[(PathBuf, Vec<u8>)],
) {
    let existed = |d: &Path| {
        roots.iter().zip(trees).any(|(r, t)| {
            d == r || d.strip_prefix(r).is_ok_and(|rel| t.contains_key(&rel.display().to_string()))
        })
    };
    for (p, _) in call_logs(roots) {
        match before.iter().find(|(q, _)| *q == p) {
            Some((_, bytes)) => std::fs::write(&p, bytes).unwrap(),
            None => {
                std::fs::remove_file(&p).unwrap();
                let mut dir = p.parent();
                while let Some(d) = dir.filter(|d| !existed(d)) {
                    if std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    dir = d.parent();
                }
            }
        }
    }
}

/// `setsid()` in the child so `/dev/tty` cannot be opened: the guard sees no person.
pub fn detach_from_terminal(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

impl Output {
    /// What a finished child left.
    pub fn of(out: std::process::Output) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
    #[track_caller]
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn stdout_has(&self, s: &str) -> &Self {
        assert!(
            self.stdout.contains(s),
            "stdout lacks {s:?}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
    #[track_caller]
    pub fn stderr_has(&self, s: &str) -> &Self {
        assert!(
            self.stderr.contains(s),
            "stderr lacks {s:?}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
    #[track_caller]
    pub fn stdout_lacks(&self, s: &str) -> &Self {
        assert!(!self.stdout.contains(s), "stdout has {s:?}\nstdout:\n{}", self.stdout);
        self
    }
}
