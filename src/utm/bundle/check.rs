//! Checking a bundle the way UTM loads it: the schema, the files in `Data/` UTM would delete
//! (everything [`referenced`] does not name), missing images, duplicate UUIDs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plist::Dictionary;

use crate::error::{Error, Result};
use crate::plist as pl;

use super::super::schema;
use super::{DEBUG_LOG, EFI_VARS, Finding, TPM_DATA, VM_STATE, array, read_bundle};

/// The file names in `Data/` that a configuration references — the ones UTM keeps.
pub(crate) fn referenced(root: &Dictionary, data_dir: &Path) -> BTreeSet<String> {
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
pub(crate) fn check(path: &Path, others: &[(PathBuf, String)]) -> Result<Vec<Finding>> {
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
