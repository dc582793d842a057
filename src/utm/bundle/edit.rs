//! Changing a bundle's configuration: the [`Changes`] a recipe asks for, each value checked
//! against what UTM or QEMU accepts, and [`configure`], which refuses a change that would add a
//! schema problem and writes nothing then.

use std::path::Path;

use plist::{Dictionary, Value};

use crate::error::{Error, Result};
use crate::plist as pl;

use super::super::arguments as args;
use super::super::schema;
use super::{Finding, arguments, array, bad_bundle, int, open};

/// A port forward in `Network[].PortForward`.
#[derive(Debug, Clone, PartialEq)]
pub struct PortForward {
    pub protocol: String,
    pub host_address: String,
    pub host_port: i64,
    pub guest_address: String,
    pub guest_port: i64,
}

impl PortForward {
    pub fn tcp(host_port: i64, guest_port: i64) -> Self {
        PortForward {
            protocol: "TCP".into(),
            host_address: "127.0.0.1".into(),
            host_port,
            guest_address: "10.0.2.15".into(),
            guest_port,
        }
    }
    pub(super) fn to_value(&self) -> Value {
        let mut d = Dictionary::new();
        d.insert("GuestAddress".into(), Value::String(self.guest_address.clone()));
        d.insert("GuestPort".into(), int(self.guest_port));
        d.insert("HostAddress".into(), Value::String(self.host_address.clone()));
        d.insert("HostPort".into(), int(self.host_port));
        d.insert("Protocol".into(), Value::String(self.protocol.clone()));
        Value::Dictionary(d)
    }
}

/// What to change in a configuration; `None` leaves a setting alone.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub cpu_count: Option<i64>,
    pub memory_mb: Option<i64>,
    pub uefi: Option<bool>,
    pub hypervisor: Option<bool>,
    pub debug_log: Option<bool>,
    pub add_arguments: Vec<String>,
    pub remove_arguments: Vec<String>,
    pub network_mode: Option<String>,
    pub mac: Option<String>,
    pub port_forwards: Option<Vec<PortForward>>,
}

/// A value for an enum setting, refused with UTM's allowed values when it is not one of them.
pub(crate) fn check_enum(option: &'static str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(Error::invalid(option, value, schema::expected(value, allowed)))
}

/// A NIC's MAC: refused when QEMU refuses it or the guest would ignore it.
pub(crate) fn check_mac(mac: &str) -> Result<()> {
    match schema::mac_problem(mac) {
        None => Ok(()),
        Some((_, why)) => Err(Error::invalid("MAC address", mac, why)),
    }
}

/// A port forward: protocol TCP or UDP, ports 1–65535.
pub(crate) fn check_forward(p: &PortForward) -> Result<()> {
    check_enum("port forward protocol", &p.protocol, schema::PROTOCOLS)?;
    for (what, port) in [("host_port", p.host_port), ("guest_port", p.guest_port)] {
        if !(1..=65535).contains(&port) {
            return Err(Error::invalid(
                "port forward",
                format!("{what} {port}"),
                "a port is 1 to 65535; QEMU refuses the forward otherwise",
            ));
        }
    }
    Ok(())
}

/// Apply `changes` to a configuration tree. Values UTM or QEMU would refuse are refused here,
/// with the allowed values.
pub(crate) fn apply(root: &mut Dictionary, c: &Changes) -> Result<()> {
    if let Some(n) = &c.name {
        pl::set(root, "Information.Name", Value::String(n.clone()))?;
    }
    if let Some(n) = c.cpu_count {
        if n < 0 {
            return Err(Error::invalid(
                "cpu count",
                n.to_string(),
                "it cannot be negative (0 means as many as the host has)",
            ));
        }
        pl::set(root, "System.CPUCount", int(n))?;
    }
    if let Some(n) = c.memory_mb {
        if n <= 0 {
            return Err(Error::invalid("memory", n.to_string(), "give MiB, more than 0"));
        }
        pl::set(root, "System.MemorySize", int(n))?;
    }
    for (flag, key) in [
        (c.uefi, "QEMU.UEFIBoot"),
        (c.hypervisor, "QEMU.Hypervisor"),
        (c.debug_log, "QEMU.DebugLog"),
    ] {
        if let Some(b) = flag {
            pl::set(root, key, Value::Boolean(b))?;
        }
    }
    if !c.add_arguments.is_empty() || !c.remove_arguments.is_empty() {
        let now = arguments(root);
        let next = args::remove(&args::add(&now, &c.add_arguments)?, &c.remove_arguments);
        if next != now {
            pl::set(
                root,
                "QEMU.AdditionalArguments",
                Value::Array(next.into_iter().map(Value::String).collect()),
            )?;
        }
    }
    if c.network_mode.is_some() || c.mac.is_some() || c.port_forwards.is_some() {
        if array(root, "Network").is_empty() {
            return Err(Error::invalid(
                "network change",
                "Network[0]",
                "the VM has no network interface to change",
            ));
        }
        if let Some(m) = &c.network_mode {
            check_enum("network mode", m, schema::NETWORK_MODES)?;
            pl::set(root, "Network[0].Mode", Value::String(m.clone()))?;
        }
        if let Some(mac) = &c.mac {
            check_mac(mac)?;
            pl::set(root, "Network[0].MacAddress", Value::String(mac.to_uppercase()))?;
        }
        if let Some(pf) = &c.port_forwards {
            for p in pf {
                check_forward(p)?;
            }
            pl::set(
                root,
                "Network[0].PortForward",
                Value::Array(pf.iter().map(|p| p.to_value()).collect()),
            )?;
        }
    }
    Ok(())
}

/// Change a bundle's configuration (atomic, format kept, previous version kept, dry-run diff).
/// The result is validated against UTM's schema: a change that adds a problem UTM or QEMU
/// would refuse is refused and nothing is written. UTM rewrites config.plist from memory when
/// it saves, so change it while UTM is not editing that VM.
pub(crate) fn configure(path: &Path, c: &Changes) -> Result<Vec<pl::Change>> {
    let b = open(path)?;
    let mut root = b.doc.root.clone();
    apply(&mut root, c)?;
    let before = schema::validate(&b.doc.root);
    let added: Vec<Finding> =
        schema::validate(&root).into_iter().filter(|f| !before.contains(f)).collect();
    if !added.is_empty() {
        return Err(bad_bundle(
            &b.config_path(),
            format!(
                "the change would give it {}; nothing was changed",
                added.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ")
            ),
        ));
    }
    pl::write_changes(&b.config_path(), &b.doc, &root)
}
