//! `utm::` — UTM's VM bundles, registry, `utmctl` and the app (QEMU framework, caches, restart).

use rhai::plugin::*;

use crate::api::convert::{self, from_json, path};
use crate::api::options::decode;
use crate::api::utm_options::{
    ChangeOptions, DiskOptions, InstallOptions, SpecOptions, StartOptions,
};

pub fn module() -> rhai::Module {
    exported_module!(utm_api)
}

fn lines(changes: Vec<crate::plist::Change>) -> rhai::Array {
    changes.into_iter().map(|c| Dynamic::from(c.to_string())).collect()
}

fn json_array(items: Vec<serde_json::Value>) -> rhai::Array {
    items.iter().map(from_json).collect()
}

#[export_module]
mod utm_api {
    use crate::error::{RhaiResult, rhai as r};
    use crate::utm::{app, bundle, registry, utmctl};

    /// Open a `.utm` bundle: a map with `name`, `uuid`, `architecture`, `cpu_count`,
    /// `memory_mb`, `uefi`, `hypervisor`, `debug_log`, `additional_arguments` (the rows as
    /// stored), `qemu_argv` (the argv UTM passes QEMU for them), `drives` (`image_name`,
    /// `path`, `exists`, `interface`, …) and `networks` (`mode`, `mac`, `port_forwards`).
    /// Refuses bundles without config.plist or with a ConfigurationVersion other than 4 (a
    /// UTM 3 bundle is named as such: open it in UTM once to migrate it).
    ///
    /// ```rhai
    /// let vm = utm::open("/Volumes/Big/helix-desktop-vm/helix-desktop.utm");
    /// print(`${vm.name}: ${vm.cpu_count} CPUs, ${vm.memory_mb} MiB`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn open(ctx: NativeCallContext, bundle: &str) -> RhaiResult<Dynamic> {
        r(&ctx, bundle::open(&path(bundle))).map(|b| from_json(&b.view()))
    }

    /// Change a bundle's settings: `name`, `cpus`, `memory` (MiB or `"8G"`), `uefi`,
    /// `hypervisor`, `debug_log`, `add_arguments`, `remove_arguments`, `network_mode`
    /// (Emulated/Shared/Host/Bridged, case-exact), `mac`, `port_forwards`. Arguments are read
    /// as UTM reads its QEMU settings rows (each row split on spaces): a group already there in
    /// any row form is not added again, a `-global DEVICE.PROP=V` replaces that property's
    /// value in the row that holds it, new groups become one row each. A change that would
    /// give the bundle a problem UTM or QEMU refuses (see `utm::check`) is refused. Every other
    /// key stays as it was; the write is atomic and keeps the previous version. Returns the
    /// changes.
    ///
    /// ```rhai
    /// utm::configure("/tmp/vm.utm", #{
    ///     debug_log: true,
    ///     hypervisor: true,
    ///     add_arguments: ["-global", "virtio-gpu-gl-pci.edid=on", "-serial", "file:/tmp/qemu-serial.log"],
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn configure(
        ctx: NativeCallContext,
        bundle: &str,
        changes: rhai::Map,
    ) -> RhaiResult<rhai::Array> {
        let c = r(&ctx, decode::<ChangeOptions>(&changes, "utm::configure"))?.changes();
        r(&ctx, bundle::configure(&path(bundle), &c)).map(lines)
    }

    /// Add QEMU arguments to `QEMU.AdditionalArguments` once (see `utm::configure`). Each
    /// element is one argument, except one that starts with `-` and holds spaces, which is a
    /// whole UTM settings row (`"-usbdevice keyboard"`).
    ///
    /// ```rhai
    /// utm::add_arguments("/tmp/vm.utm", ["-global", "virtio-gpu-gl-pci.max_outputs=16"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_arguments(
        ctx: NativeCallContext,
        bundle: &str,
        arguments: rhai::Array,
    ) -> RhaiResult<rhai::Array> {
        let add = r(&ctx, convert::strings(&arguments, "argument"))?;
        r(
            &ctx,
            bundle::configure(
                &path(bundle),
                &crate::utm::bundle::Changes { add_arguments: add, ..Default::default() },
            ),
        )
        .map(lines)
    }

    /// Create a UTM bundle (the path must not exist and end in `.utm`) with every key UTM 5
    /// writes, ConfigurationVersion 4. Disks are placed in `Data/` as `<UUID>.qcow2` and
    /// referenced by `Drive` entries, so UTM never deletes them. Options: `name`, `uuid`,
    /// `arch` (`aarch64` or `x86_64`), `target` (default `virt`/`q35`), `cpu`, `cpus`,
    /// `memory`, `uefi`, `hypervisor`, `debug_log`, `arguments`, `disks` (paths or
    /// `#{ image, how: "copy"|"move"|"hardlink", interface, read_only }`), `efi_vars`,
    /// `network` (`#{ mode, mac, port_forwards }`), `display`, `share_mode`, `icon`. Values
    /// are checked against UTM's own tables (case-exact: `VirtIO`, `VirtFS`); anything UTM or
    /// QEMU would refuse is refused with the allowed values, and nothing is created. Returns
    /// the VM's UUID.
    ///
    /// ```rhai
    /// let uuid = utm::create_bundle("/tmp/helix-desktop.utm", #{
    ///     name: "Helix Desktop", cpus: 8, memory: "16G",
    ///     disks: [#{ image: "/tmp/disk.qcow2", how: "copy" }],
    ///     network: #{ mode: "Emulated", port_forwards: [#{ host_port: 2222, guest_port: 22 }] },
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn create_bundle(
        ctx: NativeCallContext,
        bundle: &str,
        spec: rhai::Map,
    ) -> RhaiResult<String> {
        let s = r(
            &ctx,
            decode::<SpecOptions>(&spec, "utm::create_bundle").and_then(SpecOptions::bundle),
        )?;
        r(&ctx, bundle::create(&path(bundle), &s))
    }

    /// Add a disk image to a bundle: the `Drive` entry is written first, then the image is
    /// placed in `Data/` (`how`: copy, move or hardlink). Returns its name in `Data/`.
    ///
    /// ```rhai
    /// utm::add_disk("/tmp/vm.utm", #{ image: "/tmp/zfs-data.qcow2", how: "move" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_disk(ctx: NativeCallContext, bundle: &str, disk: rhai::Map) -> RhaiResult<String> {
        let d = r(&ctx, decode::<DiskOptions>(&disk, "utm::add_disk").and_then(DiskOptions::disk))?;
        r(&ctx, bundle::add_disk(&path(bundle), &d))
    }

    /// Check a bundle the way UTM loads it; returns findings `#{ severity, kind, path,
    /// message }` (empty when all is well). Errors (`severity: "error"`) are what UTM refuses
    /// to load or QEMU to start: `missing-key`, `bad-type`, `bad-value` (an enum value, target
    /// or port UTM/QEMU refuses, with the allowed values), `bad-uuid`, `bad-mac`,
    /// `legacy-config` (a UTM 3 file UTM migrates on open; helix leaves it alone), files in
    /// `Data/` UTM would delete (`unreferenced`), `missing-image`, `duplicate-uuid`. Warnings
    /// load but misbehave: `unknown-key`, `unknown-device`, `unknown-icon`, an unknown CPU, a
    /// multicast MAC.
    ///
    /// ```rhai
    /// for f in utm::check("/tmp/vm.utm") { ui::warn(`${f.severity}: ${f.message}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check(ctx: NativeCallContext, bundle: &str) -> RhaiResult<rhai::Array> {
        let p = path(bundle);
        let mut others = registry::known_uuids();
        if let Some(parent) = p.parent() {
            for (bp, u, _) in registry::bundles_in(parent) {
                if let Some(u) = u {
                    others.push((bp, u));
                }
            }
        }
        r(&ctx, bundle::check(&p, &others))
            .map(|f| json_array(f.iter().map(|f| f.to_json()).collect()))
    }

    /// The VMs in UTM's registry (its preferences plist): `#{ uuid, name, path, exists, listed }`.
    ///
    /// ```rhai
    /// for vm in utm::registry() { print(`${vm.name} ${vm.path} exists=${vm.exists}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn registry(ctx: NativeCallContext) -> RhaiResult<rhai::Array> {
        r(&ctx, registry::entries()).map(|e| json_array(e.iter().map(|e| e.to_json()).collect()))
    }

    /// The `.utm` bundles in UTM's Documents folder: `#{ path, uuid, name, registered }`.
    ///
    /// ```rhai
    /// for b in utm::documents() { if !b.registered { print(`not in UTM: ${b.path}`); } }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn documents(ctx: NativeCallContext) -> RhaiResult<rhai::Array> {
        r(&ctx, registry::documents()).map(json_array)
    }

    /// Make sure UTM knows a bundle. UTM 5 registers bundles only through its own UI, so this
    /// offers `open -a UTM <bundle>` (asked at the terminal, or `--yes`); with nobody to ask it
    /// fails with that explanation. Returns true when it opened the bundle, false when UTM
    /// already knew it.
    ///
    /// ```rhai
    /// utm::register("/tmp/helix-desktop.utm");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn register(ctx: NativeCallContext, bundle: &str) -> RhaiResult<bool> {
        r(&ctx, registry::register(&path(bundle)))
    }

    /// `utmctl list`: `#{ uuid, status, name, running }` for each VM UTM knows.
    ///
    /// ```rhai
    /// for vm in utm::list() { print(`${vm.name}: ${vm.status}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list(ctx: NativeCallContext) -> RhaiResult<rhai::Array> {
        r(&ctx, utmctl::list()).map(|v| json_array(v.iter().map(|v| v.to_json()).collect()))
    }

    /// One VM by UUID or complete name (`#{ uuid, status, name, running }`), or `()`.
    ///
    /// ```rhai
    /// let vm = utm::find("new-dev-vm");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find(ctx: NativeCallContext, vm: &str) -> RhaiResult<Dynamic> {
        r(&ctx, utmctl::list())
            .map(|v| utmctl::find(&v, vm).map(|v| from_json(&v.to_json())).unwrap_or(Dynamic::UNIT))
    }

    /// `utmctl status`: `#{ vm, status, running }`; status is one of stopped, starting,
    /// started, pausing, paused, resuming, stopping.
    ///
    /// ```rhai
    /// if utm::status("17DC4F96-F1A9-4B51-962B-03D85998E0E7").running { print("up"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn status(ctx: NativeCallContext, vm: &str) -> RhaiResult<Dynamic> {
        r(&ctx, utmctl::status(vm)).map(|s| {
            from_json(&serde_json::json!({ "vm": vm, "status": s, "running": s != "stopped" }))
        })
    }

    /// Start a VM (or resume a suspended one).
    ///
    /// ```rhai
    /// utm::start("new-dev-vm");
    /// ```
    #[rhai_fn(return_raw, name = "start")]
    pub fn start(ctx: NativeCallContext, vm: &str) -> RhaiResult<()> {
        r(&ctx, utmctl::start(vm, false))
    }

    /// Start a VM with options: `disposable` (run as a snapshot, changes not saved).
    ///
    /// ```rhai
    /// utm::start("new-dev-vm", #{ disposable: true });
    /// ```
    #[rhai_fn(return_raw, name = "start")]
    pub fn start_with(ctx: NativeCallContext, vm: &str, options: rhai::Map) -> RhaiResult<()> {
        let d = r(&ctx, decode::<StartOptions>(&options, "utm::start"))?.disposable;
        r(&ctx, utmctl::start(vm, d))
    }

    /// Stop a running VM with utmctl's default (`--force`, a power-off event). It can lose
    /// guest state, so a person confirms it at the terminal; a stopped VM is left alone.
    /// Returns the status the VM had.
    ///
    /// ```rhai
    /// utm::stop("new-dev-vm");
    /// ```
    #[rhai_fn(return_raw, name = "stop")]
    pub fn stop(ctx: NativeCallContext, vm: &str) -> RhaiResult<String> {
        r(&ctx, utmctl::stop(vm, utmctl::StopMode::Force))
    }

    /// Stop a VM: `"force"` (power off), `"kill"` (kill the process) or `"request"` (ask the
    /// guest OS to shut down).
    ///
    /// ```rhai
    /// utm::stop("new-dev-vm", "request");
    /// ```
    #[rhai_fn(return_raw, name = "stop")]
    pub fn stop_mode(ctx: NativeCallContext, vm: &str, mode: &str) -> RhaiResult<String> {
        let m = r(&ctx, utmctl::StopMode::parse(mode))?;
        r(&ctx, utmctl::stop(vm, m))
    }

    /// `utmctl ip-address`: the VM's addresses, IPv4 first (needs the QEMU guest agent).
    ///
    /// ```rhai
    /// let ips = utm::ip_address("new-dev-vm");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ip_address(ctx: NativeCallContext, vm: &str) -> RhaiResult<rhai::Array> {
        r(&ctx, utmctl::ip_addresses(vm)).map(|v| v.into_iter().map(Dynamic::from).collect())
    }

    /// Where utmctl is (inside `paths.utm_app`, else on `PATH`).
    ///
    /// ```rhai
    /// print(utm::utmctl_path());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn utmctl_path(ctx: NativeCallContext) -> RhaiResult<String> {
        r(&ctx, utmctl::path()).map(|p| p.display().to_string())
    }

    /// The QEMU framework binary UTM loads
    /// (`…/UTM.app/Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu`).
    ///
    /// ```rhai
    /// print(utm::qemu_path());
    /// ```
    pub fn qemu_path() -> String {
        app::framework_binary().display().to_string()
    }

    /// Install a QEMU build as UTM's framework binary. UTM's original binary is kept the first
    /// time (per UTM version, never replaced by a later custom build); the loose
    /// `libqemu-aarch64-softmmu.dylib` location is refused. Returns `#{ installed, sha256,
    /// changed, original, original_created }`.
    ///
    /// ```rhai
    /// utm::install_qemu(`${config.paths.sysroot}/lib/libqemu-aarch64-softmmu.dylib`);
    /// ```
    #[rhai_fn(return_raw, name = "install_qemu")]
    pub fn install_qemu(ctx: NativeCallContext, build: &str) -> RhaiResult<Dynamic> {
        r(&ctx, app::install_qemu(&path(build), false)).map(|j| from_json(&j))
    }

    /// `utm::install_qemu` with options: `sudo` (copy as root when UTM.app is not writable).
    ///
    /// ```rhai
    /// utm::install_qemu("/tmp/libqemu-aarch64-softmmu.dylib", #{ sudo: true });
    /// ```
    #[rhai_fn(return_raw, name = "install_qemu")]
    pub fn install_qemu_with(
        ctx: NativeCallContext,
        build: &str,
        options: rhai::Map,
    ) -> RhaiResult<Dynamic> {
        let sudo = r(&ctx, decode::<InstallOptions>(&options, "utm::install_qemu"))?.sudo;
        r(&ctx, app::install_qemu(&path(build), sudo)).map(|j| from_json(&j))
    }

    /// Put UTM's original QEMU binary back.
    ///
    /// ```rhai
    /// utm::restore_original_qemu();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn restore_original_qemu(ctx: NativeCallContext) -> RhaiResult<()> {
        r(&ctx, app::restore_original_qemu())
    }

    /// Clear UTM's caches: everything in them is moved into a dated folder beside them
    /// (`…/Data/Library/helix-cleared-caches/<date>`), nothing deleted. Returns that folder, or
    /// `()` when there was nothing to clear.
    ///
    /// ```rhai
    /// utm::clear_caches();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clear_caches(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        r(&ctx, app::clear_caches())
            .map(|p| p.map(|p| Dynamic::from(p.display().to_string())).unwrap_or(Dynamic::UNIT))
    }

    /// Whether UTM is running.
    ///
    /// ```rhai
    /// if utm::is_running() { print("UTM is up"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_running(ctx: NativeCallContext) -> RhaiResult<bool> {
        r(&ctx, app::is_running())
    }

    /// Restart UTM (so it loads a new QEMU): lists running VMs and stops them only after a
    /// person confirms, quits UTM politely (never `killall`), opens it again.
    ///
    /// ```rhai
    /// utm::restart();
    /// ```
    #[rhai_fn(return_raw, name = "restart")]
    pub fn restart(ctx: NativeCallContext) -> RhaiResult<Dynamic> {
        r(&ctx, app::restart(utmctl::StopMode::Request)).map(|j| from_json(&j))
    }

    /// Restart UTM, stopping running VMs (after confirmation) with `mode`: request, force, kill.
    ///
    /// ```rhai
    /// utm::restart("force");
    /// ```
    #[rhai_fn(return_raw, name = "restart")]
    pub fn restart_mode(ctx: NativeCallContext, mode: &str) -> RhaiResult<Dynamic> {
        let m = r(&ctx, utmctl::StopMode::parse(mode))?;
        r(&ctx, app::restart(m)).map(|j| from_json(&j))
    }
}
