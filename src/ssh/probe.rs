//! Is the guest there yet: the banner probe that tells apart "nothing listening", "TCP
//! accepted but no SSH banner" (the guest has no network: the netplan MAC problem), "banner
//! received", "key refused" and "ready", and the waits built on it.

use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serde_json::json;

use super::mux::Mux;
use super::{
    CONNECT_TIMEOUT_SECS, NO_NETWORK_HINT, RunOptions, Target, explain, ready, ssh_cmd,
    ssh_failure_hint,
};
use crate::error::{Error, Result};
use crate::guard::Action;
use crate::process::Output;

/// What [`probe`] found at a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
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
    pub(crate) fn state(&self) -> &'static str {
        match self {
            Probe::Closed { .. } => "closed",
            Probe::Dropped => "dropped",
            Probe::NoBanner { .. } => "no_banner",
            Probe::Banner { .. } => "banner",
            Probe::AuthRefused { .. } => "auth_refused",
            Probe::Ready { .. } => "ready",
        }
    }
    pub(crate) fn version(&self) -> Option<&str> {
        match self {
            Probe::Banner { version }
            | Probe::AuthRefused { version, .. }
            | Probe::Ready { version } => Some(version),
            _ => None,
        }
    }
    /// One sentence for a person.
    pub(crate) fn message(&self, host: &str, port: u16) -> String {
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
pub(crate) fn probe_tcp(host: &str, port: u16, banner_timeout: Duration) -> Probe {
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
pub(crate) fn probe(
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
pub(crate) fn backoff(elapsed: Duration) -> Duration {
    match elapsed.as_secs() {
        0..=9 => Duration::from_millis(50),
        10..=59 => Duration::from_millis(250),
        _ => Duration::from_secs(1),
    }
}

/// Wait until `t` accepts a batch-mode login (through the master connection, which stays up
/// for the commands that follow). Returns the seconds waited. A spinner shows what is seen.
pub(crate) fn wait_ready(t: &Target, timeout: Duration) -> Result<f64> {
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
    Error::SshNotReady { target: t.to_string(), seconds: secs, why }
}

/// Poll `command` on `t` until it succeeds (e.g. a cloud-init marker file), through the master
/// connection, for at most `timeout`. Returns the seconds waited. The command is classified
/// once, like any remote command; under `--dry-run` only the plan line is printed.
pub(crate) fn wait_until(t: &Target, command: &str, timeout: Duration) -> Result<f64> {
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
                return Err(Error::SshWaitTimeout {
                    command: command.to_string(),
                    target: t.to_string(),
                    seconds: timeout.as_secs_f64(),
                    seen,
                });
            }
            let pause = match started.elapsed().as_secs() {
                0..=9 => Duration::from_millis(200),
                _ => Duration::from_secs(1),
            };
            crate::wait::sleep(pause.min(timeout.saturating_sub(started.elapsed())))?;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
