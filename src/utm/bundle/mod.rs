//! UTM VM bundles: `<Name>.utm/config.plist` (ConfigurationVersion 4, QEMU backend) and
//! `<Name>.utm/Data/` (disk images, `efi_vars.fd`, `tpmdata`, `debug.log`).
//!
//! The rule that shapes this module: when UTM saves a configuration it **deletes every file in
//! `Data/` that the configuration does not reference** (UTMConfiguration.save →
//! cleanupAllFiles). So helix writes a file into `Data/` only when the configuration references
//! it, and [`check()`] reports files UTM would delete.
//!
//! This file opens a bundle and reads it ([`Bundle`]); `edit.rs` changes a configuration,
//! `check.rs` validates a bundle the way UTM loads it, `create.rs` makes a new bundle and places
//! disks into `Data/`.

use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};
use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::plist::{self as pl, Doc};

use super::arguments as args;
use super::schema;

mod check;
mod create;
mod edit;

pub(crate) use check::{check, referenced};
pub use create::{DiskSpec, NewBundle, Place, add_disk, create, new_config, place_file};
pub(crate) use edit::{Changes, PortForward, check_enum, check_forward, check_mac, configure};

pub(crate) const CONFIG: &str = "config.plist";
pub(crate) const DATA: &str = "Data";
pub(crate) use super::schema::{DEBUG_LOG, EFI_VARS, Finding, TPM_DATA, VERSION, VM_STATE};
#[cfg(test)]
/// The twelve top-level keys UTM 5 writes for a QEMU VM (sorted, as UTM's encoder writes them).
pub(crate) const TOP_KEYS: [&str; 12] = [
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
pub(crate) struct Bundle {
    pub path: PathBuf,
    pub doc: Doc,
}

fn bad_bundle(path: &Path, why: impl Into<String>) -> Error {
    Error::invalid("UTM bundle", path.display().to_string(), why)
}

/// Check a configuration tree is one helix understands: QEMU backend, version 4. A UTM 3
/// (version 2) file, which UTM migrates when it opens it, is recognised and refused with what
/// to do — helix never rewrites one.
pub(crate) fn validate_config(root: &Dictionary, config_path: &Path) -> Result<()> {
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
pub(crate) fn open(path: &Path) -> Result<Bundle> {
    let b = read_bundle(path)?;
    validate_config(&b.doc.root, &b.config_path())?;
    Ok(b)
}

impl Bundle {
    pub(crate) fn config_path(&self) -> PathBuf {
        self.path.join(CONFIG)
    }
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.path.join(DATA)
    }
    fn str_at(&self, p: &str) -> Option<String> {
        pl::get(&self.doc.root, p).ok().flatten().and_then(|v| v.as_string()).map(String::from)
    }
    pub(crate) fn name(&self) -> String {
        self.str_at("Information.Name").unwrap_or_else(|| {
            self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
        })
    }
    pub(crate) fn uuid(&self) -> Option<String> {
        self.str_at("Information.UUID")
    }

    /// The typed view recipes see (`utm::open`).
    pub(crate) fn view(&self) -> Json {
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
    pub(crate) fn drives(&self) -> Vec<Json> {
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
pub(crate) fn arguments(root: &Dictionary) -> Vec<String> {
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

fn int(n: i64) -> Value {
    Value::Integer(n.into())
}
