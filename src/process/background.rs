//! Long-running children that outlive one call (a VM, an sshd for tests): started through the
//! guard, registered with the run's children, killed with their group when dropped.
// Spawning, redirecting and signalling child processes happen only in `process` (see clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::Cmd;
use super::children::{children, terminate};
use crate::error::{Error, Result};
use crate::guard;

/// A long-running child that outlives one call (a VM, an sshd for tests): spawned here so this
/// stays the one place that spawns, killed with its group when dropped unless detached.
pub(crate) struct Background {
    child: Option<Child>,
    detached: bool,
}

impl Background {
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }
    /// Wait up to `timeout` for the process to exit by itself.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            children().lock().unwrap().remove(&c.id());
            terminate(&mut c);
        }
    }
    /// Let the process outlive helix.
    pub(crate) fn detach(mut self) -> u32 {
        self.detached = true;
        let pid = self.pid();
        if let Some(c) = self.child.take() {
            children().lock().unwrap().remove(&c.id());
        }
        pid
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if !self.detached {
            self.kill();
        }
    }
}

impl Cmd {
    /// Start the command in the background (stdout/stderr to `log`, or null), through the guard.
    pub(crate) fn spawn_background(&self, log: Option<&std::path::Path>) -> Result<Background> {
        let shown = self.display();
        let mut action = self.action();
        action.kind = "process.spawn";
        action.detail = format!("start `{shown}`");
        guard::act(action, || {
            let mut cmd = self.confined();
            cmd.envs(&self.env).stdin(Stdio::null());
            match log {
                Some(p) => {
                    let f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|e| Error::write(p, e))?;
                    let f2 = f.try_clone().map_err(|e| Error::write(p, e))?;
                    cmd.stdout(f).stderr(f2);
                }
                None => {
                    cmd.stdout(Stdio::null()).stderr(Stdio::null());
                }
            }
            std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
            let child =
                cmd.spawn().map_err(|e| Error::Spawn { command: shown.clone(), source: e })?;
            children().lock().unwrap().insert(child.id());
            Ok(Some(Background { child: Some(child), detached: false }))
        })
        .and_then(|b: Option<Background>| {
            b.ok_or_else(|| Error::NotStarted { command: shown.clone() })
        })
    }
}
