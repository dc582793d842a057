//! `qemu-img check`: an image's consistency. Leaks and corruptions are reported, not errors;
//! a format without checks (raw) says so.

use std::path::Path;

use serde_json::Value;

use super::{explain, must_exist, program, s};
use crate::error::{Error, Result};
use crate::process::Cmd;

/// What `qemu-img check` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Check {
    /// False when the format has no consistency checks (raw).
    pub supported: bool,
    pub corruptions: u64,
    pub leaks: u64,
    pub check_errors: u64,
    pub image_end_offset: Option<u64>,
}

impl Check {
    pub(crate) fn ok(&self) -> bool {
        self.corruptions == 0 && self.leaks == 0 && self.check_errors == 0
    }
}

/// Check an image's consistency (`qemu-img check`). Leaks and corruptions are reported, not
/// errors; an image qemu-img cannot read at all is an error.
pub(crate) fn check(path: &Path) -> Result<Check> {
    must_exist(path)?;
    let out = Cmd::new(&[program(), "check".into(), "--output=json".into(), s(path)])
        .capture()
        .read_only()
        .unchecked()
        .run()
        .map_err(|e| explain(path, e))?;
    if out.stderr.contains("does not support checks") {
        return Ok(Check { supported: false, ..Default::default() });
    }
    if out.stderr.contains("\"write\" lock")
        || out.stderr.contains("Is another process using the image")
    {
        return Err(Error::DiskInUse { path: path.to_path_buf() });
    }
    let v: Value = serde_json::from_str(&out.stdout).map_err(|_| Error::QemuImgOutput {
        command: "check",
        path: path.to_path_buf(),
        why: out.stderr.trim().to_string(),
    })?;
    let u = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Ok(Check {
        supported: true,
        corruptions: u("corruptions"),
        leaks: u("leaks"),
        check_errors: u("check-errors"),
        image_end_offset: v.get("image-end-offset").and_then(Value::as_u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qemu_img::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn check_reports_a_clean_image_and_raw_is_unsupported() {
        let d = tmp();
        let p = d.path().join("c.qcow2");
        create(&p, Some("64M"), &CreateOptions::default()).unwrap();
        let c = check(&p).unwrap();
        assert!(c.supported && c.ok(), "{c:?}");
        let r = d.path().join("c.raw");
        create(&r, Some("1M"), &CreateOptions { format: Some("raw".into()), ..Default::default() })
            .unwrap();
        assert!(!check(&r).unwrap().supported);
        // Not an image at all: qcow2 header garbage is an error naming the file.
        let junk = d.path().join("junk.qcow2");
        std::fs::write(&junk, b"QFI\xfbnot really").unwrap();
        let e = check(&junk).unwrap_err().to_string();
        assert!(e.contains("junk.qcow2"), "{e}");
    }
}
