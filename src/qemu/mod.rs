//! Headless QEMU VMs: a [`VmSpec`] (`spec`) becomes a `qemu-system-*` command line (`argv`:
//! accelerator, machine, firmware, direct kernel boot, drives, user networking with forwards
//! bound to 127.0.0.1, MAC, SMBIOS, serial log, QMP socket); [`start`] (`vm`) returns a [`Vm`]
//! handle that powers the guest down through QMP (`qmp`: ACPI, then `quit`, then a kill) and is
//! killed when the last handle is dropped, when [`kill_all`] runs at the end of a run, or on
//! Ctrl-C — unless detached. The map `qemu::start` takes is declared in `options`. Each
//! run's registry of its VMs ([`crate::run::Resource`]) is here.

mod argv;
pub(crate) mod options;
pub(crate) mod qmp;
mod spec;
mod vm;

use std::sync::{Arc, Mutex, Weak};

pub(crate) use argv::accelerator;
pub(crate) use options::VmOptions;
pub use spec::{Drive, Firmware, Forward, VmSpec, host_arch, vars_template_for};
pub use vm::{Vm, powerdown_detached, start};

use vm::State;

/// The VMs a run started: its [`crate::run::Resource`], killed with it unless detached.
#[derive(Default)]
struct Vms(Mutex<Vec<Weak<Mutex<State>>>>);

impl std::ops::Deref for Vms {
    type Target = Mutex<Vec<Weak<Mutex<State>>>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl crate::run::Teardown for Vms {
    fn teardown(&self) {
        kill(self);
    }
}

impl crate::run::Resource for Vms {
    const ORDER: u8 = 1;
}

/// The current run's VMs.
fn registry() -> Arc<Vms> {
    crate::run::current().resource::<Vms>()
}

#[cfg(test)]
/// Kill every VM the current run started and did not detach (the end of a run, an error,
/// Ctrl-C). Returns how many were still running.
pub(crate) fn kill_all() -> usize {
    kill(&registry())
}

fn kill(vms: &Vms) -> usize {
    let all: Vec<Arc<Mutex<State>>> =
        vms.lock().unwrap().drain(..).filter_map(|w| w.upgrade()).collect();
    let mut n = 0;
    for s in all {
        let mut st = s.lock().unwrap_or_else(|p| p.into_inner());
        if !st.detached
            && let Some(mut bg) = st.bg.take()
        {
            if bg.is_running() {
                n += 1;
            }
            bg.kill();
        }
    }
    n
}
