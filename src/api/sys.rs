//! `sys::` — facts about the machine helix runs on.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(sys_api)
}

#[export_module]
mod sys_api {
    use crate::error::RhaiResult;

    /// `"macos"` or `"linux"`.
    ///
    /// ```rhai
    /// if sys::os() == "macos" { print("on a Mac"); }
    /// ```
    pub fn os() -> String {
        std::env::consts::OS.into()
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
        if pid <= 0 {
            return false;
        }
        // SAFETY: kill with signal 0 only checks that the process exists.
        let exists = unsafe { libc::kill(pid as i32, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
            .unwrap_or(false);
        exists && !zombie
    }
}
