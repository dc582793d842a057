//! `qemu-img resize`: to an absolute or relative size. Growing is safe; a shrink cuts off what
//! the guest stored past the new end, so it is destructive and guarded.

use std::path::Path;

use serde_json::json;

use super::{info, program, run, s};
use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};

/// The new size for `resize`: absolute (`256G`) or relative (`+10G`, `-1G`).
pub(crate) fn target_size(current: u64, spec: &str) -> Result<u64> {
    let t = spec.trim();
    if let Some(rest) = t.strip_prefix('+') {
        current
            .checked_add(crate::size::parse(rest)?)
            .ok_or_else(|| Error::invalid("size", spec, "too large"))
    } else if let Some(rest) = t.strip_prefix('-') {
        let d = crate::size::parse(rest)?;
        current.checked_sub(d).ok_or_else(|| {
            Error::invalid(
                "size",
                spec,
                format!("the image is only {} large", crate::size::format(current)),
            )
        })
    } else {
        crate::size::parse(t)
    }
}

/// Resize an image to `size` (`256G`, `+10G`). Growing is safe; shrinking cuts off whatever the
/// guest stored past the new end, so it is destructive and guarded. Returns the new size.
pub(crate) fn resize(path: &Path, size: &str) -> Result<u64> {
    // Under --dry-run an earlier step may only have planned to make the image.
    if !path.exists() && crate::run::current().dry_run {
        let bytes = crate::size::parse(size.trim_start_matches('+'))?;
        crate::ui::plan(&format!("would resize `{}` to {size}", path.display()));
        return Ok(bytes);
    }
    let i = info(path)?;
    let new = target_size(i.virtual_size, size)?;
    if new == 0 {
        return Err(Error::invalid("size", size, "an image cannot be resized to 0 bytes"));
    }
    if new == i.virtual_size {
        crate::ui::info(&format!("`{}` is already {}", path.display(), crate::size::format(new)));
        return Ok(new);
    }
    let shrink = new < i.virtual_size;
    let mut argv = vec![program(), "resize".into(), "-q".into(), "-f".into(), i.format.clone()];
    if shrink {
        argv.push("--shrink".into());
    }
    argv.extend([s(path), new.to_string()]);
    let detail = format!(
        "{} `{}` from {} to {}",
        if shrink { "shrink" } else { "grow" },
        path.display(),
        crate::size::format(i.virtual_size),
        crate::size::format(new)
    );
    let mut action = Action::new("qemu_img.resize", detail)
        .args(json!({ "path": path, "from": i.virtual_size, "to": new }));
    if shrink {
        action = action.destroys(Target::Disk {
            path: path.to_path_buf(),
            why: format!("everything past {} is cut off", crate::size::format(new)),
        });
    }
    guard::act(action, || run(path, argv).map(|_| new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::Cmd;
    use crate::qemu_img::*;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    #[test]
    fn overwrite_and_shrink_are_refused_without_a_person() {
        let d = tmp();
        let p = d.path().join("a.qcow2");
        // Made outside this "run": helix did not create it.
        Cmd::new(&[
            program(),
            "create".into(),
            "-q".into(),
            "-f".into(),
            "qcow2".into(),
            s(&p),
            "1G".into(),
        ])
        .run()
        .unwrap();
        let e = create(&p, Some("2G"), &CreateOptions::default()).unwrap_err().to_string();
        assert!(e.contains("refused") && e.contains("replaced by a new, empty image"), "{e}");
        assert_eq!(info(&p).unwrap().virtual_size, 1 << 30);
        assert_eq!(resize(&p, "+1G").unwrap(), 2 << 30);
        assert_eq!(info(&p).unwrap().virtual_size, 2 << 30);
        let e = resize(&p, "512M").unwrap_err().to_string();
        assert!(e.contains("refused") && e.contains("cut off"), "{e}");
        assert_eq!(info(&p).unwrap().virtual_size, 2 << 30);
        let e = resize(&p, "-3G").unwrap_err().to_string();
        assert!(e.contains("only 2G large"), "{e}");
    }

    #[test]
    fn shrinking_an_image_this_run_created_needs_no_person() {
        let d = tmp();
        let p = d.path().join("mine.qcow2");
        create(&p, Some("2G"), &CreateOptions::default()).unwrap();
        assert_eq!(resize(&p, "1G").unwrap(), 1 << 30);
        assert_eq!(info(&p).unwrap().virtual_size, 1 << 30);
    }

    #[test]
    fn relative_sizes() {
        assert_eq!(target_size(1 << 30, "+1G").unwrap(), 2 << 30);
        assert_eq!(target_size(2 << 30, "-1G").unwrap(), 1 << 30);
        assert_eq!(target_size(2 << 30, "256G").unwrap(), 256 << 30);
        assert!(target_size(1 << 30, "+x").is_err());
    }
}
