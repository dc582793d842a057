//! `fs::` — files and directories. Writes are atomic and keep the previous version.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(fs_api)
}

#[export_module]
mod fs_api {
    use crate::api::convert::path;
    use crate::error::{RhaiResult, rhai as r};

    /// Read a text file.
    ///
    /// ```rhai
    /// let text = fs::read("/etc/hostname");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read(ctx: NativeCallContext, file: &str) -> RhaiResult<String> {
        r(&ctx, crate::fs::read(&path(file)))
    }

    /// Write a text file atomically (temp file, fsync, rename). Over an existing file the
    /// previous version is kept for `helix undo`; the file's permissions are kept.
    ///
    /// ```rhai
    /// fs::write("/tmp/helix-demo.txt", "hello\n");
    /// ```
    #[rhai_fn(return_raw, name = "write")]
    pub fn write(ctx: NativeCallContext, file: &str, content: &str) -> RhaiResult<()> {
        r(&ctx, crate::fs::write(&path(file), content.as_bytes(), None))
    }

    /// Write a text file with a mode, e.g. `0o600`.
    ///
    /// ```rhai
    /// fs::write("/tmp/helix-secret.txt", "s3cret\n", 0o600);
    /// ```
    #[rhai_fn(return_raw, name = "write")]
    pub fn write_mode(
        ctx: NativeCallContext,
        file: &str,
        content: &str,
        mode: i64,
    ) -> RhaiResult<()> {
        r(&ctx, crate::fs::write(&path(file), content.as_bytes(), Some(mode as u32)))
    }

    /// Whether anything (file, directory, link) stands at the path.
    ///
    /// ```rhai
    /// if !fs::exists("/tmp/x") { print("missing"); }
    /// ```
    pub fn exists(file: &str) -> bool {
        crate::fs::exists(&path(file))
    }

    /// Whether the path is a directory.
    ///
    /// ```rhai
    /// let d = fs::is_dir("/tmp");
    /// ```
    pub fn is_dir(file: &str) -> bool {
        path(file).is_dir()
    }

    /// Whether the path is a regular file.
    ///
    /// ```rhai
    /// let f = fs::is_file("/etc/hostname");
    /// ```
    pub fn is_file(file: &str) -> bool {
        path(file).is_file()
    }

    /// Create a directory and its parents (`mkdir -p`).
    ///
    /// ```rhai
    /// fs::mkdir("/tmp/helix-demo/a/b");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mkdir(ctx: NativeCallContext, dir: &str) -> RhaiResult<()> {
        r(&ctx, crate::fs::mkdir(&path(dir)))
    }

    /// Copy a file; an existing destination's previous version is kept for undo.
    ///
    /// ```rhai
    /// fs::copy("/etc/hostname", "/tmp/hostname.copy");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn copy(ctx: NativeCallContext, from: &str, to: &str) -> RhaiResult<()> {
        r(&ctx, crate::fs::copy(&path(from), &path(to)))
    }

    /// Move (rename) a path. Never replaces an existing destination.
    ///
    /// ```rhai
    /// fs::move("/tmp/a.qcow2", "/tmp/a-old.qcow2");
    /// ```
    #[rhai_fn(return_raw, name = "move")]
    pub fn move_(ctx: NativeCallContext, from: &str, to: &str) -> RhaiResult<()> {
        r(&ctx, crate::fs::rename(&path(from), &path(to)))
    }

    /// Create a symbolic link at `link` pointing to `target`.
    ///
    /// ```rhai
    /// fs::symlink("/Volumes/Big/disk.qcow2", "/tmp/disk.qcow2");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn symlink(ctx: NativeCallContext, target: &str, link: &str) -> RhaiResult<()> {
        r(&ctx, crate::fs::symlink(&path(target), &path(link)))
    }

    /// Paths matching a glob pattern, sorted.
    ///
    /// ```rhai
    /// for p in fs::glob("/tmp/*.qcow2") { print(p); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn glob(ctx: NativeCallContext, pattern: &str) -> RhaiResult<rhai::Array> {
        r(&ctx, crate::fs::glob(&path(pattern).display().to_string()))
            .map(|v| v.into_iter().map(|p| Dynamic::from(p.display().to_string())).collect())
    }

    /// Copy a file to a new path the fastest safe way: a copy-on-write clone (clonefile on
    /// APFS, a reflink on Btrfs/XFS) when the filesystem can, else a full copy with a progress
    /// bar and its SHA-256. Refuses an existing destination. Returns `#{ method, sha256, bytes }`
    /// (`method` is `"clone"` or `"copy"`; `sha256` is `()` for a clone).
    ///
    /// ```rhai
    /// let c = fs::clone_file("/tmp/disk.qcow2", "/tmp/disk.backup.qcow2");
    /// print(`${c.method}: ${c.sha256}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clone_file(ctx: NativeCallContext, from: &str, to: &str) -> RhaiResult<rhai::Map> {
        let c = r(&ctx, crate::fs::clone_file(&path(from), &path(to)))?;
        let mut m = rhai::Map::new();
        m.insert("method".into(), Dynamic::from(c.method.to_string()));
        m.insert("sha256".into(), c.sha256.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
        m.insert("bytes".into(), Dynamic::from(c.bytes as i64));
        Ok(m)
    }

    /// SHA-256 of a file's bytes, as hex.
    ///
    /// ```rhai
    /// print(fs::sha256("/etc/hostname"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sha256(ctx: NativeCallContext, file: &str) -> RhaiResult<String> {
        r(&ctx, crate::fs::sha256_file(&path(file)))
    }

    /// Bytes used by a file, or by everything under a directory.
    ///
    /// ```rhai
    /// print(size::format(fs::size("/tmp")));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn size(ctx: NativeCallContext, file: &str) -> RhaiResult<i64> {
        r(&ctx, crate::fs::size(&path(file))).map(|n| n as i64)
    }

    /// Free bytes on the volume holding the path.
    ///
    /// ```rhai
    /// if fs::free_space("/tmp") < size::parse("10G") { ui::warn("low on space"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn free_space(ctx: NativeCallContext, file: &str) -> RhaiResult<i64> {
        r(&ctx, crate::fs::free_space(&path(file))).map(|n| n as i64)
    }

    /// Printable strings (4+ characters) in a file that contain `needle`, like
    /// `strings FILE | grep NEEDLE` — e.g. the version string inside a built binary.
    ///
    /// ```rhai
    /// let found = fs::strings("/bin/ls", "GLIBC");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn strings(ctx: NativeCallContext, file: &str, needle: &str) -> RhaiResult<rhai::Array> {
        r(&ctx, crate::fs::strings(&path(file), needle))
            .map(|v| v.into_iter().map(Dynamic::from).collect())
    }

    /// Delete a file, directory or symlink by moving it into the helix trash on the same
    /// filesystem (a rename: instant, recoverable with `helix trash restore`). Symlinks are
    /// trashed as links, never followed. Protected paths are refused. What this run created
    /// itself is deleted outright. Nothing there: nothing to do.
    ///
    /// ```rhai
    /// fs::remove("/tmp/helix-demo/old-build");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(ctx: NativeCallContext, file: &str) -> RhaiResult<()> {
        r(&ctx, crate::trash::remove(&path(file)))
    }

    /// Delete for good, without the trash. Always asks a person at the terminal first (typing
    /// the name for a directory or a file of 1 GiB or more) unless this run created the path;
    /// with no terminal it is refused. Prefer `fs::remove`.
    ///
    /// ```rhai
    /// fs::remove_permanently("/tmp/helix-demo/scratch.bin");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove_permanently(ctx: NativeCallContext, file: &str) -> RhaiResult<()> {
        r(&ctx, crate::trash::remove_permanently(&path(file)))
    }

    /// Everything in helix's trash, newest first: `[#{ id, original, trashed_at, size, kind,
    /// reason, run }]` (`reason` is `removed`, or `backup` for a version kept before an
    /// overwrite).
    ///
    /// ```rhai
    /// for item in fs::trash_list() { print(`${item.id} ${item.original}`); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn trash_list(ctx: NativeCallContext) -> RhaiResult<rhai::Array> {
        let items = crate::trash::list().map(|items| {
            items
                .iter()
                .map(|i| {
                    let mut m = rhai::Map::new();
                    m.insert("id".into(), i.id.clone().into());
                    m.insert("original".into(), i.original.display().to_string().into());
                    m.insert("trashed_at".into(), i.trashed_at.clone().into());
                    m.insert("size".into(), Dynamic::from(i.size as i64));
                    m.insert("kind".into(), i.kind.clone().into());
                    m.insert("reason".into(), i.reason.clone().into());
                    m.insert(
                        "run".into(),
                        i.run.clone().map(Dynamic::from).unwrap_or(Dynamic::UNIT),
                    );
                    Dynamic::from(m)
                })
                .collect()
        });
        r(&ctx, items)
    }

    /// Put a trash item back where it came from (by id, id prefix or original path); refuses
    /// when something stands there now. `helix undo` moves it back into the trash. Returns the
    /// path it was restored to.
    ///
    /// ```rhai
    /// let back = fs::restore_from_trash("/tmp/vm/disk.qcow2");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn restore_from_trash(ctx: NativeCallContext, item: &str) -> RhaiResult<String> {
        let res = crate::trash::find(item).and_then(|found| {
            crate::trash::restore(&found).map(|_| found.original.display().to_string())
        });
        r(&ctx, res)
    }
}
