//! SSH to a VM through the system OpenSSH client (so the user's agent and `~/.ssh/config` keep
//! working): `BatchMode=yes`, an explicit identity, a connect timeout, a helix-owned
//! `known_hosts` (VMs are re-provisioned and change keys; they never pollute the user's file),
//! and one multiplexed master connection per target (`ControlMaster=auto`), closed by
//! [`close_all`] at the end of the run.
//!
//! Remote command strings are classified by the guard's shell classifier: a destructive one
//! becomes `Target::Remote` and needs a person at the terminal.
//! [`probe`] tells apart "nothing listening", "TCP accepted but no SSH banner" (the guest has no
//! network: the netplan MAC problem), "banner received", "key refused" and "ready".
mod mux;
mod probe;

use mux::{CONTROL_PERSIST_SECS, Mux, masters};
pub use mux::{close, close_all};
pub(crate) use probe::{Probe, probe, wait_ready, wait_until};

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::Action;
use crate::process::{Cmd, Finished, Output};

/// How long `ssh` may take to connect (TCP and banner) before it gives up.
pub(crate) const CONNECT_TIMEOUT_SECS: u64 = 5;
/// The hint printed whenever a guest accepts TCP but never speaks SSH.
pub(crate) const NO_NETWORK_HINT: &str = "the guest has no network — likely the netplan MAC problem \
     (cloud-init matched the NIC by the provisioning MAC); run `helix run netplan-fix`";

/// Where and as whom to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// The private key (`-i`); `None` leaves the choice to ssh (agent, config).
    pub key: Option<PathBuf>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            write!(f, "{}@{}:{}", self.user, self.host, self.port)
        }
    }
}

impl Target {
    /// The VM from config: `vm.ssh_user`, `vm.ssh_host`, `vm.ssh_port`, `vm.ssh_key`.
    pub fn from_config(config: &crate::config::Config) -> Target {
        Target {
            user: config.get_str("vm.ssh_user").unwrap_or("root").to_string(),
            host: config.get_str("vm.ssh_host").unwrap_or("127.0.0.1").to_string(),
            port: config
                .get("vm.ssh_port")
                .and_then(|v| v.as_integer())
                .and_then(|p| u16::try_from(p).ok())
                .unwrap_or(22),
            key: config.get_str("vm.ssh_key").filter(|k| !k.is_empty()).map(crate::paths::expand),
        }
    }

    /// `user@host:port`, `user@host`, `host:port`, `host` or `user@[::1]:22`; what is left out
    /// comes from `defaults` (the port of a string without one is 22, ssh's own default).
    pub fn parse(s: &str, defaults: &Target) -> Result<Target> {
        let bad = |why: &str| Error::invalid("ssh target", s, why.to_string());
        let s_trim = s.trim();
        if s_trim.is_empty() {
            return Err(bad("it is empty; write `user@host:port`"));
        }
        let (user, rest) = match s_trim.rsplit_once('@') {
            Some((u, r)) => (u.to_string(), r),
            None => (defaults.user.clone(), s_trim),
        };
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) =
                r.split_once(']').ok_or_else(|| bad("an IPv6 address needs its closing `]`"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(bad("expected `:port` after `]`")),
            };
            (h.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
                Some(_) => return Err(bad("write an IPv6 address in brackets: `user@[::1]:22`")),
                None => (rest.to_string(), None),
            }
        };
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
            None => 22,
        };
        let t = Target { user, host, port, key: defaults.key.clone() };
        t.validate()?;
        Ok(t)
    }

    /// Reject what ssh would read as an option or what cannot be a user or host name.
    pub fn validate(&self) -> Result<()> {
        let shown = self.to_string();
        let ok_name = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        };
        if !ok_name(&self.user) {
            return Err(Error::invalid(
                "ssh user",
                &self.user,
                "use letters, digits, `.`, `_` and `-`",
            ));
        }
        let ok_host = !self.host.is_empty()
            && !self.host.starts_with('-')
            && self.host.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:%".contains(c));
        if !ok_host {
            return Err(Error::invalid(
                "ssh host",
                &self.host,
                format!("`{shown}` has no valid host name or address"),
            ));
        }
        if self.port == 0 {
            return Err(Error::invalid(
                "ssh port",
                "0",
                "the port must be a number from 1 to 65535",
            ));
        }
        Ok(())
    }
}

/// helix's own `known_hosts` for VMs, in the state dir.
pub(crate) fn known_hosts_file() -> PathBuf {
    crate::config::state_dir().join("ssh").join("known_hosts")
}
/// What `ssh` needs before it starts, checked once the guard has let it run (under `--dry-run`
/// nothing is checked or created): the key file exists, the known-hosts directory does.
fn ready(t: &Target) -> Result<()> {
    if let Some(k) = &t.key
        && !k.exists()
        && !k.with_extension("pub").exists()
        && !PathBuf::from(format!("{}.pub", k.display())).exists()
    {
        return Err(Error::invalid(
            "ssh key",
            k.display().to_string(),
            "no such file: create one with `ssh-keygen -t ed25519` or set `vm.ssh_key` in the config",
        ));
    }
    let kh = known_hosts_file();
    match kh.parent() {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| Error::fs("create", dir, e)),
        None => Ok(()),
    }
}

/// The full `ssh` argv for `remote` on `t`.
fn ssh_argv(t: &Target, remote: &str, mux: Mux, batch_auth_only: bool) -> Result<Vec<String>> {
    t.validate()?;
    let kh = known_hosts_file();
    let mut a: Vec<String> = vec!["ssh".into()];
    let mut o = |k: &str, v: &str| {
        a.push("-o".into());
        a.push(format!("{k}={v}"));
    };
    o("BatchMode", "yes");
    o("ConnectTimeout", &CONNECT_TIMEOUT_SECS.to_string());
    o("ServerAliveInterval", "10");
    o("ServerAliveCountMax", "3");
    o("UserKnownHostsFile", &kh.display().to_string());
    o("StrictHostKeyChecking", "accept-new");
    // helix's own file: readable entries (`[127.0.0.1]:2222 ssh-ed25519 …`) for debugging.
    o("HashKnownHosts", "no");
    o("LogLevel", "ERROR");
    if batch_auth_only {
        o("PreferredAuthentications", "publickey");
    }
    match mux {
        Mux::Master => {
            let cp = t.control_path()?;
            o("ControlMaster", "auto");
            o("ControlPath", &cp.display().to_string());
            o("ControlPersist", &CONTROL_PERSIST_SECS.to_string());
            masters().lock().unwrap().insert(cp, t.clone());
        }
        Mux::None => {
            o("ControlMaster", "no");
            o("ControlPath", "none");
        }
    }
    if let Some(k) = &t.key {
        o("IdentitiesOnly", "yes");
        a.push("-i".into());
        a.push(k.display().to_string());
    }
    a.extend([
        "-p".into(),
        t.port.to_string(),
        "-l".into(),
        t.user.clone(),
        t.host.clone(),
        remote.to_string(),
    ]);
    Ok(a)
}

/// How to run one remote command.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    pub output: Output,
    pub unchecked: bool,
    /// Runs under `--dry-run` too (the caller vouches it only reads); still classified.
    pub read_only: bool,
    pub timeout: Option<Duration>,
    pub stdin: Option<Vec<u8>>,
}

/// Run `command` (a shell string for the remote login shell) on `t` through the guard.
pub(crate) fn exec(t: &Target, command: &str, opts: &RunOptions) -> Result<Finished> {
    let shown = format!("`{command}` on {t}");
    let action = Action::new("ssh.run", format!("run {shown}"))
        .args(json!({ "target": t.to_string(), "command": command }))
        .shows(command);
    // The guard classifies the whole `ssh` argv with its stdin: the remote command (and a
    // script fed to a remote shell) with remote-side rules, local options such as
    // `ProxyCommand` as local code.
    let mut cmd = ssh_cmd(t, command, opts, Mux::Master)?;
    cmd.read_only = opts.read_only;
    cmd.guarded(action, |r| {
        ready(t)?;
        r.run()
    })
    .map_err(|e| explain(e, t, command))
}

/// An interactive login shell on `t` for a person at the terminal (`ssh -t`); returns when
/// they log out. Journaled, not classified: what a person types is theirs to decide.
pub(crate) fn shell(t: &Target) -> Result<()> {
    if !crate::ui::interactive() {
        return Err(Error::Ssh {
            target: t.to_string(),
            message: format!(
                "a shell on {t} needs a terminal: run helix at one, or `ssh -p {} {}@{}` yourself",
                t.port, t.user, t.host
            ),
        });
    }
    let action = Action::new("ssh.shell", format!("open a shell on {t}"))
        .args(json!({ "target": t.to_string() }));
    let mut argv = ssh_argv(t, "", Mux::None, false)?;
    argv.pop();
    argv.insert(1, "-t".into());
    let mut cmd = Cmd::new(&argv);
    cmd.output = Output::Interactive;
    // Leaving a shell with a non-zero status (the last command failed) is not an error.
    cmd.unchecked = true;
    cmd.guarded(action, |r| {
        ready(t)?;
        r.run().map(|_| ())
    })
}

/// The `ssh` process for `command` on `t` (run through the guard by the caller).
fn ssh_cmd(t: &Target, command: &str, opts: &RunOptions, mux: Mux) -> Result<Cmd> {
    let mut cmd = Cmd::new(&ssh_argv(t, command, mux, false)?);
    cmd.output = opts.output;
    cmd.unchecked = opts.unchecked;
    cmd.timeout = opts.timeout;
    cmd.stdin = opts.stdin.clone();
    Ok(cmd)
}

/// Turn `ssh`'s own failures (exit 255) into what to do about them; keep a remote command's
/// failure as a failed command (its exit code ends the run), named by the remote command.
fn explain(e: Error, t: &Target, command: &str) -> Error {
    match e {
        Error::CommandFailed { status, code, stderr_tail, .. } => {
            if code == Some(255)
                && let Some(hint) = ssh_failure_hint(&stderr_tail, t)
            {
                // ssh's 15-line banner about a changed host key has just streamed past, and the
                // hint says what it means: its last line is enough here.
                let tail = if host_key_changed(&stderr_tail) {
                    stderr_tail.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("").to_string()
                } else {
                    stderr_tail
                };
                return Error::Ssh {
                    target: t.to_string(),
                    message: format!("ssh to {t} failed: {hint}{}", tail_block(&tail)),
                };
            }
            Error::CommandFailed {
                command: format!("{command}` on `{t}"),
                status,
                code,
                stderr_tail,
            }
        }
        Error::Timeout { seconds, .. } => {
            Error::Timeout { command: format!("{command}` on `{t}"), seconds }
        }
        other => other,
    }
}

fn tail_block(tail: &str) -> String {
    let lines: Vec<String> =
        tail.lines().filter(|l| !l.trim().is_empty()).map(|l| format!("  | {l}")).collect();
    if lines.is_empty() { String::new() } else { format!(":\n{}", lines.join("\n")) }
}

/// Whether `ssh` refused the host because its key is not the one in known_hosts.
fn host_key_changed(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    s.contains("remote host identification has changed")
        || s.contains("host key verification failed")
}

/// What an `ssh` error message means for the person reading it.
pub(crate) fn ssh_failure_hint(stderr: &str, t: &Target) -> Option<String> {
    let s = stderr.to_ascii_lowercase();
    let key = t
        .key
        .as_ref()
        .map(|k| format!("the key `{}`", k.display()))
        .unwrap_or_else(|| "no key was accepted".into());
    if host_key_changed(stderr) {
        let host = if t.port == 22 { t.host.clone() } else { format!("[{}]:{}", t.host, t.port) };
        return Some(format!(
            "the host key of {t} is not the one helix saw before (a re-provisioned VM gets a new one); \
             if that is expected, forget the old key with `ssh-keygen -R '{host}' -f {}`",
            known_hosts_file().display()
        ));
    }
    if s.contains("permission denied") || s.contains("too many authentication failures") {
        return Some(format!(
            "{key} was refused for user `{}`: check `vm.ssh_user`/`vm.ssh_key` and the guest's authorized_keys",
            t.user
        ));
    }
    if s.contains("connection refused") {
        return Some(format!(
            "nothing listens on {}:{}: is the VM running and the port forwarded? (`ssh::probe` tells more)",
            t.host, t.port
        ));
    }
    if s.contains("banner exchange") || s.contains("connection timed out during banner") {
        return Some(format!("TCP was accepted but no SSH banner came: {NO_NETWORK_HINT}"));
    }
    if s.contains("timed out") {
        return Some(format!(
            "the connection to {}:{} timed out: is the VM running?",
            t.host, t.port
        ));
    }
    if s.contains("could not resolve hostname") {
        return Some(format!("the host `{}` is unknown: check `vm.ssh_host`", t.host));
    }
    if s.contains("connection closed") || s.contains("connection reset") {
        return Some(format!(
            "{}:{} closed the connection: the guest's sshd is not up yet, or the VM is shutting down",
            t.host, t.port
        ));
    }
    None
}

/// Run and stream; a non-zero exit is an error with the stderr tail.
pub fn run(t: &Target, command: &str) -> Result<()> {
    exec(t, command, &RunOptions::default()).map(|_| ())
}

/// Run and capture, unchecked: the caller reads the status.
pub(crate) fn output(t: &Target, command: &str) -> Result<Finished> {
    exec(t, command, &RunOptions { output: Output::Capture, unchecked: true, ..Default::default() })
}

/// Options of a remote file write.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOptions {
    pub sudo: bool,
    /// Permission bits; `None` keeps an existing file's mode (and owner), new files get 0644.
    pub mode: Option<u32>,
}

/// Single-quote for a POSIX shell.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The remote script of [`write_file`]: content from stdin into a temp file beside the target,
/// mode (or the old file's mode and owner), then an atomic rename.
pub(crate) fn write_script(path: &str, opts: &WriteOptions) -> String {
    let chmod = match opts.mode {
        Some(m) => format!("chmod {m:o} \"$t\""),
        None => "if [ ! -e \"$p\" ]; then chmod 644 \"$t\"; fi".to_string(),
    };
    let script = format!(
        "set -e; p={p}; d=$(dirname -- \"$p\"); t=$(mktemp \"$d/.helix-write.XXXXXX\"); \
         trap 'rm -f -- \"$t\"' EXIT; \
         if [ -f \"$p\" ]; then cp -p -- \"$p\" \"$t\"; fi; cat > \"$t\"; {chmod}; \
         mv -f -- \"$t\" \"$p\"; trap - EXIT",
        p = sh_quote(path)
    );
    let sh = format!("sh -c {}", sh_quote(&script));
    if opts.sudo { format!("sudo -n {sh}") } else { sh }
}

/// Write `content` to `path` on `t` atomically. The content travels on stdin (never in argv:
/// it may be a secret); with `sudo` it is written as root (`sudo -n`: no password prompt).
pub(crate) fn write_file(
    t: &Target,
    path: &str,
    content: &[u8],
    opts: &WriteOptions,
) -> Result<()> {
    if path.is_empty() || path.contains('\0') {
        return Err(Error::invalid("remote path", path, "it is empty"));
    }
    if let Some(m) = opts.mode
        && m > 0o7777
    {
        return Err(Error::invalid("mode", format!("{m:o}"), "permission bits go up to 0o7777"));
    }
    let mut how = vec![crate::count::count(content.len() as u64, "byte")];
    if let Some(m) = opts.mode {
        how.push(format!("mode {m:04o}"));
    }
    if opts.sudo {
        how.push("as root".into());
    }
    let action = Action::new("ssh.write_file", format!("write `{path}` on {t} ({})", how.join(", ")))
        .args(json!({ "target": t.to_string(), "path": path, "bytes": content.len(), "mode": opts.mode, "sudo": opts.sudo }));
    let script = write_script(path, opts);
    let o =
        RunOptions { output: Output::Quiet, stdin: Some(content.to_vec()), ..Default::default() };
    let cmd = ssh_cmd(t, &script, &o, Mux::Master)?;
    cmd.guarded(action, |r| {
        ready(t)?;
        r.run().map(|_| ()).map_err(|e| match e {
            Error::CommandFailed { status, code, stderr_tail, .. } => Error::CommandFailed {
                command: format!("write {path}` on `{t}"),
                status,
                code,
                stderr_tail,
            },
            other => other,
        })
    })
}

/// Copy a local file to `remote` on `t` (through the master connection, atomically).
/// Without a mode, a new remote file gets the local file's permission bits.
pub(crate) fn upload(t: &Target, local: &Path, remote: &str, opts: &WriteOptions) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bytes = std::fs::read(local).map_err(|e| Error::read(local, e))?;
    let mut o = opts.clone();
    if o.mode.is_none() {
        o.mode = std::fs::metadata(local).ok().map(|m| m.permissions().mode() & 0o7777);
    }
    write_file(t, remote, &bytes, &o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Target {
        Target { user: "luke".into(), host: "127.0.0.1".into(), port: 2222, key: Some("/k".into()) }
    }

    #[test]
    fn parses_targets() {
        let d = defaults();
        let t = Target::parse("ubuntu@10.0.0.5:2223", &d).unwrap();
        assert_eq!((t.user.as_str(), t.host.as_str(), t.port), ("ubuntu", "10.0.0.5", 2223));
        assert_eq!(t.key, d.key);
        let t = Target::parse("example.com", &d).unwrap();
        assert_eq!((t.user.as_str(), t.port), ("luke", 22));
        let t = Target::parse("root@[::1]:22", &d).unwrap();
        assert_eq!((t.host.as_str(), t.to_string().as_str()), ("::1", "root@[::1]:22"));
        for bad in [
            "",
            "a@b:0",
            "a@b:x",
            "a@b:70000",
            "-oProxyCommand=x",
            "a@-oFoo",
            "u@::1",
            "a b@c",
            "u@h;rm",
        ] {
            assert!(Target::parse(bad, &d).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn argv_has_batch_mode_key_known_hosts_and_master() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id");
        std::fs::write(&key, "k").unwrap();
        let t = Target { key: Some(key.clone()), ..defaults() };
        let a = ssh_argv(&t, "uname -a", Mux::Master, false).unwrap().join(" ");
        for want in [
            "BatchMode=yes",
            "ConnectTimeout=5",
            "StrictHostKeyChecking=accept-new",
            "ControlMaster=auto",
            "IdentitiesOnly=yes",
        ] {
            assert!(a.contains(want), "{a}");
        }
        assert!(a.contains(&format!("-i {}", key.display())), "{a}");
        assert!(a.ends_with("-p 2222 -l luke 127.0.0.1 uname -a"), "{a}");
        let cp = t.control_path().unwrap();
        assert!(cp.display().to_string().len() < 100, "{}", cp.display());
        let missing = Target { key: Some(dir.path().join("nope")), ..defaults() };
        let e = ready(&missing).unwrap_err().to_string();
        assert!(e.contains("ssh-keygen"), "{e}");
        let cdir = cp.parent().unwrap().to_path_buf();
        assert_eq!(std::fs::metadata(&cdir).unwrap().permissions().mode() & 0o777, 0o700);
        close_all();
        assert!(!cdir.exists(), "close_all removes the socket directory");
    }

    #[test]
    fn write_script_keeps_content_out_of_argv_and_quotes_the_path() {
        let s = write_script("/etc/it's here", &WriteOptions { sudo: true, mode: Some(0o600) });
        assert!(s.starts_with("sudo -n sh -c "), "{s}");
        assert!(s.contains("chmod 600"), "{s}");
        assert!(s.contains("it'\\''"), "{s}");
    }

    #[test]
    fn hints_for_ssh_failures() {
        let t = defaults();
        let h = ssh_failure_hint("root@127.0.0.1: Permission denied (publickey).", &t).unwrap();
        assert!(h.contains("was refused"), "{h}");
        let h = ssh_failure_hint("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", &t)
            .unwrap();
        assert!(h.contains("ssh-keygen -R '[127.0.0.1]:2222'"), "{h}");
        let h = ssh_failure_hint("Connection timed out during banner exchange", &t).unwrap();
        assert!(h.contains("netplan-fix"), "{h}");
        assert!(ssh_failure_hint("bash: foo: command not found", &t).is_none());
    }
}
