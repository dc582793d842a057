//! The options maps of `utm::`, declared: `utm::create_bundle`'s spec, `utm::configure`'s
//! changes, a disk, a port forward, and `utm::start`/`utm::install_qemu`'s flags. They are read
//! by [`crate::api::options::decode`] and turned into the bundle module's own types; the values
//! UTM has rules for (targets, MACs, ports, enum words) are checked there, with UTM's words.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::api::convert::path;
use crate::error::Result;
use crate::size::Mib;
use crate::utm::bundle::{Changes, DiskSpec, NewBundle, Place, PortForward};

/// A port forward: `#{ host_port: 2222, guest_port: 22 }`, TCP to 10.0.2.15 by default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardOptions {
    protocol: Option<String>,
    host_address: Option<String>,
    host_port: i64,
    guest_address: Option<String>,
    guest_port: i64,
}

impl ForwardOptions {
    fn forward(self) -> PortForward {
        let mut p = PortForward::tcp(self.host_port, self.guest_port);
        if let Some(v) = self.protocol {
            p.protocol = v.to_uppercase();
        }
        if let Some(v) = self.host_address {
            p.host_address = v;
        }
        if let Some(v) = self.guest_address {
            p.guest_address = v;
        }
        p
    }
}

fn forwards(f: Vec<ForwardOptions>) -> Vec<PortForward> {
    f.into_iter().map(ForwardOptions::forward).collect()
}

/// A disk as a map: `#{ image, how, interface, read_only }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskOptions {
    image: String,
    how: Option<String>,
    interface: Option<String>,
    #[serde(default)]
    read_only: bool,
}

impl DiskOptions {
    pub fn disk(self) -> Result<DiskSpec> {
        Ok(DiskSpec {
            image: path(&self.image),
            place: self.how.map(|s| Place::parse(&s)).transpose()?.unwrap_or(Place::Copy),
            interface: self.interface.unwrap_or_else(|| "VirtIO".into()),
            read_only: self.read_only,
        })
    }
}

/// A disk of a new bundle: a path (copied, VirtIO) or a [`DiskOptions`] map.
pub enum DiskOrPath {
    Path(String),
    Map(DiskOptions),
}

impl<'de> Deserialize<'de> for DiskOrPath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DiskOrPath;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path or #{ image, how, interface, read_only }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DiskOrPath, E> {
                Ok(DiskOrPath::Path(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<DiskOrPath, A::Error> {
                DiskOptions::deserialize(de::value::MapAccessDeserializer::new(m))
                    .map(DiskOrPath::Map)
            }
        }
        d.deserialize_any(V)
    }
}

impl DiskOrPath {
    fn disk(self) -> Result<DiskSpec> {
        match self {
            DiskOrPath::Path(p) => Ok(DiskSpec {
                image: path(&p),
                place: Place::Copy,
                interface: "VirtIO".into(),
                read_only: false,
            }),
            DiskOrPath::Map(m) => m.disk(),
        }
    }
}

/// `network` of a new bundle: `#{ mode, mac, port_forwards }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkOptions {
    mode: Option<String>,
    mac: Option<String>,
    port_forwards: Option<Vec<ForwardOptions>>,
}

/// `utm::create_bundle`'s spec; what is left out keeps [`NewBundle`]'s default.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecOptions {
    name: Option<String>,
    uuid: Option<String>,
    arch: Option<String>,
    target: Option<String>,
    cpu: Option<String>,
    cpus: Option<i64>,
    memory: Option<Mib>,
    uefi: Option<bool>,
    hypervisor: Option<bool>,
    #[serde(default)]
    debug_log: bool,
    arguments: Option<Vec<String>>,
    disks: Option<Vec<DiskOrPath>>,
    efi_vars: Option<String>,
    network: Option<NetworkOptions>,
    display: Option<String>,
    share_mode: Option<String>,
    icon: Option<String>,
}

impl SpecOptions {
    pub fn bundle(self) -> Result<NewBundle> {
        let mut s = NewBundle::default();
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut s.name, self.name);
        s.uuid = self.uuid.map(|u| u.to_uppercase());
        set(&mut s.architecture, self.arch);
        s.target = self.target;
        set(&mut s.cpu, self.cpu);
        set(&mut s.cpu_count, self.cpus);
        set(&mut s.memory_mb, self.memory.map(|m| m.0 as i64));
        set(&mut s.uefi, self.uefi);
        set(&mut s.hypervisor, self.hypervisor);
        s.debug_log = self.debug_log;
        set(&mut s.arguments, self.arguments);
        if let Some(d) = self.disks {
            s.disks = d.into_iter().map(DiskOrPath::disk).collect::<Result<_>>()?;
        }
        s.efi_vars = self.efi_vars.map(|p| path(&p));
        if let Some(n) = self.network {
            set(&mut s.network_mode, n.mode);
            s.mac = n.mac;
            set(&mut s.port_forwards, n.port_forwards.map(forwards));
        }
        set(&mut s.display, self.display);
        set(&mut s.share_mode, self.share_mode);
        set(&mut s.icon, self.icon);
        Ok(s)
    }
}

/// `utm::configure`'s changes; what is left out is left alone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeOptions {
    name: Option<String>,
    cpus: Option<i64>,
    memory: Option<Mib>,
    uefi: Option<bool>,
    hypervisor: Option<bool>,
    debug_log: Option<bool>,
    #[serde(default)]
    add_arguments: Vec<String>,
    #[serde(default)]
    remove_arguments: Vec<String>,
    network_mode: Option<String>,
    mac: Option<String>,
    port_forwards: Option<Vec<ForwardOptions>>,
}

impl ChangeOptions {
    pub fn changes(self) -> Changes {
        Changes {
            name: self.name,
            cpu_count: self.cpus,
            memory_mb: self.memory.map(|m| m.0 as i64),
            uefi: self.uefi,
            hypervisor: self.hypervisor,
            debug_log: self.debug_log,
            add_arguments: self.add_arguments,
            remove_arguments: self.remove_arguments,
            network_mode: self.network_mode,
            mac: self.mac,
            port_forwards: self.port_forwards.map(forwards),
        }
    }
}

/// `utm::start`'s options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartOptions {
    #[serde(default)]
    pub disposable: bool,
}

/// `utm::install_qemu`'s options.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallOptions {
    #[serde(default)]
    pub sudo: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::options::decode;

    fn spec(src: &str) -> std::result::Result<NewBundle, String> {
        let m = rhai::Engine::new().eval::<rhai::Map>(src).unwrap();
        decode::<SpecOptions>(&m, "utm::create_bundle")
            .and_then(SpecOptions::bundle)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_spec_keeps_the_defaults_it_does_not_name() {
        let s = spec(r#"#{ name: "dev", memory: "4G", disks: ["a.qcow2", #{ image: "b.qcow2", how: "move", read_only: true }], network: #{ port_forwards: [#{ host_port: 2222, guest_port: 22, protocol: "udp" }] } }"#).unwrap();
        assert_eq!((s.name.as_str(), s.memory_mb, s.cpu_count), ("dev", 4096, 4));
        assert_eq!(s.disks.len(), 2);
        assert!(matches!(s.disks[1].place, Place::Move) && s.disks[1].read_only);
        assert_eq!(s.disks[0].interface, "VirtIO");
        assert_eq!(s.port_forwards.len(), 1);
        assert_eq!(s.port_forwards[0].protocol, "UDP");
        assert_eq!(s.port_forwards[0].guest_address, "10.0.2.15");
    }

    #[test]
    fn errors_name_the_path_inside_disks_and_forwards() {
        let e = spec(r#"#{ disks: ["a", #{ image: 5 }] }"#).unwrap_err();
        assert!(e.starts_with("invalid option `disks[1].image` for `utm::create_bundle`"), "{e}");
        assert!(e.contains("expected a string, found a whole number"), "{e}");
        let e = spec(r#"#{ disks: ["a", #{ image: "b", interfce: "NVMe" }] }"#).unwrap_err();
        assert!(e.starts_with("unknown option `disks[1].interfce`"), "{e}");
        assert!(e.contains("did you mean `interface`"), "{e}");
        let e = spec("#{ network: #{ port_forwards: [#{ host_port: 2222 }] } }").unwrap_err();
        assert_eq!(
            e,
            "missing option `network.port_forwards[0].guest_port` for `utm::create_bundle`: it is required"
        );
        let e = spec(r#"#{ memory: "1.5K" }"#).unwrap_err();
        assert!(e.starts_with("invalid option `memory`") && e.contains("whole MiB"), "{e}");
        let e = spec("#{ disks: [5] }").unwrap_err();
        assert!(e.contains("a path or #{ image"), "{e}");
    }
}
