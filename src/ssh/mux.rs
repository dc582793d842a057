//! One multiplexed master connection per target (`ControlMaster=auto`): the run's private
//! socket directory, the registry of masters this run may have opened, and closing them
//! ([`close_all`]) at the end of the run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::Target;
use crate::error::{Error, Result};
use crate::process::Cmd;

/// An idle master connection exits after this long (so a crash never leaves one for long).
pub(super) const CONTROL_PERSIST_SECS: u64 = 60;

impl Target {
    /// The master connection's socket: short (macOS allows 104 bytes), private, one per target.
    pub fn control_path(&self) -> Result<PathBuf> {
        // 8 bytes of the SHA-256: 16 hex digits.
        let name = &crate::fs::sha256_hex(self.to_string().as_bytes())[..16];
        Ok(control_dir()?.join(name))
    }
}

/// The run's private directory for master sockets (mode 0700, under `/tmp` to stay short).
fn control_dir() -> Result<PathBuf> {
    let dir = masters()
        .control_dir
        .get_or_init(make_control_dir)
        .clone()
        .map_err(Error::SshControlDir)?;
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
pub(super) fn masters() -> std::sync::Arc<Masters> {
    crate::run::current().resource::<Masters>()
}

/// A run's SSH master connections (control path → target) and the private directory of their
/// sockets: its [`crate::run::Resource`], closed and removed with it.
#[derive(Default)]
pub(super) struct Masters {
    map: Mutex<BTreeMap<PathBuf, Target>>,
    control_dir: OnceLock<std::result::Result<PathBuf, String>>,
}

impl std::ops::Deref for Masters {
    type Target = Mutex<BTreeMap<PathBuf, Target>>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl crate::run::Teardown for Masters {
    fn teardown(&self) {
        close_masters(self);
    }
}

impl crate::run::Resource for Masters {
    const ORDER: u8 = 3;
}

/// How a connection is made: through the run's master (the default) or a fresh one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mux {
    Master,
    None,
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
    close_masters(&masters());
}

#[allow(clippy::disallowed_methods)] // the private 0700 ControlPath dir of this run's SSH masters
fn close_masters(masters: &Masters) {
    let all: Vec<(PathBuf, Target)> =
        std::mem::take(&mut *masters.lock().unwrap()).into_iter().collect();
    for (cp, t) in &all {
        close_master(cp, t);
    }
    if let Some(Ok(dir)) = masters.control_dir.get() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
