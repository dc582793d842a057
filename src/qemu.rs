//! Headless QEMU VMs: a [`VmSpec`] becomes a `qemu-system-*` command line (accelerator,
//! machine, firmware, direct kernel boot, drives, user networking with forwards bound to
//! 127.0.0.1, MAC, SMBIOS, serial log, QMP socket); [`start`] returns a [`Vm`] handle that powers
//! the guest down through QMP (ACPI, then `quit`, then a kill) and is killed when the last handle
//! is dropped, when [`kill_all`] runs at the end of a run, or on Ctrl-C — unless detached.

pub mod qmp;

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::process::{Background, Cmd};

/// A host port forwarded into the guest.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    pub proto: String,
    pub bind: String,
    pub host: u16,
    pub guest: u16,
}

/// A disk attached to the VM.
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    pub file: PathBuf,
    pub format: String,
    pub interface: String,
    pub read_only: bool,
    /// Writes go to a temporary overlay and are thrown away when QEMU exits.
    pub snapshot: bool,
}

/// UEFI firmware: the code (attached read-only) and a writable vars file.
#[derive(Debug, Clone, PartialEq)]
pub struct Firmware {
    pub code: PathBuf,
    pub vars: Option<PathBuf>,
    /// Copied to `vars` when that does not exist yet.
    pub vars_template: Option<PathBuf>,
}

/// Everything about a VM to start.
#[derive(Debug, Clone, PartialEq)]
pub struct VmSpec {
    pub name: String,
    pub arch: String,
    pub binary: Option<String>,
    pub accel: Option<String>,
    pub machine: Option<String>,
    pub cpu: Option<String>,
    pub smp: u32,
    /// Bytes.
    pub memory: u64,
    pub firmware: Option<Firmware>,
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: Option<String>,
    pub drives: Vec<Drive>,
    /// User-mode networking (on unless `network: false`).
    pub network: bool,
    pub nic: String,
    pub mac: Option<String>,
    pub forwards: Vec<Forward>,
    pub smbios: Vec<String>,
    pub serial_log: Option<PathBuf>,
    pub qmp: Option<PathBuf>,
    /// Where the QMP socket and logs go (default: a fresh temp dir).
    pub dir: Option<PathBuf>,
    pub extra_args: Vec<String>,
}

impl Default for VmSpec {
    fn default() -> Self {
        VmSpec {
            name: "vm".into(),
            arch: host_arch().into(),
            binary: None,
            accel: None,
            machine: None,
            cpu: None,
            smp: 2,
            memory: 1 << 30,
            firmware: None,
            kernel: None,
            initrd: None,
            append: None,
            drives: vec![],
            network: true,
            nic: "virtio-net-pci".into(),
            mac: None,
            forwards: vec![],
            smbios: vec![],
            serial_log: None,
            qmp: None,
            dir: None,
            extra_args: vec![],
        }
    }
}

pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64",
        other => other,
    }
}

fn normal_arch(a: &str) -> Result<&'static str> {
    match a {
        "x86_64" | "amd64" | "x64" => Ok("x86_64"),
        "aarch64" | "arm64" => Ok("aarch64"),
        _ => Err(Error::invalid("arch", a, "use \"x86_64\" or \"aarch64\"")),
    }
}

// ---------------------------------------------------------------------------------------------
// The spec from a JSON/Rhai map.

const KEYS: &[&str] = &[
    "name",
    "arch",
    "binary",
    "accel",
    "machine",
    "cpu",
    "smp",
    "memory",
    "firmware",
    "kernel",
    "initrd",
    "append",
    "drives",
    "network",
    "nic",
    "mac",
    "forwards",
    "smbios",
    "serial_log",
    "qmp",
    "dir",
    "extra_args",
];

fn jstr(v: &Value, key: &'static str) -> Result<Option<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => {
            Err(Error::invalid("VM option", key, format!("expected a string, found {other}")))
        }
    }
}

fn jpath(v: &Value, key: &'static str) -> Result<Option<PathBuf>> {
    Ok(jstr(v, key)?.map(|s| crate::paths::expand(&s)))
}

fn jbool(v: &Value, key: &'static str, default: bool) -> Result<bool> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => {
            Err(Error::invalid("VM option", key, format!("expected true or false, found {other}")))
        }
    }
}

fn jport(v: &Value, key: &'static str) -> Result<u16> {
    v.get(key)
        .and_then(Value::as_u64)
        .filter(|p| (1..=65535).contains(p))
        .map(|p| p as u16)
        .ok_or_else(|| {
            Error::invalid(
                "port forward",
                v.to_string(),
                format!("`{key}` must be a port number 1-65535"),
            )
        })
}

fn strings(v: &Value, key: &'static str) -> Result<Vec<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(Error::invalid(
                    "VM option",
                    key,
                    format!("expected strings, found {other}"),
                )),
            })
            .collect(),
        Some(other) => {
            Err(Error::invalid("VM option", key, format!("expected an array, found {other}")))
        }
    }
}

/// A MAC like `52:54:00:12:34:56`.
pub fn check_mac(mac: &str) -> Result<()> {
    let parts: Vec<&str> = mac.split(':').collect();
    let ok = parts.len() == 6
        && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if !ok {
        return Err(Error::invalid(
            "MAC address",
            mac,
            "write six hex pairs, e.g. 52:54:00:12:34:56",
        ));
    }
    if u8::from_str_radix(parts[0], 16).unwrap_or(1) & 1 == 1 {
        return Err(Error::invalid(
            "MAC address",
            mac,
            "a multicast address cannot be a NIC's; start with e.g. 52:54:00",
        ));
    }
    Ok(())
}

impl VmSpec {
    /// Read a spec from a map (what `qemu::start(#{...})` takes). Unknown keys are errors.
    pub fn from_json(v: &Value) -> Result<VmSpec> {
        let m =
            v.as_object().ok_or_else(|| Error::invalid("VM", v.to_string(), "expected a map"))?;
        for k in m.keys() {
            if !KEYS.contains(&k.as_str()) {
                return Err(Error::invalid(
                    "VM option",
                    k.as_str(),
                    format!("`qemu::start` takes only {}", KEYS.join(", ")),
                ));
            }
        }
        let mut s = VmSpec::default();
        if let Some(n) = jstr(v, "name")? {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(Error::invalid("VM name", n, "use letters, digits, `-`, `_` and `.`"));
            }
            s.name = n;
        }
        if let Some(a) = jstr(v, "arch")? {
            s.arch = normal_arch(&a)?.into();
        }
        s.binary = jstr(v, "binary")?;
        s.accel = jstr(v, "accel")?;
        if let Some(a) = &s.accel
            && !["auto", "tcg", "kvm", "hvf"].contains(&a.as_str())
        {
            return Err(Error::invalid(
                "accelerator",
                a.as_str(),
                "use \"auto\", \"tcg\", \"kvm\" or \"hvf\"",
            ));
        }
        s.machine = jstr(v, "machine")?;
        s.cpu = jstr(v, "cpu")?;
        if let Some(x) = v.get("smp").filter(|x| !x.is_null()) {
            s.smp =
                x.as_u64().filter(|n| (1..=512).contains(n)).ok_or_else(|| {
                    Error::invalid("VM option", "smp", "expected a CPU count 1-512")
                })? as u32;
        }
        // The one MiB-or-size rule (`size::Mib`), then QEMU's own floor.
        if let Some(x) = v.get("memory").filter(|x| !x.is_null()) {
            let mib = <crate::size::Mib as serde::Deserialize>::deserialize(x)
                .map_err(|e| Error::invalid("memory", x.to_string(), e.to_string()))?;
            s.memory = mib.bytes();
        }
        if s.memory < 16 << 20 {
            return Err(Error::invalid(
                "memory",
                crate::size::format(s.memory),
                "give at least 16M",
            ));
        }
        if let Some(f) = v.get("firmware").filter(|x| !x.is_null()) {
            let code = jpath(f, "code")?.ok_or_else(|| {
                Error::invalid("firmware", f.to_string(), "needs `code` (the UEFI code file)")
            })?;
            s.firmware = Some(Firmware {
                code,
                vars: jpath(f, "vars")?,
                vars_template: jpath(f, "vars_template")?,
            });
        }
        s.kernel = jpath(v, "kernel")?;
        s.initrd = jpath(v, "initrd")?;
        s.append = jstr(v, "append")?;
        if s.kernel.is_none() && (s.initrd.is_some() || s.append.is_some()) {
            return Err(Error::invalid(
                "VM option",
                "initrd/append",
                "`initrd` and `append` need a `kernel`",
            ));
        }
        if let Some(Value::Array(ds)) = v.get("drives") {
            for d in ds {
                let drive = match d {
                    Value::String(f) => Drive {
                        file: crate::paths::expand(f),
                        format: guess_format(f),
                        interface: "virtio".into(),
                        read_only: false,
                        snapshot: false,
                    },
                    Value::Object(_) => {
                        for k in d.as_object().unwrap().keys() {
                            if !["file", "format", "interface", "read_only", "snapshot"]
                                .contains(&k.as_str())
                            {
                                return Err(Error::invalid(
                                    "drive option",
                                    k.as_str(),
                                    "a drive takes file, format, interface, read_only, snapshot",
                                ));
                            }
                        }
                        let file = jstr(d, "file")?.ok_or_else(|| {
                            Error::invalid("drive", d.to_string(), "needs a `file`")
                        })?;
                        Drive {
                            format: jstr(d, "format")?.unwrap_or_else(|| guess_format(&file)),
                            file: crate::paths::expand(&file),
                            interface: jstr(d, "interface")?.unwrap_or_else(|| "virtio".into()),
                            read_only: jbool(d, "read_only", false)?,
                            snapshot: jbool(d, "snapshot", false)?,
                        }
                    }
                    other => {
                        return Err(Error::invalid(
                            "drive",
                            other.to_string(),
                            "expected a path or a map",
                        ));
                    }
                };
                if !["virtio", "ide", "scsi", "none", "pflash", "sd"]
                    .contains(&drive.interface.as_str())
                {
                    return Err(Error::invalid(
                        "drive interface",
                        drive.interface,
                        "use virtio, ide, scsi or none",
                    ));
                }
                if !["qcow2", "raw", "vmdk", "vdi", "vhdx"].contains(&drive.format.as_str()) {
                    return Err(Error::invalid("drive format", drive.format, "use qcow2 or raw"));
                }
                s.drives.push(drive);
            }
        } else if v.get("drives").is_some_and(|d| !d.is_null()) {
            return Err(Error::invalid("VM option", "drives", "expected an array"));
        }
        s.network = jbool(v, "network", true)?;
        if let Some(n) = jstr(v, "nic")? {
            s.nic = n;
        }
        if let Some(mac) = jstr(v, "mac")? {
            check_mac(&mac)?;
            s.mac = Some(mac.to_ascii_lowercase());
        }
        if let Some(Value::Array(fs)) = v.get("forwards") {
            for f in fs {
                let proto = jstr(f, "proto")?.unwrap_or_else(|| "tcp".into());
                if proto != "tcp" && proto != "udp" {
                    return Err(Error::invalid(
                        "port forward",
                        f.to_string(),
                        "`proto` is tcp or udp",
                    ));
                }
                let bind = jstr(f, "bind")?.unwrap_or_else(|| "127.0.0.1".into());
                s.forwards.push(Forward {
                    proto,
                    bind,
                    host: jport(f, "host")?,
                    guest: jport(f, "guest")?,
                });
            }
            if !s.network && !s.forwards.is_empty() {
                return Err(Error::invalid(
                    "VM option",
                    "forwards",
                    "port forwards need `network: true`",
                ));
            }
        } else if v.get("forwards").is_some_and(|d| !d.is_null()) {
            return Err(Error::invalid(
                "VM option",
                "forwards",
                "expected an array of #{ host, guest }",
            ));
        }
        s.smbios = match v.get("smbios") {
            None | Some(Value::Null) => vec![],
            Some(Value::Object(m)) => {
                // A map is SMBIOS type 1 (system information): #{ serial: "ds=nocloud" }.
                let fields: Vec<String> = m
                    .iter()
                    .map(|(k, x)| {
                        format!(
                            "{k}={}",
                            x.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| x.to_string())
                                .replace(',', ",,")
                        )
                    })
                    .collect();
                vec![format!("type=1,{}", fields.join(","))]
            }
            Some(_) => strings(v, "smbios")?,
        };
        s.serial_log = jpath(v, "serial_log")?;
        s.qmp = jpath(v, "qmp")?;
        s.dir = jpath(v, "dir")?;
        s.extra_args = strings(v, "extra_args")?;
        Ok(s)
    }

    pub fn binary(&self) -> String {
        self.binary.clone().unwrap_or_else(|| format!("qemu-system-{}", self.arch))
    }
}

/// The empty UEFI variable store that goes with the firmware `code`, when it is one of the
/// builds QEMU users have: Homebrew's `edk2-aarch64-code.fd` (→ `edk2-arm-vars.fd`, shared by
/// arm and aarch64), Debian's `AAVMF_CODE*.fd` (→ `AAVMF_VARS*.fd`) and `OVMF_CODE*.fd`
/// (→ `OVMF_VARS*.fd`), QEMU's `edk2-x86_64-code.fd` (→ `edk2-i386-vars.fd`). The file must
/// exist beside the code.
pub fn vars_template_for(code: &Path) -> Option<PathBuf> {
    let name = code.file_name()?.to_str()?;
    let vars = match name {
        "edk2-aarch64-code.fd" | "edk2-arm-code.fd" => "edk2-arm-vars.fd".to_string(),
        "edk2-x86_64-code.fd" | "edk2-i386-code.fd" | "edk2-x86_64-secure-code.fd" => {
            "edk2-i386-vars.fd".to_string()
        }
        n if n.starts_with("AAVMF_CODE") || n.starts_with("OVMF_CODE") => {
            n.replacen("_CODE", "_VARS", 1)
        }
        _ => return None,
    };
    // AAVMF_CODE.ms.fd (Secure Boot keys enrolled) pairs with AAVMF_VARS.ms.fd, which exists;
    // a variant without its own vars file falls back to the plain one.
    let dir = code.parent()?;
    let exact = dir.join(&vars);
    if exact.is_file() {
        return Some(exact);
    }
    let plain = vars.split('.').next().map(|b| format!("{b}.fd"))?;
    Some(dir.join(plain)).filter(|p| p.is_file())
}

fn guess_format(file: &str) -> String {
    if file.ends_with(".qcow2") { "qcow2".into() } else { "raw".into() }
}

// ---------------------------------------------------------------------------------------------
// The accelerator.

/// The accelerator `auto` resolves to for `arch` on this host: `hvf` on macOS for the host's
/// own architecture, else `tcg`. KVM is used only when asked for (`accel: "kvm"` or
/// `HELIX_QEMU_ACCEL=kvm`): on nested hosts `/dev/kvm` can open and even run SeaBIOS while a
/// Linux guest hangs without a word, which no cheap probe tells apart — TCG is slow but sure.
pub fn accelerator(arch: &str) -> String {
    if let Ok(a) = std::env::var("HELIX_QEMU_ACCEL")
        && !a.is_empty()
    {
        return a;
    }
    let Ok(arch) = normal_arch(arch) else { return "tcg".into() };
    if arch == host_arch() && cfg!(target_os = "macos") { "hvf".into() } else { "tcg".into() }
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn qemu_opt(s: &str) -> String {
    s.replace(',', ",,")
}

/// The full `qemu-system-*` argv for `spec` with accelerator `accel`, QMP socket and serial log.
pub fn argv(spec: &VmSpec, accel: &str, qmp: &Path, serial_log: &Path) -> Vec<String> {
    let mut a = vec![spec.binary()];
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|x| x.to_string()));
    push(&["-name", &spec.name]);
    let machine = spec
        .machine
        .clone()
        .unwrap_or_else(|| if spec.arch == "aarch64" { "virt".into() } else { "q35".into() });
    push(&["-machine", &machine, "-accel", accel]);
    let cpu = spec
        .cpu
        .clone()
        .unwrap_or_else(|| if accel == "tcg" { "max".into() } else { "host".into() });
    push(&["-cpu", &cpu, "-smp", &spec.smp.to_string(), "-m", &format!("{}M", spec.memory >> 20)]);
    push(&["-display", "none", "-monitor", "none", "-nodefaults"]);
    push(&["-serial", &format!("file:{}", serial_log.display())]);
    push(&["-qmp", &format!("unix:{},server=on,wait=off", qemu_opt(&qmp.display().to_string()))]);
    if let Some(fw) = &spec.firmware {
        push(&[
            "-drive",
            &format!(
                "if=pflash,format=raw,readonly=on,file={}",
                qemu_opt(&fw.code.display().to_string())
            ),
        ]);
        if let Some(v) = &fw.vars {
            push(&[
                "-drive",
                &format!("if=pflash,format=raw,file={}", qemu_opt(&v.display().to_string())),
            ]);
        }
    }
    if let Some(k) = &spec.kernel {
        push(&["-kernel", &k.display().to_string()]);
    }
    if let Some(i) = &spec.initrd {
        push(&["-initrd", &i.display().to_string()]);
    }
    if let Some(ap) = &spec.append {
        push(&["-append", ap]);
    }
    for d in &spec.drives {
        let mut o = format!(
            "file={},format={},if={}",
            qemu_opt(&d.file.display().to_string()),
            d.format,
            d.interface
        );
        if d.read_only {
            o.push_str(",readonly=on");
        }
        if d.snapshot {
            o.push_str(",snapshot=on");
        }
        push(&["-drive", &o]);
    }
    if spec.network {
        let mut net = "user,id=net0".to_string();
        for f in &spec.forwards {
            net.push_str(&format!(",hostfwd={}:{}:{}-:{}", f.proto, f.bind, f.host, f.guest));
        }
        push(&["-netdev", &net]);
        let mut dev = format!("{},netdev=net0", spec.nic);
        if let Some(m) = &spec.mac {
            dev.push_str(&format!(",mac={m}"));
        }
        push(&["-device", &dev]);
    }
    for s in &spec.smbios {
        push(&["-smbios", s]);
    }
    a.extend(spec.extra_args.iter().cloned());
    a
}

// ---------------------------------------------------------------------------------------------
// Running VMs.

struct State {
    name: String,
    bg: Option<Background>,
    qmp: PathBuf,
    serial_log: PathBuf,
    qemu_log: PathBuf,
    forwards: Vec<Forward>,
    /// The temp dir holding the socket and logs (removed with the handle unless detached).
    tmp: Option<tempfile::TempDir>,
    detached: bool,
    dry_run: bool,
}

impl Drop for State {
    fn drop(&mut self) {
        if !self.detached
            && let Some(mut bg) = self.bg.take()
        {
            bg.kill();
        }
    }
}

/// A VM helix started. Clones share the VM; it is killed when the last one is dropped.
#[derive(Clone)]
pub struct Vm {
    state: Arc<Mutex<State>>,
}

fn registry() -> &'static Mutex<Vec<Weak<Mutex<State>>>> {
    static R: OnceLock<Mutex<Vec<Weak<Mutex<State>>>>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(vec![]))
}

/// Kill every VM this process started and did not detach (the end of a run, an error, Ctrl-C).
/// Returns how many were still running.
pub fn kill_all() -> usize {
    let all: Vec<Arc<Mutex<State>>> =
        registry().lock().unwrap().drain(..).filter_map(|w| w.upgrade()).collect();
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

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn need(path: &Path, what: &str) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::other(format!("the {what} `{}` does not exist: check the path", path.display())))
    }
}

fn port_free(f: &Forward) -> Result<()> {
    if f.proto != "tcp" {
        return Ok(());
    }
    match TcpListener::bind((f.bind.as_str(), f.host)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(Error::other(format!(
            "port {} on {} is already in use, so it cannot be forwarded to the guest's port {}: \
             stop what listens there (another VM?) or pick another host port",
            f.host, f.bind, f.guest
        ))),
        Err(e) => {
            Err(Error::other(format!("cannot forward {}:{} to the guest: {e}", f.bind, f.host)))
        }
    }
}

/// Why QEMU exited during start-up, in words people can act on.
fn explain_start_failure(spec: &VmSpec, log: &str) -> Error {
    if log.contains("Could not set up host forwarding rule") {
        let which: Vec<String> =
            spec.forwards.iter().map(|f| format!("{}:{}", f.bind, f.host)).collect();
        return Error::other(format!(
            "QEMU could not forward {}: a port is already in use; stop what listens there or pick another host port",
            which.join(", ")
        ));
    }
    if log.contains("\"write\" lock") {
        let disk = spec
            .drives
            .iter()
            .find(|d| log.contains(&d.file.display().to_string()))
            .map(|d| d.file.display().to_string())
            .unwrap_or_else(|| "its disk".into());
        return Error::other(format!("the VM using `{disk}` is running: stop it first"));
    }
    let indented: Vec<String> = log.lines().map(|l| format!("  | {l}")).collect();
    Error::other(format!(
        "the VM `{}` did not start: QEMU exited:\n{}",
        spec.name,
        indented.join("\n")
    ))
}

/// Start `spec` headless. Returns once QEMU answers on its QMP socket (the guest is booting).
#[allow(clippy::disallowed_methods)] // a stale QMP socket and helix's own QEMU log in the VM dir, recreated at each start
pub fn start(spec: &VmSpec) -> Result<Vm> {
    let binary = spec.binary();
    if crate::process::which(&binary).is_none() {
        return Err(Error::other(format!(
            "`{binary}` is not installed (or not on PATH): install QEMU (`brew install qemu`, `apt install qemu-system`)"
        )));
    }
    let dry_run = crate::ctx::get().dry_run;
    // Under --dry-run the steps before may only have planned the disks; nothing is created.
    for d in spec.drives.iter().filter(|_| !dry_run) {
        need(&d.file, "disk image")?;
    }
    if let Some(k) = &spec.kernel {
        need(k, "kernel")?;
    }
    if let Some(i) = &spec.initrd {
        need(i, "initrd")?;
    }
    if let Some(fw) = &spec.firmware {
        need(&fw.code, "UEFI firmware")?;
        if let Some(vars) = &fw.vars
            && !vars.exists()
        {
            let Some(t) = fw.vars_template.clone().or_else(|| vars_template_for(&fw.code)) else {
                return Err(Error::other(format!(
                    "the UEFI vars file `{}` does not exist and helix knows no vars template for the firmware `{}`: give `firmware.vars_template` (the firmware's empty vars file)",
                    vars.display(),
                    fw.code.display()
                )));
            };
            need(&t, "UEFI vars template")?;
            crate::fs::copy(&t, vars)?;
        }
        // Under --dry-run an earlier step may only have planned the vars copy.
        if let Some(v) = fw.vars.as_ref().filter(|_| !dry_run) {
            need(v, "UEFI vars file")?;
        }
    }
    for f in &spec.forwards {
        port_free(f)?;
    }
    let accel = match spec.accel.as_deref() {
        None | Some("auto") => accelerator(&spec.arch),
        Some(a) => a.to_string(),
    };
    let (tmp, dir) = match &spec.dir {
        Some(d) if dry_run => (None, d.clone()),
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::fs("create", d, e))?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("helix-vm-")
                .tempdir()
                .map_err(|e| Error::fs("create", Path::new("/tmp"), e))?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let qmp = spec.qmp.clone().unwrap_or_else(|| dir.join("qmp.sock"));
    if qmp.as_os_str().len() > 100 {
        return Err(Error::invalid(
            "QMP socket path",
            qmp.display().to_string(),
            "unix socket paths must be under ~100 bytes",
        ));
    }
    let serial_log = spec.serial_log.clone().unwrap_or_else(|| dir.join("serial.log"));
    let qemu_log = dir.join(format!("{}-qemu.log", spec.name));
    if !dry_run {
        // A socket that answers belongs to a VM that still runs: removing it would cut that VM
        // off from its power-down.
        if std::os::unix::net::UnixStream::connect(&qmp).is_ok() {
            return Err(Error::other(format!(
                "the QMP socket `{}` belongs to a VM that is still running: stop it first, or give \
                 this VM another `dir`",
                qmp.display()
            )));
        }
        // A stale socket or log from an earlier VM in this dir: QEMU's own files, not user data.
        let _ = std::fs::remove_file(&qmp);
        let _ = std::fs::remove_file(&qemu_log);
    }
    let argv = argv(spec, &accel, &qmp, &serial_log);
    let mk = |bg: Option<Background>, dry_run: bool, tmp: Option<tempfile::TempDir>| Vm {
        state: Arc::new(Mutex::new(State {
            name: spec.name.clone(),
            bg,
            qmp: qmp.clone(),
            serial_log: serial_log.clone(),
            qemu_log: qemu_log.clone(),
            forwards: spec.forwards.clone(),
            tmp,
            detached: false,
            dry_run,
        })),
    };
    if dry_run {
        crate::ui::plan(&format!(
            "would start the VM `{}`: {}",
            spec.name,
            crate::process::display_argv(&argv)
        ));
        return Ok(mk(None, true, tmp));
    }
    let bg = Cmd::new(&argv).spawn_background(Some(&qemu_log))?;
    let vm = mk(Some(bg), false, tmp);
    registry().lock().unwrap().push(Arc::downgrade(&vm.state));
    // Up when QMP answers; an early exit is a start-up failure with QEMU's own words.
    let up = crate::wait::until(Duration::from_secs(30), Duration::from_millis(50), || {
        let mut st = vm.state.lock().unwrap();
        if !st.bg.as_mut().is_some_and(|b| b.is_running()) {
            return Some(false);
        }
        drop(st);
        qmp::execute(&qmp, "query-status", None, Duration::from_secs(2)).ok().map(|_| true)
    });
    match up {
        Ok(Some(true)) => {
            crate::ui::info(&format!("started the VM `{}` (pid {}, {accel})", spec.name, vm.pid()));
            Ok(vm)
        }
        Ok(Some(false)) => {
            vm.kill_quietly();
            Err(explain_start_failure(spec, &tail(&qemu_log, 12)))
        }
        Ok(None) => {
            vm.kill_quietly();
            Err(Error::other(format!(
                "the VM `{}` started but its QMP socket never answered; QEMU said:\n{}",
                spec.name,
                tail(&qemu_log, 12)
            )))
        }
        Err(e) => {
            vm.kill_quietly();
            Err(e)
        }
    }
}

impl Vm {
    pub fn name(&self) -> String {
        self.state.lock().unwrap().name.clone()
    }

    /// QEMU's process id (0 when not started: dry run).
    pub fn pid(&self) -> u32 {
        self.state.lock().unwrap().bg.as_ref().map(|b| b.pid()).unwrap_or(0)
    }

    pub fn serial_log(&self) -> PathBuf {
        self.state.lock().unwrap().serial_log.clone()
    }

    pub fn qemu_log(&self) -> PathBuf {
        self.state.lock().unwrap().qemu_log.clone()
    }

    pub fn qmp_socket(&self) -> PathBuf {
        self.state.lock().unwrap().qmp.clone()
    }

    pub fn forwards(&self) -> Vec<Forward> {
        self.state.lock().unwrap().forwards.clone()
    }

    pub fn is_running(&self) -> bool {
        self.state.lock().unwrap().bg.as_mut().is_some_and(|b| b.is_running())
    }

    fn is_dry(&self) -> bool {
        self.state.lock().unwrap().dry_run
    }

    fn died(&self) -> Error {
        let st = self.state.lock().unwrap();
        Error::other(format!(
            "the VM `{}` exited; QEMU said:\n{}\nlast serial output:\n{}",
            st.name,
            tail(&st.qemu_log, 8),
            tail(&st.serial_log, 8)
        ))
    }

    /// Run a QMP command and return its answer.
    pub fn qmp(&self, command: &str, arguments: Option<Value>) -> Result<Value> {
        if self.is_dry() {
            return Ok(Value::Null);
        }
        qmp::execute(&self.qmp_socket(), command, arguments, Duration::from_secs(10))
    }

    /// Wait until `127.0.0.1:port` (or the forward's bind address) accepts TCP. With user
    /// networking QEMU itself accepts on a forwarded port at once, so this says QEMU is
    /// forwarding, not that the guest answers: use an SSH banner probe for that.
    pub fn wait_port(&self, port: u16, timeout: Duration) -> Result<()> {
        if self.is_dry() {
            return Ok(());
        }
        let bind = self
            .forwards()
            .into_iter()
            .find(|f| f.host == port)
            .map(|f| f.bind)
            .unwrap_or_else(|| "127.0.0.1".into());
        let addr =
            (bind.as_str(), port).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(
                || Error::invalid("address", format!("{bind}:{port}"), "cannot be resolved"),
            )?;
        let r = crate::wait::until(timeout, Duration::from_millis(100), || {
            if !self.is_running() {
                return Some(false);
            }
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok().map(|_| true)
        })?;
        match r {
            Some(true) => Ok(()),
            Some(false) => Err(self.died()),
            None => Err(Error::other(format!(
                "port {port} of the VM `{}` did not accept connections within {}s",
                self.name(),
                timeout.as_secs()
            ))),
        }
    }

    /// Wait until the serial console has printed `text` (e.g. `login:`); returns the log so far.
    pub fn wait_serial(&self, text: &str, timeout: Duration) -> Result<String> {
        if self.is_dry() {
            return Ok(String::new());
        }
        let log = self.serial_log();
        let r = crate::wait::until(timeout, Duration::from_millis(250), || {
            let s = std::fs::read_to_string(&log).unwrap_or_default();
            if s.contains(text) {
                return Some(Ok(s));
            }
            (!self.is_running()).then(|| Err(self.died()))
        })?;
        r.unwrap_or_else(|| {
            Err(Error::other(format!(
                "the VM `{}` did not print `{text}` on its serial console within {}s; last lines:\n{}",
                self.name(),
                timeout.as_secs(),
                tail(&log, 8)
            )))
        })
    }

    /// Shut the guest down cleanly: ACPI power button through QMP, wait up to `timeout`; then
    /// QMP `quit` (like pulling the plug, but QEMU flushes its disks); then kill. Returns how it
    /// ended: `"powered off"`, `"quit"`, `"killed"` or `"not running"`.
    pub fn powerdown(&self, timeout: Duration) -> Result<String> {
        if self.is_dry() {
            crate::ui::plan(&format!("would power down the VM `{}`", self.name()));
            return Ok("not running".into());
        }
        let name = self.name();
        let action = Action::new(
            "qemu.powerdown",
            format!("power down the VM `{name}` (ACPI, then quit after {}s)", timeout.as_secs()),
        )
        .args(json!({ "name": name, "pid": self.pid(), "timeout": timeout.as_secs_f64() }));
        guard::act(action, || {
            if !self.is_running() {
                return Ok("not running".to_string());
            }
            let exited = |t: Duration| -> Result<bool> {
                Ok(crate::wait::until(t, Duration::from_millis(100), || {
                    (!self.is_running()).then_some(())
                })?
                .is_some())
            };
            if self.qmp("system_powerdown", None).is_ok() && exited(timeout)? {
                self.reap();
                return Ok("powered off".to_string());
            }
            crate::ui::warn(&format!(
                "the VM `{name}` did not power off within {}s: quitting QEMU",
                timeout.as_secs()
            ));
            let _ = self.qmp("quit", None);
            if exited(Duration::from_secs(5))? {
                self.reap();
                return Ok("quit".to_string());
            }
            self.kill_quietly();
            Ok("killed".to_string())
        })
    }

    fn reap(&self) {
        if let Some(mut bg) = self.state.lock().unwrap().bg.take() {
            bg.kill();
        }
    }

    fn kill_quietly(&self) {
        let bg = self.state.lock().unwrap().bg.take();
        if let Some(mut bg) = bg {
            bg.kill();
        }
    }

    /// Stop QEMU at once (SIGTERM, then SIGKILL): the guest gets no chance to shut down.
    pub fn kill(&self) -> Result<()> {
        if self.is_dry() {
            return Ok(());
        }
        let name = self.name();
        let action = Action::new("qemu.kill", format!("kill the VM `{name}` (no guest shutdown)"))
            .args(json!({ "name": name, "pid": self.pid() }));
        guard::act(action, || {
            self.kill_quietly();
            Ok(())
        })
    }

    /// Let the VM outlive this run; returns its pid. Its logs and socket stay where they are.
    pub fn detach(&self) -> Result<u32> {
        let mut st = self.state.lock().unwrap();
        if st.dry_run {
            return Ok(0);
        }
        st.detached = true;
        if let Some(t) = st.tmp.take() {
            let _ = t.keep();
        }
        let pid = st.bg.take().map(|b| b.detach()).unwrap_or(0);
        crate::ui::info(&format!(
            "the VM `{}` keeps running (pid {pid}); QMP: {}",
            st.name,
            st.qmp.display()
        ));
        Ok(pid)
    }
}

/// Power down a VM that an earlier run detached, through its QMP socket: ACPI power button,
/// wait up to `timeout` for QEMU (pid `pid`) to exit, then QMP `quit`. Returns how it ended:
/// `"powered off"`, `"quit"` or `"not running"`.
pub fn powerdown_detached(qmp_socket: &Path, pid: u32, timeout: Duration) -> Result<String> {
    let alive = move || crate::procs::alive(pid);
    let action = Action::new(
        "qemu.powerdown",
        format!("power down the detached VM (pid {pid}, QMP {})", qmp_socket.display()),
    )
    .args(json!({ "pid": pid, "qmp": qmp_socket, "timeout": timeout.as_secs_f64() }));
    guard::act(action, || {
        if !alive() {
            return Ok("not running".to_string());
        }
        let gone = |t: Duration| -> Result<bool> {
            Ok(crate::wait::until(t, Duration::from_millis(100), || (!alive()).then_some(()))?
                .is_some())
        };
        if qmp::execute(qmp_socket, "system_powerdown", None, Duration::from_secs(5)).is_ok()
            && gone(timeout)?
        {
            return Ok("powered off".to_string());
        }
        let _ = qmp::execute(qmp_socket, "quit", None, Duration::from_secs(5));
        if gone(Duration::from_secs(10))? {
            return Ok("quit".to_string());
        }
        Err(Error::other(format!(
            "the VM (pid {pid}) did not stop through QMP `{}`: stop it with `kill {pid}`",
            qmp_socket.display()
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Result<VmSpec> {
        VmSpec::from_json(&v)
    }

    #[test]
    fn command_line_from_a_map() {
        let s = spec(json!({
            "name": "helix-desktop", "arch": "arm64", "smp": 8, "memory": 32768,
            "firmware": {"code": "/fw/code.fd", "vars": "/vm/efi_vars.fd"},
            "drives": [{"file": "/vm/disk.qcow2"}, {"file": "/vm/seed-fat.img", "format": "raw", "read_only": true}],
            "forwards": [{"host": 2223, "guest": 22}],
            "mac": "52:54:00:12:34:56",
            "smbios": {"serial": "ds=nocloud"},
        }))
        .unwrap();
        let a = argv(&s, "hvf", Path::new("/t/q.sock"), Path::new("/t/serial.log")).join(" ");
        for want in [
            "qemu-system-aarch64 -name helix-desktop -machine virt -accel hvf -cpu host -smp 8 -m 32768M",
            "-serial file:/t/serial.log -qmp unix:/t/q.sock,server=on,wait=off",
            "-drive if=pflash,format=raw,readonly=on,file=/fw/code.fd -drive if=pflash,format=raw,file=/vm/efi_vars.fd",
            "-drive file=/vm/disk.qcow2,format=qcow2,if=virtio -drive file=/vm/seed-fat.img,format=raw,if=virtio,readonly=on",
            "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2223-:22 -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56",
            "-smbios type=1,serial=ds=nocloud",
        ] {
            assert!(a.contains(want), "{want}\nin\n{a}");
        }
        let t = spec(json!({"arch": "x86_64", "memory": "2G", "kernel": "/k", "initrd": "/i", "append": "root=/dev/vda1 console=ttyS0"})).unwrap();
        let a = argv(&t, "tcg", Path::new("/q"), Path::new("/s")).join(" ");
        assert!(
            a.contains(
                "qemu-system-x86_64 -name vm -machine q35 -accel tcg -cpu max -smp 2 -m 2048M"
            ),
            "{a}"
        );
        assert!(a.contains("-kernel /k -initrd /i -append root=/dev/vda1 console=ttyS0"), "{a}");
    }

    #[test]
    fn bad_maps_are_clear_errors() {
        for (v, want) in [
            (json!({"memroy": 1}), "`qemu::start` takes only"),
            (json!({"memory": "lots"}), "invalid size `lots`"),
            (json!({"memory": "1.5K"}), "whole MiB"),
            (json!({"memory": 0}), "more than 0 MiB"),
            (json!({"memory": 8}), "at least 16M"),
            (json!({"mac": "52:54:00:12:34"}), "six hex pairs"),
            (json!({"mac": "01:00:00:00:00:01"}), "multicast"),
            (json!({"forwards": [{"host": 70000, "guest": 22}]}), "port number"),
            (json!({"forwards": [{"host": 2222}]}), "`guest`"),
            (json!({"accel": "whpx"}), "invalid accelerator"),
            (json!({"arch": "riscv64"}), "invalid arch"),
            (json!({"append": "x"}), "need a `kernel`"),
            (json!({"drives": [{"file": "/x", "interface": "floppy"}]}), "drive interface"),
            (json!({"name": "a b"}), "VM name"),
        ] {
            let e = spec(v.clone()).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn accelerator_is_hvf_on_macos_else_tcg() {
        if std::env::var_os("HELIX_QEMU_ACCEL").is_some() {
            return;
        }
        let native = if cfg!(target_os = "macos") { "hvf" } else { "tcg" };
        assert_eq!(accelerator(host_arch()), native);
        assert_eq!(accelerator("riscv64"), "tcg");
        let other = if host_arch() == "x86_64" { "aarch64" } else { "x86_64" };
        assert_eq!(accelerator(other), "tcg");
    }

    /// `kill_all` stops every VM of the process: the tests that start VMs take turns.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static M: Mutex<()> = Mutex::new(());
        M.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn no_disk_vm(name: &str) -> VmSpec {
        VmSpec {
            name: name.into(),
            arch: "x86_64".into(),
            accel: Some("tcg".into()),
            memory: 64 << 20,
            smp: 1,
            ..Default::default()
        }
    }

    use crate::procs::alive;

    #[test]
    fn a_vm_without_an_os_escalates_to_quit_and_a_dropped_handle_kills() {
        let _turn = serial();
        let vm = start(&no_disk_vm("noos")).unwrap();
        let pid = vm.pid();
        assert!(alive(pid));
        assert_eq!(vm.qmp("query-status", None).unwrap()["status"], "running");
        // No OS answers the ACPI button: powerdown escalates to QMP quit.
        assert_eq!(vm.powerdown(Duration::from_secs(1)).unwrap(), "quit");
        assert!(!alive(pid));
        let vm = start(&no_disk_vm("dropped")).unwrap();
        let pid = vm.pid();
        let sock = vm.qmp_socket();
        drop(vm);
        assert!(!alive(pid), "dropping the last handle kills the VM");
        assert!(!sock.exists(), "its temp dir is gone");
    }

    #[test]
    fn kill_all_stops_every_vm_and_busy_ports_are_refused() {
        let _turn = serial();
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut s = no_disk_vm("busy");
        s.forwards =
            vec![Forward { proto: "tcp".into(), bind: "127.0.0.1".into(), host: port, guest: 22 }];
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains(&format!("port {port} on 127.0.0.1 is already in use")), "{e}");
        drop(held);
        let vm = start(&s).unwrap();
        vm.wait_port(port, Duration::from_secs(5)).unwrap();
        let pid = vm.pid();
        assert!(kill_all() >= 1);
        assert!(!alive(pid));
        let e = vm.wait_port(port, Duration::from_secs(1)).unwrap_err().to_string();
        assert!(e.contains("exited"), "{e}");
    }

    #[test]
    fn a_second_vm_in_the_same_dir_never_takes_the_running_ones_socket() {
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let mut s = no_disk_vm("first");
        s.dir = Some(d.path().to_path_buf());
        let first = start(&s).unwrap();
        s.name = "second".into();
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("belongs to a VM that is still running"), "{e}");
        // The first VM still answers on its socket, and its files are in `dir`, not a temp dir.
        assert_eq!(first.qmp("query-status", None).unwrap()["status"], "running");
        assert_eq!(first.qmp_socket(), d.path().join("qmp.sock"));
        let pid = first.detach().unwrap();
        assert!(d.path().join("qmp.sock").exists(), "a detached VM keeps its socket in `dir`");
        assert_eq!(
            powerdown_detached(&d.path().join("qmp.sock"), pid, Duration::from_secs(1)).unwrap(),
            "quit"
        );
        // Once it stopped, a stale socket file is no obstacle.
        let again = start(&s).unwrap();
        again.kill().unwrap();
    }

    #[test]
    fn missing_files_and_a_locked_disk() {
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let mut s = no_disk_vm("missing");
        s.drives = vec![Drive {
            file: d.path().join("nope.qcow2"),
            format: "qcow2".into(),
            interface: "virtio".into(),
            read_only: false,
            snapshot: false,
        }];
        let e = start(&s).err().unwrap().to_string();
        assert!(
            e.contains("the disk image")
                && e.contains("nope.qcow2")
                && e.contains("does not exist"),
            "{e}"
        );
        let disk = d.path().join("disk.qcow2");
        crate::qemu_img::create(&disk, Some("64M"), &Default::default()).unwrap();
        s.drives[0].file = disk.clone();
        s.name = "locker".into();
        let vm = start(&s).unwrap();
        let e = crate::qemu_img::resize(&disk, "+64M").unwrap_err().to_string();
        assert_eq!(e, format!("the VM using `{}` is running: stop it first", disk.display()));
        // A second VM on the same disk: the same clear error, and no QEMU left behind.
        s.name = "second".into();
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("is running: stop it first"), "{e}");
        // info still works on a running VM's disk.
        assert_eq!(crate::qemu_img::info(&disk).unwrap().virtual_size, 64 << 20);
        vm.kill().unwrap();
        assert_eq!(crate::qemu_img::resize(&disk, "+64M").unwrap(), 128 << 20);
    }

    #[test]
    fn the_vars_template_is_found_beside_the_firmware_code() {
        let d = tempfile::tempdir().unwrap();
        let touch = |n: &str| std::fs::write(d.path().join(n), b"").unwrap();
        for n in [
            "edk2-aarch64-code.fd",
            "edk2-arm-vars.fd",
            "AAVMF_CODE.fd",
            "AAVMF_VARS.fd",
            "AAVMF_CODE.ms.fd",
            "AAVMF_VARS.ms.fd",
            "AAVMF_CODE.no-vars-of-its-own.fd",
            "OVMF_CODE_4M.fd",
            "OVMF_VARS_4M.fd",
            "OVMF_CODE_4M.secboot.fd",
        ] {
            touch(n);
        }
        let found = |code: &str| {
            vars_template_for(&d.path().join(code))
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        };
        // Homebrew's QEMU (what a Mac has): one arm vars file for arm and aarch64.
        assert_eq!(found("edk2-aarch64-code.fd").as_deref(), Some("edk2-arm-vars.fd"));
        // Debian's qemu-efi-aarch64 and ovmf, variants included.
        assert_eq!(found("AAVMF_CODE.fd").as_deref(), Some("AAVMF_VARS.fd"));
        assert_eq!(found("AAVMF_CODE.ms.fd").as_deref(), Some("AAVMF_VARS.ms.fd"));
        assert_eq!(found("AAVMF_CODE.no-vars-of-its-own.fd").as_deref(), Some("AAVMF_VARS.fd"));
        assert_eq!(found("OVMF_CODE_4M.fd").as_deref(), Some("OVMF_VARS_4M.fd"));
        assert_eq!(found("OVMF_CODE_4M.secboot.fd").as_deref(), Some("OVMF_VARS_4M.fd"));
        // Unknown firmware, or a known one whose vars file is missing: none.
        assert_eq!(found("my-firmware.fd"), None);
        std::fs::remove_file(d.path().join("edk2-arm-vars.fd")).unwrap();
        assert_eq!(found("edk2-aarch64-code.fd"), None);
        // The real packages here, when installed.
        let aavmf = Path::new("/usr/share/AAVMF/AAVMF_CODE.fd");
        if aavmf.exists() {
            assert_eq!(
                vars_template_for(aavmf).as_deref(),
                Some(Path::new("/usr/share/AAVMF/AAVMF_VARS.fd"))
            );
        }
    }

    #[test]
    fn a_missing_vars_file_without_a_known_template_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let code = d.path().join("my-firmware.fd");
        std::fs::write(&code, b"").unwrap();
        let mut s = no_disk_vm("novars");
        s.firmware =
            Some(Firmware { code, vars: Some(d.path().join("vars.fd")), vars_template: None });
        let e = start(&s).err().unwrap().to_string();
        assert!(
            e.contains("vars.fd` does not exist") && e.contains("firmware.vars_template"),
            "{e}"
        );
        assert!(!d.path().join("vars.fd").exists());
    }

    #[test]
    fn uefi_firmware_with_a_vars_file_made_from_the_template() {
        let code = Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd");
        let template = Path::new("/usr/share/OVMF/OVMF_VARS_4M.fd");
        if !code.exists() {
            eprintln!("skipped: no OVMF (apt install ovmf)");
            return;
        }
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let vars = d.path().join("efi_vars.fd");
        let mut s = no_disk_vm("uefi");
        s.memory = 256 << 20;
        s.firmware = Some(Firmware {
            code: code.into(),
            vars: Some(vars.clone()),
            vars_template: Some(template.into()),
        });
        let vm = start(&s).unwrap();
        assert_eq!(std::fs::read(&vars).unwrap(), std::fs::read(template).unwrap());
        assert_eq!(vm.qmp("query-status", None).unwrap()["status"], "running");
        let blocks = vm.qmp("query-block", None).unwrap().to_string();
        assert!(blocks.contains("OVMF_CODE_4M.fd") && blocks.contains("efi_vars.fd"), "{blocks}");
        vm.kill().unwrap();
        // A missing firmware file is a clear error.
        s.firmware =
            Some(Firmware { code: d.path().join("none.fd"), vars: None, vars_template: None });
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("the UEFI firmware") && e.contains("does not exist"), "{e}");
    }
}
