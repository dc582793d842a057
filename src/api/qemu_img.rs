//! `qemu_img::` — disk images through the real `qemu-img`. Overwriting, shrinking, reverting to
//! a snapshot and deleting one are guarded: a person confirms them unless this run made the disk.

use rhai::plugin::*;

use serde::Deserialize;

use crate::api::options::decode;
use crate::error::Result;
use crate::qemu_img::{self, ConvertOptions, CreateOptions, Info, Snapshot};

/// The snapshot that keeps the current state before reverting to `name`.
pub fn module() -> rhai::Module {
    exported_module!(qemu_img_api)
}

fn snapshot_map(s: &Snapshot) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("id".into(), s.id.clone().into());
    m.insert("name".into(), s.name.clone().into());
    m.insert("date".into(), (s.date).into());
    m.insert("vm_state_size".into(), (s.vm_state_size as i64).into());
    m
}

fn info_map(i: &Info) -> rhai::Map {
    let mut m = rhai::Map::new();
    let opt = |o: &Option<String>| o.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT);
    m.insert("filename".into(), i.filename.clone().into());
    m.insert("format".into(), i.format.clone().into());
    m.insert("virtual_size".into(), (i.virtual_size as i64).into());
    m.insert("virtual_size_text".into(), crate::size::format(i.virtual_size).into());
    m.insert("actual_size".into(), (i.actual_size as i64).into());
    m.insert("backing_file".into(), opt(&i.backing_file));
    m.insert("backing_format".into(), opt(&i.backing_format));
    m.insert(
        "snapshots".into(),
        i.snapshots.iter().map(|s| Dynamic::from(snapshot_map(s))).collect::<rhai::Array>().into(),
    );
    m.insert("dirty".into(), i.dirty.into());
    m.insert("corrupt".into(), i.corrupt.into());
    m
}

fn create_opts(o: &rhai::Map) -> Result<CreateOptions> {
    let mut o: CreateOptions = decode(o, "qemu_img::create")?;
    o.backing = o.backing.map(|b| crate::api::convert::path(&b.to_string_lossy()));
    Ok(o)
}

/// `qemu_img::snapshot_apply`'s map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyOptions {
    /// Keep the current state as a snapshot first (default true).
    save_current: Option<bool>,
}

#[export_module]
mod qemu_img_api {
    use super::*;
    use crate::api::convert::path;
    use crate::error::{RhaiResult, rhai as r};

    /// Facts about an image: `#{ format, virtual_size, virtual_size_text, actual_size,
    /// backing_file, backing_format, snapshots, dirty, corrupt }`. Works while a VM uses it.
    ///
    /// ```rhai
    /// let i = qemu_img::info("/tmp/disk.qcow2");
    /// print(`${i.format}, ${i.virtual_size_text}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn info(ctx: NativeCallContext, image: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, qemu_img::info(&path(image)).map(|i| info_map(&i)))
    }

    /// Create a qcow2 image of `size` (`"256G"`). Over an existing file it is a guarded overwrite.
    ///
    /// ```rhai
    /// qemu_img::create("/tmp/zfs-data.qcow2", "128G");
    /// ```
    #[rhai_fn(return_raw, name = "create")]
    pub fn create(ctx: NativeCallContext, image: &str, size: &str) -> RhaiResult<()> {
        r(&ctx, qemu_img::create(&path(image), Some(size), &CreateOptions::default()))
    }

    /// Create an image with options: `format` (`qcow2`, `raw`), `backing` (a thin overlay on
    /// that file; `size` may then be `()`), `backing_format`, `preallocation`.
    ///
    /// ```rhai
    /// qemu_img::create("/tmp/overlay.qcow2", (), #{ backing: "/tmp/base.qcow2" });
    /// ```
    #[rhai_fn(return_raw, name = "create")]
    pub fn create_with(
        ctx: NativeCallContext,
        image: &str,
        size: Dynamic,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        let size = if size.is_unit() { None } else { Some(size.to_string()) };
        r(
            &ctx,
            create_opts(&options).and_then(|o| qemu_img::create(&path(image), size.as_deref(), &o)),
        )
    }

    /// Resize to `size` (`"256G"`, or relative `"+64G"`); returns the new size in bytes.
    /// Growing is safe; shrinking cuts off data and is guarded. The guest's partition and
    /// filesystem still need growing (`growpart`, `resize2fs`).
    ///
    /// ```rhai
    /// qemu_img::resize("/tmp/disk.qcow2", "+10G");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn resize(ctx: NativeCallContext, image: &str, size: &str) -> RhaiResult<i64> {
        r(&ctx, qemu_img::resize(&path(image), size).map(|n| n as i64))
    }

    /// The image's internal snapshots: `[#{ id, name, date, vm_state_size }]`.
    ///
    /// ```rhai
    /// for s in qemu_img::snapshot_list("/tmp/disk.qcow2") { print(s.name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn snapshot_list(ctx: NativeCallContext, image: &str) -> RhaiResult<rhai::Array> {
        r(
            &ctx,
            qemu_img::snapshot_list(&path(image))
                .map(|l| l.iter().map(|s| Dynamic::from(snapshot_map(s))).collect()),
        )
    }

    /// Take an internal snapshot (stop the VM first).
    ///
    /// ```rhai
    /// qemu_img::snapshot_create("/tmp/disk.qcow2", "before-upgrade");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn snapshot_create(ctx: NativeCallContext, image: &str, name: &str) -> RhaiResult<()> {
        r(&ctx, qemu_img::snapshot_create(&path(image), name))
    }

    /// Take a snapshot that marks the state before a change: `helix undo` of this run reverts
    /// the disk to it (keeping the state it has then as another snapshot, so nothing is lost).
    /// Stop the VM first.
    ///
    /// ```rhai
    /// qemu_img::checkpoint("/tmp/disk.qcow2", "before-repair");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn checkpoint(ctx: NativeCallContext, image: &str, name: &str) -> RhaiResult<()> {
        r(&ctx, qemu_img::checkpoint(&path(image), name))
    }

    /// Revert to snapshot `name`, first saving the current state as snapshot
    /// `before-<name>-<unix time>` (so nothing is lost); returns that name.
    ///
    /// ```rhai
    /// let saved = qemu_img::snapshot_apply("/tmp/disk.qcow2", "before-upgrade");
    /// ```
    #[rhai_fn(return_raw, name = "snapshot_apply")]
    pub fn snapshot_apply(ctx: NativeCallContext, image: &str, name: &str) -> RhaiResult<String> {
        let keep = qemu_img::kept_state_name(name);
        r(&ctx, qemu_img::snapshot_apply(&path(image), name, Some(&keep)))
    }

    /// Revert to snapshot `name` with options: `save_current: false` throws the current state
    /// away (guarded: a person must confirm).
    ///
    /// ```rhai
    /// qemu_img::snapshot_apply("/tmp/disk.qcow2", "before-upgrade", #{ save_current: false });
    /// ```
    #[rhai_fn(return_raw, name = "snapshot_apply")]
    pub fn snapshot_apply_with(
        ctx: NativeCallContext,
        image: &str,
        name: &str,
        options: rhai::Map,
    ) -> RhaiResult<String> {
        let res = decode::<ApplyOptions>(&options, "qemu_img::snapshot_apply").and_then(|o| {
            let keep = qemu_img::kept_state_name(name);
            let save = o.save_current.unwrap_or(true);
            qemu_img::snapshot_apply(&path(image), name, save.then_some(keep.as_str()))
        });
        r(&ctx, res)
    }

    /// Delete snapshot `name` (guarded: what it kept is gone).
    ///
    /// ```rhai
    /// qemu_img::snapshot_delete("/tmp/disk.qcow2", "before-upgrade");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn snapshot_delete(ctx: NativeCallContext, image: &str, name: &str) -> RhaiResult<()> {
        r(&ctx, qemu_img::snapshot_delete(&path(image), name))
    }

    /// Convert an image with a progress bar; options `format` (default qcow2), `compress`. The
    /// result appears at `dest` only when complete; an existing `dest` is a guarded overwrite.
    ///
    /// ```rhai
    /// qemu_img::convert("/tmp/disk.raw", "/tmp/disk.qcow2", #{ compress: true });
    /// ```
    #[rhai_fn(return_raw, name = "convert")]
    pub fn convert_with(
        ctx: NativeCallContext,
        src: &str,
        dest: &str,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        let res = decode::<ConvertOptions>(&options, "qemu_img::convert")
            .and_then(|o| qemu_img::convert(&path(src), &path(dest), &o));
        r(&ctx, res)
    }

    /// Convert an image to qcow2 with a progress bar.
    ///
    /// ```rhai
    /// qemu_img::convert("/tmp/disk.raw", "/tmp/disk.qcow2");
    /// ```
    #[rhai_fn(return_raw, name = "convert")]
    pub fn convert_plain(ctx: NativeCallContext, src: &str, dest: &str) -> RhaiResult<()> {
        r(&ctx, qemu_img::convert(&path(src), &path(dest), &ConvertOptions::default()))
    }

    /// Check consistency: `#{ ok, supported, corruptions, leaks, check_errors }`.
    ///
    /// ```rhai
    /// if !qemu_img::check("/tmp/disk.qcow2").ok { ui::warn("the disk needs repair"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn check(ctx: NativeCallContext, image: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, qemu_img::check(&path(image))).map(|c| {
            let mut m = rhai::Map::new();
            m.insert("ok".into(), c.ok().into());
            m.insert("supported".into(), c.supported.into());
            m.insert("corruptions".into(), (c.corruptions as i64).into());
            m.insert("leaks".into(), (c.leaks as i64).into());
            m.insert("check_errors".into(), (c.check_errors as i64).into());
            m
        })
    }
}
