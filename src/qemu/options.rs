//! The map `qemu::start(#{...})` takes, declared: every key with its type, read by the shared
//! options reader (`crate::api::options`), so an unknown or mistyped key — at the top or inside
//! a drive, a forward, the firmware — is an error naming it and the closest allowed key, and a
//! wrong value names its path (`drives[1].format`). The rules one key cannot say alone (a name's
//! letters, `initrd` needs `kernel`, at least 16M of memory) are checked in [`VmOptions::spec`].

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::spec::{Drive, Firmware, Forward, VmSpec, normal_arch};
use crate::api::options::Word;
use crate::error::{Error, Result};
use crate::mac_address::MacAddress;
use crate::port::Port;
use crate::size::Mib;

/// The keys of `qemu::start`'s map.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VmOptions {
    pub name: Option<String>,
    /// `x86_64` (`amd64`, `x64`) or `aarch64` (`arm64`); default: the host's.
    pub arch: Option<String>,
    pub binary: Option<String>,
    pub accel: Option<Accel>,
    pub machine: Option<String>,
    pub cpu: Option<String>,
    pub smp: Option<u32>,
    pub memory: Option<Mib>,
    pub firmware: Option<FirmwareOptions>,
    pub kernel: Option<String>,
    pub initrd: Option<String>,
    pub append: Option<String>,
    pub drives: Option<Vec<DriveOptions>>,
    pub network: Option<bool>,
    pub nic: Option<String>,
    pub mac: Option<MacAddress>,
    pub forwards: Option<Vec<ForwardOptions>>,
    pub smbios: Option<Smbios>,
    pub serial_log: Option<String>,
    pub qmp: Option<String>,
    pub dir: Option<String>,
    pub extra_args: Option<Vec<Word>>,
}

/// `accel`: what runs the guest's CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Accel {
    Auto,
    Tcg,
    Kvm,
    Hvf,
}

/// `firmware`: UEFI code (attached read-only) and a writable vars file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FirmwareOptions {
    pub code: String,
    pub vars: Option<String>,
    pub vars_template: Option<String>,
}

/// One of `drives`: a path, or a map of the drive's keys.
#[derive(Debug)]
pub(crate) enum DriveOptions {
    Path(String),
    Map(DriveMap),
}

/// A drive written as a map.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DriveMap {
    pub file: String,
    /// Default: `qcow2` for a `.qcow2` file, else `raw`.
    pub format: Option<DiskFormat>,
    pub interface: Option<Interface>,
    pub read_only: Option<bool>,
    pub snapshot: Option<bool>,
}

/// A drive's image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DiskFormat {
    Qcow2,
    Raw,
    Vmdk,
    Vdi,
    Vhdx,
}

/// How a drive is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Interface {
    Virtio,
    Ide,
    Scsi,
    None,
    Pflash,
    Sd,
}

/// One of `forwards`: a host port into the guest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForwardOptions {
    pub host: Port,
    pub guest: Port,
    /// Default: `127.0.0.1`.
    pub bind: Option<String>,
    pub proto: Option<Proto>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Proto {
    Tcp,
    Udp,
}

/// `smbios`: a map is SMBIOS type 1 (system information, `#{ serial: "ds=nocloud" }`); an
/// array is raw `-smbios` values.
#[derive(Debug)]
pub(crate) enum Smbios {
    System(Vec<(String, Word)>),
    Raw(Vec<Word>),
}

impl Accel {
    fn as_str(self) -> &'static str {
        match self {
            Accel::Auto => "auto",
            Accel::Tcg => "tcg",
            Accel::Kvm => "kvm",
            Accel::Hvf => "hvf",
        }
    }
}

impl DiskFormat {
    fn as_str(self) -> &'static str {
        match self {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "raw",
            DiskFormat::Vmdk => "vmdk",
            DiskFormat::Vdi => "vdi",
            DiskFormat::Vhdx => "vhdx",
        }
    }
}

impl Interface {
    fn as_str(self) -> &'static str {
        match self {
            Interface::Virtio => "virtio",
            Interface::Ide => "ide",
            Interface::Scsi => "scsi",
            Interface::None => "none",
            Interface::Pflash => "pflash",
            Interface::Sd => "sd",
        }
    }
}

impl<'de> Deserialize<'de> for DriveOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DriveOptions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a drive: a path or a map #{ file, format, interface, read_only, snapshot }",
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> std::result::Result<DriveOptions, E> {
                Ok(DriveOptions::Path(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<DriveOptions, A::Error> {
                DriveMap::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DriveOptions::Map)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Smbios {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Smbios;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a map of SMBIOS fields (#{ serial: \"ds=nocloud\" }) or an array of strings",
                )
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Smbios, A::Error> {
                let mut fields = vec![];
                while let Some(kv) = map.next_entry::<String, Word>()? {
                    fields.push(kv);
                }
                Ok(Smbios::System(fields))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Smbios, A::Error> {
                let mut raw = vec![];
                while let Some(w) = seq.next_element::<Word>()? {
                    raw.push(w);
                }
                Ok(Smbios::Raw(raw))
            }
        }
        d.deserialize_any(V)
    }
}

fn path(s: &str) -> PathBuf {
    crate::paths::expand(s)
}

fn guess_format(file: &str) -> String {
    if file.ends_with(".qcow2") { "qcow2".into() } else { "raw".into() }
}

impl VmOptions {
    /// The VM these options describe, after the rules that span keys.
    pub(crate) fn spec(self) -> Result<VmSpec> {
        let mut s = VmSpec::default();
        if let Some(n) = self.name {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                return Err(Error::invalid("VM name", n, "use letters, digits, `-`, `_` and `.`"));
            }
            s.name = n;
        }
        if let Some(a) = self.arch {
            s.arch = normal_arch(&a)?.into();
        }
        s.binary = self.binary;
        s.accel = self.accel.map(|a| a.as_str().to_string());
        s.machine = self.machine;
        s.cpu = self.cpu;
        if let Some(n) = self.smp {
            if !(1..=512).contains(&n) {
                return Err(Error::invalid("VM option", "smp", "expected a CPU count 1-512"));
            }
            s.smp = n;
        }
        if let Some(m) = self.memory {
            if m.0 < 16 {
                return Err(Error::invalid(
                    "memory",
                    crate::size::format(m.bytes()),
                    "give at least 16M",
                ));
            }
            s.memory = m.bytes();
        }
        s.firmware = self.firmware.map(|f| Firmware {
            code: path(&f.code),
            vars: f.vars.as_deref().map(path),
            vars_template: f.vars_template.as_deref().map(path),
        });
        s.kernel = self.kernel.as_deref().map(path);
        s.initrd = self.initrd.as_deref().map(path);
        s.append = self.append;
        if s.kernel.is_none() && (s.initrd.is_some() || s.append.is_some()) {
            return Err(Error::invalid(
                "VM option",
                "initrd/append",
                "`initrd` and `append` need a `kernel`",
            ));
        }
        s.drives = self
            .drives
            .unwrap_or_default()
            .into_iter()
            .map(|d| match d {
                DriveOptions::Path(f) => Drive {
                    file: path(&f),
                    format: guess_format(&f),
                    interface: "virtio".into(),
                    read_only: false,
                    snapshot: false,
                },
                DriveOptions::Map(m) => Drive {
                    format: m
                        .format
                        .map(|f| f.as_str().to_string())
                        .unwrap_or_else(|| guess_format(&m.file)),
                    file: path(&m.file),
                    interface: m.interface.unwrap_or(Interface::Virtio).as_str().into(),
                    read_only: m.read_only.unwrap_or(false),
                    snapshot: m.snapshot.unwrap_or(false),
                },
            })
            .collect();
        s.network = self.network.unwrap_or(true);
        if let Some(n) = self.nic {
            s.nic = n;
        }
        s.mac = self.mac.map(|m| m.0.to_ascii_lowercase());
        s.forwards = self
            .forwards
            .unwrap_or_default()
            .into_iter()
            .map(|f| Forward {
                proto: if f.proto == Some(Proto::Udp) { "udp" } else { "tcp" }.into(),
                bind: f.bind.unwrap_or_else(|| "127.0.0.1".into()),
                host: f.host.0,
                guest: f.guest.0,
            })
            .collect();
        if !s.network && !s.forwards.is_empty() {
            return Err(Error::invalid(
                "VM option",
                "forwards",
                "port forwards need `network: true`",
            ));
        }
        s.smbios = match self.smbios {
            None => vec![],
            Some(Smbios::System(fields)) => {
                let fields: Vec<String> =
                    fields.iter().map(|(k, v)| format!("{k}={}", v.0.replace(',', ",,"))).collect();
                vec![format!("type=1,{}", fields.join(","))]
            }
            Some(Smbios::Raw(raw)) => raw.into_iter().map(|w| w.0).collect(),
        };
        s.serial_log = self.serial_log.as_deref().map(path);
        s.qmp = self.qmp.as_deref().map(path);
        s.dir = self.dir.as_deref().map(path);
        s.extra_args = self.extra_args.unwrap_or_default().into_iter().map(|w| w.0).collect();
        Ok(s)
    }
}

/// The spec from JSON, as a recipe's map would give it (tests).
#[cfg(test)]
pub(crate) fn from_json(v: serde_json::Value) -> Result<VmSpec> {
    let d = rhai::serde::to_dynamic(v).expect("JSON is a Rhai value");
    crate::api::options::decode_value::<VmOptions>(&d, "qemu::start")?.spec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bad_maps_are_clear_errors() {
        for (v, want) in [
            (json!({"memory": "lots"}), "invalid size `lots`"),
            (json!({"memory": "1.5K"}), "whole MiB"),
            (json!({"memory": 8}), "at least 16M"),
            (json!({"memory": 0}), "more than 0"),
            (json!({"mac": "52:54:00:12:34"}), "six hex pairs"),
            (json!({"mac": "01:00:00:00:00:01"}), "multicast"),
            (json!({"forwards": [{"host": 70000, "guest": 22}]}), "`forwards[0].host`"),
            (json!({"forwards": [{"host": 70000, "guest": 22}]}), "from 1 to 65535"),
            (json!({"forwards": [{"host": 2222}]}), "missing option `forwards[0].guest`"),
            (json!({"forwards": [{"host": 2222, "guest": 22, "proto": "sctp"}]}), "tcp, udp"),
            (json!({"accel": "whpx"}), "invalid option `accel` for `qemu::start`"),
            (json!({"accel": "whpx"}), "`whpx` is not one of auto, tcg, kvm, hvf"),
            (json!({"arch": "riscv64"}), "invalid arch"),
            (json!({"append": "x"}), "need a `kernel`"),
            (json!({"drives": [{"file": "/x", "interface": "floppy"}]}), "`drives[0].interface`"),
            (json!({"drives": [{"file": "/x", "format": "qcow3"}]}), "did you mean `qcow2`"),
            (json!({"drives": [{"format": "raw"}]}), "missing option `drives[0].file`"),
            (json!({"drives": "/x.qcow2"}), "invalid option `drives`"),
            (json!({"firmware": {"vars": "/v"}}), "missing option `firmware.code`"),
            (json!({"smp": 0}), "CPU count 1-512"),
            (json!({"smp": "two"}), "invalid option `smp`"),
            (json!({"network": false, "forwards": [{"host": 2222, "guest": 22}]}), "network: true"),
            (json!({"name": "a b"}), "VM name"),
        ] {
            let e = from_json(v.clone()).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn a_mistyped_key_names_itself_and_the_right_one_at_every_level() {
        for (v, want) in [
            (
                json!({"memroy": 1024}),
                "unknown option `memroy` for `qemu::start`: did you mean `memory`?",
            ),
            (
                json!({"drives": [{"file": "/d.qcow2"}, {"file": "/s.img", "fromat": "raw"}]}),
                "unknown option `drives[1].fromat` for `qemu::start`: did you mean `format`?",
            ),
            (
                json!({"forwards": [{"host": 2222, "guest": 22, "prot": "udp"}]}),
                "unknown option `forwards[0].prot` for `qemu::start`: did you mean `proto`?",
            ),
            (
                json!({"firmware": {"code": "/c.fd", "var": "/v.fd"}}),
                "unknown option `firmware.var` for `qemu::start`: did you mean `vars`?",
            ),
        ] {
            let e = from_json(v.clone()).unwrap_err().to_string();
            assert!(e.starts_with(want), "{v}: {e}");
        }
        // The allowed keys are listed, so a key far from all of them still gets an answer.
        let e = from_json(json!({"zzzz": 1})).unwrap_err().to_string();
        assert!(e.contains("allowed: name, arch, binary, accel"), "{e}");
        let e = from_json(json!({"drives": [{"file": "/x", "zzzz": 1}]})).unwrap_err().to_string();
        assert!(e.contains("allowed: file, format, interface, read_only, snapshot"), "{e}");
    }

    #[test]
    fn a_full_map_reads_into_the_spec() {
        let s = from_json(json!({
            "name": "box", "arch": "arm64", "accel": "tcg", "smp": 4, "memory": "2G",
            "drives": ["/d.qcow2", {"file": "/s.img", "interface": "ide", "read_only": true, "snapshot": true}],
            "forwards": [{"host": 2222, "guest": 22}, {"host": 5353, "guest": 53, "proto": "udp", "bind": "0.0.0.0"}],
            "mac": "52:54:00:AB:cd:01", "network": true, "nic": "e1000",
            "smbios": {"serial": "ds=nocloud;s=a,b", "uuid": 7},
            "extra_args": ["-rtc", "base=utc", "-smp", 4],
            "firmware": {"code": "/c.fd", "vars": "/v.fd"},
        }))
        .unwrap();
        assert_eq!(
            (s.name.as_str(), s.arch.as_str(), s.accel.as_deref()),
            ("box", "aarch64", Some("tcg"))
        );
        assert_eq!((s.smp, s.memory), (4, 2 << 30));
        assert_eq!(s.drives[0].format, "qcow2");
        assert_eq!(
            (
                s.drives[1].format.as_str(),
                s.drives[1].interface.as_str(),
                s.drives[1].read_only,
                s.drives[1].snapshot
            ),
            ("raw", "ide", true, true)
        );
        assert_eq!(
            s.forwards[0],
            Forward { proto: "tcp".into(), bind: "127.0.0.1".into(), host: 2222, guest: 22 }
        );
        assert_eq!(
            s.forwards[1],
            Forward { proto: "udp".into(), bind: "0.0.0.0".into(), host: 5353, guest: 53 }
        );
        assert_eq!(s.mac.as_deref(), Some("52:54:00:ab:cd:01"));
        assert_eq!(s.smbios, ["type=1,serial=ds=nocloud;s=a,,b,uuid=7"]);
        assert_eq!(s.extra_args, ["-rtc", "base=utc", "-smp", "4"]);
        assert_eq!(s.firmware.unwrap().vars, Some(PathBuf::from("/v.fd")));
        // `()` is an absent key: the defaults.
        let d = crate::api::options::decode::<VmOptions>(
            &rhai::Engine::new().eval::<rhai::Map>("#{ memory: (), drives: () }").unwrap(),
            "qemu::start",
        )
        .unwrap()
        .spec()
        .unwrap();
        assert_eq!(d, VmSpec::default());
    }
}
