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

use std::collections::BTreeMap;
use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::Action;
use crate::process::{Cmd, Finished, Output};

/// How long `ssh` may take to connect (TCP and banner) before it gives up.
pub const CONNECT_TIMEOUT_SECS: u64 = 5;
/// An idle master connection exits after this long (so a crash never leaves one for long).
const CONTROL_PERSIST_SECS: u64 = 60;
/// The hint printed whenever a guest accepts TCP but never speaks SSH.
pub const NO_NETWORK_HINT: &str = "the guest has no network — likely the netplan MAC problem \
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

    /// The master connection's socket: short (macOS allows 104 bytes), private, one per target.
    pub fn control_path(&self) -> Result<PathBuf> {
        // 8 bytes of the SHA-256: 16 hex digits.
        let name = &crate::fs::sha256_hex(self.to_string().as_bytes())[..16];
        Ok(control_dir()?.join(name))
    }
}

static CONTROL_DIR: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();

/// The run's private directory for master sockets (mode 0700, under `/tmp` to stay short).
fn control_dir() -> Result<PathBuf> {
    let dir = CONTROL_DIR.get_or_init(make_control_dir).clone().map_err(Error::other)?;
    if !dir.exists() {
        // `close_all` removed it and the run goes on: make it again, private.
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Error::fs("create", &dir, e))?;
    }
    Ok(dir)
}

fn make_control_dir() -> std::result::Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let base =
        if Path::new("/tmp").is_dir() { PathBuf::from("/tmp") } else { std::env::temp_dir() };
    let fail = |e: std::io::Error| {
        format!("could not create a private directory for SSH sockets in `{}`: {e}", base.display())
    };
    let dir = tempfile::Builder::new().prefix("hx-ssh-").tempdir_in(&base).map_err(fail)?.keep();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(fail)?;
    Ok(dir)
}

/// Targets that may have a master connection this run (control path → target).
fn masters() -> &'static Mutex<BTreeMap<PathBuf, Target>> {
    static M: OnceLock<Mutex<BTreeMap<PathBuf, Target>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// helix's own `known_hosts` for VMs, in the state dir.
pub fn known_hosts_file() -> PathBuf {
    crate::config::state_dir().join("ssh").join("known_hosts")
}

/// How a connection is made: through the run's master (the default) or a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mux {
    Master,
    None,
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
pub struct RunOptions {
    pub output: Output,
    pub unchecked: bool,
    /// Runs under `--dry-run` too (the caller vouches it only reads); still classified.
    pub read_only: bool,
    pub timeout: Option<Duration>,
    pub stdin: Option<Vec<u8>>,
}

/// Run `command` (a shell string for the remote login shell) on `t` through the guard.
pub fn exec(t: &Target, command: &str, opts: &RunOptions) -> Result<Finished> {
    let shown = format!("`{command}` on {t}");
    let action = Action::new("ssh.run", format!("run {shown}"))
        .args(json!({ "target": t.to_string(), "command": command }));
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
pub fn shell(t: &Target) -> Result<()> {
    if !crate::ui::interactive() {
        return Err(Error::other(format!(
            "a shell on {t} needs a terminal: run helix at one, or `ssh -p {} {}@{}` yourself",
            t.port, t.user, t.host
        )));
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
                return Error::other(format!(
                    "ssh to {t} failed: {hint}{}",
                    tail_block(&stderr_tail)
                ));
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

/// What an `ssh` error message means for the person reading it.
pub fn ssh_failure_hint(stderr: &str, t: &Target) -> Option<String> {
    let s = stderr.to_ascii_lowercase();
    let key = t
        .key
        .as_ref()
        .map(|k| format!("the key `{}`", k.display()))
        .unwrap_or_else(|| "no key was accepted".into());
    if s.contains("remote host identification has changed")
        || s.contains("host key verification failed")
    {
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
pub fn output(t: &Target, command: &str) -> Result<Finished> {
    exec(t, command, &RunOptions { output: Output::Capture, unchecked: true, ..Default::default() })
}

/// Options of a remote file write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub sudo: bool,
    /// Permission bits; `None` keeps an existing file's mode (and owner), new files get 0644.
    pub mode: Option<u32>,
}

/// Single-quote for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
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
pub fn write_file(t: &Target, path: &str, content: &[u8], opts: &WriteOptions) -> Result<()> {
    if path.is_empty() || path.contains('\0') {
        return Err(Error::invalid("remote path", path, "it is empty"));
    }
    if let Some(m) = opts.mode
        && m > 0o7777
    {
        return Err(Error::invalid("mode", format!("{m:o}"), "permission bits go up to 0o7777"));
    }
    let mut how = vec![format!("{} bytes", content.len())];
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
pub fn upload(t: &Target, local: &Path, remote: &str, opts: &WriteOptions) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bytes = std::fs::read(local).map_err(|e| Error::read(local, e))?;
    let mut o = opts.clone();
    if o.mode.is_none() {
        o.mode = std::fs::metadata(local).ok().map(|m| m.permissions().mode() & 0o7777);
    }
    write_file(t, remote, &bytes, &o)
}

/// What [`probe`] found at a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Nothing accepted the connection.
    Closed { error: String },
    /// TCP was accepted and closed again without a banner (e.g. QEMU's forward with no sshd
    /// behind it yet).
    Dropped,
    /// TCP was accepted but no banner came within the wait.
    NoBanner { waited: Duration },
    /// An SSH banner came (no login was tried).
    Banner { version: String },
    /// A banner came but the key was refused.
    AuthRefused { version: String, detail: String },
    /// A banner came and a batch-mode login worked.
    Ready { version: String },
}

impl Probe {
    pub fn state(&self) -> &'static str {
        match self {
            Probe::Closed { .. } => "closed",
            Probe::Dropped => "dropped",
            Probe::NoBanner { .. } => "no_banner",
            Probe::Banner { .. } => "banner",
            Probe::AuthRefused { .. } => "auth_refused",
            Probe::Ready { .. } => "ready",
        }
    }
    pub fn version(&self) -> Option<&str> {
        match self {
            Probe::Banner { version }
            | Probe::AuthRefused { version, .. }
            | Probe::Ready { version } => Some(version),
            _ => None,
        }
    }
    /// One sentence for a person.
    pub fn message(&self, host: &str, port: u16) -> String {
        match self {
            Probe::Closed { error } => format!(
                "nothing is listening on {host}:{port} ({error}): is the VM running and the port forwarded?"
            ),
            Probe::Dropped => format!(
                "{host}:{port} accepted TCP and closed it without an SSH banner: the port is forwarded but the guest's sshd is not up (yet)"
            ),
            Probe::NoBanner { waited } => format!(
                "TCP accepted on {host}:{port}, but no SSH banner within {}: {NO_NETWORK_HINT}",
                crate::duration::format(*waited)
            ),
            Probe::Banner { version } => format!("SSH is up on {host}:{port} ({version})"),
            Probe::AuthRefused { version, detail } => format!(
                "SSH is up on {host}:{port} ({version}) but the key was refused in batch mode: {detail}"
            ),
            Probe::Ready { version } => {
                format!("SSH is ready on {host}:{port} ({version}); batch-mode login works")
            }
        }
    }
}

fn resolve(host: &str, port: u16) -> std::result::Result<Vec<SocketAddr>, String> {
    (host, port)
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))
}

/// Connect and wait up to `banner_timeout` for the `SSH-…` line. Sends nothing.
pub fn probe_tcp(host: &str, port: u16, banner_timeout: Duration) -> Probe {
    let addrs = match resolve(host, port) {
        Ok(a) if !a.is_empty() => a,
        Ok(_) => return Probe::Closed { error: format!("`{host}` has no address") },
        Err(error) => return Probe::Closed { error },
    };
    let mut last = String::new();
    let stream = addrs.iter().find_map(|a| {
        match TcpStream::connect_timeout(a, Duration::from_secs(CONNECT_TIMEOUT_SECS)) {
            Ok(s) => Some(s),
            Err(e) => {
                last = e.to_string().to_lowercase();
                None
            }
        }
    });
    let Some(mut stream) = stream else { return Probe::Closed { error: last } };
    let started = Instant::now();
    let mut buf = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    loop {
        let left = banner_timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Probe::NoBanner { waited: banner_timeout };
        }
        let _ = stream.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match stream.read(&mut chunk) {
            Ok(0) => return Probe::Dropped,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                // The server may send other lines before its version line (RFC 4253 4.2).
                if let Some(end) = buf.iter().rposition(|b| *b == b'\n') {
                    for line in buf[..end].split(|b| *b == b'\n') {
                        let l = String::from_utf8_lossy(line);
                        if l.starts_with("SSH-") {
                            return Probe::Banner { version: l.trim_end().to_string() };
                        }
                    }
                }
                if buf.len() > 8192 {
                    return Probe::NoBanner { waited: started.elapsed() };
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Probe::NoBanner { waited: banner_timeout };
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Probe::Dropped,
        }
    }
}

/// The banner probe, then (with a target) a fresh batch-mode login that runs `true`.
pub fn probe(
    host: &str,
    port: u16,
    banner_timeout: Duration,
    login: Option<&Target>,
) -> Result<Probe> {
    let p = probe_tcp(host, port, banner_timeout);
    let (Probe::Banner { version }, Some(t)) = (&p, login) else { return Ok(p) };
    let t = Target { host: host.to_string(), port, ..t.clone() };
    let o = RunOptions { output: Output::Capture, unchecked: true, ..Default::default() };
    ready(&t)?;
    let f = ssh_cmd(&t, "true", &o, Mux::None)?.read_only().run()?;
    Ok(if f.success {
        Probe::Ready { version: version.clone() }
    } else {
        let detail = f
            .stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("ssh failed")
            .trim()
            .to_string();
        Probe::AuthRefused { version: version.clone(), detail }
    })
}

/// How long to sleep before the next readiness check: fast at first (a listening sshd is seen
/// within a tenth of a second), gently slower for long boots.
pub fn backoff(elapsed: Duration) -> Duration {
    match elapsed.as_secs() {
        0..=9 => Duration::from_millis(50),
        10..=59 => Duration::from_millis(250),
        _ => Duration::from_secs(1),
    }
}

/// Wait until `t` accepts a batch-mode login (through the master connection, which stays up
/// for the commands that follow). Returns the seconds waited. A spinner shows what is seen.
pub fn wait_ready(t: &Target, timeout: Duration) -> Result<f64> {
    t.validate()?;
    let action = Action::new(
        "ssh.wait_ready",
        format!("wait up to {}s for SSH on {t}", timeout.as_secs_f64()),
    )
    .args(json!({ "target": t.to_string(), "timeout": timeout.as_secs_f64() }));
    let login = RunOptions { output: Output::Capture, unchecked: true, ..Default::default() };
    ssh_cmd(t, "true", &login, Mux::Master)?.guarded(action, |runner| {
        ready(t)?;
        let started = Instant::now();
        let spinner = crate::ui::spinner(&format!("waiting for SSH on {t}"));
        let mut login_error: Option<String> = None;
        let mut announced = false;
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let p = probe_tcp(
                &t.host,
                t.port,
                left.clamp(Duration::from_millis(100), Duration::from_secs(3)),
            );
            if let Probe::Banner { version } = &p {
                if !announced {
                    announced = true;
                    spinner.suspend(|| {
                        crate::ui::info(&format!(
                            "SSH answers on {t} after {} ({version}); logging in",
                            crate::duration::format(started.elapsed())
                        ))
                    });
                }
                spinner.set_message(format!("SSH answers on {t}; logging in"));
                let f = runner
                    .run_for(Some(left.max(Duration::from_secs(CONNECT_TIMEOUT_SECS + 1))))?;
                if f.success {
                    spinner.finish_and_clear();
                    let waited = started.elapsed();
                    let shown = crate::duration::format(waited);
                    crate::ui::success(&format!("SSH on {t} is ready (after {shown})"));
                    return Ok(waited.as_secs_f64());
                }
                login_error = Some(f.stderr.trim().to_string());
            } else {
                spinner.set_message(format!("waiting for SSH on {t}: {}", short_state(&p)));
            }
            if started.elapsed() >= timeout {
                spinner.finish_and_clear();
                return Err(timeout_error(t, timeout, &p, login_error.as_deref()));
            }
            crate::wait::sleep(
                backoff(started.elapsed()).min(timeout.saturating_sub(started.elapsed())),
            )?;
        }
    })
}

fn short_state(p: &Probe) -> &'static str {
    match p {
        Probe::Closed { .. } => "nothing listening yet",
        Probe::Dropped => "port forwarded, sshd not up yet",
        Probe::NoBanner { .. } => "TCP accepted, no SSH banner",
        _ => "logging in",
    }
}

fn timeout_error(t: &Target, timeout: Duration, last: &Probe, login_error: Option<&str>) -> Error {
    let secs = timeout.as_secs_f64();
    let why = match (last, login_error) {
        (Probe::Banner { .. }, Some(err)) => ssh_failure_hint(err, t)
            .unwrap_or_else(|| format!("the login failed: {}", err.lines().last().unwrap_or(""))),
        (p, _) => p.message(&t.host, t.port),
    };
    Error::other(format!("SSH on {t} was not ready within {secs}s: {why}"))
}

/// Poll `command` on `t` until it succeeds (e.g. a cloud-init marker file), through the master
/// connection, for at most `timeout`. Returns the seconds waited. The command is classified
/// once, like any remote command; under `--dry-run` only the plan line is printed.
pub fn wait_until(t: &Target, command: &str, timeout: Duration) -> Result<f64> {
    let action = Action::new(
        "ssh.wait_until",
        format!("wait up to {}s until `{command}` succeeds on {t}", timeout.as_secs_f64()),
    )
    .args(json!({ "target": t.to_string(), "command": command, "timeout": timeout.as_secs_f64() }));
    let poll = RunOptions { output: Output::Capture, unchecked: true, ..Default::default() };
    ssh_cmd(t, command, &poll, Mux::Master)?.guarded(action, |runner| {
        ready(t)?;
        let started = Instant::now();
        let spinner = crate::ui::spinner(&format!("waiting until `{command}` succeeds on {t}"));
        loop {
            let left = timeout.saturating_sub(started.elapsed());
            let last = match runner
                .run_for(Some(left.max(Duration::from_secs(CONNECT_TIMEOUT_SECS + 1))))
                .map_err(|e| explain(e, t, command))
            {
                Ok(f) if f.success => {
                    spinner.finish_and_clear();
                    return Ok(started.elapsed().as_secs_f64());
                }
                Ok(f) => f.stderr.trim().lines().next_back().unwrap_or("").to_string(),
                Err(Error::Timeout { .. }) => "the command timed out".to_string(),
                Err(e) => e.to_string(),
            };
            if started.elapsed() >= timeout {
                spinner.finish_and_clear();
                let seen = if last.is_empty() { String::new() } else { format!(" (last: {last})") };
                return Err(Error::other(format!(
                    "`{command}` did not succeed on {t} within {}s{seen}",
                    timeout.as_secs_f64()
                )));
            }
            let pause = match started.elapsed().as_secs() {
                0..=9 => Duration::from_millis(200),
                _ => Duration::from_secs(1),
            };
            crate::wait::sleep(pause.min(timeout.saturating_sub(started.elapsed())))?;
        }
    })
}

/// Close this run's master connection to `t`, if any.
pub fn close(t: &Target) {
    if let Ok(cp) = t.control_path() {
        close_master(&cp, t);
        masters().lock().unwrap().remove(&cp);
    }
}

fn close_master(cp: &Path, t: &Target) {
    if !cp.exists() {
        return;
    }
    let argv = [
        "ssh".to_string(),
        "-o".into(),
        format!("ControlPath={}", cp.display()),
        "-O".into(),
        "exit".into(),
        "-p".into(),
        t.port.to_string(),
        "-l".into(),
        t.user.clone(),
        t.host.clone(),
    ];
    let _ = Cmd::new(&argv).quiet().unchecked().read_only().timeout(Duration::from_secs(5)).run();
}

/// Close every master connection this run opened and remove the socket directory. Called at
/// the end of a run (also after an error or Ctrl-C).
#[allow(clippy::disallowed_methods)] // the private 0700 ControlPath dir of this process's SSH masters
pub fn close_all() {
    let all: Vec<(PathBuf, Target)> =
        std::mem::take(&mut *masters().lock().unwrap()).into_iter().collect();
    for (cp, t) in &all {
        close_master(cp, t);
    }
    if let Some(Ok(dir)) = CONTROL_DIR.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
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

    #[test]
    fn probe_tells_closed_dropped_silent_and_banner_apart() {
        use std::io::Write;
        use std::net::TcpListener;
        // Closed: bind, learn the port, close.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        assert_eq!(probe_tcp("127.0.0.1", port, Duration::from_millis(300)).state(), "closed");
        // Silent: accept and never speak.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(600));
            drop(s);
        });
        let t0 = Instant::now();
        let p = probe_tcp("127.0.0.1", port, Duration::from_millis(300));
        assert_eq!(p.state(), "no_banner");
        assert!(t0.elapsed() < Duration::from_millis(550));
        assert!(p.message("127.0.0.1", port).contains("helix run netplan-fix"));
        h.join().unwrap();
        // Dropped and banner (after a pre-banner line).
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            drop(l.accept().unwrap());
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"hello\r\nSSH-2.0-Test_1.0\r\n").unwrap();
        });
        assert_eq!(probe_tcp("127.0.0.1", port, Duration::from_secs(2)), Probe::Dropped);
        assert_eq!(
            probe_tcp("127.0.0.1", port, Duration::from_secs(2)),
            Probe::Banner { version: "SSH-2.0-Test_1.0".into() }
        );
        h.join().unwrap();
    }

    #[test]
    fn backoff_is_fast_first_and_gentle_later() {
        assert!(backoff(Duration::from_millis(100)) <= Duration::from_millis(100));
        assert!(backoff(Duration::from_secs(30)) <= Duration::from_millis(250));
        assert!(backoff(Duration::from_secs(600)) <= Duration::from_secs(1));
    }
}
