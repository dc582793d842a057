//! `qemu-img info`: an image's format, sizes, backing file, internal snapshots and health flags,
//! read from `--output=json` (also on the disk of a running VM: `--force-share`).

use std::path::Path;

use serde_json::Value;

use super::{must_exist, program, run_read_only, s};
use crate::error::{Error, Result};

/// What `qemu-img info` says about an image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Info {
    pub filename: String,
    pub format: String,
    pub virtual_size: u64,
    pub actual_size: u64,
    pub cluster_size: Option<u64>,
    pub backing_file: Option<String>,
    pub backing_format: Option<String>,
    pub snapshots: Vec<Snapshot>,
    pub dirty: bool,
    pub corrupt: bool,
}

/// One internal snapshot of a qcow2 image.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub id: String,
    pub name: String,
    /// Seconds since the epoch when it was taken.
    pub date: i64,
    /// Bytes of saved VM state (0 for a disk-only snapshot).
    pub vm_state_size: u64,
}

/// Read an image's facts. Works on the disk of a running VM too (`--force-share`).
pub fn info(path: &Path) -> Result<Info> {
    must_exist(path)?;
    let out = run_read_only(
        path,
        vec![program(), "info".into(), "--output=json".into(), "-U".into(), s(path)],
    )?;
    parse_info(&out).map_err(|why| Error::QemuImgOutput {
        command: "info",
        path: path.to_path_buf(),
        why,
    })
}

pub fn parse_info(json_text: &str) -> std::result::Result<Info, String> {
    // serde_json stops at 128 nested levels (no stack overflow); say so in plain words.
    let v: Value = serde_json::from_str(json_text).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            "its JSON nests more than 128 levels deep, which qemu-img never prints".to_string()
        } else {
            e.to_string()
        }
    })?;
    let u = |k: &str| v.get(k).and_then(Value::as_u64);
    let st = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    let snapshots = v
        .get("snapshots")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| Snapshot {
                    id: s.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
                    name: s.get("name").and_then(Value::as_str).unwrap_or_default().to_string(),
                    date: s.get("date-sec").and_then(Value::as_i64).unwrap_or(0),
                    vm_state_size: s.get("vm-state-size").and_then(Value::as_u64).unwrap_or(0),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Info {
        filename: st("filename").unwrap_or_default(),
        format: st("format").ok_or("no `format` in the output")?,
        virtual_size: u("virtual-size").ok_or("no `virtual-size` in the output")?,
        actual_size: u("actual-size").unwrap_or(0),
        cluster_size: u("cluster-size"),
        backing_file: st("full-backing-filename").or_else(|| st("backing-filename")),
        backing_format: st("backing-filename-format"),
        snapshots,
        dirty: v.get("dirty-flag").and_then(Value::as_bool).unwrap_or(false),
        corrupt: v
            .pointer("/format-specific/data/corrupt")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}
