//! UTM's `config.plist` schema as data: each section's keys with their types and whether UTM
//! requires them, the `QEMUConstant` enums with their case-exact raw values, and the
//! per-architecture targets, CPUs and devices (from [`super::super::constants`]).

use super::super::constants as c;

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
pub(crate) const VERSION: i64 = 4;
/// The ConfigurationVersion of UTM 3's format, which UTM 4+ migrates on open
/// (Legacy/UTMLegacyQemuConfiguration.m, `kCurrentConfigurationVersion`).
pub(crate) const LEGACY_VERSION: i64 = 2;

// ---- enums (QEMUConstant.swift), raw values exactly as config.plist stores them ----

/// `UTMBackend` (UTMConfiguration.swift).
pub(crate) const BACKENDS: &[&str] = &["Unknown", "Apple", "QEMU"];
/// `QEMUScaler`.
pub(crate) const SCALERS: &[&str] = &["Linear", "Nearest"];
/// `QEMUUSBBus`.
pub(crate) const USB_BUSES: &[&str] = &["Disabled", "2.0", "3.0"];
/// `QEMUNetworkMode`.
pub(crate) const NETWORK_MODES: &[&str] = &["Emulated", "Shared", "Host", "Bridged"];
/// `QEMUNetworkProtocol`.
pub(crate) const PROTOCOLS: &[&str] = &["TCP", "UDP"];
/// `QEMUTerminalTheme`.
pub(crate) const TERMINAL_THEMES: &[&str] = &["Default"];
/// `QEMUSerialMode` (`Ptty` exists on macOS only).
pub(crate) const SERIAL_MODES: &[&str] = &["Terminal", "TcpClient", "TcpServer", "Ptty"];
/// `QEMUSerialTarget`.
pub(crate) const SERIAL_TARGETS: &[&str] = &["Auto", "Manual", "GDB", "Monitor"];
/// `QEMUDriveImageType`.
pub(crate) const IMAGE_TYPES: &[&str] =
    &["None", "Disk", "CD", "BIOS", "LinuxKernel", "LinuxInitrd", "LinuxDTB"];
/// `QEMUDriveInterface`.
pub(crate) const INTERFACES: &[&str] =
    &["None", "IDE", "SCSI", "SD", "MTD", "Floppy", "PFlash", "VirtIO", "NVMe", "USB"];
/// `QEMUFileShareMode`.
pub(crate) const SHARE_MODES: &[&str] = &["None", "WebDAV", "VirtFS"];

/// `QEMUPackageFileName`: the names UTM itself uses inside a QEMU bundle's `Data/`. Of these
/// it keeps `efi_vars.fd` (UEFI boot), `tpmdata` (a TPM, or any existing one) and `debug.log`
/// (debug log on) when it saves; `vmstate` is kept only by Apple-virtualization bundles, so in
/// a QEMU bundle UTM deletes it like any unreferenced file (UTMQemuConfigurationQEMU.swift
/// `saveData`, UTMConfiguration.swift `cleanupAllFiles`).
pub(crate) const EFI_VARS: &str = "efi_vars.fd";
pub(crate) const TPM_DATA: &str = "tpmdata";
pub(crate) const DEBUG_LOG: &str = "debug.log";
pub(crate) const VM_STATE: &str = "vmstate";

/// Architectures UTM has a UEFI firmware for (`uefiImagePrefix`).
pub(crate) const UEFI_ARCHITECTURES: &[&str] =
    &["arm", "aarch64", "i386", "x86_64", "loongarch64", "riscv64"];

// ---- sections ----

pub(crate) const INFORMATION: &[Key] = &[
    req("Name", Ty::Str),
    opt("Icon", Ty::Icon),
    req("IconCustom", Ty::Bool),
    opt("Notes", Ty::Str),
    req("UUID", Ty::Uuid),
];

pub(crate) const SYSTEM: &[Key] = &[
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

pub(crate) const QEMU: &[Key] = &[
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

pub(crate) const INPUT: &[Key] = &[
    req("UsbBusSupport", Ty::Enum(USB_BUSES)),
    req("UsbSharing", Ty::Bool),
    req("MaximumUsbShare", Ty::Int),
];

pub(crate) const SHARING: &[Key] = &[
    req("DirectoryShareMode", Ty::Enum(SHARE_MODES)),
    req("DirectoryShareReadOnly", Ty::Bool),
    req("ClipboardSharing", Ty::Bool),
];

pub(crate) const DISPLAY: &[Key] = &[
    req("Hardware", Ty::Device(Device::Display)),
    opt("VgaRamMib", Ty::Int),
    req("DynamicResolution", Ty::Bool),
    req("UpscalingFilter", Ty::Enum(SCALERS)),
    req("DownscalingFilter", Ty::Enum(SCALERS)),
    req("NativeResolution", Ty::Bool),
];

pub(crate) const DRIVE: &[Key] = &[
    opt("ImageName", Ty::Str),
    opt("ReadOnly", Ty::Bool),
    req("ImageType", Ty::Enum(IMAGE_TYPES)),
    req("Interface", Ty::Enum(INTERFACES)),
    opt("InterfaceVersion", Ty::Int),
    req("Identifier", Ty::Str),
];

pub(crate) const PORT_FORWARD: &[Key] = &[
    req("Protocol", Ty::Enum(PROTOCOLS)),
    opt("HostAddress", Ty::Str),
    req("HostPort", Ty::Port),
    opt("GuestAddress", Ty::Str),
    req("GuestPort", Ty::Port),
];

/// The camel-case keys UTM before 4.4 wrote, still decoded.
pub(crate) const PORT_FORWARD_OLD: &[Key] = &[
    req("protocol", Ty::Enum(PROTOCOLS)),
    opt("hostAddress", Ty::Str),
    req("hostPort", Ty::Port),
    opt("guestAddress", Ty::Str),
    req("guestPort", Ty::Port),
];

pub(crate) const NETWORK: &[Key] = &[
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

pub(crate) const TERMINAL: &[Key] = &[
    opt("Theme", Ty::Enum(TERMINAL_THEMES)),
    opt("ForegroundColor", Ty::Str),
    opt("BackgroundColor", Ty::Str),
    req("Font", Ty::Str),
    req("FontSize", Ty::Int),
    opt("ResizeCommand", Ty::Str),
    opt("CursorBlink", Ty::Bool),
];

pub(crate) const SERIAL: &[Key] = &[
    req("Mode", Ty::Enum(SERIAL_MODES)),
    req("Target", Ty::Enum(SERIAL_TARGETS)),
    opt("Terminal", Ty::Dict(TERMINAL)),
    opt("Hardware", Ty::Device(Device::Serial)),
    opt("TcpHostAddress", Ty::Str),
    opt("TcpPort", Ty::Port),
    opt("WaitForConnection", Ty::Bool),
    opt("RemoteConnectionAllowed", Ty::Bool),
];

pub(crate) const SOUND: &[Key] = &[req("Hardware", Ty::Device(Device::Sound))];

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
pub(crate) const KNOWN_ARCHITECTURES: &[&str] = &["aarch64", "x86_64"];

/// Other names people use for an architecture, and UTM's.
pub(super) const ARCH_ALIASES: &[(&str, &str)] = &[
    ("arm64", "aarch64"),
    ("armv8", "aarch64"),
    ("amd64", "x86_64"),
    ("x64", "x86_64"),
    ("x86-64", "x86_64"),
    ("intel", "x86_64"),
];

/// The default target UTM picks for an architecture (`QEMUTarget_*.default`).
pub(crate) fn default_target(arch: &str) -> Option<&'static str> {
    match arch {
        "aarch64" => Some("virt"),
        "x86_64" => Some("q35"),
        _ => None,
    }
}

pub(crate) fn targets(arch: &str) -> Option<&'static [&'static str]> {
    match arch {
        "aarch64" => Some(c::AARCH64_TARGETS),
        "x86_64" => Some(c::X86_64_TARGETS),
        _ => None,
    }
}

pub(crate) fn cpus(arch: &str) -> Option<&'static [&'static str]> {
    match arch {
        "aarch64" => Some(c::AARCH64_CPUS),
        "x86_64" => Some(c::X86_64_CPUS),
        _ => None,
    }
}

pub(crate) fn devices(arch: &str, d: Device) -> Option<&'static [&'static str]> {
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

pub(super) fn device_word(d: Device) -> &'static str {
    match d {
        Device::Display => "display device",
        Device::Network => "network device",
        Device::Sound => "sound device",
        Device::Serial => "serial device",
    }
}
