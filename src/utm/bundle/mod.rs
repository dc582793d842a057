//! UTM VM bundles: `<Name>.utm/config.plist` (ConfigurationVersion 4, QEMU backend) and
//! `<Name>.utm/Data/` (disk images, `efi_vars.fd`, `tpmdata`, `debug.log`).
//!
//! The rule that shapes this module: when UTM saves a configuration it **deletes every file in
//! `Data/` that the configuration does not reference** (UTMConfiguration.save →
//! cleanupAllFiles). So helix writes a file into `Data/` only when the configuration references
//! it, and [`check`] reports files UTM would delete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};
use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::plist::{self as pl, Doc};

use super::arguments as args;
use super::schema;

pub const CONFIG: &str = "config.plist";
pub const DATA: &str = "Data";
pub use super::schema::{DEBUG_LOG, EFI_VARS, Finding, Severity, TPM_DATA, VERSION, VM_STATE};
/// The twelve top-level keys UTM 5 writes for a QEMU VM (sorted, as UTM's encoder writes them).
pub const TOP_KEYS: [&str; 12] = [
    "Backend",
    "ConfigurationVersion",
    "Display",
    "Drive",
    "Information",
    "Input",
    "Network",
    "QEMU",
    "Serial",
    "Sharing",
    "Sound",
    "System",
];

/// An opened bundle: its path and its parsed configuration.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub path: PathBuf,
    pub doc: Doc,
}

fn bad_bundle(path: &Path, why: impl Into<String>) -> Error {
    Error::invalid("UTM bundle", path.display().to_string(), why)
}

/// Check a configuration tree is one helix understands: QEMU backend, version 4. A UTM 3
/// (version 2) file, which UTM migrates when it opens it, is recognised and refused with what
/// to do — helix never rewrites one.
pub fn validate_config(root: &Dictionary, config_path: &Path) -> Result<()> {
    match schema::version_finding(root) {
        None => Ok(()),
        Some(f) => Err(bad_bundle(config_path, format!("{}; nothing was changed", f.message))),
    }
}

/// Read a bundle's configuration, whatever its version.
fn read_bundle(path: &Path) -> Result<Bundle> {
    if !path.is_dir() {
        return Err(bad_bundle(
            path,
            if path.exists() {
                "it is not a directory (a .utm bundle is a folder)"
            } else {
                "it does not exist"
            },
        ));
    }
    let config = path.join(CONFIG);
    if !config.is_file() {
        return Err(bad_bundle(
            path,
            "it has no config.plist, so it is not a UTM bundle (a bundle holds config.plist and Data/)",
        ));
    }
    let doc = pl::read(&config)?;
    Ok(Bundle { path: path.to_path_buf(), doc })
}

/// Open a bundle and read its configuration; refuse one that is not a version-4 QEMU VM.
pub fn open(path: &Path) -> Result<Bundle> {
    let b = read_bundle(path)?;
    validate_config(&b.doc.root, &b.config_path())?;
    Ok(b)
}

impl Bundle {
    pub fn config_path(&self) -> PathBuf {
        self.path.join(CONFIG)
    }
    pub fn data_dir(&self) -> PathBuf {
        self.path.join(DATA)
    }
    fn str_at(&self, p: &str) -> Option<String> {
        pl::get(&self.doc.root, p).ok().flatten().and_then(|v| v.as_string()).map(String::from)
    }
    pub fn name(&self) -> String {
        self.str_at("Information.Name").unwrap_or_else(|| {
            self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        })
    }
    pub fn uuid(&self) -> Option<String> {
        self.str_at("Information.UUID")
    }

    /// The typed view recipes see (`utm::open`).
    pub fn view(&self) -> Json {
        let r = &self.doc.root;
        let s = |p: &str| {
            pl::get(r, p)
                .ok()
                .flatten()
                .and_then(|v| v.as_string())
                .map(|s| json!(s))
                .unwrap_or(Json::Null)
        };
        let i = |p: &str| {
            pl::get(r, p)
                .ok()
                .flatten()
                .and_then(|v| v.as_signed_integer())
                .map(|n| json!(n))
                .unwrap_or(Json::Null)
        };
        let b = |p: &str| {
            pl::get(r, p)
                .ok()
                .flatten()
                .and_then(|v| v.as_boolean())
                .map(|n| json!(n))
                .unwrap_or(Json::Null)
        };
        json!({
            "path": self.path,
            "config": self.config_path(),
            "name": self.name(),
            "uuid": s("Information.UUID"),
            "architecture": s("System.Architecture"),
            "target": s("System.Target"),
            "cpu_count": i("System.CPUCount"),
            "memory_mb": i("System.MemorySize"),
            "uefi": b("QEMU.UEFIBoot"),
            "hypervisor": b("QEMU.Hypervisor"),
            "debug_log": b("QEMU.DebugLog"),
            "additional_arguments": arguments(r),
            "qemu_argv": args::argv(&arguments(r)),
            "drives": self.drives(),
            "networks": networks(r),
        })
    }

    /// Every drive: `ImageName` (inside `Data/`) or external (no `ImageName`, e.g. an ISO).
    pub fn drives(&self) -> Vec<Json> {
        let data = self.data_dir();
        array(&self.doc.root, "Drive")
            .iter()
            .map(|d| {
                let d = d.as_dictionary();
                let get = |k: &str| d.and_then(|d| d.get(k));
                let name = get("ImageName").and_then(|v| v.as_string());
                let path = name.map(|n| data.join(n));
                json!({
                    "identifier": get("Identifier").and_then(|v| v.as_string()),
                    "image_name": name,
                    "image_type": get("ImageType").and_then(|v| v.as_string()),
                    "interface": get("Interface").and_then(|v| v.as_string()),
                    "read_only": get("ReadOnly").and_then(|v| v.as_boolean()),
                    "external": name.is_none(),
                    "path": path,
                    "exists": path.as_ref().map(|p| p.exists()),
                })
            })
            .collect()
    }
}

fn array<'a>(root: &'a Dictionary, key: &str) -> &'a [Value] {
    root.get(key).and_then(|v| v.as_array()).map(|a| a.as_slice()).unwrap_or(&[])
}

/// `QEMU.AdditionalArguments` as strings.
pub fn arguments(root: &Dictionary) -> Vec<String> {
    pl::get(root, "QEMU.AdditionalArguments")
        .ok()
        .flatten()
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_string().map(String::from)).collect())
        .unwrap_or_default()
}

fn networks(root: &Dictionary) -> Vec<Json> {
    array(root, "Network")
        .iter()
        .map(|n| {
            let n = n.as_dictionary();
            let get = |k: &str| n.and_then(|d| d.get(k));
            let forwards: Vec<Json> = get("PortForward")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .map(|f| {
                            let f = f.as_dictionary();
                            let g = |k: &str| f.and_then(|d| d.get(k));
                            json!({
                                "protocol": g("Protocol").and_then(|v| v.as_string()),
                                "host_address": g("HostAddress").and_then(|v| v.as_string()),
                                "host_port": g("HostPort").and_then(|v| v.as_signed_integer()),
                                "guest_address": g("GuestAddress").and_then(|v| v.as_string()),
                                "guest_port": g("GuestPort").and_then(|v| v.as_signed_integer()),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "mode": get("Mode").and_then(|v| v.as_string()),
                "hardware": get("Hardware").and_then(|v| v.as_string()),
                "mac": get("MacAddress").and_then(|v| v.as_string()),
                "port_forwards": forwards,
            })
        })
        .collect()
}

// ---- editing ----

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
    fn to_value(&self) -> Value {
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

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}

/// A value for an enum setting, refused with UTM's allowed values when it is not one of them.
pub fn check_enum(option: &'static str, value: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(Error::invalid(option, value, schema::expected(value, allowed)))
}

/// A NIC's MAC: refused when QEMU refuses it or the guest would ignore it.
pub fn check_mac(mac: &str) -> Result<()> {
    match schema::mac_problem(mac) {
        None => Ok(()),
        Some((_, why)) => Err(Error::invalid("MAC address", mac, why)),
    }
}

/// A port forward: protocol TCP or UDP, ports 1–65535.
pub fn check_forward(p: &PortForward) -> Result<()> {
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
pub fn apply(root: &mut Dictionary, c: &Changes) -> Result<()> {
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
pub fn configure(path: &Path, c: &Changes) -> Result<Vec<pl::Change>> {
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

// ---- references and checks ----

/// The file names in `Data/` that a configuration references — the ones UTM keeps.
pub fn referenced(root: &Dictionary, data_dir: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for d in array(root, "Drive") {
        if let Some(n) =
            d.as_dictionary().and_then(|d| d.get("ImageName")).and_then(|v| v.as_string())
        {
            names.insert(n.to_string());
        }
    }
    let flag =
        |p: &str| pl::get(root, p).ok().flatten().and_then(|v| v.as_boolean()).unwrap_or(false);
    if flag("QEMU.UEFIBoot") {
        names.insert(EFI_VARS.into());
    }
    if flag("QEMU.TPMDevice") || data_dir.join(TPM_DATA).exists() {
        names.insert(TPM_DATA.into());
    }
    if flag("QEMU.DebugLog") {
        names.insert(DEBUG_LOG.into());
    }
    if flag("Information.IconCustom")
        && let Some(icon) =
            pl::get(root, "Information.Icon").ok().flatten().and_then(|v| v.as_string())
    {
        names.insert(icon.to_string());
    }
    names
}

/// Validate a bundle the way UTM loads it: the whole configuration against UTM's schema
/// ([`schema::validate`]: required keys, types, enum values, targets, UUIDs, MACs, ports),
/// files in `Data/` UTM would delete, missing images, duplicate UUIDs (drive identifiers within
/// it; the VM UUID against `others`). A UTM 3 bundle is reported as such (one finding), not
/// checked further.
pub fn check(path: &Path, others: &[(PathBuf, String)]) -> Result<Vec<Finding>> {
    let b = read_bundle(path)?;
    let root = &b.doc.root;
    let data = b.data_dir();
    let mut out = schema::validate(root);
    if schema::version_finding(root).is_some() {
        if path.join("Images").is_dir() {
            out.push(Finding::warning(
                "legacy-images",
                path.join("Images").display().to_string(),
                "`Images/` holds this UTM 3 bundle's disks; UTM moves them to `Data/` when it migrates the bundle",
            ));
        }
        return Ok(out);
    }
    let refs = referenced(root, &data);
    if data.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&data)
            .map_err(|e| Error::read(&data, e))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for n in names {
            if !refs.contains(&n) {
                let why = if n == VM_STATE {
                    " (UTM keeps a saved `vmstate` only for Apple-virtualization VMs)"
                } else {
                    ""
                };
                out.push(Finding::error(
                    "unreferenced",
                    data.join(&n).display().to_string(),
                    format!("`Data/{n}` is not referenced by config.plist: UTM deletes it the next time it saves this VM{why} — add a Drive for it or move it out of the bundle"),
                ));
            }
        }
    }
    if path.join("Images").is_dir() {
        out.push(Finding::warning(
            "legacy-images",
            path.join("Images").display().to_string(),
            "`Images/` is the UTM 3 layout; ConfigurationVersion 4 bundles keep images in `Data/`, so UTM does not find these",
        ));
    }
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (i, d) in array(root, "Drive").iter().enumerate() {
        let Some(d) = d.as_dictionary() else {
            continue; // reported by the schema
        };
        if let Some(n) = d.get("ImageName").and_then(|v| v.as_string()) {
            let p = data.join(n);
            if !p.exists() {
                let how = if p.symlink_metadata().is_ok() {
                    " (a link whose target is gone)"
                } else {
                    ""
                };
                out.push(Finding::error(
                    "missing-image",
                    p.display().to_string(),
                    format!("Drive[{i}] uses `Data/{n}`, which does not exist{how}; UTM cannot start this VM"),
                ));
            }
        }
        if let Some(id) = d.get("Identifier").and_then(|v| v.as_string())
            && let Some(first) = ids.insert(id.to_uppercase(), i)
        {
            out.push(Finding::error(
                "duplicate-uuid",
                format!("Drive[{i}].Identifier"),
                format!("Drive[{i}] and Drive[{first}] share the identifier {id}; give each drive its own UUID"),
            ));
        }
    }
    if pl::get(root, "Information.IconCustom").ok().flatten().and_then(|v| v.as_boolean())
        == Some(true)
        && let Some(icon) =
            pl::get(root, "Information.Icon").ok().flatten().and_then(|v| v.as_string())
        && !data.join(icon).exists()
    {
        out.push(Finding::error(
            "missing-icon",
            data.join(icon).display().to_string(),
            format!("the custom icon `Data/{icon}` does not exist; UTM cannot save this VM until it does (or `Information.IconCustom` is false)"),
        ));
    }
    match b.uuid() {
        None => {} // reported by the schema
        Some(uuid) => {
            let me = crate::paths::resolve(path);
            for (other, their) in others {
                if their.eq_ignore_ascii_case(&uuid) && crate::paths::resolve(other) != me {
                    out.push(Finding::error(
                        "duplicate-uuid",
                        "Information.UUID",
                        format!(
                            "`{}` has the same VM UUID {uuid}; UTM keys its registry by UUID, so one of them will not show (or gets a new UUID) — give this bundle a fresh UUID",
                            other.display()
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}

// ---- creating ----

/// How a disk image gets into `Data/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Copy,
    Move,
    /// Same inode: the bundle's disk and the source are one file (running the VM changes both).
    Hardlink,
}

impl Place {
    pub fn parse(s: &str) -> Result<Place> {
        match s {
            "copy" => Ok(Place::Copy),
            "move" => Ok(Place::Move),
            "hardlink" => Ok(Place::Hardlink),
            o => Err(Error::invalid("placement", o, "expected \"copy\", \"move\" or \"hardlink\"")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DiskSpec {
    pub image: PathBuf,
    pub place: Place,
    pub interface: String,
    pub read_only: bool,
}

/// A new QEMU VM bundle; defaults are those of the setup document (§6.11).
#[derive(Debug, Clone)]
pub struct NewBundle {
    pub name: String,
    pub uuid: Option<String>,
    pub architecture: String,
    /// `None`: UTM's default target for the architecture (`virt`, `q35`).
    pub target: Option<String>,
    pub cpu: String,
    pub cpu_count: i64,
    pub memory_mb: i64,
    pub uefi: bool,
    pub hypervisor: bool,
    pub debug_log: bool,
    pub arguments: Vec<String>,
    pub disks: Vec<DiskSpec>,
    pub efi_vars: Option<PathBuf>,
    pub network_mode: String,
    pub mac: Option<String>,
    pub port_forwards: Vec<PortForward>,
    pub display: String,
    pub share_mode: String,
    pub icon: String,
}

impl Default for NewBundle {
    fn default() -> Self {
        NewBundle {
            name: "Helix Desktop".into(),
            uuid: None,
            architecture: "aarch64".into(),
            target: None,
            cpu: "default".into(),
            cpu_count: 4,
            memory_mb: 8192,
            uefi: true,
            hypervisor: true,
            debug_log: false,
            arguments: vec![],
            disks: vec![],
            efi_vars: None,
            network_mode: "Emulated".into(),
            mac: None,
            port_forwards: vec![PortForward::tcp(2222, 22), PortForward::tcp(8080, 8080)],
            display: "virtio-gpu-gl-pci".into(),
            share_mode: "None".into(),
            icon: "linux".into(),
        }
    }
}

fn dict(pairs: Vec<(&str, Value)>) -> Value {
    let mut d = Dictionary::new();
    let mut pairs = pairs;
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in pairs {
        d.insert(k.to_string(), v);
    }
    Value::Dictionary(d)
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// The `utm::create_bundle` option a schema path comes from, for error messages.
fn option_for(path: &str) -> String {
    const MAP: &[(&str, &str)] = &[
        ("System.Architecture", "arch"),
        ("System.Target", "target"),
        ("System.CPUCount", "cpus"),
        ("System.CPU", "cpu"),
        ("System.MemorySize", "memory"),
        ("Display[0].Hardware", "display"),
        ("Sharing.DirectoryShareMode", "share_mode"),
        ("Information.Icon", "icon"),
        ("Information.UUID", "uuid"),
        ("Information.Name", "name"),
        ("Network[0].Mode", "network.mode"),
        ("Network[0].MacAddress", "network.mac"),
        ("Network[0].PortForward", "network.port_forwards"),
        ("QEMU.AdditionalArguments", "arguments"),
        ("QEMU.UEFIBoot", "uefi"),
        ("Drive", "disks"),
    ];
    for (p, o) in MAP {
        if let Some(rest) = path.strip_prefix(p) {
            return format!("{o}{rest}");
        }
    }
    path.to_string()
}

/// The configuration of a new bundle, with the `Data/` names of its disks. Everything UTM or
/// QEMU would refuse is refused, with the option it came from and the allowed values.
pub fn new_config(spec: &NewBundle, disk_names: &[(String, String)]) -> Result<Dictionary> {
    let uuid = spec.uuid.clone().unwrap_or_else(super::new_uuid);
    if !super::is_uuid(&uuid) {
        return Err(Error::invalid("VM UUID", uuid, "expected 8-4-4-4-12 hex digits"));
    }
    let mac = spec.mac.clone().unwrap_or_else(super::new_mac).to_uppercase();
    check_mac(&mac)?;
    check_enum("architecture", &spec.architecture, schema::KNOWN_ARCHITECTURES)?;
    check_enum("network mode", &spec.network_mode, schema::NETWORK_MODES)?;
    check_enum("share mode", &spec.share_mode, schema::SHARE_MODES)?;
    for d in &spec.disks {
        check_enum("disk interface", &d.interface, schema::INTERFACES)?;
    }
    for p in &spec.port_forwards {
        check_forward(p)?;
    }
    if spec.memory_mb <= 0 || spec.cpu_count < 0 {
        return Err(Error::invalid(
            "VM size",
            format!("{} CPUs, {} MiB", spec.cpu_count, spec.memory_mb),
            "CPUs must be 0 or more and memory more than 0 MiB",
        ));
    }
    let target = spec
        .target
        .clone()
        .or_else(|| schema::default_target(&spec.architecture).map(String::from))
        .unwrap_or_default();
    let root = build_config(spec, disk_names, &uuid, &mac, &target)?;
    let findings = schema::validate(&root);
    if let Some(f) = findings.first() {
        return Err(Error::invalid(
            "utm::create_bundle option",
            option_for(&f.path),
            format!("{}; nothing was created", f.message),
        ));
    }
    Ok(root)
}

fn build_config(
    spec: &NewBundle,
    disk_names: &[(String, String)],
    uuid: &str,
    mac: &str,
    target: &str,
) -> Result<Dictionary> {
    let drives: Vec<Value> = spec
        .disks
        .iter()
        .zip(disk_names)
        .map(|(d, (id, name))| {
            dict(vec![
                ("Identifier", s(id)),
                ("ImageName", s(name)),
                ("ImageType", s("Disk")),
                ("Interface", s(&d.interface)),
                ("InterfaceVersion", int(1)),
                ("ReadOnly", Value::Boolean(d.read_only)),
            ])
        })
        .collect();
    let root = dict(vec![
        ("Backend", s("QEMU")),
        ("ConfigurationVersion", int(VERSION)),
        (
            "Display",
            Value::Array(vec![dict(vec![
                ("DownscalingFilter", s("Linear")),
                ("DynamicResolution", Value::Boolean(true)),
                ("Hardware", s(&spec.display)),
                ("NativeResolution", Value::Boolean(false)),
                ("UpscalingFilter", s("Nearest")),
            ])]),
        ),
        ("Drive", Value::Array(drives)),
        (
            "Information",
            dict(vec![
                ("Icon", s(&spec.icon)),
                ("IconCustom", Value::Boolean(false)),
                ("Name", s(&spec.name)),
                ("UUID", s(uuid)),
            ]),
        ),
        (
            "Input",
            dict(vec![
                ("MaximumUsbShare", int(3)),
                ("UsbBusSupport", s("3.0")),
                ("UsbSharing", Value::Boolean(false)),
            ]),
        ),
        (
            "Network",
            Value::Array(vec![dict(vec![
                ("Hardware", s("virtio-net-pci")),
                ("IsolateFromHost", Value::Boolean(false)),
                ("MacAddress", s(mac)),
                ("Mode", s(&spec.network_mode)),
                (
                    "PortForward",
                    Value::Array(spec.port_forwards.iter().map(|p| p.to_value()).collect()),
                ),
            ])]),
        ),
        (
            "QEMU",
            dict(vec![
                (
                    "AdditionalArguments",
                    Value::Array(
                        args::add(&[], &spec.arguments)?.into_iter().map(Value::String).collect(),
                    ),
                ),
                ("BalloonDevice", Value::Boolean(false)),
                ("DebugLog", Value::Boolean(spec.debug_log)),
                ("Hypervisor", Value::Boolean(spec.hypervisor)),
                ("PS2Controller", Value::Boolean(false)),
                ("RNGDevice", Value::Boolean(true)),
                ("RTCLocalTime", Value::Boolean(false)),
                ("TPMDevice", Value::Boolean(false)),
                ("TSO", Value::Boolean(false)),
                ("UEFIBoot", Value::Boolean(spec.uefi)),
            ]),
        ),
        ("Serial", Value::Array(vec![])),
        (
            "Sharing",
            dict(vec![
                ("ClipboardSharing", Value::Boolean(true)),
                ("DirectoryShareMode", s(&spec.share_mode)),
                ("DirectoryShareReadOnly", Value::Boolean(false)),
            ]),
        ),
        ("Sound", Value::Array(vec![dict(vec![("Hardware", s("intel-hda"))])])),
        (
            "System",
            dict(vec![
                ("Architecture", s(&spec.architecture)),
                ("CPU", s(&spec.cpu)),
                ("CPUCount", int(spec.cpu_count)),
                ("CPUFlagsAdd", Value::Array(vec![])),
                ("CPUFlagsRemove", Value::Array(vec![])),
                ("ForceMulticore", Value::Boolean(false)),
                ("JITCacheSize", int(0)),
                ("MemorySize", int(spec.memory_mb)),
                ("Target", s(target)),
            ]),
        ),
    ]);
    Ok(root.into_dictionary().expect("a dictionary"))
}

/// Put `src` into `data_dir` as `name` — only if `config` references `name`, so UTM never
/// deletes it. Refuses to replace an existing file.
#[allow(clippy::disallowed_methods)] // a disk hard-linked into a new bundle, inside guard::act
pub fn place_file(
    config: &Dictionary,
    data_dir: &Path,
    src: &Path,
    name: &str,
    how: Place,
) -> Result<PathBuf> {
    if name.contains('/') || name.is_empty() || name.starts_with('.') {
        return Err(Error::invalid("Data/ file name", name, "it must be a plain file name"));
    }
    if !referenced(config, data_dir).contains(name) {
        return Err(refused_unreferenced(data_dir, name));
    }
    if !src.is_file() {
        return Err(Error::invalid("image", src.display().to_string(), "it is not a file"));
    }
    let dest = data_dir.join(name);
    if crate::fs::exists(&dest) {
        return Err(Error::invalid(
            "Data/ file",
            dest.display().to_string(),
            "it already exists; helix does not replace a VM's disk",
        ));
    }
    match how {
        Place::Copy => crate::fs::copy(src, &dest)?,
        Place::Move => crate::fs::rename(src, &dest)?,
        Place::Hardlink => guard::act(
            Action::new(
                "fs.hardlink",
                format!(
                    "hard-link `{}` to `{}` (one file, two names)",
                    dest.display(),
                    src.display()
                ),
            )
            .args(json!({"from": crate::paths::absolute(src), "to": crate::paths::absolute(&dest)}))
            .undo(json!({"remove_created": crate::paths::absolute(&dest)}))
            // A second name for a protected disk would let a VM write it: refused.
            .touches(src, false),
            || {
                std::fs::hard_link(src, &dest).map_err(|e| Error::fs("hard-link", &dest, e))?;
                crate::ctx::get().note_created(&dest);
                Ok(())
            },
        )?,
    }
    Ok(dest)
}

fn refused_unreferenced(data_dir: &Path, name: &str) -> Error {
    Error::Refused {
        command: format!("write `{}`", data_dir.join(name).display()),
        reason: format!(
            "config.plist does not reference `{name}`, and UTM deletes every unreferenced file in Data/ when it saves the VM — add a Drive for it first"
        ),
    }
}

/// Create a bundle at `path` (which must not exist): `Data/`, the disks placed under
/// `<Identifier>.<ext>` and referenced by `Drive` entries, `efi_vars.fd` if given, and a
/// config.plist with every key UTM 5 writes. Returns the new bundle's UUID.
pub fn create(path: &Path, spec: &NewBundle) -> Result<String> {
    if crate::fs::exists(path) {
        return Err(Error::invalid(
            "new bundle",
            path.display().to_string(),
            "something already stands there; helix does not replace a bundle — choose another path or move it aside",
        ));
    }
    if path.extension().and_then(|e| e.to_str()) != Some("utm") {
        return Err(Error::invalid(
            "new bundle",
            path.display().to_string(),
            "a UTM bundle's name must end in .utm",
        ));
    }
    for d in &spec.disks {
        if !d.image.is_file() {
            return Err(Error::invalid(
                "disk image",
                d.image.display().to_string(),
                "it is not a file",
            ));
        }
    }
    if let Some(e) = &spec.efi_vars {
        if !e.is_file() {
            return Err(Error::invalid(
                "EFI variables",
                e.display().to_string(),
                "it is not a file",
            ));
        }
        if !spec.uefi {
            return Err(Error::invalid(
                "EFI variables",
                e.display().to_string(),
                "UEFI boot is off, so UTM would delete efi_vars.fd",
            ));
        }
    }
    let names: Vec<(String, String)> = spec
        .disks
        .iter()
        .map(|d| {
            let id = super::new_uuid();
            let ext = d.image.extension().and_then(|e| e.to_str()).unwrap_or("qcow2");
            let name = format!("{id}.{ext}");
            (id, name)
        })
        .collect();
    let root = new_config(spec, &names)?;
    let uuid = pl::get(&root, "Information.UUID")?
        .and_then(|v| v.as_string())
        .unwrap_or_default()
        .to_string();
    let data = path.join(DATA);
    crate::fs::mkdir(&data)?;
    for (d, (_, name)) in spec.disks.iter().zip(&names) {
        place_file(&root, &data, &d.image, name, d.place)?;
    }
    if let Some(e) = &spec.efi_vars {
        place_file(&root, &data, e, EFI_VARS, Place::Copy)?;
    }
    let bytes = pl::to_bytes(&root, pl::Format::Xml)?;
    crate::fs::write(&path.join(CONFIG), &bytes, Some(pl::NEW_FILE_MODE))?;
    Ok(uuid)
}

/// Add a disk image to an existing bundle: the `Drive` entry is written first, then the image
/// placed, so the file is never in `Data/` unreferenced.
pub fn add_disk(path: &Path, disk: &DiskSpec) -> Result<String> {
    check_enum("disk interface", &disk.interface, schema::INTERFACES)?;
    let b = open(path)?;
    let id = super::new_uuid();
    let ext = disk.image.extension().and_then(|e| e.to_str()).unwrap_or("qcow2");
    let name = format!("{id}.{ext}");
    if !disk.image.is_file() {
        return Err(Error::invalid(
            "disk image",
            disk.image.display().to_string(),
            "it is not a file",
        ));
    }
    let mut root = b.doc.root.clone();
    let n = array(&root, "Drive").len();
    let entry = dict(vec![
        ("Identifier", s(&id)),
        ("ImageName", s(&name)),
        ("ImageType", s("Disk")),
        ("Interface", s(&disk.interface)),
        ("InterfaceVersion", int(1)),
        ("ReadOnly", Value::Boolean(disk.read_only)),
    ]);
    if !root.contains_key("Drive") {
        root.insert("Drive".into(), Value::Array(vec![]));
    }
    pl::set(&mut root, &format!("Drive[{n}]"), entry)?;
    pl::write_changes(&b.config_path(), &b.doc, &root)?;
    if crate::ctx::get().dry_run {
        crate::ui::plan(&format!("would place `{}` as `Data/{name}`", disk.image.display()));
        return Ok(name);
    }
    let data = b.data_dir();
    crate::fs::mkdir(&data)?;
    place_file(&root, &data, &disk.image, &name, disk.place)?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_config_has_every_key_and_references_its_files() {
        let spec = NewBundle {
            disks: vec![DiskSpec {
                image: "/x/disk.qcow2".into(),
                place: Place::Copy,
                interface: "VirtIO".into(),
                read_only: false,
            }],
            ..Default::default()
        };
        let root = new_config(&spec, &[("ID".into(), "ID.qcow2".into())]).unwrap();
        assert_eq!(root.keys().collect::<Vec<_>>(), TOP_KEYS.iter().collect::<Vec<_>>());
        validate_config(&root, Path::new("c")).unwrap();
        let refs = referenced(&root, Path::new("/nonexistent"));
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), ["ID.qcow2", "efi_vars.fd"]);
    }

    #[test]
    fn version_and_backend_are_checked() {
        let mut root = new_config(&NewBundle::default(), &[]).unwrap();
        root.insert("ConfigurationVersion".into(), int(3));
        let e = validate_config(&root, Path::new("c")).unwrap_err().to_string();
        assert!(e.contains("ConfigurationVersion is 3, helix reads version 4"), "{e}");
        // Every finding of a fresh config is none: what helix writes, UTM loads.
        assert_eq!(schema::validate(&new_config(&NewBundle::default(), &[]).unwrap()), vec![]);
        root.insert("ConfigurationVersion".into(), int(4));
        root.insert("Backend".into(), s("Apple"));
        assert!(
            validate_config(&root, Path::new("c"))
                .unwrap_err()
                .to_string()
                .contains("QEMU VMs only")
        );
    }
}
