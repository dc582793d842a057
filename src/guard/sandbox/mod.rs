//! The OS layer of rule 1: every child process helix spawns runs with the protected paths
//! write-denied by the operating system, so code the classifier cannot see — an interpreter's
//! inline code, a script file, a Makefile — cannot destroy them either.
//!
//! - **Linux** ([`linux`]): the child gets a private mount namespace (set up between `fork`
//!   and `exec`) in which every protected tree is a read-only bind mount, and every ancestor of
//!   one — plus the home directory and the system roots — is a bind mount of itself, so
//!   `rename(2)` or `rmdir(2)` of it fails with `EBUSY`. As root the namespace is created
//!   directly and the child loses `CAP_SYS_ADMIN` (it cannot unmount its way out); otherwise
//!   through a user namespace mapping only the user's own ids (the child keeps no capability
//!   after `exec`).
//! - **macOS** ([`macos`]): the child runs under `sandbox-exec -p PROFILE` with a Seatbelt
//!   profile that allows everything except `file-write*` under each protected tree and
//!   `file-write-unlink` (which covers rename) of each pinned path. Paths are passed as `-D`
//!   parameters, never spliced into the profile text.
//!
//! What is protected this way is fixed when the command starts ([`Plan::for_command`]): the
//! `guard.protected` entries (globs expanded to what exists), the name rules (`*.backup*`,
//! `*.safe`) for what exists within two levels of the places a run works in, and registered VM
//! disks (pinned only: a running VM must write its disk). Where the layer cannot be set up helix
//! says so once per run and the classifier alone stands guard ([`state`]).

use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use crate::config::Config;

use super::protect;

/// What one child may not destroy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// Trees the child may not write to at all (canonical, existing).
    pub read_only: Vec<PathBuf>,
    /// Paths the child may not remove or rename (their contents stay writable): ancestors of
    /// the read-only trees, the home directory, the system roots, registered VM disks.
    pub pinned: Vec<PathBuf>,
}

/// How deep below each place a run works in the name rules are looked for.
const SCAN_DEPTH: usize = 2;
/// At most this many directory entries are read below each place (a huge home cannot use up
/// the look at the command's own directory).
const SCAN_LIMIT: usize = 5_000;

impl Plan {
    /// The plan for a child about to run `argv` in `cwd` under `config`.
    pub fn for_command(config: &Config, cwd: Option<&Path>, argv: &[String]) -> Plan {
        let mut read_only = vec![];
        let mut pinned = vec![];
        // The user's list: paths, and globs expanded to what exists now.
        for entry in config.protected() {
            let expanded = crate::paths::expand(&entry);
            if entry.contains(['*', '?', '[']) {
                if let Ok(paths) = glob::glob(&expanded.to_string_lossy()) {
                    read_only.extend(paths.flatten());
                }
            } else {
                read_only.push(expanded);
            }
        }
        for (p, _) in protect::registered() {
            pinned.push(p);
        }
        let home = crate::paths::home();
        pinned.push(home.clone());
        pinned.extend(protect::SYSTEM_ROOTS.iter().map(PathBuf::from));
        // The name rules, where this run works — most specific first: every path the
        // command's arguments name (and its directory), the command's directory, the configured
        // paths, home, the volumes.
        let base = cwd.map(Path::to_path_buf).or_else(|| std::env::current_dir().ok());
        let mut places = vec![];
        for word in argv.iter().flat_map(|a| words(a)) {
            let p = crate::paths::expand(word);
            let p = match &base {
                Some(b) if p.is_relative() => b.join(p),
                _ => p,
            };
            // Its own components count even if it does not exist (yet); its directory is
            // looked through when it does.
            if let Some(parent) = p.parent().filter(|d| d.is_dir()) {
                places.push(parent.to_path_buf());
            }
            places.push(p);
        }
        if let Some(b) = &base {
            places.push(b.clone());
        }
        for key in ["paths", "vm"] {
            if let Some(t) = config.get(key).and_then(|v| v.as_table()) {
                places.extend(t.values().filter_map(|v| v.as_str()).map(crate::paths::expand));
            }
        }
        places.push(home);
        if let Ok(rd) = std::fs::read_dir("/Volumes") {
            places.extend(rd.flatten().map(|e| e.path()));
        }
        // A simulated Mac (`HELIX_MAC_ROOT`, tests): its root, system roots and volumes too.
        if let Some(root) = crate::paths::mac_root() {
            pinned.push(root.clone());
            pinned
                .extend(protect::SYSTEM_ROOTS.iter().map(|r| root.join(r.trim_start_matches('/'))));
            if let Ok(rd) = std::fs::read_dir(root.join("Volumes")) {
                let volumes: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
                pinned.extend(volumes.iter().cloned());
                places.extend(volumes);
            }
        }
        read_only.extend(name_matches(&places));
        Plan::new(read_only, pinned)
    }

    /// Normalise: resolved, existing, no tree inside another, every ancestor of a read-only
    /// tree pinned, nothing pinned inside a read-only tree; sorted shallowest first (the order
    /// the mounts must be made in).
    pub(crate) fn new(read_only: Vec<PathBuf>, pinned: Vec<PathBuf>) -> Plan {
        let real = |p: &PathBuf| p.canonicalize().ok();
        let mut ro: Vec<PathBuf> = read_only.iter().filter_map(real).collect();
        ro.sort();
        ro.dedup();
        let ro: Vec<PathBuf> = ro
            .iter()
            .filter(|p| !ro.iter().any(|q| q != *p && p.starts_with(q)))
            .cloned()
            .collect();
        let mut pin: Vec<PathBuf> = pinned.iter().filter_map(real).collect();
        for p in &ro {
            pin.extend(p.ancestors().skip(1).map(Path::to_path_buf));
        }
        pin.retain(|p| p != Path::new("/") && !ro.iter().any(|r| p.starts_with(r)));
        pin.sort();
        pin.dedup();
        let depth = |p: &PathBuf| p.components().count();
        pin.sort_by_key(depth);
        let mut ro = ro;
        ro.sort_by_key(depth);
        Plan { read_only: ro, pinned: pin }
    }

    /// Every path, shallowest first, with whether it is read-only (else pinned): the order in
    /// which bind mounts must be made so that no later mount hides an earlier one.
    #[cfg(any(target_os = "linux", test))]
    pub(crate) fn mounts(&self) -> Vec<(&Path, bool)> {
        let mut all: Vec<(&Path, bool)> = self
            .pinned
            .iter()
            .map(|p| (p.as_path(), false))
            .chain(self.read_only.iter().map(|p| (p.as_path(), true)))
            .collect();
        all.sort_by_key(|(p, ro)| (p.components().count(), *ro));
        all
    }
}

/// The path-like words of an argument (a shell string names its paths among other words).
fn words(arg: &str) -> impl Iterator<Item = &str> {
    arg.split(|c: char| c.is_whitespace() || ";|&()<>=\"'`,".contains(c)).filter(|w| {
        w.starts_with('/') || w.starts_with('~') || w.starts_with('.') || w.contains('/')
    })
}

/// What matches the name rules at or below `places` (down to [`SCAN_DEPTH`] levels), and the
/// components of the places themselves that do.
fn name_matches(places: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = vec![];
    let mut done = std::collections::HashSet::new();
    for place in places {
        if !done.insert(place) {
            continue;
        }
        let mut seen = 0usize;
        let mut prefix = PathBuf::new();
        for c in place.components() {
            prefix.push(c);
            if let Component::Normal(n) = c
                && protect::name_rule(&n.to_string_lossy()).is_some()
            {
                found.push(prefix.clone());
                break;
            }
        }
        let mut stack = vec![(place.clone(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            if depth >= SCAN_DEPTH {
                continue;
            }
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            for e in rd.flatten() {
                seen += 1;
                if seen > SCAN_LIMIT {
                    stack.clear();
                    break;
                }
                if protect::name_rule(&e.file_name().to_string_lossy()).is_some() {
                    found.push(e.path());
                } else if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push((e.path(), depth + 1));
                }
            }
        }
    }
    found
}

/// Which OS mechanism confines helix's children here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Linux, as root: a private mount namespace.
    MountNamespace,
    /// Linux, not root: a user namespace with a private mount namespace.
    UserNamespace,
    /// macOS: `sandbox-exec` with a Seatbelt profile.
    Seatbelt,
}

/// Whether the OS layer works on this machine (probed once per process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Active(Layer),
    /// It cannot be set up; why, in helix's words.
    Unavailable(String),
}

impl State {
    /// One line for `doctor` and the warning.
    pub fn describe(&self) -> String {
        match self {
            State::Active(Layer::MountNamespace) => {
                "active: each command runs in a private mount namespace with protected paths read-only".into()
            }
            State::Active(Layer::UserNamespace) => {
                "active: each command runs in a user + mount namespace with protected paths read-only (commands run through sudo are not confined)".into()
            }
            State::Active(Layer::Seatbelt) => {
                "active: each command runs under sandbox-exec with protected paths write-denied".into()
            }
            State::Unavailable(why) => format!("unavailable: {why}"),
        }
    }
}

/// Runs a fixed argv and says whether it succeeded: how the layer is tried on macOS, given by
/// the process module (the guard spawns nothing itself).
pub(crate) type TryRun = fn(&[&str]) -> bool;

/// The OS layer's state on this machine, probed on first use.
pub fn state(try_run: TryRun) -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| probe(try_run))
}

/// Say once per run that a command runs without the OS layer, and why.
fn warn_once(why: &str) {
    if crate::run::current().first_time("the OS layer is not in force") {
        crate::ui::warn(&format!(
            "the OS layer that write-protects protected paths for commands is not in force: {why}; \
             helix's own checks still refuse what they can see (`helix run doctor` shows this)"
        ))
    }
}

/// A command ready to spawn: the argv to execute (on macOS wrapped in `sandbox-exec`) and, on
/// Linux, the hook to run in the child between `fork` and `exec`.
pub struct Confined {
    pub argv: Vec<String>,
    pub hook: Option<Hook>,
}

/// Confine `argv` (the argv really executed, with `sudo` in front when it was asked for) that
/// will run in `cwd`. When the OS layer is unavailable it is returned unchanged, with a
/// warning once per run.
pub fn confine(argv: Vec<String>, cwd: Option<&Path>, try_run: TryRun) -> Confined {
    let layer = match state(try_run) {
        State::Active(l) => *l,
        State::Unavailable(why) => {
            warn_once(why);
            return Confined { argv, hook: None };
        }
    };
    let via_sudo = argv.first().is_some_and(|a| a == "sudo");
    if via_sudo && layer == Layer::UserNamespace {
        warn_once("helix is not root, and a user namespace cannot run sudo");
        return Confined { argv, hook: None };
    }
    let plan = Plan::for_command(&crate::run::current().config, cwd, &argv);
    match layer {
        Layer::Seatbelt => Confined { argv: seatbelt_argv(&plan, argv), hook: None },
        Layer::MountNamespace | Layer::UserNamespace => {
            let dir = cwd.map(crate::paths::absolute).or_else(|| std::env::current_dir().ok());
            let hook = Hook::new(&plan, layer == Layer::UserNamespace, dir.as_deref());
            Confined { argv, hook: Some(hook) }
        }
    }
}

#[cfg(not(any(target_os = "macos", target_os = "linux")))]
fn probe(_: TryRun) -> State {
    State::Unavailable("this operating system has no OS layer in helix".into())
}

#[cfg(not(target_os = "linux"))]
pub struct Hook;

#[cfg(not(target_os = "linux"))]
impl Hook {
    fn new(_: &Plan, _: bool, _: Option<&Path>) -> Hook {
        Hook
    }
    pub fn apply(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(target_os = "linux")]
pub(crate) use linux::Hook;
#[cfg(target_os = "linux")]
use linux::probe;

#[cfg(target_os = "linux")]
#[allow(clippy::disallowed_methods)] // the probe forks (and never execs) to try a namespace
mod linux;
mod macos;

#[cfg(target_os = "macos")]
use macos::probe;
pub(crate) use macos::seatbelt_argv;

#[cfg(test)]
mod tests;
