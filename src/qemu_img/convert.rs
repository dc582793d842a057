//! `qemu-img convert` with a progress bar: the output is written under a temporary name beside
//! `dest` and renamed into place only when complete; an existing `dest` is a guarded overwrite.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{check_format, explain, info, program, s};
use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::process::Cmd;
use crate::undo::Undo;

/// Options for [`convert`] (`qemu_img::convert`'s map).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConvertOptions {
    /// Output format (default `qcow2`).
    pub format: Option<String>,
    /// Compress qcow2 clusters.
    #[serde(default)]
    pub compress: bool,
}

/// The last `(NN.NN/100%)` figure in `qemu-img convert -p` output.
pub(crate) fn parse_progress(text: &str) -> Option<f64> {
    let end = text.rfind("/100%)")?;
    let start = text[..end].rfind('(')? + 1;
    text[start..end].trim().parse().ok()
}

/// Convert `src` into a new image `dest` (format from `opts`, default qcow2), with a progress
/// bar. The output is written beside `dest` under a temporary name and renamed into place only
/// when complete, so a cut-off conversion never looks finished. An existing `dest` is a guarded
/// overwrite.
#[allow(clippy::disallowed_methods)] // its own partial output of `qemu-img convert`, renamed into place or discarded
pub(crate) fn convert(src: &Path, dest: &Path, opts: &ConvertOptions) -> Result<()> {
    let format = opts.format.clone().unwrap_or_else(|| "qcow2".into());
    check_format(&format)?;
    if opts.compress && format != "qcow2" {
        return Err(Error::invalid("option", "compress", "only qcow2 output can be compressed"));
    }
    // Under --dry-run an earlier step may only have planned to make the source image.
    if !src.exists() && crate::run::current().dry_run {
        crate::ui::plan(&format!(
            "would convert `{}` (planned by an earlier step) to {format} `{}`",
            src.display(),
            dest.display()
        ));
        return Ok(());
    }
    let src_info = info(src)?;
    let existed = dest.exists();
    let mut action = Action::new(
        "qemu_img.convert",
        format!(
            "convert `{}` ({}) to {format} `{}`",
            src.display(),
            src_info.format,
            dest.display()
        ),
    )
    .args(json!({ "src": src, "dest": dest, "format": format, "compress": opts.compress }));
    if existed {
        action = action.destroys(Target::Disk {
            path: dest.to_path_buf(),
            why: "replaced by the converted image".into(),
        });
    } else {
        action = action.undo(Undo::remove_created(dest));
    }
    guard::act(action, || {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let dir = dest.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let partial = dir.join(format!(".{name}.helix-partial"));
        let log = tempfile::NamedTempFile::new()
            .map_err(|e| Error::write(Path::new("qemu-img log"), e))?;
        let mut argv = vec![
            program(),
            "convert".into(),
            "-p".into(),
            "-f".into(),
            src_info.format.clone(),
            "-O".into(),
            format.clone(),
        ];
        if opts.compress {
            argv.push("-c".into());
        }
        argv.extend([s(src), s(&partial)]);
        let bar = crate::ui::progress(100, &format!("converting {name}"));
        let result = (|| {
            let mut bg = Cmd::new(&argv).spawn_background(Some(log.path()))?;
            loop {
                if let Some(status) = bg.wait_exit(Duration::from_millis(150)) {
                    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
                    if status.success() {
                        return Ok(());
                    }
                    let tail: Vec<&str> = text
                        .split(['\r', '\n'])
                        .filter(|l| !l.trim().is_empty() && !l.contains("/100%)"))
                        .collect();
                    let tail = tail[tail.len().saturating_sub(10)..].join("\n");
                    return Err(explain(
                        src,
                        Error::CommandFailed {
                            command: crate::process::display_argv(&argv),
                            status: format!("exit code {}", status.code().unwrap_or(-1)),
                            code: status.code(),
                            stderr_tail: tail,
                        },
                    ));
                }
                if crate::run::current().is_cancelled() {
                    bg.kill();
                    return Err(Error::Cancelled(format!(
                        "converting `{}` was interrupted",
                        src.display()
                    )));
                }
                let text = std::fs::read_to_string(log.path()).unwrap_or_default();
                if let Some(p) = parse_progress(&text) {
                    bar.set_position(p as u64);
                }
            }
        })();
        bar.finish_and_clear();
        match result {
            Ok(()) => {
                std::fs::rename(&partial, dest)
                    .map_err(|e| Error::fs("move into place", dest, e))?;
                if !existed {
                    crate::run::current().note_created(dest);
                }
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
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
    fn convert_writes_in_place_only_when_complete() {
        let d = tmp();
        let raw = d.path().join("src.raw");
        let mut data = vec![0u8; 4 << 20];
        data[1 << 20..(1 << 20) + 5].copy_from_slice(b"hello");
        std::fs::write(&raw, &data).unwrap();
        let out = d.path().join("out.qcow2");
        convert(&raw, &out, &ConvertOptions { compress: true, ..Default::default() }).unwrap();
        let i = info(&out).unwrap();
        assert_eq!((i.format.as_str(), i.virtual_size), ("qcow2", 4 << 20));
        let back = d.path().join("back.raw");
        convert(&out, &back, &ConvertOptions { format: Some("raw".into()), ..Default::default() })
            .unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), data);
        let leftovers: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains("partial"))
            .collect();
        assert!(leftovers.is_empty());
        // A failing conversion leaves no file behind and says why.
        let junk = d.path().join("junk.qcow2");
        std::fs::write(&junk, b"QFI\xfb\0\0\0\x03garbage-garbage-garbage").unwrap();
        let dest = d.path().join("never.qcow2");
        assert!(convert(&junk, &dest, &ConvertOptions::default()).is_err());
        assert!(!dest.exists());
    }

    #[test]
    fn progress_lines() {
        assert_eq!(parse_progress("    (0.00/100%)\r    (45.50/100%)\r"), Some(45.5));
        assert_eq!(parse_progress("nothing"), None);
    }
}
