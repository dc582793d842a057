//! The VM spec: what `qemu::start(#{...})` describes (name, arch, CPUs, memory, firmware,
//! direct kernel boot, drives, network, forwards, SMBIOS, files), read from the recipe's map, and
//! the facts about it helix derives (the host's arch, the UEFI vars template for a firmware).

use std::path::{Path, PathBuf};

use serde_json::Value;

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
        match v.get("memory") {
            None | Some(Value::Null) => {}
            Some(Value::Number(n)) => {
                let mib = n.as_u64().filter(|m| *m >= 16).ok_or_else(|| {
                    Error::invalid(
                        "memory",
                        n.to_string(),
                        "give MiB (e.g. 2048) or a size like \"2G\"",
                    )
                })?;
                s.memory = mib << 20;
            }
            Some(Value::String(t)) => s.memory = crate::size::parse(t)?,
            Some(other) => {
                return Err(Error::invalid(
                    "memory",
                    other.to_string(),
                    "give MiB (e.g. 2048) or a size like \"2G\"",
                ));
            }
        }
        if s.memory < 16 << 20 || s.memory % (1 << 20) != 0 {
            return Err(Error::invalid(
                "memory",
                crate::size::format(s.memory),
                "give whole MiB, at least 16M",
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> Result<VmSpec> {
        VmSpec::from_json(&v)
    }

    #[test]
    fn bad_maps_are_clear_errors() {
        for (v, want) in [
            (json!({"memroy": 1}), "`qemu::start` takes only"),
            (json!({"memory": "lots"}), "invalid size `lots`"),
            (json!({"memory": "1.5K"}), "whole MiB"),
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
