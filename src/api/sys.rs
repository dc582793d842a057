//! `sys::` — facts about the machine helix runs on.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(sys_api)
}

#[export_module]
mod sys_api {
    use crate::error::RhaiResult;

    /// `"macos"` or `"linux"` (`"macos"` in a simulated Mac too: `HELIX_MAC_ROOT`).
    ///
    /// ```rhai
    /// if sys::os() == "macos" { print("on a Mac"); }
    /// ```
    pub fn os() -> String {
        crate::paths::os().into()
    }

    /// `"aarch64"` or `"x86_64"`.
    ///
    /// ```rhai
    /// let arch = sys::arch();
    /// ```
    pub fn arch() -> String {
        std::env::consts::ARCH.into()
    }

    /// The user's home directory.
    ///
    /// ```rhai
    /// let pm = sys::home() + "/pm";
    /// ```
    pub fn home() -> String {
        crate::paths::home().display().to_string()
    }

    /// Whether the OS layer write-protects protected paths for every command helix runs, and
    /// how: `#{active: true, detail: "…"}` (`doctor` shows it).
    ///
    /// ```rhai
    /// let l = sys::os_layer();
    /// if !l.active { print(`commands are guarded by helix's checks only: ${l.detail}`); }
    /// ```
    pub fn os_layer() -> rhai::Map {
        let s = crate::process::sandbox_state();
        let mut m = rhai::Map::new();
        m.insert("active".into(), matches!(s, crate::guard::sandbox::State::Active(_)).into());
        m.insert("detail".into(), s.describe().into());
        m
    }

    /// The machine's host name.
    ///
    /// ```rhai
    /// print(sys::hostname());
    /// ```
    pub fn hostname() -> String {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return String::new();
        }
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }

    /// An environment variable, or `()` when unset.
    ///
    /// ```rhai
    /// let user = sys::env("USER");
    /// ```
    pub fn env(name: &str) -> Dynamic {
        std::env::var(name).map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// The full path of a program on `PATH`, or `()`.
    ///
    /// ```rhai
    /// let git = sys::which("git");
    /// ```
    pub fn which(program: &str) -> Dynamic {
        crate::process::which(program)
            .map(|p| Dynamic::from(p.display().to_string()))
            .unwrap_or(Dynamic::UNIT)
    }

    /// Expand a leading `~` to the home directory.
    ///
    /// ```rhai
    /// let p = sys::expand("~/pm");
    /// ```
    pub fn expand(path: &str) -> String {
        crate::paths::expand(path).display().to_string()
    }

    /// The current working directory.
    ///
    /// ```rhai
    /// print(sys::cwd());
    /// ```
    pub fn cwd() -> String {
        std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default()
    }

    /// Wait `seconds` (int or float); Ctrl-C interrupts it.
    ///
    /// ```rhai
    /// sys::sleep(0.5);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_f(ctx: NativeCallContext, seconds: f64) -> RhaiResult<()> {
        crate::error::rhai(
            &ctx,
            crate::wait::sleep(std::time::Duration::from_secs_f64(seconds.max(0.0))),
        )
    }

    /// Wait `seconds`; Ctrl-C interrupts it.
    ///
    /// ```rhai
    /// sys::sleep(1);
    /// ```
    #[rhai_fn(name = "sleep", return_raw)]
    pub fn sleep_i(ctx: NativeCallContext, seconds: i64) -> RhaiResult<()> {
        crate::error::rhai(
            &ctx,
            crate::wait::sleep(std::time::Duration::from_secs(seconds.max(0) as u64)),
        )
    }

    /// helix's state dir (journal, trash, step state, detached VMs).
    ///
    /// ```rhai
    /// let dir = sys::state_dir();
    /// ```
    pub fn state_dir() -> String {
        crate::config::state_dir().display().to_string()
    }

    /// Whether a process with this id is alive (not a zombie).
    ///
    /// ```rhai
    /// if sys::pid_alive(1) { print("init runs"); }
    /// ```
    pub fn pid_alive(pid: i64) -> bool {
        u32::try_from(pid).is_ok_and(crate::procs::alive)
    }

    /// The `KEY=value` lines of a credentials file (like `.env.usercreds`) as a map, read
    /// without a shell. Values under names with KEY, TOKEN, SECRET, PASSWORD, AUTH or
    /// CREDENTIAL in them become secrets of the run: every message, command line, error and
    /// journal record shows `***` instead.
    ///
    /// ```rhai
    /// let creds = sys::read_env_file(`${sys::home()}/pm/helix/.env.usercreds`);
    /// let url = creds.HELIX_URL;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_env_file(ctx: NativeCallContext, file: &str) -> RhaiResult<rhai::Map> {
        let pairs = crate::envfile::read(&crate::api::convert::path(file));
        crate::error::rhai(
            &ctx,
            pairs.map(|p| p.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect()),
        )
    }

    /// Mark a value as a secret of the run: it is shown as `***` from now on.
    ///
    /// ```rhai
    /// sys::secret(sys::env("GITHUB_TOKEN") ?? "");
    /// ```
    pub fn secret(value: &str) {
        crate::run::current().add_secret(value);
    }

    /// The processes that have a file open: `[#{ pid, command }]` (a stale QEMU holding a
    /// disk's lock shows up here).
    ///
    /// ```rhai
    /// for p in sys::holders("/tmp/disk.qcow2") { print(`${p.pid}: ${p.command}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn holders(ctx: NativeCallContext, file: &str) -> RhaiResult<rhai::Array> {
        let found = crate::procs::holders(&crate::api::convert::path(file)).map(|hs| {
            hs.into_iter()
                .map(|h| {
                    let mut m = rhai::Map::new();
                    m.insert("pid".into(), Dynamic::from(h.pid as i64));
                    m.insert("command".into(), Dynamic::from(h.command));
                    Dynamic::from(m)
                })
                .collect()
        });
        crate::error::rhai(&ctx, found)
    }

    /// Stop a process with SIGTERM and wait up to `timeout` seconds for it to exit. Guarded:
    /// a person confirms at the terminal (a VM's unsaved state dies with it). Returns
    /// `"terminated"`, or `"gone"` if it had already exited.
    ///
    /// ```rhai
    /// sys::terminate(12345, 30);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn terminate(ctx: NativeCallContext, pid: i64, timeout: i64) -> RhaiResult<String> {
        let res = u32::try_from(pid)
            .map_err(|_| crate::error::Error::invalid("process id", pid.to_string(), "not a pid"))
            .and_then(|p| {
                crate::procs::terminate(p, std::time::Duration::from_secs(timeout.max(0) as u64))
            });
        crate::error::rhai(&ctx, res)
    }

    /// Write helix's own bookkeeping (`name` relative to the state dir, e.g. `vms/dev.json`):
    /// atomically, not journaled and not undone — it records how things are, it is not user
    /// data. Nothing is written under `--dry-run`.
    ///
    /// ```rhai
    /// sys::write_state("vms/dev.json", #{ pid: 42 }.to_json());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_state(ctx: NativeCallContext, name: &str, text: &str) -> RhaiResult<()> {
        if crate::run::current().dry_run {
            return Ok(());
        }
        let res = state_path(name).and_then(|p| {
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| crate::error::Error::fs("create", dir, e))?;
            }
            crate::fs::atomic_write_raw(&p, text.as_bytes(), None)
        });
        crate::error::rhai(&ctx, res)
    }

    /// Read what `sys::write_state` wrote, or `()` when there is nothing.
    ///
    /// ```rhai
    /// let rec = sys::read_state("vms/dev.json");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_state(ctx: NativeCallContext, name: &str) -> RhaiResult<Dynamic> {
        let res = state_path(name).and_then(|p| match std::fs::read_to_string(&p) {
            Ok(s) => Ok(Dynamic::from(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Dynamic::UNIT),
            Err(e) => Err(crate::error::Error::read(&p, e)),
        });
        crate::error::rhai(&ctx, res)
    }
}

fn state_path(name: &str) -> crate::error::Result<std::path::PathBuf> {
    let rel = std::path::Path::new(name);
    if name.is_empty()
        || rel.is_absolute()
        || rel.components().any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(crate::error::Error::invalid(
            "state name",
            name,
            "use a relative path inside the state dir, like `vms/dev.json`",
        ));
    }
    let dir = crate::config::state_dir();
    let p = dir.join(rel);
    // helix's bookkeeping stays in its state dir: a symlink placed there (a directory leading
    // elsewhere) must not carry a write outside it, and a protected path is never written.
    let inside =
        crate::guard::protect::physical(&p).starts_with(crate::guard::protect::physical(&dir));
    if !inside {
        return Err(crate::error::Error::invalid(
            "state name",
            name,
            format!(
                "it leads out of the state dir `{}` through a symbolic link; remove the link",
                dir.display()
            ),
        ));
    }
    if let Some(rule) = crate::guard::protect::rule_for(&p, &crate::run::current().config) {
        return Err(rule.error(&p));
    }
    Ok(p)
}
