//! The scenario builder: `Test::new().recipe("x", "...").args(["run", "x"]).run()` runs the real
//! binary in a temp project with its own config and state dirs, without a terminal — captured
//! ([`Test::run`], [`Test::helix`]), streaming ([`Test::spawn`], [`Test::command`]) or at a
//! pseudo-terminal (`support::pty`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const HELIX: &str = env!("CARGO_BIN_EXE_helix");

pub struct Test {
    pub dir: tempfile::TempDir,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    unset: Vec<String>,
    stdin: Option<String>,
    cwd: Option<PathBuf>,
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
        Test { dir, args: vec![], env, unset: vec![], stdin: None, cwd: None }
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
        cmd.args(args)
            .current_dir(self.workdir())
            .env_remove("HELIX_RECIPES")
            .env_remove("HELIX_STDLIB");
        for k in &self.unset {
            cmd.env_remove(k);
        }
        cmd.envs(&self.env);
        cmd
    }

    /// Run `helix ARGS` now (the builder stays usable for the next run).
    pub fn helix<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> Output {
        let args: Vec<String> = args.into_iter().map(Into::into).collect();
        self.run_args(&args)
    }

    /// Run `helix ARGS` in the test dir, in a new session (no controlling terminal).
    pub fn run(&self) -> Output {
        self.run_args(&self.args)
    }

    fn run_args(&self, args: &[String]) -> Output {
        self.output_of(args)
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
