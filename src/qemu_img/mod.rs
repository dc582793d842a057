//! Disk images through the real `qemu-img`: info (from `--output=json`), create, resize
//! (a shrink is destructive and guarded), internal snapshots, convert with a progress bar, and
//! check — one file each. Sizes are parsed and printed by [`crate::size`]. A disk locked by a
//! running VM becomes the error "the VM using `<disk>` is running: stop it first"; that rule and
//! the way every operation runs `qemu-img` are here.

mod check;
mod convert;
mod create;
mod info;
mod resize;
mod snapshot;

use std::path::Path;

use crate::error::{Error, Result};
use crate::guard::Action;
use crate::process::Cmd;

pub(crate) use check::check;
pub(crate) use convert::{ConvertOptions, convert};
pub use create::{CreateOptions, create};
pub use info::{Info, Snapshot, info, parse_info};
pub(crate) use resize::resize;
pub(crate) use snapshot::{
    checkpoint, kept_state_name, snapshot_apply, snapshot_create, snapshot_delete, snapshot_list,
    undo_checkpoint, undo_snapshot_kept,
};

/// The program run for every operation (`HELIX_QEMU_IMG` overrides it).
pub(crate) fn program() -> String {
    std::env::var("HELIX_QEMU_IMG")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "qemu-img".into())
}

const FORMATS: &[&str] = &["qcow2", "raw", "vmdk", "vdi", "vhdx", "qed", "vpc"];

fn check_format(f: &str) -> Result<()> {
    if FORMATS.contains(&f) {
        Ok(())
    } else {
        Err(Error::invalid("image format", f, format!("use one of {}", FORMATS.join(", "))))
    }
}

fn must_exist(path: &Path) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::Missing {
            what: "disk image",
            path: path.to_path_buf(),
            hint: "check the path (or create it with qemu_img::create)",
        })
    }
}

/// Turn qemu-img's lock failure into the error people can act on.
fn explain(path: &Path, e: Error) -> Error {
    let text = e.to_string();
    if text.contains("\"write\" lock") || text.contains("Is another process using the image") {
        return Error::DiskInUse { path: path.to_path_buf() };
    }
    e
}

fn run(path: &Path, argv: Vec<String>) -> Result<String> {
    Cmd::new(&argv).capture().run().map(|f| f.stdout).map_err(|e| explain(path, e))
}

/// Run under `action`, which already names the disk the command changes: the command is
/// classified all the same, and asked about once.
fn run_as<T: Default>(
    path: &Path,
    argv: Vec<String>,
    action: Action,
    then: impl FnOnce(String) -> T,
) -> Result<T> {
    Cmd::new(&argv)
        .capture()
        .guarded(action, |r| r.run().map(|f| then(f.stdout)))
        .map_err(|e| explain(path, e))
}

fn run_read_only(path: &Path, argv: Vec<String>) -> Result<String> {
    Cmd::new(&argv).capture().read_only().run().map(|f| f.stdout).map_err(|e| explain(path, e))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}
