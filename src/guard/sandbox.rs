//! The OS layer of rule 1: every child process helix spawns runs with the protected paths
//! write-denied by the operating system, so code the classifier cannot see — an interpreter's
//! inline code, a script file, a Makefile — cannot destroy them either.
//!
//! - **Linux**: the child gets a private mount namespace (set up between `fork` and `exec`) in
//!   which every protected tree is a read-only bind mount, and every ancestor of one — plus the
//!   home directory and the system roots — is a bind mount of itself, so `rename(2)` or
//!   `rmdir(2)` of it fails with `EBUSY`. As root the namespace is created directly and the
//!   child loses `CAP_SYS_ADMIN` (it cannot unmount its way out); otherwise through a user
//!   namespace mapping only the user's own ids (the child keeps no capability after `exec`).
//! - **macOS**: the child runs under `sandbox-exec -p PROFILE` with a Seatbelt profile that
//!   allows everything except `file-write*` under each protected tree and `file-write-unlink`
//!   (which covers rename) of each pinned path. Paths are passed as `-D` parameters, never
//!   spliced into the profile text.
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
    pub fn new(read_only: Vec<PathBuf>, pinned: Vec<PathBuf>) -> Plan {
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
    pub fn mounts(&self) -> Vec<(&Path, bool)> {
        let mut all: Vec<(&Path, bool)> = self
            .pinned
            .iter()
            .map(|p| (p.as_path(), false))
            .chain(self.read_only.iter().map(|p| (p.as_path(), true)))
            .collect();
        all.sort_by_key(|(p, ro)| (p.components().count(), *ro));
        all
    }

    /// The Seatbelt profile for `sandbox-exec -p` and its `-D KEY=VALUE` parameters.
    pub fn seatbelt(&self) -> (String, Vec<String>) {
        let mut profile = String::from(
            "(version 1)\n(allow default)\n\
             ; helix: protected trees are write-denied; pinned paths cannot be removed or renamed\n",
        );
        let mut params = vec![];
        for (i, p) in self.read_only.iter().enumerate() {
            profile.push_str(&format!("(deny file-write* (subpath (param \"RO{i}\")))\n"));
            params.push(format!("RO{i}={}", p.display()));
        }
        for (i, p) in self.pinned.iter().enumerate() {
            profile.push_str(&format!("(deny file-write-unlink (literal (param \"PIN{i}\")))\n"));
            params.push(format!("PIN{i}={}", p.display()));
        }
        (profile, params)
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
pub type TryRun = fn(&[&str]) -> bool;

/// The OS layer's state on this machine, probed on first use.
pub fn state(try_run: TryRun) -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| probe(try_run))
}

/// Say once per run that a command runs without the OS layer, and why.
fn warn_once(why: &str) {
    if crate::ctx::get().first_time("the OS layer is not in force") {
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
    let plan = Plan::for_command(&crate::ctx::get().config, cwd, &argv);
    match layer {
        Layer::Seatbelt => Confined { argv: seatbelt_argv(&plan, argv), hook: None },
        Layer::MountNamespace | Layer::UserNamespace => {
            let dir = cwd.map(crate::paths::absolute).or_else(|| std::env::current_dir().ok());
            let hook = Hook::new(&plan, layer == Layer::UserNamespace, dir.as_deref());
            Confined { argv, hook: Some(hook) }
        }
    }
}

const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// `argv` run under `sandbox-exec` with the plan's profile; after `sudo [-n]` when present, so
/// sudo itself runs outside and the privileged command inside.
pub fn seatbelt_argv(plan: &Plan, argv: Vec<String>) -> Vec<String> {
    let (profile, params) = plan.seatbelt();
    let split = if argv.first().is_some_and(|a| a == "sudo") {
        1 + argv[1..].iter().take_while(|a| a.starts_with('-')).count()
    } else {
        0
    };
    let mut out: Vec<String> = argv[..split].to_vec();
    out.push(SANDBOX_EXEC.into());
    for p in params {
        out.push("-D".into());
        out.push(p);
    }
    out.push("-p".into());
    out.push(profile);
    out.extend(argv[split..].iter().cloned());
    out
}

#[cfg(target_os = "macos")]
fn probe(try_run: TryRun) -> State {
    if !Path::new(SANDBOX_EXEC).exists() {
        return State::Unavailable(format!("{SANDBOX_EXEC} is missing"));
    }
    // A sandboxed helix (inside an agent's sandbox) cannot apply another profile: try one.
    if try_run(&[SANDBOX_EXEC, "-p", "(version 1)(allow default)", "/usr/bin/true"]) {
        State::Active(Layer::Seatbelt)
    } else {
        State::Unavailable(
            "sandbox-exec cannot apply a profile here (is helix itself sandboxed?)".into(),
        )
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
pub use linux::Hook;
#[cfg(target_os = "linux")]
use linux::probe;

#[cfg(target_os = "linux")]
#[allow(clippy::disallowed_methods)] // the probe forks (and never execs) to try a namespace
mod linux {
    use super::*;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    const CAP_SYS_ADMIN: libc::c_ulong = 21;

    /// Everything the child does between `fork` and `exec`, prepared beforehand: after `fork`
    /// only async-signal-safe system calls run (no allocation, no lock).
    pub struct Hook {
        user_ns: bool,
        /// `(path, read-only)`, shallowest first.
        mounts: Vec<(CString, bool)>,
        uid_map: Vec<u8>,
        gid_map: Vec<u8>,
        /// The child's working directory, entered again once the mounts are made: the one
        /// entered before them is the directory *under* any mount made on it or above it, and
        /// relative paths from there would bypass the read-only mounts.
        cwd: Option<CString>,
    }

    impl Hook {
        pub(super) fn new(plan: &Plan, user_ns: bool, cwd: Option<&Path>) -> Hook {
            // SAFETY: getuid/getgid have no preconditions.
            let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
            Hook {
                user_ns,
                mounts: plan
                    .mounts()
                    .into_iter()
                    .filter_map(|(p, ro)| {
                        CString::new(p.as_os_str().as_bytes()).ok().map(|c| (c, ro))
                    })
                    .collect(),
                uid_map: format!("{uid} {uid} 1").into_bytes(),
                gid_map: format!("{gid} {gid} 1").into_bytes(),
                cwd: cwd.and_then(|d| CString::new(d.as_os_str().as_bytes()).ok()),
            }
        }

        /// Enter the namespace and make the mounts. Runs in the child after `fork`.
        pub fn apply(&self) -> std::io::Result<()> {
            enter(self.user_ns, &self.uid_map, &self.gid_map)?;
            for (path, ro) in &self.mounts {
                // SAFETY: valid C strings; mount(2) touches no memory of ours beyond them.
                let rc = unsafe {
                    libc::mount(
                        path.as_ptr(),
                        path.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    )
                };
                if rc != 0 {
                    let e = std::io::Error::last_os_error();
                    // Gone since the plan was made: nothing left to protect there.
                    if e.raw_os_error() == Some(libc::ENOENT) {
                        continue;
                    }
                    return Err(say(path, e));
                }
                if *ro {
                    remount_read_only(path).map_err(|e| say(path, e))?;
                }
            }
            if let Some(dir) = &self.cwd {
                // SAFETY: chdir on a valid C string.
                if unsafe { libc::chdir(dir.as_ptr()) } != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if !self.user_ns {
                // Root keeps its powers except the one that could undo these mounts.
                // SAFETY: prctl with integer arguments.
                if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) } != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        }
    }

    /// Tell the person which path could not be protected (written straight to fd 2: no
    /// allocation after fork), and pass the error on so the command does not run.
    fn say(path: &CString, e: std::io::Error) -> std::io::Error {
        let parts: [&[u8]; 3] = [
            b"helix: could not write-protect `",
            path.as_bytes(),
            b"` for this command; it was not started\n",
        ];
        for p in parts {
            // SAFETY: writing a valid buffer to fd 2.
            unsafe { libc::write(2, p.as_ptr().cast(), p.len()) };
        }
        e
    }

    fn remount_read_only(path: &CString) -> std::io::Result<()> {
        // Keep the flags the mount already has (a user namespace may not drop them).
        // SAFETY: statvfs fills a zeroed out-parameter for a valid C string (glibc takes the
        // flags from the statfs system call; the kernel has reported them since 2.6.36).
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let f = st.f_flag as libc::c_ulong;
        let mut keep = 0;
        for (st_flag, ms_flag) in [
            (libc::ST_NOSUID, libc::MS_NOSUID),
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if f & st_flag as libc::c_ulong != 0 {
                keep |= ms_flag;
            }
        }
        // SAFETY: as above.
        let rc = unsafe {
            libc::mount(
                std::ptr::null(),
                path.as_ptr(),
                std::ptr::null(),
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | keep,
                std::ptr::null(),
            )
        };
        if rc != 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Enter a private mount namespace (through a user namespace when not root).
    fn enter(user_ns: bool, uid_map: &[u8], gid_map: &[u8]) -> std::io::Result<()> {
        let last = std::io::Error::last_os_error;
        // SAFETY: unshare/mount with constant arguments.
        unsafe {
            if user_ns {
                if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) != 0 {
                    return Err(last());
                }
                write_file(c"/proc/self/setgroups", b"deny")?;
                write_file(c"/proc/self/uid_map", uid_map)?;
                write_file(c"/proc/self/gid_map", gid_map)?;
            } else if libc::unshare(libc::CLONE_NEWNS) != 0 {
                return Err(last());
            }
            let root = c"/";
            if libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                return Err(last());
            }
        }
        Ok(())
    }

    fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> std::io::Result<()> {
        // SAFETY: open/write/close on a valid C string and buffer.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            if n != bytes.len() as isize {
                return Err(e);
            }
        }
        Ok(())
    }

    pub(super) fn probe(_: TryRun) -> State {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let hook = Hook::new(&Plan::default(), !root, None);
        // Try it in a throwaway child: fork, enter, _exit with the outcome; never exec.
        // SAFETY: the child only calls async-signal-safe functions (system calls, _exit).
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return State::Unavailable(format!(
                "could not fork to try it: {}",
                std::io::Error::last_os_error()
            ));
        }
        if pid == 0 {
            let code = match hook.apply() {
                Ok(()) => 0,
                Err(e) => e.raw_os_error().unwrap_or(255).clamp(1, 255),
            };
            // SAFETY: end the forked child without running anything of the parent's.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        loop {
            // SAFETY: waiting for our own child.
            let r = unsafe { libc::waitpid(pid, &mut status, 0) };
            if r == pid {
                break;
            }
            if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return State::Unavailable("could not wait for the trial child".into());
            }
        }
        if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
            return State::Active(if root { Layer::MountNamespace } else { Layer::UserNamespace });
        }
        let errno = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 0 };
        let how = if root { "a private mount namespace" } else { "a user namespace" };
        State::Unavailable(format!(
            "the kernel refused {how} ({})",
            std::io::Error::from_raw_os_error(errno)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_are_pinned_and_order_is_shallowest_first() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path().join("vms/a.backup");
        std::fs::create_dir_all(b.join("inner")).unwrap();
        let plan = Plan::new(vec![b.clone(), b.join("inner"), d.path().join("missing")], vec![]);
        let b = b.canonicalize().unwrap();
        assert_eq!(plan.read_only, vec![b.clone()], "nested and missing entries are dropped");
        let vms = b.parent().unwrap().to_path_buf();
        assert!(plan.pinned.contains(&vms) && plan.pinned.contains(&vms.parent().unwrap().into()));
        assert!(!plan.pinned.contains(&PathBuf::from("/")));
        let order: Vec<usize> = plan.mounts().iter().map(|(p, _)| p.components().count()).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        assert_eq!(plan.mounts().last().unwrap(), &(b.as_path(), true));
    }

    #[test]
    fn nothing_is_pinned_inside_a_read_only_tree() {
        let d = tempfile::tempdir().unwrap();
        let b = d.path().join("x.safe");
        std::fs::create_dir_all(b.join("y")).unwrap();
        let plan = Plan::new(vec![b.clone()], vec![b.join("y")]);
        assert!(plan.pinned.iter().all(|p| !p.starts_with(b.canonicalize().unwrap())));
    }

    #[test]
    fn the_plan_finds_name_rules_near_the_command_and_config_globs() {
        let d = tempfile::tempdir().unwrap();
        let work = d.path().join("work");
        std::fs::create_dir_all(work.join("sub/old.backup.2")).unwrap();
        std::fs::create_dir_all(d.path().join("far/a/b/c/deep.safe")).unwrap();
        std::fs::write(d.path().join("disk1.qcow2"), "x").unwrap();
        let f = d.path().join("helix.toml");
        std::fs::write(&f, format!("[guard]\nprotected = [\"{}/*.qcow2\"]\n", d.path().display()))
            .unwrap();
        let mut c = Config::default();
        c.merge_file(&f).unwrap();
        let argv = vec!["sh".to_string(), "-c".into(), format!("rm -rf {}/x", work.display())];
        let plan = Plan::for_command(&c, Some(&work), &argv);
        let real = |p: PathBuf| p.canonicalize().unwrap();
        assert!(plan.read_only.contains(&real(work.join("sub/old.backup.2"))), "{plan:?}");
        assert!(plan.read_only.contains(&real(d.path().join("disk1.qcow2"))), "{plan:?}");
        assert!(
            !plan.read_only.iter().any(|p| p.ends_with("deep.safe")),
            "beyond the scan depth of every place"
        );
        // Named in the argv: found however deep.
        let deep = d.path().join("far/a/b/c/deep.safe");
        let argv = vec!["rm".to_string(), "-rf".into(), deep.join("file").display().to_string()];
        let plan = Plan::for_command(&c, Some(&work), &argv);
        assert!(plan.read_only.contains(&real(deep)), "{plan:?}");
    }

    #[test]
    fn a_huge_place_does_not_hide_a_later_one() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..SCAN_LIMIT + 100 {
            std::fs::write(d.path().join(format!("f{i:05}")), "").unwrap();
        }
        let w = tempfile::tempdir().unwrap();
        let work = w.path().join("work");
        std::fs::create_dir_all(work.join("vm.backup")).unwrap();
        // The first place uses up its budget; the second is still looked through.
        let found = name_matches(&[d.path().to_path_buf(), work.clone()]);
        assert_eq!(found, vec![work.join("vm.backup")]);
    }

    #[test]
    fn seatbelt_profile_denies_writes_and_unlinks_through_parameters() {
        let plan = Plan {
            read_only: vec![PathBuf::from("/Volumes/Big/vm \"x\".backup")],
            pinned: vec![PathBuf::from("/Volumes/Big"), PathBuf::from("/Users/me")],
        };
        let (profile, params) = plan.seatbelt();
        assert!(profile.starts_with("(version 1)\n(allow default)\n"), "{profile}");
        assert!(profile.contains("(deny file-write* (subpath (param \"RO0\")))"), "{profile}");
        assert!(profile.contains("(deny file-write-unlink (literal (param \"PIN1\")))"));
        assert!(!profile.contains("Volumes"), "paths are parameters, never profile text");
        assert_eq!(
            params,
            vec!["RO0=/Volumes/Big/vm \"x\".backup", "PIN0=/Volumes/Big", "PIN1=/Users/me"]
        );
        // Balanced parentheses: the profile is one well-formed expression per line.
        for line in profile.lines().filter(|l| !l.starts_with(';')) {
            let open = line.matches('(').count();
            assert_eq!(open, line.matches(')').count(), "{line}");
        }
    }

    #[test]
    fn seatbelt_goes_after_sudo() {
        let plan = Plan { read_only: vec![PathBuf::from("/p")], pinned: vec![] };
        let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let out = seatbelt_argv(&plan, argv(&["sudo", "-n", "rm", "-rf", "/x"]));
        assert_eq!(&out[..3], &argv(&["sudo", "-n", SANDBOX_EXEC])[..]);
        assert_eq!(&out[3..5], &argv(&["-D", "RO0=/p"])[..]);
        assert_eq!(out[5], "-p");
        assert_eq!(&out[7..], &argv(&["rm", "-rf", "/x"])[..]);
        let out = seatbelt_argv(&plan, argv(&["python3", "-c", "x"]));
        assert_eq!(out[0], SANDBOX_EXEC);
        assert_eq!(&out[out.len() - 3..], &argv(&["python3", "-c", "x"])[..]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_machine_has_the_layer() {
        // CI runs as root on Debian: the mount namespace must be there.
        let s = state(|_| false);
        assert!(matches!(s, State::Active(_)), "{}", s.describe());
    }

    /// The real thing on macOS: a protected tree survives `rm -rf`, writes and a move of its
    /// parent under `sandbox-exec` with the generated profile; a sibling does not.
    #[cfg(target_os = "macos")]
    #[test]
    fn seatbelt_profile_holds_under_sandbox_exec() {
        let d = tempfile::tempdir().unwrap();
        let base = d.path().canonicalize().unwrap();
        let p = base.join("vms/vm.backup");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("disk"), "keep").unwrap();
        std::fs::write(base.join("vms/sibling"), "x").unwrap();
        let plan = Plan::new(vec![p.clone()], vec![]);
        let sh = |script: &str| {
            let argv = seatbelt_argv(&plan, vec!["sh".into(), "-c".into(), script.into()]);
            std::process::Command::new(&argv[0]).args(&argv[1..]).output().unwrap()
        };
        let q = p.display();
        let vms = base.join("vms");
        sh(&format!(
            "rm -rf '{q}'; echo x > '{q}/disk'; mv '{}' '{}/moved'",
            vms.display(),
            base.display()
        ));
        sh(&format!("python3 -c \"import shutil; shutil.rmtree('{q}')\""));
        assert_eq!(std::fs::read_to_string(p.join("disk")).unwrap(), "keep");
        sh(&format!("rm '{}/vms/sibling'", base.display()));
        assert!(!base.join("vms/sibling").exists(), "the layer is not a blanket");
    }
}
