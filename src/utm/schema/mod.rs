//! UTM's `config.plist` schema (QEMU backend, ConfigurationVersion 4) as data, and the one
//! validator that `utm::create_bundle`, `utm::configure` and `utm::check` share — so "check
//! passes" means "UTM loads it", and helix never writes what UTM or QEMU would refuse.
//!
//! Read from UTM's source (utmapp/UTM, `Configuration/`): each section's `init(from:)` says
//! which keys are required (`decode`) and which optional (`decodeIfPresent`):
//! `UTMQemuConfiguration.swift` (top level), `UTMConfigurationInfo.swift`,
//! `UTMQemuConfigurationSystem.swift`, `UTMQemuConfigurationQEMU.swift`,
//! `UTMQemuConfigurationInput.swift`, `UTMQemuConfigurationSharing.swift`,
//! `UTMQemuConfigurationDisplay.swift`, `UTMQemuConfigurationDrive.swift`,
//! `UTMQemuConfigurationNetwork.swift`, `UTMQemuConfigurationPortForward.swift` (with the
//! lower-case keys UTM before 4.4 wrote), `UTMQemuConfigurationSerial.swift`,
//! `UTMConfigurationTerminal.swift`, `UTMQemuConfigurationSound.swift`. The enums and their
//! case-exact raw values are `QEMUConstant.swift`'s; the per-architecture targets, CPUs and
//! devices are `QEMUConstantGenerated.swift`'s (data in [`super::constants`]).
//!
//! Severity follows what UTM does with a value:
//! - **error**: UTM refuses to load the file (a missing required key, a wrong type, a value
//!   outside a `QEMUConstant` enum — its decoder throws `invalidConfigurationValue` — a target
//!   the architecture does not have, a malformed UUID), or QEMU refuses to start (a malformed
//!   MAC, a port outside 1–65535).
//! - **warning**: UTM loads it but the VM will not work as written: an unknown CPU (UTM resets
//!   it to `default`), a device UTM's QEMU does not have (`AnyQEMUConstant`: UTM accepts any
//!   string, QEMU refuses to start), a multicast or all-zero MAC (the guest ignores it and makes
//!   up its own, breaking MAC-matched netplan), an unknown built-in icon, a key UTM does not
//!   know (dropped on its next save).
//!
//! `create_bundle` refuses errors and warnings alike; `configure` refuses any finding its
//! change adds; `check` reports them all.

use plist::{Dictionary, Value};
use serde_json::{Value as Json, json};

use super::constants as c;

/// How bad a finding is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One thing wrong with a bundle: `kind` names the rule, `path` the key path or file.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub severity: Severity,
    pub kind: &'static str,
    pub path: String,
    pub message: String,
}

impl Finding {
    pub fn error(kind: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Finding { severity: Severity::Error, kind, path: path.into(), message: message.into() }
    }
    pub fn warning(
        kind: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding { severity: Severity::Warning, kind, path: path.into(), message: message.into() }
    }
    pub fn to_json(&self) -> Json {
        json!({
            "severity": self.severity.name(),
            "kind": self.kind,
            "path": self.path,
            "message": self.message,
        })
    }
}

/// A device family whose raw value UTM stores as `AnyQEMUConstant` (any string loads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Display,
    Network,
    Sound,
    Serial,
}

/// The type of a value.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str,
    Int,
    Bool,
    /// An array of strings (`CPUFlagsAdd`, `AdditionalArguments`).
    Strings,
    /// A `UUID` (Foundation's `UUID(uuidString:)`: 8-4-4-4-12 hex digits).
    Uuid,
    /// A NIC's MAC address.
    Mac,
    /// A TCP/UDP port, 1–65535.
    Port,
    /// A `QEMUConstant` enum: exactly one of these raw values (case-exact).
    Enum(&'static [&'static str]),
    /// `System.Architecture` (`QEMUArchitecture`).
    Arch,
    /// `System.Target`: the architecture's target enum.
    Target,
    /// `System.CPU`: the architecture's CPU enum (unknown → UTM resets it to `default`).
    Cpu,
    /// A device of the architecture (`AnyQEMUConstant`).
    Device(Device),
    /// `Information.Icon`: a built-in icon name, or a file in `Data/` when `IconCustom`.
    Icon,
    Dict(&'static [Key]),
    /// An array of dictionaries.
    Array(&'static [Key]),
    /// An array of dictionaries in one of two spellings (PortForward's old lower-case keys).
    ArrayEither(&'static [Key], &'static [Key]),
}

/// One key of a section.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

const fn req(name: &'static str, ty: Ty) -> Key {
    Key { name, ty, required: true }
}
const fn opt(name: &'static str, ty: Ty) -> Key {
    Key { name, ty, required: false }
}

/// The current (and oldest) ConfigurationVersion UTM 4 and 5 load (UTMConfiguration.swift).
pub const VERSION: i64 = 4;
/// The ConfigurationVersion of UTM 3's format, which UTM 4+ migrates on open
/// (Legacy/UTMLegacyQemuConfiguration.m, `kCurrentConfigurationVersion`).
pub const LEGACY_VERSION: i64 = 2;

// ---- enums (QEMUConstant.swift), raw values exactly as config.plist stores them ----

/// `UTMBackend` (UTMConfiguration.swift).
pub const BACKENDS: &[&str] = &["Unknown", "Apple", "QEMU"];
/// `QEMUScaler`.
pub const SCALERS: &[&str] = &["Linear", "Nearest"];
/// `QEMUUSBBus`.
pub const USB_BUSES: &[&str] = &["Disabled", "2.0", "3.0"];
/// `QEMUNetworkMode`.
pub const NETWORK_MODES: &[&str] = &["Emulated", "Shared", "Host", "Bridged"];
/// `QEMUNetworkProtocol`.
pub const PROTOCOLS: &[&str] = &["TCP", "UDP"];
/// `QEMUTerminalTheme`.
pub const TERMINAL_THEMES: &[&str] = &["Default"];
/// `QEMUSerialMode` (`Ptty` exists on macOS only).
pub const SERIAL_MODES: &[&str] = &["Terminal", "TcpClient", "TcpServer", "Ptty"];
/// `QEMUSerialTarget`.
pub const SERIAL_TARGETS: &[&str] = &["Auto", "Manual", "GDB", "Monitor"];
/// `QEMUDriveImageType`.
pub const IMAGE_TYPES: &[&str] =
    &["None", "Disk", "CD", "BIOS", "LinuxKernel", "LinuxInitrd", "LinuxDTB"];
/// `QEMUDriveInterface`.
pub const INTERFACES: &[&str] =
    &["None", "IDE", "SCSI", "SD", "MTD", "Floppy", "PFlash", "VirtIO", "NVMe", "USB"];
/// `QEMUFileShareMode`.
pub const SHARE_MODES: &[&str] = &["None", "WebDAV", "VirtFS"];

/// `QEMUPackageFileName`: the names UTM itself uses inside a QEMU bundle's `Data/`. Of these
/// it keeps `efi_vars.fd` (UEFI boot), `tpmdata` (a TPM, or any existing one) and `debug.log`
/// (debug log on) when it saves; `vmstate` is kept only by Apple-virtualization bundles, so in
/// a QEMU bundle UTM deletes it like any unreferenced file (UTMQemuConfigurationQEMU.swift
/// `saveData`, UTMConfiguration.swift `cleanupAllFiles`).
pub const EFI_VARS: &str = "efi_vars.fd";
pub const TPM_DATA: &str = "tpmdata";
pub const DEBUG_LOG: &str = "debug.log";
pub const VM_STATE: &str = "vmstate";

/// Architectures UTM has a UEFI firmware for (`uefiImagePrefix`).
pub const UEFI_ARCHITECTURES: &[&str] =
    &["arm", "aarch64", "i386", "x86_64", "loongarch64", "riscv64"];

// ---- sections ----

pub const INFORMATION: &[Key] = &[
    req("Name", Ty::Str),
    opt("Icon", Ty::Icon),
    req("IconCustom", Ty::Bool),
    opt("Notes", Ty::Str),
    req("UUID", Ty::Uuid),
];

pub const SYSTEM: &[Key] = &[
    req("Architecture", Ty::Arch),
    req("Target", Ty::Target),
    req("CPU", Ty::Cpu),
    req("CPUFlagsAdd", Ty::Strings),
    req("CPUFlagsRemove", Ty::Strings),
    req("CPUCount", Ty::Int),
    req("ForceMulticore", Ty::Bool),
    req("MemorySize", Ty::Int),
    req("JITCacheSize", Ty::Int),
];

pub const QEMU: &[Key] = &[
    req("DebugLog", Ty::Bool),
    req("UEFIBoot", Ty::Bool),
    req("RNGDevice", Ty::Bool),
    req("BalloonDevice", Ty::Bool),
    req("TPMDevice", Ty::Bool),
    req("Hypervisor", Ty::Bool),
    opt("TSO", Ty::Bool),
    req("RTCLocalTime", Ty::Bool),
    req("PS2Controller", Ty::Bool),
    opt("MachinePropertyOverride", Ty::Str),
    req("AdditionalArguments", Ty::Strings),
];

pub const INPUT: &[Key] = &[
    req("UsbBusSupport", Ty::Enum(USB_BUSES)),
    req("UsbSharing", Ty::Bool),
    req("MaximumUsbShare", Ty::Int),
];

pub const SHARING: &[Key] = &[
    req("DirectoryShareMode", Ty::Enum(SHARE_MODES)),
    req("DirectoryShareReadOnly", Ty::Bool),
    req("ClipboardSharing", Ty::Bool),
];

pub const DISPLAY: &[Key] = &[
    req("Hardware", Ty::Device(Device::Display)),
    opt("VgaRamMib", Ty::Int),
    req("DynamicResolution", Ty::Bool),
    req("UpscalingFilter", Ty::Enum(SCALERS)),
    req("DownscalingFilter", Ty::Enum(SCALERS)),
    req("NativeResolution", Ty::Bool),
];

pub const DRIVE: &[Key] = &[
    opt("ImageName", Ty::Str),
    opt("ReadOnly", Ty::Bool),
    req("ImageType", Ty::Enum(IMAGE_TYPES)),
    req("Interface", Ty::Enum(INTERFACES)),
    opt("InterfaceVersion", Ty::Int),
    req("Identifier", Ty::Str),
];

pub const PORT_FORWARD: &[Key] = &[
    req("Protocol", Ty::Enum(PROTOCOLS)),
    opt("HostAddress", Ty::Str),
    req("HostPort", Ty::Port),
    opt("GuestAddress", Ty::Str),
    req("GuestPort", Ty::Port),
];

/// The camel-case keys UTM before 4.4 wrote, still decoded.
pub const PORT_FORWARD_OLD: &[Key] = &[
    req("protocol", Ty::Enum(PROTOCOLS)),
    opt("hostAddress", Ty::Str),
    req("hostPort", Ty::Port),
    opt("guestAddress", Ty::Str),
    req("guestPort", Ty::Port),
];

pub const NETWORK: &[Key] = &[
    req("Mode", Ty::Enum(NETWORK_MODES)),
    req("Hardware", Ty::Device(Device::Network)),
    req("MacAddress", Ty::Mac),
    req("IsolateFromHost", Ty::Bool),
    req("PortForward", Ty::ArrayEither(PORT_FORWARD, PORT_FORWARD_OLD)),
    opt("BridgeInterface", Ty::Str),
    opt("VlanGuestAddress", Ty::Str),
    opt("VlanGuestAddressIPv6", Ty::Str),
    opt("VlanHostAddress", Ty::Str),
    opt("VlanHostAddressIPv6", Ty::Str),
    opt("VlanDhcpStartAddress", Ty::Str),
    opt("VlanDhcpEndAddress", Ty::Str),
    opt("VlanDhcpDomain", Ty::Str),
    opt("VlanDnsServerAddress", Ty::Str),
    opt("VlanDnsServerAddressIPv6", Ty::Str),
    opt("VlanDnsSearchDomain", Ty::Str),
    opt("HostNetUuid", Ty::Uuid),
];

pub const TERMINAL: &[Key] = &[
    opt("Theme", Ty::Enum(TERMINAL_THEMES)),
    opt("ForegroundColor", Ty::Str),
    opt("BackgroundColor", Ty::Str),
    req("Font", Ty::Str),
    req("FontSize", Ty::Int),
    opt("ResizeCommand", Ty::Str),
    opt("CursorBlink", Ty::Bool),
];

pub const SERIAL: &[Key] = &[
    req("Mode", Ty::Enum(SERIAL_MODES)),
    req("Target", Ty::Enum(SERIAL_TARGETS)),
    opt("Terminal", Ty::Dict(TERMINAL)),
    opt("Hardware", Ty::Device(Device::Serial)),
    opt("TcpHostAddress", Ty::Str),
    opt("TcpPort", Ty::Port),
    opt("WaitForConnection", Ty::Bool),
    opt("RemoteConnectionAllowed", Ty::Bool),
];

pub const SOUND: &[Key] = &[req("Hardware", Ty::Device(Device::Sound))];

/// The top level. `Backend` and `ConfigurationVersion` are checked first (see [`validate`]).
pub const TOP: &[Key] = &[
    req("Information", Ty::Dict(INFORMATION)),
    req("System", Ty::Dict(SYSTEM)),
    req("QEMU", Ty::Dict(QEMU)),
    req("Input", Ty::Dict(INPUT)),
    req("Sharing", Ty::Dict(SHARING)),
    req("Display", Ty::Array(DISPLAY)),
    req("Drive", Ty::Array(DRIVE)),
    req("Network", Ty::Array(NETWORK)),
    req("Serial", Ty::Array(SERIAL)),
    req("Sound", Ty::Array(SOUND)),
    req("Backend", Ty::Enum(BACKENDS)),
    req("ConfigurationVersion", Ty::Int),
];

// ---- per-architecture tables ----

/// The architectures helix has target/CPU/device tables for (and creates VMs for).
pub const KNOWN_ARCHITECTURES: &[&str] = &["aarch64", "x86_64"];

/// Other names people use for an architecture, and UTM's.
const ARCH_ALIASES: &[(&str, &str)] = &[
    ("arm64", "aarch64"),
    ("armv8", "aarch64"),
    ("amd64", "x86_64"),
    ("x64", "x86_64"),
    ("x86-64", "x86_64"),
    ("intel", "x86_64"),
];

/// The default target UTM picks for an architecture (`QEMUTarget_*.default`).
pub fn default_target(arch: &str) -> Option<&'static str> {
    match arch {
        "aarch64" => Some("virt"),
        "x86_64" => Some("q35"),
        _ => None,
    }
}

pub fn targets(arch: &str) -> Option<&'static [&'static str]> {
    match arch {
        "aarch64" => Some(c::AARCH64_TARGETS),
        "x86_64" => Some(c::X86_64_TARGETS),
        _ => None,
    }
}

pub fn cpus(arch: &str) -> Option<&'static [&'static str]> {
    match arch {
        "aarch64" => Some(c::AARCH64_CPUS),
        "x86_64" => Some(c::X86_64_CPUS),
        _ => None,
    }
}

pub fn devices(arch: &str, d: Device) -> Option<&'static [&'static str]> {
    Some(match (arch, d) {
        ("aarch64", Device::Display) => c::AARCH64_DISPLAY_DEVICES,
        ("aarch64", Device::Network) => c::AARCH64_NETWORK_DEVICES,
        ("aarch64", Device::Sound) => c::AARCH64_SOUND_DEVICES,
        ("aarch64", Device::Serial) => c::AARCH64_SERIAL_DEVICES,
        ("x86_64", Device::Display) => c::X86_64_DISPLAY_DEVICES,
        ("x86_64", Device::Network) => c::X86_64_NETWORK_DEVICES,
        ("x86_64", Device::Sound) => c::X86_64_SOUND_DEVICES,
        ("x86_64", Device::Serial) => c::X86_64_SERIAL_DEVICES,
        _ => return None,
    })
}

fn device_word(d: Device) -> &'static str {
    match d {
        Device::Display => "display device",
        Device::Network => "network device",
        Device::Sound => "sound device",
        Device::Serial => "serial device",
    }
}

// ---- value rules ----

/// Whether `s` is a UUID as Foundation parses one: 8-4-4-4-12 hex digits, either case.
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The six bytes of a MAC written as UTM writes them (`52:42:0A:1B:2C:3D`, either case).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut out = [0u8; 6];
    for (o, p) in out.iter_mut().zip(&parts) {
        if p.len() != 2 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

/// Why a MAC cannot be a NIC's address, if it cannot: `(severity, reason)`.
pub fn mac_problem(s: &str) -> Option<(Severity, String)> {
    match parse_mac(s) {
        None => Some((
            Severity::Error,
            "a MAC address is six hex pairs separated by colons, like 52:42:0A:1B:2C:3D (QEMU refuses anything else)".into(),
        )),
        Some(b) if b[0] & 1 == 1 => Some((
            Severity::Warning,
            format!(
                "it is a multicast address (the first byte, {:02X}, is odd): a NIC needs a unicast MAC — the guest ignores this one and makes up its own, so a netplan matched by MAC finds no NIC; use an even first byte like 52",
                b[0]
            ),
        )),
        Some(b) if b == [0; 6] => Some((
            Severity::Warning,
            "it is all zeros, which no NIC may use: the guest makes up its own MAC".into(),
        )),
        _ => None,
    }
}

/// The closest allowed value to `got`, for "did you mean": the same spelling in another case,
/// a known alias, or the nearest by edit distance (within a third of its length).
pub fn suggest<'a>(got: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if let Some(a) = allowed.iter().find(|a| a.eq_ignore_ascii_case(got)) {
        return Some(a);
    }
    let lower = got.to_ascii_lowercase();
    if let Some((_, to)) = ARCH_ALIASES.iter().find(|(from, _)| *from == lower)
        && let Some(a) = allowed.iter().find(|a| *a == to)
    {
        return Some(a);
    }
    let limit = (got.chars().count() / 3).max(1);
    allowed
        .iter()
        .map(|a| (distance(&lower, &a.to_ascii_lowercase()), *a))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Levenshtein distance (characters).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "expected one of …" with a "did you mean" first when there is a close value. Long lists
/// are shortened to their first values and a count.
pub fn expected(got: &str, allowed: &[&str]) -> String {
    let list = if allowed.len() <= 12 {
        allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
    } else {
        let first: Vec<String> = allowed.iter().take(8).map(|a| format!("`{a}`")).collect();
        format!("{}, … ({} values in all)", first.join(", "), allowed.len())
    };
    match suggest(got, allowed) {
        Some(s) => format!("did you mean `{s}`? UTM's values are case-exact: {list}"),
        None => format!("UTM accepts only {list}"),
    }
}

fn kind_of(v: &Value) -> &'static str {
    crate::plist::kind(v)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

// ---- the validator ----

/// Validate a whole configuration tree against the schema. Never fails: every problem is a
/// [`Finding`]. A UTM 3 (version 2) file or an Apple-virtualization one is recognised and
/// reported as one finding, not checked against the version-4 schema.
pub fn validate(root: &Dictionary) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(f) = version_finding(root) {
        out.push(f);
        return out;
    }
    let arch = root
        .get("System")
        .and_then(|s| s.as_dictionary())
        .and_then(|s| s.get("Architecture"))
        .and_then(|a| a.as_string());
    let cx = Cx { arch, root };
    check_dict(&cx, root, TOP, "", &mut out);
    semantic(&cx, &mut out);
    out
}

/// Whether the file is a version-4 QEMU configuration; if not, the one finding saying what it
/// is instead (a UTM 3 file UTM migrates, an Apple-virtualization VM, a newer UTM's file).
pub fn version_finding(root: &Dictionary) -> Option<Finding> {
    let version = root.get("ConfigurationVersion");
    let backend = root.get("Backend").and_then(|v| v.as_string());
    let v = match version {
        None => None,
        Some(Value::Integer(i)) => i.as_signed(),
        Some(other) => {
            return Some(Finding::error(
                "bad-type",
                "ConfigurationVersion",
                format!(
                    "ConfigurationVersion is {} {}, not an integer; UTM refuses to load it",
                    article(kind_of(other)),
                    kind_of(other)
                ),
            ));
        }
    };
    if backend.is_none() && v.is_some_and(|v| v > LEGACY_VERSION) {
        // UTM takes a file without Backend for a UTM 3 one, whose migration refuses versions
        // above 2 (UTMLegacyQemuConfiguration.m): UTM cannot load it.
        return Some(Finding::error(
            "missing-key",
            "Backend",
            "`Backend` is missing; UTM takes a file without it for a UTM 3 configuration, which this is not (its ConfigurationVersion is above 2), and fails to load it — it must be `QEMU`",
        ));
    }
    if backend.is_none() {
        // UTMConfiguration.load: no Backend → a legacy file, migrated by UTM 4+ on open.
        if root.get("isAppleVirtualization").and_then(|v| v.as_boolean()) == Some(true) {
            return Some(Finding::error(
                "legacy-config",
                "ConfigurationVersion",
                "this is an Apple-virtualization VM in UTM 3's format; helix handles QEMU VMs only",
            ));
        }
        return Some(Finding::error(
            "legacy-config",
            "ConfigurationVersion",
            format!(
                "this is a UTM 3 configuration (ConfigurationVersion {}, no Backend key): UTM 4 and 5 migrate it to version {VERSION} when they open the bundle, and helix reads version {VERSION} only — open it once in UTM (which rewrites config.plist and moves Images/ to Data/), then run helix again",
                v.map(|v| v.to_string()).unwrap_or_else(|| "missing".into())
            ),
        ));
    }
    match backend {
        Some("QEMU") => {}
        Some("Apple") => {
            return Some(Finding::error(
                "backend",
                "Backend",
                "this is an Apple-virtualization VM (Backend `Apple`); helix handles QEMU VMs only",
            ));
        }
        Some(other) => {
            return Some(Finding::error(
                "bad-value",
                "Backend",
                format!(
                    "Backend `{other}` is not one UTM knows; {}",
                    expected(other, &["QEMU", "Apple"])
                ),
            ));
        }
        None => unreachable!("handled above"),
    }
    match v {
        Some(VERSION) => None,
        Some(n) if n < VERSION => Some(Finding::error(
            "version",
            "ConfigurationVersion",
            format!(
                "ConfigurationVersion is {n}, helix reads version {VERSION} only, and so do UTM 4 and 5 (\"This configuration is too old and is not supported\")"
            ),
        )),
        Some(n) => Some(Finding::error(
            "version",
            "ConfigurationVersion",
            format!(
                "ConfigurationVersion is {n}, helix reads version {VERSION}: it was written by a newer UTM than helix knows; update helix"
            ),
        )),
        None => Some(Finding::error(
            "missing-key",
            "ConfigurationVersion",
            format!(
                "the QEMU configuration has no ConfigurationVersion; UTM refuses it (it must be {VERSION})"
            ),
        )),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

struct Cx<'a> {
    arch: Option<&'a str>,
    root: &'a Dictionary,
}

fn check_dict(cx: &Cx, d: &Dictionary, keys: &[Key], prefix: &str, out: &mut Vec<Finding>) {
    for k in keys {
        let path = join(prefix, k.name);
        match d.get(k.name) {
            None if k.required => out.push(Finding::error(
                "missing-key",
                &path,
                format!("`{path}` is missing; UTM requires it and refuses to load the file"),
            )),
            None => {}
            Some(v) => check_value(cx, v, k.ty, &path, out),
        }
    }
    for name in d.keys() {
        if !keys.iter().any(|k| k.name == name) {
            let path = join(prefix, name);
            out.push(Finding::warning(
                "unknown-key",
                &path,
                format!("UTM does not know `{path}`: it ignores it and drops it the next time it saves the VM"),
            ));
        }
    }
}

fn bad_type(path: &str, want: &str, v: &Value) -> Finding {
    let got = kind_of(v);
    Finding::error(
        "bad-type",
        path,
        format!(
            "`{path}` is {} {got}; UTM requires {want} there and refuses to load the file",
            article(got)
        ),
    )
}

fn check_value(cx: &Cx, v: &Value, ty: Ty, path: &str, out: &mut Vec<Finding>) {
    let s = v.as_string();
    let need_str = |out: &mut Vec<Finding>| {
        if s.is_none() {
            out.push(bad_type(path, "a string", v));
        }
        s
    };
    match ty {
        Ty::Str => {
            need_str(out);
        }
        Ty::Int => {
            if v.as_signed_integer().is_none() {
                out.push(bad_type(path, "an integer", v));
            }
        }
        Ty::Bool => {
            if v.as_boolean().is_none() {
                out.push(bad_type(path, "a boolean (<true/> or <false/>)", v));
            }
        }
        Ty::Port => match v.as_signed_integer() {
            None => out.push(bad_type(path, "an integer port", v)),
            Some(p) if !(1..=65535).contains(&p) => out.push(Finding::error(
                "bad-value",
                path,
                format!("`{path}` is {p}; a port is 1 to 65535 (QEMU refuses the forward)"),
            )),
            Some(_) => {}
        },
        Ty::Strings => match v.as_array() {
            None => out.push(bad_type(path, "an array of strings", v)),
            Some(a) => {
                for (i, x) in a.iter().enumerate() {
                    if x.as_string().is_none() {
                        out.push(bad_type(&format!("{path}[{i}]"), "a string", x));
                    }
                }
            }
        },
        Ty::Uuid => {
            if let Some(u) = need_str(out)
                && !is_uuid(u)
            {
                out.push(Finding::error(
                    "bad-uuid",
                    path,
                    format!("`{path}` is `{u}`, not a UUID (8-4-4-4-12 hex digits); UTM refuses to load the file"),
                ));
            }
        }
        Ty::Mac => {
            if let Some(m) = need_str(out)
                && let Some((sev, why)) = mac_problem(m)
            {
                out.push(Finding {
                    severity: sev,
                    kind: "bad-mac",
                    path: path.into(),
                    message: format!("`{path}` is `{m}`: {why}"),
                });
            }
        }
        Ty::Enum(allowed) => {
            if let Some(x) = need_str(out)
                && !allowed.contains(&x)
            {
                out.push(Finding::error(
                    "bad-value",
                    path,
                    format!("`{path}` is `{x}`, which UTM refuses to load (\"An invalid value of '{x}' is used in the configuration file\"); {}", expected(x, allowed)),
                ));
            }
        }
        Ty::Arch => {
            if let Some(x) = need_str(out)
                && !c::ARCHITECTURES.contains(&x)
            {
                out.push(Finding::error(
                    "bad-value",
                    path,
                    format!(
                        "`{path}` is `{x}`, not an architecture UTM knows; {}",
                        expected(x, c::ARCHITECTURES)
                    ),
                ));
            }
        }
        Ty::Target => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(targets) {
                    Some(t) if !t.contains(&x) => out.push(Finding::error(
                        "bad-value",
                        path,
                        format!(
                            "`{path}` is `{x}`, which is not one of {}'s machine targets, so UTM refuses to load the file; {}",
                            cx.arch.unwrap_or_default(),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Cpu => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(cpus) {
                    Some(t) if !t.contains(&x) => out.push(Finding::warning(
                        "bad-value",
                        path,
                        format!(
                            "`{path}` is `{x}`, not one of {}'s CPUs: UTM loads the VM with the `default` CPU instead; {}",
                            cx.arch.unwrap_or_default(),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Device(d) => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(|a| devices(a, d)) {
                    Some(t) if !t.contains(&x) => out.push(Finding::warning(
                        "unknown-device",
                        path,
                        format!(
                            "`{path}` is `{x}`, not one of {}'s {}s in UTM's QEMU: UTM loads it but QEMU refuses to start the VM unless your build adds it; {}",
                            cx.arch.unwrap_or_default(),
                            device_word(d),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Icon => {
            let custom = cx
                .root
                .get("Information")
                .and_then(|i| i.as_dictionary())
                .and_then(|i| i.get("IconCustom"))
                .and_then(|v| v.as_boolean())
                .unwrap_or(false);
            if let Some(x) = need_str(out)
                && !custom
                && !c::ICONS.contains(&x)
            {
                out.push(Finding::warning(
                    "unknown-icon",
                    path,
                    format!(
                        "`{path}` is `{x}`, not one of UTM's built-in icons: UTM shows no icon; {}",
                        expected(x, c::ICONS)
                    ),
                ));
            }
        }
        Ty::Dict(keys) => match v.as_dictionary() {
            Some(d) => check_dict(cx, d, keys, path, out),
            None => out.push(bad_type(path, "a dictionary", v)),
        },
        Ty::Array(keys) => check_array(cx, v, keys, None, path, out),
        Ty::ArrayEither(keys, old) => check_array(cx, v, keys, Some(old), path, out),
    }
}

fn check_array(
    cx: &Cx,
    v: &Value,
    keys: &[Key],
    old: Option<&[Key]>,
    path: &str,
    out: &mut Vec<Finding>,
) {
    let Some(a) = v.as_array() else {
        out.push(bad_type(path, "an array", v));
        return;
    };
    for (i, item) in a.iter().enumerate() {
        let p = format!("{path}[{i}]");
        match item.as_dictionary() {
            None => out.push(bad_type(&p, "a dictionary", item)),
            Some(d) => {
                // Old spelling: used when the first key of the new one is absent and the old one there.
                let keys = match old {
                    Some(o) if !d.contains_key(keys[0].name) && d.contains_key(o[0].name) => o,
                    _ => keys,
                };
                check_dict(cx, d, keys, &p, out)
            }
        }
    }
}

fn unknown_arch(cx: &Cx, path: &str, out: &mut Vec<Finding>) {
    if let Some(a) = cx.arch
        && c::ARCHITECTURES.contains(&a)
    {
        out.push(Finding::warning(
            "unchecked",
            path,
            format!("helix has no table of {a}'s targets, CPUs and devices (only {}), so `{path}` is not checked", KNOWN_ARCHITECTURES.join(" and ")),
        ));
    }
}

/// Rules across keys.
fn semantic(cx: &Cx, out: &mut Vec<Finding>) {
    let get = |sec: &str, key: &str| {
        cx.root.get(sec).and_then(|s| s.as_dictionary()).and_then(|s| s.get(key))
    };
    if get("QEMU", "UEFIBoot").and_then(|v| v.as_boolean()) == Some(true)
        && let Some(a) = cx.arch
        && c::ARCHITECTURES.contains(&a)
        && !UEFI_ARCHITECTURES.contains(&a)
    {
        out.push(Finding::error(
            "bad-value",
            "QEMU.UEFIBoot",
            format!("UEFI boot is on, but UTM has no UEFI firmware for {a} (\"UEFI is not supported with this architecture\"); it fails when it saves the VM"),
        ));
    }
    if let Some(n) = get("System", "MemorySize").and_then(|v| v.as_signed_integer())
        && n <= 0
    {
        out.push(Finding::error(
            "bad-value",
            "System.MemorySize",
            format!("`System.MemorySize` is {n} MiB; QEMU needs more than 0"),
        ));
    }
    if let Some(n) = get("System", "CPUCount").and_then(|v| v.as_signed_integer())
        && n < 0
    {
        out.push(Finding::error(
            "bad-value",
            "System.CPUCount",
            format!("`System.CPUCount` is {n}; it is 0 (as many as the host has) or more"),
        ));
    }
    if get("Information", "IconCustom").and_then(|v| v.as_boolean()) == Some(true)
        && get("Information", "Icon").is_none()
    {
        out.push(Finding::error(
            "missing-key",
            "Information.Icon",
            "`Information.IconCustom` is true but `Information.Icon` (the icon's file in Data/) is missing; UTM refuses to load the file",
        ));
    }
}

/// Only the errors.
pub fn errors(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_the_case_exact_value_and_aliases() {
        assert_eq!(suggest("virtio", INTERFACES), Some("VirtIO"));
        assert_eq!(suggest("virtfs", SHARE_MODES), Some("VirtFS"));
        assert_eq!(suggest("arm64", c::ARCHITECTURES), Some("aarch64"));
        assert_eq!(suggest("amd64", c::ARCHITECTURES), Some("x86_64"));
        assert_eq!(suggest("Emulatd", NETWORK_MODES), Some("Emulated"));
        assert_eq!(suggest("sctp", PROTOCOLS), None);
        assert!(expected("sctp", PROTOCOLS).contains("`TCP`, `UDP`"));
        assert!(expected("virtio", INTERFACES).starts_with("did you mean `VirtIO`?"));
        let long = expected("zzz", c::AARCH64_TARGETS);
        assert!(long.contains("values in all"), "{long}");
    }

    #[test]
    fn macs_and_uuids() {
        assert!(mac_problem("52:42:0A:1B:2C:3D").is_none());
        assert!(mac_problem("52:42:0a:1b:2c:3d").is_none());
        assert_eq!(mac_problem("52:42:0A:1B:2C").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52-42-0A-1B-2C-3D").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52:42:0A:1B:2C:3G").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52:42:0A:1B:2C:3DD").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("01:00:5E:00:00:01").unwrap().0, Severity::Warning);
        assert_eq!(mac_problem("FF:FF:FF:FF:FF:FF").unwrap().0, Severity::Warning);
        assert_eq!(mac_problem("00:00:00:00:00:00").unwrap().0, Severity::Warning);
        assert!(is_uuid("17dc4f96-f1a9-4b51-962b-03d85998e0e7"));
        assert!(!is_uuid("17DC4F96F1A94B51962B03D85998E0E7"));
        assert!(!is_uuid("17DC4F96-F1A9-4B51-962B-03D85998E0EZ"));
    }

    #[test]
    fn other_architectures_are_known_but_unchecked_and_uefi_needs_firmware() {
        let spec = crate::utm::bundle::NewBundle::default();
        let mut root = crate::utm::bundle::new_config(&spec, &[]).unwrap();
        assert_eq!(validate(&root), vec![]);
        crate::plist::set(&mut root, "System.Architecture", Value::String("sparc64".into()))
            .unwrap();
        let f = validate(&root);
        assert!(
            f.iter().any(|f| f.path == "QEMU.UEFIBoot" && f.severity == Severity::Error),
            "{f:?}"
        );
        let unchecked: Vec<&str> =
            f.iter().filter(|f| f.kind == "unchecked").map(|f| f.path.as_str()).collect();
        assert!(unchecked.contains(&"System.Target") && unchecked.contains(&"System.CPU"));
        assert!(f.iter().all(|f| f.kind != "bad-value" || f.path == "QEMU.UEFIBoot"), "{f:?}");
    }

    #[test]
    fn the_tables_hold_what_helix_writes() {
        assert!(c::AARCH64_TARGETS.contains(&"virt") && c::X86_64_TARGETS.contains(&"q35"));
        assert!(!c::AARCH64_TARGETS.contains(&"q35") && !c::X86_64_TARGETS.contains(&"virt"));
        for arch in KNOWN_ARCHITECTURES {
            assert!(targets(arch).unwrap().contains(&default_target(arch).unwrap()));
            assert!(cpus(arch).unwrap().contains(&"default"));
            assert!(devices(arch, Device::Display).unwrap().contains(&"virtio-gpu-gl-pci"));
            assert!(devices(arch, Device::Network).unwrap().contains(&"virtio-net-pci"));
            assert!(devices(arch, Device::Sound).unwrap().contains(&"intel-hda"));
        }
        assert!(c::ICONS.contains(&"linux") && c::ICONS.contains(&"ubuntu"));
    }
}
