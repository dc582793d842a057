//! The children a run started, by process group: registered while they run, so Ctrl-C or the
//! end of a run stops every one of them ([`terminate_all`]), and the signals that stop a group.
// Spawning, redirecting and signalling child processes happen only in `process` (see clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::collections::HashSet;
use std::process::{Child, ExitStatus};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// SIGTERM the group, give it three seconds, then SIGKILL; reap through the waiter.
pub(super) fn stop_group(pgid: i32, rx: &std::sync::mpsc::Receiver<std::io::Result<ExitStatus>>) {
    signal_group(pgid, libc::SIGTERM);
    if rx.recv_timeout(Duration::from_secs(3)).is_err() {
        signal_group(pgid, libc::SIGKILL);
        let _ = rx.recv_timeout(Duration::from_secs(3));
    } else {
        // The leader is gone; make sure nothing it left in the group lingers.
        signal_group(pgid, libc::SIGKILL);
    }
}

/// The children a run started, by process group: its [`crate::run::Resource`], ended with it.
#[derive(Default)]
pub(super) struct Children(Mutex<HashSet<u32>>);

impl std::ops::Deref for Children {
    type Target = Mutex<HashSet<u32>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl crate::run::Teardown for Children {
    fn teardown(&self) {
        terminate_children(self);
    }
}

impl crate::run::Resource for Children {
    const ORDER: u8 = 2;
}

/// The current run's children.
pub(super) fn children() -> std::sync::Arc<Children> {
    crate::run::current().resource::<Children>()
}

/// SIGTERM the child's process group, give it a moment, then SIGKILL.
pub(super) fn terminate(child: &mut Child) {
    let pgid = child.id() as i32;
    signal_group(pgid, libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            signal_group(pgid, libc::SIGKILL);
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(pgid, libc::SIGKILL);
    let _ = child.wait();
}

fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// Stop every child of the current run still running (Ctrl-C, or the end of a run).
pub(crate) fn terminate_all() {
    terminate_children(&children());
}

fn terminate_children(children: &Children) {
    let pids: Vec<u32> = children.lock().unwrap().iter().copied().collect();
    for pid in pids {
        signal_group(pid as i32, libc::SIGTERM);
    }
}
