//! `utm::` — UTM's VM bundles, registry, `utmctl` and the app (QEMU framework, caches, restart).

use rhai::plugin::*;

use crate::api::convert::{self, from_json, path};
use crate::error::{Error, Result};
use crate::utm::bundle::{Changes, DiskSpec, NewBundle, Place, PortForward};

pub fn module() -> rhai::Module {
    exported_module!(utm_api)
}

fn int_of(v: &Dynamic, what: &'static str) -> Result<i64> {
    v.as_int().map_err(|t| {
        Error::invalid(
            "option",
            what,
            format!("expected a whole number, found {}", convert::words(t)),
        )
    })
}

fn bool_of(v: &Dynamic, what: &'static str) -> Result<bool> {
    v.as_bool().map_err(|t| {
        Error::invalid(
            "option",
            what,
            format!("expected true or false, found {}", convert::words(t)),
        )
    })
}

fn str_of(v: &Dynamic, what: &'static str) -> Result<String> {
    v.clone().into_string().map_err(|t| {
        Error::invalid("option", what, format!("expected a string, found {}", convert::words(t)))
    })
}

fn strings_of(v: &Dynamic, what: &'static str) -> Result<Vec<String>> {
    let a = v
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(|| Error::invalid("option", what, "expected an array of strings"))?;
    convert::strings(&a, what)
}

/// Memory in MiB: a number of MiB or a size string (`"8G"`).
fn mib_of(v: &Dynamic) -> Result<i64> {
    if let Ok(n) = v.as_int() {
        return Ok(n);
    }
    let s = str_of(v, "memory")?;
    Ok((crate::size::parse(&s)? / (1024 * 1024)) as i64)
}

fn forwards_of(v: &Dynamic) -> Result<Vec<PortForward>> {
    let a = v
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(|| Error::invalid("option", "port_forwards", "expected an array of maps"))?;
    a.iter()
        .map(|f| {
            let m = f.clone().try_cast::<rhai::Map>().ok_or_else(|| {
                Error::invalid(
                    "option",
                    "port_forwards",
                    "each forward is a map like #{ host_port: 2222, guest_port: 22 }",
                )
            })?;
            convert::known_keys(
                &m,
                &["protocol", "host_address", "host_port", "guest_address", "guest_port"],
                "port forward",
            )?;
            let need = |k: &'static str| {
                m.get(k).ok_or_else(|| Error::invalid("port forward", k, "is required"))
            };
            let mut p = PortForward::tcp(
                int_of(need("host_port")?, "host_port")?,
                int_of(need("guest_port")?, "guest_port")?,
            );
            if let Some(v) = convert::opt(&m, "protocol") {
                p.protocol = str_of(v, "protocol")?.to_uppercase();
            }
            if let Some(v) = convert::opt(&m, "host_address") {
                p.host_address = str_of(v, "host_address")?;
            }
            if let Some(v) = convert::opt(&m, "guest_address") {
                p.guest_address = str_of(v, "guest_address")?;
            }
            Ok(p)
        })
        .collect()
}

fn disk_of(v: &Dynamic) -> Result<DiskSpec> {
    if v.is_string() {
        return Ok(DiskSpec {
            image: path(&str_of(v, "disk")?),
            place: Place::Copy,
            interface: "VirtIO".into(),
            read_only: false,
        });
    }
    let m = v.clone().try_cast::<rhai::Map>().ok_or_else(|| {
        Error::invalid(
            "option",
            "disks",
            "each disk is a path or #{ image, how, interface, read_only }",
        )
    })?;
    disk_from_map(&m)
}

fn disk_from_map(m: &rhai::Map) -> Result<DiskSpec> {
    convert::known_keys(m, &["image", "how", "interface", "read_only"], "disk")?;
    let image = convert::opt_str(m, "image")?
        .ok_or_else(|| Error::invalid("disk", "image", "is required"))?;
    Ok(DiskSpec {
        image: path(&image),
        place: convert::opt_str(m, "how")?
            .map(|s| Place::parse(&s))
            .transpose()?
            .unwrap_or(Place::Copy),
        interface: convert::opt_str(m, "interface")?.unwrap_or_else(|| "VirtIO".into()),
        read_only: convert::opt_bool(m, "read_only")?,
    })
}

const SPEC_KEYS: &[&str] = &[
    "name",
    "uuid",
    "arch",
    "target",
    "cpu",
    "cpus",
    "memory",
    "uefi",
    "hypervisor",
    "debug_log",
    "arguments",
    "disks",
    "efi_vars",
    "network",
    "display",
    "share_mode",
    "icon",
];

fn spec_of(m: &rhai::Map) -> Result<NewBundle> {
    convert::known_keys(m, SPEC_KEYS, "utm::create_bundle")?;
    let mut s = NewBundle::default();
    if let Some(v) = convert::opt_str(m, "name")? {
        s.name = v;
    }
    s.uuid = convert::opt_str(m, "uuid")?.map(|u| u.to_uppercase());
    if let Some(v) = convert::opt_str(m, "arch")? {
        s.architecture = v;
    }
    s.target = convert::opt_str(m, "target")?;
    if let Some(v) = convert::opt_str(m, "cpu")? {
        s.cpu = v;
    }
    if let Some(v) = convert::opt_int(m, "cpus")? {
        s.cpu_count = v;
    }
    if let Some(v) = convert::opt(m, "memory") {
        s.memory_mb = mib_of(v)?;
    }
    for (k, slot) in [("uefi", &mut s.uefi), ("hypervisor", &mut s.hypervisor)] {
        if let Some(v) = convert::opt(m, k) {
            *slot = bool_of(v, "uefi/hypervisor")?;
        }
    }
    s.debug_log = convert::opt_bool(m, "debug_log")?;
    if let Some(v) = convert::opt(m, "arguments") {
        s.arguments = strings_of(v, "arguments")?;
    }
    if let Some(v) = convert::opt(m, "disks") {
        let a = v
            .clone()
            .try_cast::<rhai::Array>()
            .ok_or_else(|| Error::invalid("option", "disks", "expected an array"))?;
        s.disks = a.iter().map(disk_of).collect::<Result<_>>()?;
    }
    s.efi_vars = convert::opt_str(m, "efi_vars")?.map(|p| path(&p));
    if let Some(v) = convert::opt(m, "network") {
        let n = v.clone().try_cast::<rhai::Map>().ok_or_else(|| {
            Error::invalid("option", "network", "expected #{ mode, mac, port_forwards }")
        })?;
        convert::known_keys(&n, &["mode", "mac", "port_forwards"], "network")?;
        if let Some(mode) = convert::opt_str(&n, "mode")? {
            s.network_mode = mode;
        }
        s.mac = convert::opt_str(&n, "mac")?;
        if let Some(pf) = convert::opt(&n, "port_forwards") {
            s.port_forwards = forwards_of(pf)?;
        }
    }
    for (k, slot) in
        [("display", &mut s.display), ("share_mode", &mut s.share_mode), ("icon", &mut s.icon)]
    {
        if let Some(v) = convert::opt_str(m, k)? {
            *slot = v;
        }
    }
    Ok(s)
}

const CHANGE_KEYS: &[&str] = &[
    "name",
    "cpus",
    "memory",
    "uefi",
    "hypervisor",
    "debug_log",
    "add_arguments",
    "remove_arguments",
    "network_mode",
    "mac",
    "port_forwards",
];

fn changes_of(m: &rhai::Map) -> Result<Changes> {
    convert::known_keys(m, CHANGE_KEYS, "utm::configure")?;
    let b = |k: &'static str| convert::opt(m, k).map(|v| bool_of(v, k)).transpose();
    Ok(Changes {
        name: convert::opt_str(m, "name")?,
        cpu_count: convert::opt_int(m, "cpus")?,
        memory_mb: convert::opt(m, "memory").map(mib_of).transpose()?,
        uefi: b("uefi")?,
        hypervisor: b("hypervisor")?,
        debug_log: b("debug_log")?,
        add_arguments: convert::opt(m, "add_arguments")
            .map(|v| strings_of(v, "add_arguments"))
            .transpose()?
            .unwrap_or_default(),
        remove_arguments: convert::opt(m, "remove_arguments")
            .map(|v| strings_of(v, "remove_arguments"))
            .transpose()?
            .unwrap_or_default(),
        network_mode: convert::opt_str(m, "network_mode")?,
        mac: convert::opt_str(m, "mac")?,
        port_forwards: convert::opt(m, "port_forwards").map(forwards_of).transpose()?,
    })
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
        let c = r(&ctx, changes_of(&changes))?;
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
            bundle::configure(&path(bundle), &Changes { add_arguments: add, ..Default::default() }),
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
        let s = r(&ctx, spec_of(&spec))?;
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
        let d = r(&ctx, disk_from_map(&disk))?;
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
        r(&ctx, convert::known_keys(&options, &["disposable"], "utm::start"))?;
        let d = r(&ctx, convert::opt_bool(&options, "disposable"))?;
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
        r(&ctx, convert::known_keys(&options, &["sudo"], "utm::install_qemu"))?;
        let sudo = r(&ctx, convert::opt_bool(&options, "sudo"))?;
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
