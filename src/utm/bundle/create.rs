//! Creating a bundle: a [`NewBundle`]'s configuration with every key UTM 5 writes, and disks
//! placed into `Data/` only once the configuration references them ([`place_file`]), so UTM
//! never deletes them.

use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};
use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::plist as pl;
use crate::undo::Undo;

use super::super::arguments as args;
use super::super::schema;
use super::{
    CONFIG, DATA, EFI_VARS, PortForward, VERSION, array, check_enum, check_forward, check_mac, int,
    open, referenced,
};

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
    let uuid = spec.uuid.clone().unwrap_or_else(super::super::new_uuid);
    if !super::super::is_uuid(&uuid) {
        return Err(Error::invalid("VM UUID", uuid, "expected 8-4-4-4-12 hex digits"));
    }
    let mac = spec.mac.clone().unwrap_or_else(super::super::new_mac).to_uppercase();
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
            .undo(Undo::remove_created(crate::paths::absolute(&dest)))
            // A second name for a protected disk would let a VM write it: refused.
            .touches(src, false),
            || {
                std::fs::hard_link(src, &dest).map_err(|e| Error::fs("hard-link", &dest, e))?;
                crate::run::current().note_created(&dest);
                Ok(())
            },
        )?,
    }
    Ok(dest)
}

fn refused_unreferenced(data_dir: &Path, name: &str) -> Error {
    Error::Refused {
        op: format!("write `{}`", data_dir.join(name).display()),
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
            let id = super::super::new_uuid();
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
    let id = super::super::new_uuid();
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
    if crate::run::current().dry_run {
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
    use super::super::{TOP_KEYS, validate_config};
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
