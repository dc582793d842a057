//! `qemu::` — headless VMs. `qemu::start(#{...})` returns a `Vm` handle; the VM is killed when
//! the recipe ends (or fails, or is interrupted) unless `vm.detach()` is called.

use rhai::plugin::*;

use crate::error::{Error, Result};
use crate::qemu::{self, Vm, VmOptions, VmSpec};

pub fn module() -> rhai::Module {
    exported_module!(qemu_api)
}

fn spec(config: &rhai::Map) -> Result<VmSpec> {
    crate::api::options::decode::<VmOptions>(config, "qemu::start")?.spec()
}

fn secs(t: i64) -> std::time::Duration {
    std::time::Duration::from_secs(t.max(0) as u64)
}

fn port(p: i64) -> Result<u16> {
    u16::try_from(p)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::invalid("port", p.to_string(), "expected 1-65535"))
}

#[export_module]
mod qemu_api {
    use super::*;
    use crate::error::{RhaiResult, rhai as r};

    #[allow(dead_code)]
    pub type VM = Vm;

    /// Start a headless VM and return its handle once QEMU answers on its QMP socket. Keys:
    /// `name`, `arch` (`x86_64`/`aarch64`, default: the host's), `binary`, `accel` (`auto`
    /// (default: hvf on macOS, else tcg; kvm only when asked), `tcg`, `kvm`, `hvf`),
    /// `machine`, `cpu`, `smp`, `memory` (MiB or `"8G"`), `firmware` (`#{ code, vars,
    /// vars_template }`, code attached read-only), `kernel`/`initrd`/`append` (direct boot),
    /// `drives` (`[#{ file, format, interface, read_only, snapshot }]`), `forwards`
    /// (`[#{ host, guest, bind, proto }]`, bound to 127.0.0.1 unless `bind` says otherwise),
    /// `mac`, `nic`, `network`, `smbios` (`#{ serial: "ds=nocloud" }` or raw strings),
    /// `serial_log`, `qmp`, `dir`, `extra_args`. A busy forward port, a missing disk or a disk
    /// another VM holds is a clear error and leaves no QEMU running.
    ///
    /// ```rhai
    /// let vm = qemu::start(#{
    ///     name: "helix-desktop", memory: "8G", smp: 4,
    ///     drives: [#{ file: "/tmp/disk.qcow2" }, #{ file: "/tmp/seed-fat.img", format: "raw", read_only: true }],
    ///     forwards: [#{ host: 2223, guest: 22 }],
    ///     smbios: #{ serial: "ds=nocloud" },
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn start(ctx: NativeCallContext, config: rhai::Map) -> RhaiResult<Vm> {
        r(&ctx, spec(&config).and_then(|s| qemu::start(&s)))
    }

    /// The accelerator `accel: "auto"` picks for `arch` here (`hvf`, `kvm` or `tcg`).
    ///
    /// ```rhai
    /// print(qemu::accelerator("aarch64"));
    /// ```
    pub fn accelerator(arch: &str) -> String {
        qemu::accelerator(arch)
    }

    /// QEMU's process id (0 under `--dry-run`).
    ///
    /// ```rhai
    /// print(vm.pid);
    /// ```
    #[rhai_fn(global, get = "pid", pure)]
    pub fn pid(vm: &mut Vm) -> i64 {
        vm.pid() as i64
    }

    /// The VM's name.
    ///
    /// ```rhai
    /// print(vm.name);
    /// ```
    #[rhai_fn(global, get = "name", pure)]
    pub fn name(vm: &mut Vm) -> String {
        vm.name()
    }

    /// The file the guest's serial console is written to.
    ///
    /// ```rhai
    /// print(fs::read(vm.serial_log));
    /// ```
    #[rhai_fn(global, get = "serial_log", pure)]
    pub fn serial_log(vm: &mut Vm) -> String {
        vm.serial_log().display().to_string()
    }

    /// The QMP socket's path.
    ///
    /// ```rhai
    /// print(vm.qmp_socket);
    /// ```
    #[rhai_fn(global, get = "qmp_socket", pure)]
    pub fn qmp_socket(vm: &mut Vm) -> String {
        vm.qmp_socket().display().to_string()
    }

    /// Whether QEMU is still running.
    ///
    /// ```rhai
    /// if vm.running { print("up"); }
    /// ```
    #[rhai_fn(global, get = "running", pure)]
    pub fn running(vm: &mut Vm) -> bool {
        vm.is_running()
    }

    /// Wait up to `timeout` seconds until a forwarded host port accepts TCP. With user
    /// networking QEMU accepts at once; the guest's SSH answering is `ssh::wait_ready`'s job.
    ///
    /// ```rhai
    /// vm.wait_port(2223, 60);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait_port(
        ctx: NativeCallContext,
        vm: &mut Vm,
        port: i64,
        timeout: i64,
    ) -> RhaiResult<()> {
        r(&ctx, super::port(port).and_then(|p| vm.wait_port(p, secs(timeout))))
    }

    /// Wait up to `timeout` seconds until the serial console prints `text`; returns the log.
    ///
    /// ```rhai
    /// vm.wait_serial("login:", 300);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn wait_serial(
        ctx: NativeCallContext,
        vm: &mut Vm,
        text: &str,
        timeout: i64,
    ) -> RhaiResult<String> {
        r(&ctx, vm.wait_serial(text, secs(timeout)))
    }

    /// Shut the guest down cleanly (ACPI through QMP), waiting up to 120 s, then `quit`, then
    /// kill. Returns `"powered off"`, `"quit"`, `"killed"` or `"not running"`.
    ///
    /// ```rhai
    /// let how = vm.powerdown();
    /// ```
    #[rhai_fn(global, return_raw, name = "powerdown")]
    pub fn powerdown(ctx: NativeCallContext, vm: &mut Vm) -> RhaiResult<String> {
        r(&ctx, vm.powerdown(secs(120)))
    }

    /// `powerdown` waiting up to `timeout` seconds for the guest before escalating.
    ///
    /// ```rhai
    /// vm.powerdown(30);
    /// ```
    #[rhai_fn(global, return_raw, name = "powerdown")]
    pub fn powerdown_within(
        ctx: NativeCallContext,
        vm: &mut Vm,
        timeout: i64,
    ) -> RhaiResult<String> {
        r(&ctx, vm.powerdown(secs(timeout)))
    }

    /// Stop QEMU at once; the guest gets no shutdown.
    ///
    /// ```rhai
    /// vm.kill();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn kill(ctx: NativeCallContext, vm: &mut Vm) -> RhaiResult<()> {
        r(&ctx, vm.kill())
    }

    /// Let the VM keep running after the recipe ends; returns its pid.
    ///
    /// ```rhai
    /// let pid = vm.detach();
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn detach(ctx: NativeCallContext, vm: &mut Vm) -> RhaiResult<i64> {
        r(&ctx, vm.detach().map(|p| p as i64))
    }

    /// Send a QMP command (e.g. `query-status`) and return QEMU's answer.
    ///
    /// ```rhai
    /// print(vm.qmp("query-status").status);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn qmp(ctx: NativeCallContext, vm: &mut Vm, command: &str) -> RhaiResult<Dynamic> {
        r(&ctx, vm.qmp(command, None).map(|v| crate::api::convert::from_json(&v)))
    }

    /// Power down a VM an earlier run detached (`vm.detach()`), given its QMP socket and pid:
    /// ACPI first, then QMP `quit` after `timeout` seconds.
    ///
    /// ```rhai
    /// qemu::powerdown_detached("/tmp/vm/qmp.sock", 12345, 60);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn powerdown_detached(
        ctx: NativeCallContext,
        qmp_socket: &str,
        pid: i64,
        timeout: i64,
    ) -> RhaiResult<String> {
        crate::error::rhai(
            &ctx,
            crate::qemu::powerdown_detached(
                &crate::paths::expand(qmp_socket),
                pid.max(0) as u32,
                std::time::Duration::from_secs(timeout.max(1) as u64),
            ),
        )
    }
}
