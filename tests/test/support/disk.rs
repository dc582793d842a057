//! Disk images made and measured with the real `qemu-img`.

use std::path::Path;
use std::process::Command;

use super::cmd::stdout_of;

/// A fresh qcow2 of virtual `size` (`"1M"`, `"256G"`) at `path`; nothing allocated.
pub fn qcow2(path: &Path, size: &str) {
    stdout_of(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(path).arg(size));
}

/// Virtual size in bytes of a disk image.
pub fn vm_bytes(disk: &Path) -> u64 {
    let out = stdout_of(Command::new("qemu-img").args(["info", "--output=json", "-U"]).arg(disk));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["virtual-size"].as_u64().unwrap()
}

/// `qemu-img snapshot -l` of a disk image: its internal snapshots as qemu-img lists them.
pub fn snapshot_list(disk: &Path) -> String {
    stdout_of(Command::new("qemu-img").args(["snapshot", "-l"]).arg(disk))
}
