//! Other processes: which ones hold a file open (a stale QEMU keeping a disk locked), and
//! stopping one of them — guarded, since a VM's unsaved guest state dies with it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};

/// A process holding a file open.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Holder {
    pub pid: u32,
    /// Its command line, space-joined (empty when unreadable).
    pub command: String,
}

/// The processes that have `path` open: `/proc/*/fd` on Linux, `lsof` elsewhere.
pub(crate) fn holders(path: &Path) -> Result<Vec<Holder>> {
    let target = std::fs::canonicalize(path).map_err(|e| Error::read(path, e))?;
    if Path::new("/proc/self/fd").is_dir() {
        return Ok(proc_holders(Path::new("/proc"), &target));
    }
    let out = crate::process::Cmd::new(&["lsof", "-t", "--", &target.display().to_string()])
        .capture()
        .read_only()
        .unchecked()
        .run()?;
    Ok(out
        .stdout
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .map(|pid| Holder { pid, command: command_of(pid) })
        .collect())
}

fn proc_holders(proc_root: &Path, target: &PathBuf) -> Vec<Holder> {
    let me = std::process::id();
    let mut found = vec![];
    let Ok(entries) = std::fs::read_dir(proc_root) else { return found };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        // Processes of other users are unreadable unless root: skipped, not an error.
        let Ok(fds) = std::fs::read_dir(e.path().join("fd")) else { continue };
        if fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| &l == target)) {
            found.push(Holder { pid, command: command_of(pid) });
        }
    }
    found.sort_by_key(|h| h.pid);
    found
}

fn command_of(pid: u32) -> String {
    if let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        return raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
    }
    crate::process::Cmd::new(&["ps", "-o", "command=", "-p", &pid.to_string()])
        .capture()
        .read_only()
        .unchecked()
        .run()
        .map(|f| f.stdout.trim().to_string())
        .unwrap_or_default()
}

/// Whether process `pid` exists and is not a zombie (0, which `kill` reads as "my process
/// group", is never alive).
#[allow(clippy::disallowed_methods)] // procs owns signals: pid 0 and -1 refused, the guard asks
pub(crate) fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = pid != 0 && unsafe { libc::kill(pid as i32, 0) } == 0;
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
        .unwrap_or(false);
    exists && !zombie
}

/// Stop process `pid` with SIGTERM (QEMU closes its images cleanly on it) and wait up to
/// `timeout` for it to go. Guarded: whatever it held in memory is lost, so a person confirms.
/// Returns `"terminated"`, or `"gone"` when it had already exited.
#[allow(clippy::disallowed_methods)] // procs owns signals: pid 0 and -1 refused, the guard asks
pub(crate) fn terminate(pid: u32, timeout: Duration) -> Result<String> {
    if pid <= 1 || pid == std::process::id() {
        return Err(Error::invalid(
            "process id",
            pid.to_string(),
            "helix will not stop init or itself",
        ));
    }
    if !alive(pid) {
        return Ok("gone".into());
    }
    let command = command_of(pid);
    let action = Action::new("procs.terminate", format!("stop process {pid} (`{command}`)"))
        .args(json!({ "pid": pid, "command": command }))
        .destroys(Target::Vm { name: format!("process {pid} ({command})") });
    guard::act(action, || {
        // SAFETY: kill(2) on a single pid; no memory is touched.
        if unsafe { libc::kill(pid as i32, libc::SIGTERM) } != 0 {
            return Err(Error::StopProcess {
                pid,
                message: std::io::Error::last_os_error().to_string(),
            });
        }
        let deadline = Instant::now() + timeout;
        while alive(pid) {
            if Instant::now() >= deadline {
                return Err(Error::StopProcess {
                    pid,
                    message: format!(
                        "`{command}` is still running {}s after SIGTERM: look at it \
                         (`ps -p {pid}`) before stopping it harder",
                        timeout.as_secs()
                    ),
                });
            }
            crate::wait::sleep(Duration::from_millis(100))?;
        }
        Ok("terminated".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_process_holding_a_file_and_only_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("disk.qcow2");
        std::fs::write(&f, b"x").unwrap();
        let other = dir.path().join("other");
        std::fs::write(&other, b"y").unwrap();
        // A child that holds the file open on its stdin.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .stdin(std::fs::File::open(&f).unwrap())
            .spawn()
            .unwrap();
        let h = holders(&f).unwrap();
        let pids: Vec<u32> = h.iter().map(|h| h.pid).collect();
        assert_eq!(pids, vec![child.id()], "{h:?}");
        assert_eq!(h[0].command, "sleep 30");
        assert!(holders(&other).unwrap().is_empty());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(holders(&f).unwrap().is_empty());
    }

    #[test]
    fn terminate_refuses_init_and_itself_and_reports_a_gone_process() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert_eq!(terminate(pid, Duration::from_secs(1)).unwrap(), "gone");
        assert!(terminate(1, Duration::from_secs(1)).unwrap_err().to_string().contains("init"));
        assert!(terminate(std::process::id(), Duration::from_secs(1)).is_err());
    }
}
