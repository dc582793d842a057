//! The Linux layer: a private mount namespace set up in the child between `fork` and `exec`,
//! every protected tree a read-only bind mount and every ancestor of one pinned (a bind mount
//! of itself, so `rename(2)`/`rmdir(2)` fail with `EBUSY`); directly as root, else inside a
//! user namespace mapping only the user's own ids. [`probe`] tries it once per process.

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
                .filter_map(|(p, ro)| CString::new(p.as_os_str().as_bytes()).ok().map(|c| (c, ro)))
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
