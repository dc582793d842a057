//! `qemu-img create`: a new image of a size, or a thin overlay on a backing file. Over an
//! existing file it is a guarded overwrite.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use super::{check_format, info, must_exist, program, run, s};
use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::undo::Undo;

/// Options for [`create`] (`qemu_img::create`'s map).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOptions {
    /// `qcow2` (default) or `raw`.
    pub format: Option<String>,
    /// A backing file: the new image is a thin overlay that starts as its copy.
    pub backing: Option<PathBuf>,
    /// The backing file's format (probed with `qemu-img info` when not given).
    pub backing_format: Option<String>,
    /// `off`, `metadata`, `falloc`, `full`.
    pub preallocation: Option<String>,
}

/// Create an image. `size` may be `None` only with a backing file (the overlay takes its size).
/// Over an existing file this is a guarded overwrite: a person must confirm it, unless this run
/// created that file.
pub fn create(path: &Path, size: Option<&str>, opts: &CreateOptions) -> Result<()> {
    let format = opts.format.clone().unwrap_or_else(|| "qcow2".into());
    check_format(&format)?;
    let bytes = size.map(crate::size::parse).transpose()?;
    if bytes.is_none() && opts.backing.is_none() {
        return Err(Error::invalid(
            "size",
            "",
            "a new image needs a size (e.g. 256G) unless it has a backing file",
        ));
    }
    let mut argv = vec![program(), "create".into(), "-q".into(), "-f".into(), format.clone()];
    if let Some(b) = &opts.backing {
        must_exist(b)?;
        if format != "qcow2" {
            return Err(Error::invalid(
                "image format",
                &format,
                "only qcow2 images can have a backing file",
            ));
        }
        let bf = match &opts.backing_format {
            Some(f) => f.clone(),
            None => info(b)?.format,
        };
        // An absolute path, so the overlay still finds its backing file from anywhere.
        argv.extend(["-b".into(), s(&crate::paths::absolute(b)), "-F".into(), bf]);
    }
    if let Some(p) = &opts.preallocation {
        argv.extend(["-o".into(), format!("preallocation={p}")]);
    }
    argv.push(s(path));
    if let Some(b) = bytes {
        argv.push(b.to_string());
    }
    let existed = path.exists();
    let shown = bytes.map(crate::size::format).unwrap_or_else(|| "backing size".into());
    let mut action = Action::new(
        "qemu_img.create",
        format!("create the {format} image `{}` ({shown})", path.display()),
    )
    .args(json!({ "path": path, "format": format, "size": bytes, "backing": opts.backing }));
    if existed {
        action = action.destroys(Target::Disk {
            path: path.to_path_buf(),
            why: "replaced by a new, empty image".into(),
        });
    } else {
        action = action.undo(Undo::remove_created(path));
    }
    guard::act(action, || {
        run(path, argv)?;
        if !existed {
            crate::run::current().note_created(path);
        }
        Ok(())
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
    fn creates_and_reads_a_qcow2() {
        let d = tmp();
        let p = d.path().join("a.qcow2");
        create(&p, Some("256G"), &CreateOptions::default()).unwrap();
        let i = info(&p).unwrap();
        assert_eq!((i.format.as_str(), i.virtual_size), ("qcow2", 256 << 30));
        assert!(i.actual_size < 10 << 20, "thin: {}", i.actual_size);
        assert!(!i.dirty && !i.corrupt && i.backing_file.is_none() && i.snapshots.is_empty());
        assert_eq!(crate::size::format(i.virtual_size), "256G");
    }

    #[test]
    fn raw_and_backing_files() {
        let d = tmp();
        let base = d.path().join("base.raw");
        create(
            &base,
            Some("64M"),
            &CreateOptions { format: Some("raw".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!(info(&base).unwrap().format, "raw");
        let over = d.path().join("over.qcow2");
        create(&over, None, &CreateOptions { backing: Some(base.clone()), ..Default::default() })
            .unwrap();
        let i = info(&over).unwrap();
        assert_eq!(i.virtual_size, 64 << 20);
        assert_eq!(i.backing_file.as_deref(), Some(base.to_str().unwrap()));
        assert_eq!(i.backing_format.as_deref(), Some("raw"));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let d = tmp();
        let p = d.path().join("a.qcow2");
        for bad in ["12Q", "ten", "", "-1G"] {
            let e = create(&p, Some(bad), &CreateOptions::default()).unwrap_err().to_string();
            assert!(e.contains("invalid size"), "{bad}: {e}");
        }
        assert!(!p.exists());
        let e = create(&p, None, &CreateOptions::default()).unwrap_err().to_string();
        assert!(e.contains("needs a size"), "{e}");
        let e = create(
            &p,
            Some("1G"),
            &CreateOptions { format: Some("qcow3".into()), ..Default::default() },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("invalid image format `qcow3`"), "{e}");
        let missing = d.path().join("nope.qcow2");
        for e in [
            info(&missing).unwrap_err(),
            resize(&missing, "1G").unwrap_err(),
            check(&missing).unwrap_err(),
        ] {
            assert!(e.to_string().contains("`") && e.to_string().contains("does not exist"), "{e}");
        }
    }
}
