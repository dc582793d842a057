//! Disk images through the real `qemu-img`: info (from `--output=json`), create, resize
//! (a shrink is destructive and guarded), internal snapshots, convert with a progress bar, and
//! check. Sizes are parsed and printed by [`crate::size`]. A disk locked by a running VM becomes
//! the error "the VM using `<disk>` is running: stop it first".

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::process::Cmd;
use crate::undo::{Domain, Outcome, Undo};

/// The program run for every operation (`HELIX_QEMU_IMG` overrides it).
pub fn program() -> String {
    std::env::var("HELIX_QEMU_IMG")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "qemu-img".into())
}

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

/// What `qemu-img check` found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Check {
    /// False when the format has no consistency checks (raw).
    pub supported: bool,
    pub corruptions: u64,
    pub leaks: u64,
    pub check_errors: u64,
    pub image_end_offset: Option<u64>,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.corruptions == 0 && self.leaks == 0 && self.check_errors == 0
    }
}

/// Options for [`create`].
#[derive(Debug, Clone, Default)]
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

/// Options for [`convert`].
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// Output format (default `qcow2`).
    pub format: Option<String>,
    /// Compress qcow2 clusters.
    pub compress: bool,
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
        Err(Error::other(format!(
            "the disk image `{}` does not exist: check the path (or create it with qemu_img::create)",
            path.display()
        )))
    }
}

/// Turn qemu-img's lock failure into the error people can act on.
fn explain(path: &Path, e: Error) -> Error {
    let text = e.to_string();
    if text.contains("\"write\" lock") || text.contains("Is another process using the image") {
        return Error::other(format!(
            "the VM using `{}` is running: stop it first",
            path.display()
        ));
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

/// Read an image's facts. Works on the disk of a running VM too (`--force-share`).
pub fn info(path: &Path) -> Result<Info> {
    must_exist(path)?;
    let out = run_read_only(
        path,
        vec![program(), "info".into(), "--output=json".into(), "-U".into(), s(path)],
    )?;
    parse_info(&out).map_err(|why| {
        Error::other(format!("could not read `qemu-img info` of `{}`: {why}", path.display()))
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
            crate::ctx::get().note_created(path);
        }
        Ok(())
    })
}

/// The new size for `resize`: absolute (`256G`) or relative (`+10G`, `-1G`).
pub fn target_size(current: u64, spec: &str) -> Result<u64> {
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
pub fn resize(path: &Path, size: &str) -> Result<u64> {
    // Under --dry-run an earlier step may only have planned to make the image.
    if !path.exists() && crate::ctx::get().dry_run {
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

/// The image's internal snapshots.
pub fn snapshot_list(path: &Path) -> Result<Vec<Snapshot>> {
    Ok(info(path)?.snapshots)
}

fn check_snapshot_name(name: &str) -> Result<()> {
    if name.is_empty() || name.starts_with('-') || name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "snapshot name",
            name,
            "use letters, digits, `-`, `_` or `.`, not starting with `-`",
        ));
    }
    Ok(())
}

fn has_snapshot(path: &Path, name: &str) -> Result<bool> {
    Ok(snapshot_list(path)?.iter().any(|s| s.name == name))
}

/// The name a reverted-from state is kept under: `before-<name>-<unix time>`.
pub fn kept_state_name(name: &str) -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("before-{name}-{secs}")
}

/// Take an internal snapshot named `name` (the VM must be stopped). Undoing the run keeps it:
/// a snapshot only adds a way back, and deleting it would lose what it holds.
pub fn snapshot_create(path: &Path, name: &str) -> Result<()> {
    snapshot_action(
        path,
        name,
        Undo::Domain(Domain::SnapshotKept { path: path.into(), name: name.into() }),
    )
}

/// Take snapshot `name` as the state to go back to: undoing the run reverts the disk to it
/// (the state at undo time is kept as another snapshot first).
pub fn checkpoint(path: &Path, name: &str) -> Result<()> {
    snapshot_action(
        path,
        name,
        Undo::Domain(Domain::Checkpoint { path: path.into(), name: name.into() }),
    )
}

/// Undo of [`snapshot_create`]: nothing to do, the snapshot stays.
pub fn undo_snapshot_kept(path: &Path, name: &str) -> Result<Outcome> {
    Ok(Outcome::Skipped(format!(
        "snapshot `{name}` of `{}` is kept (`qemu_img::snapshot_delete` removes it)",
        path.display()
    )))
}

/// Undo of [`checkpoint`]: revert to it, keeping the current state as a snapshot.
pub fn undo_checkpoint(path: &Path, name: &str) -> Result<Outcome> {
    if !has_snapshot(path, name)? {
        return Err(Error::other(format!(
            "`{}` no longer has snapshot `{name}`, so helix cannot go back to it",
            path.display()
        )));
    }
    let kept = kept_state_name(name);
    snapshot_apply(path, name, Some(&kept))?;
    Ok(Outcome::Done(format!(
        "reverted `{}` to snapshot `{name}` (the state it had is kept as snapshot `{kept}`)",
        path.display()
    )))
}

fn snapshot_action(path: &Path, name: &str, undo: Undo) -> Result<()> {
    check_snapshot_name(name)?;
    if has_snapshot(path, name)? {
        return Err(Error::other(format!(
            "`{}` already has a snapshot named `{name}`: pick another name or delete it first",
            path.display()
        )));
    }
    let argv = vec![program(), "snapshot".into(), "-c".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_create",
        format!("snapshot `{}` as `{name}`", path.display()),
    )
    .args(json!({ "path": path, "name": name }))
    .undo(undo);
    guard::act(action, || run(path, argv).map(|_| ()))
}

/// Revert the image to snapshot `name`. The current state is lost unless `save_current` names a
/// snapshot to keep it in first (then nothing is destroyed and no confirmation is needed).
/// Returns the name the current state was saved under, or `""`.
pub fn snapshot_apply(path: &Path, name: &str, save_current: Option<&str>) -> Result<String> {
    check_snapshot_name(name)?;
    if !has_snapshot(path, name)? {
        return Err(Error::other(format!("`{}` has no snapshot named `{name}`", path.display())));
    }
    if let Some(keep) = save_current {
        snapshot_create(path, keep)?;
    }
    let argv = vec![program(), "snapshot".into(), "-a".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_apply",
        format!("revert `{}` to snapshot `{name}`", path.display()),
    )
    .args(json!({ "path": path, "name": name, "saved_current_as": save_current }));
    let action = match save_current {
        None => action.destroys(Target::Disk {
            path: path.to_path_buf(),
            why: format!("its current contents are replaced by snapshot `{name}`"),
        }),
        // The current state was just kept as a snapshot: the revert destroys nothing.
        Some(_) => action.recovers(path),
    };
    run_as(path, argv, action, |_| save_current.unwrap_or_default().to_string())
}

/// Delete snapshot `name`: what it kept is gone, so it is guarded.
pub fn snapshot_delete(path: &Path, name: &str) -> Result<()> {
    check_snapshot_name(name)?;
    if !has_snapshot(path, name)? {
        return Err(Error::other(format!("`{}` has no snapshot named `{name}`", path.display())));
    }
    let argv = vec![program(), "snapshot".into(), "-d".into(), name.into(), s(path)];
    let action = Action::new(
        "qemu_img.snapshot_delete",
        format!("delete snapshot `{name}` of `{}`", path.display()),
    )
    .args(json!({ "path": path, "name": name }))
    .destroys(Target::Disk {
        path: path.to_path_buf(),
        why: format!("snapshot `{name}` is deleted"),
    });
    run_as(path, argv, action, |_| ())
}

/// Check an image's consistency (`qemu-img check`). Leaks and corruptions are reported, not
/// errors; an image qemu-img cannot read at all is an error.
pub fn check(path: &Path) -> Result<Check> {
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
        return Err(Error::other(format!(
            "the VM using `{}` is running: stop it first",
            path.display()
        )));
    }
    let v: Value = serde_json::from_str(&out.stdout).map_err(|_| {
        Error::other(format!(
            "`qemu-img check` could not check `{}`: {}",
            path.display(),
            out.stderr.trim()
        ))
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

/// The last `(NN.NN/100%)` figure in `qemu-img convert -p` output.
pub fn parse_progress(text: &str) -> Option<f64> {
    let end = text.rfind("/100%)")?;
    let start = text[..end].rfind('(')? + 1;
    text[start..end].trim().parse().ok()
}

/// Convert `src` into a new image `dest` (format from `opts`, default qcow2), with a progress
/// bar. The output is written beside `dest` under a temporary name and renamed into place only
/// when complete, so a cut-off conversion never looks finished. An existing `dest` is a guarded
/// overwrite.
#[allow(clippy::disallowed_methods)] // its own partial output of `qemu-img convert`, renamed into place or discarded
pub fn convert(src: &Path, dest: &Path, opts: &ConvertOptions) -> Result<()> {
    let src_info = info(src)?;
    let format = opts.format.clone().unwrap_or_else(|| "qcow2".into());
    check_format(&format)?;
    if opts.compress && format != "qcow2" {
        return Err(Error::invalid("option", "compress", "only qcow2 output can be compressed"));
    }
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
                if crate::ctx::get().is_cancelled() {
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
                    crate::ctx::get().note_created(dest);
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
    fn snapshots() {
        let d = tmp();
        let p = d.path().join("s.qcow2");
        create(&p, Some("64M"), &CreateOptions::default()).unwrap();
        snapshot_create(&p, "clean").unwrap();
        let e = snapshot_create(&p, "clean").unwrap_err().to_string();
        assert!(e.contains("already has a snapshot named `clean`"), "{e}");
        let l = snapshot_list(&p).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "clean");
        assert!(l[0].date > 1_600_000_000);
        // Keeping the current state first: nothing is destroyed, so no person is needed.
        assert_eq!(snapshot_apply(&p, "clean", Some("before-revert")).unwrap(), "before-revert");
        let names: Vec<String> = snapshot_list(&p).unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["clean", "before-revert"]);
        // This run created the image, so its snapshots are the run's own to delete.
        snapshot_delete(&p, "before-revert").unwrap();
        assert_eq!(snapshot_list(&p).unwrap().len(), 1);
        let e = snapshot_apply(&p, "nope", None).unwrap_err().to_string();
        assert!(e.contains("no snapshot named `nope`"), "{e}");
        assert!(snapshot_create(&p, "-x").is_err());
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

    #[test]
    fn relative_sizes() {
        assert_eq!(target_size(1 << 30, "+1G").unwrap(), 2 << 30);
        assert_eq!(target_size(2 << 30, "-1G").unwrap(), 1 << 30);
        assert_eq!(target_size(2 << 30, "256G").unwrap(), 256 << 30);
        assert!(target_size(1 << 30, "+x").is_err());
    }
}
