//! The VM spec: what `qemu::start(#{...})` describes (name, arch, CPUs, memory, firmware,
//! direct kernel boot, drives, network, forwards, SMBIOS, files), read from the recipe's map, and
//! the facts about it helix derives (the host's arch, the UEFI vars template for a firmware).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

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

pub(super) fn normal_arch(a: &str) -> Result<&'static str> {
    match a {
        "x86_64" | "amd64" | "x64" => Ok("x86_64"),
        "aarch64" | "arm64" => Ok("aarch64"),
        _ => Err(Error::invalid("arch", a, "use \"x86_64\" or \"aarch64\"")),
    }
}

impl VmSpec {
    pub(crate) fn binary(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
