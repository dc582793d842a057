//! Mach-O: read a binary's dependencies, rpaths and signature; change install names and rpaths
//! in one pass over every slice (the semantics of `install_name_tool`); recompute an ad-hoc
//! signature after the edit; verify one. Natively, on any OS, with no Xcode.
//!
//! Files are replaced atomically through the guard with `fs::replace_file` (mode, owner and
//! extended attributes kept; `sudo install` + `sudo mv` for a file helix may not write), the
//! previous bytes kept for `helix undo`.

pub(crate) mod cli;
pub mod edit;
pub(crate) mod read;
pub(crate) mod sign;

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

pub use edit::{Edit, EditReport};
pub(crate) use sign::{Signature, SliceCheck};

use crate::error::{Error, Result};
use crate::guard::{self, Action};

/// One dependency of a slice (a `LC_*_DYLIB` load command).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dep {
    pub name: String,
    /// `load`, `weak`, `reexport`, `lazy` or `upward`.
    pub kind: String,
    pub current_version: String,
    pub compatibility_version: String,
}

/// What one architecture of a file holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceInfo {
    pub arch: String,
    pub cputype: u32,
    pub cpusubtype: u32,
    pub offset: usize,
    pub size: usize,
    pub file_type: String,
    pub id: Option<String>,
    pub id_current_version: Option<String>,
    pub id_compatibility_version: Option<String>,
    pub dylibs: Vec<Dep>,
    pub rpaths: Vec<String>,
    pub signed: bool,
    pub signature: Option<Signature>,
    /// Bytes the load commands may still grow by.
    pub header_free: usize,
    pub ncmds: usize,
    pub sizeofcmds: usize,
}

/// `macho::info`: the file as a whole (the first slice's view at the top, every slice below).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Info {
    pub path: String,
    pub universal: bool,
    pub archs: Vec<String>,
    pub file_type: String,
    pub id: Option<String>,
    pub dylibs: Vec<Dep>,
    pub rpaths: Vec<String>,
    pub signed: bool,
    pub linker_signed: bool,
    /// The smallest free header space of any slice.
    pub header_free: usize,
    pub slices: Vec<SliceInfo>,
}

fn bad(path: &Path, why: String) -> Error {
    Error::invalid("Mach-O file", path.display().to_string(), why)
}

fn cannot_edit(path: &Path, why: String) -> Error {
    Error::MachO { op: "edit", path: path.to_path_buf(), why }
}

/// Read one slice with goblin (load commands, header) and the bounds-checked reader (strings,
/// header room, signature).
fn slice_info(b: &[u8], offset: usize) -> read::R<SliceInfo> {
    let t = read::Thin::parse(b)?;
    let room = t.content_start(b)? - t.cmds_end();
    // goblin decodes each load command at the offsets the bounds-checked reader validated, in
    // the load-command bytes only. (Its whole-file `MachO::parse` also decodes symbols and the
    // entry point, and cargo-fuzz found an arithmetic overflow panic there.)
    use goblin::mach::load_command::{CommandVariant as V, LoadCommand};
    let cmds = &b[..t.cmds_end()];
    let mut dylibs = vec![];
    let mut rpaths = vec![];
    let mut id = None;
    for l in &t.cmds {
        let lc = LoadCommand::parse(cmds, &mut l.offset.clone(), goblin::container::Endian::Little)
            .map_err(|e| format!("goblin cannot parse load command 0x{:x}: {e}", l.cmd))?;
        let at = *l;
        match &lc.command {
            V::IdDylib(d) => {
                id = Some((
                    read::lc_string(b, at, 8)?,
                    d.dylib.current_version,
                    d.dylib.compatibility_version,
                ));
            }
            V::LoadDylib(d)
            | V::LoadWeakDylib(d)
            | V::ReexportDylib(d)
            | V::LazyLoadDylib(d)
            | V::LoadUpwardDylib(d) => {
                dylibs.push(Dep {
                    name: read::lc_string(b, at, 8)?,
                    kind: read::dylib_kind(d.cmd).unwrap_or("load").into(),
                    current_version: read::version(d.dylib.current_version),
                    compatibility_version: read::version(d.dylib.compatibility_version),
                });
            }
            V::Rpath(_) => rpaths.push(read::lc_string(b, at, 8)?),
            _ => {}
        }
    }
    let signature = sign::signature(b, &t)?;
    Ok(SliceInfo {
        arch: t.arch(),
        cputype: t.cputype,
        cpusubtype: t.cpusubtype,
        offset,
        size: b.len(),
        file_type: read::file_type_name(t.filetype).into(),
        id_current_version: id.as_ref().map(|i| read::version(i.1)),
        id_compatibility_version: id.as_ref().map(|i| read::version(i.2)),
        id: id.map(|i| i.0),
        dylibs,
        rpaths,
        signed: signature.is_some(),
        signature,
        header_free: room,
        ncmds: t.cmds.len(),
        sizeofcmds: t.sizeofcmds,
    })
}

/// Read every slice of `bytes`.
pub fn info_bytes(bytes: &[u8], path: &Path) -> read::R<Info> {
    let (universal, ranges) = read::slices(bytes)?;
    let mut slices = vec![];
    for r in &ranges {
        slices.push(slice_info(&bytes[r.offset..r.offset + r.size], r.offset)?);
    }
    let first = slices[0].clone();
    Ok(Info {
        path: path.display().to_string(),
        universal,
        archs: slices.iter().map(|s| s.arch.clone()).collect(),
        file_type: first.file_type,
        id: first.id,
        dylibs: first.dylibs,
        rpaths: first.rpaths,
        signed: slices.iter().all(|s| s.signed),
        linker_signed: slices.iter().all(|s| s.signature.as_ref().is_some_and(|g| g.linker_signed)),
        header_free: slices.iter().map(|s| s.header_free).min().unwrap_or(0),
        slices,
    })
}

/// `macho::info(path)`.
pub(crate) fn info(path: &Path) -> Result<Info> {
    let bytes = crate::fs::read_bytes(path)?;
    info_bytes(&bytes, path).map_err(|e| bad(path, e))
}

/// The `otool -L` view.
pub(crate) fn render_libraries(info: &Info) -> String {
    let mut out = String::new();
    for s in &info.slices {
        if info.universal {
            out.push_str(&format!("{} (architecture {}):\n", info.path, s.arch));
        } else {
            out.push_str(&format!("{}:\n", info.path));
        }
        if let Some(id) = &s.id {
            out.push_str(&format!(
                "\t{id} (compatibility version {}, current version {})\n",
                s.id_compatibility_version.as_deref().unwrap_or("0.0.0"),
                s.id_current_version.as_deref().unwrap_or("0.0.0")
            ));
        }
        for d in &s.dylibs {
            let kind = if d.kind == "load" { String::new() } else { format!(", {}", d.kind) };
            out.push_str(&format!(
                "\t{} (compatibility version {}, current version {}{kind})\n",
                d.name, d.compatibility_version, d.current_version
            ));
        }
        for r in &s.rpaths {
            out.push_str(&format!("\trpath {r}\n"));
        }
        let sig = match &s.signature {
            None => "none".to_string(),
            Some(g) => format!(
                "{}{} ({})",
                g.kind,
                if g.linker_signed { ", linker-signed" } else { "" },
                g.identifier
            ),
        };
        out.push_str(&format!("\tsignature: {sig}; header free: {} bytes\n", s.header_free));
    }
    out
}

/// Apply `edits` in one pass; re-sign what was ad-hoc signed. A no-op edit writes nothing.
/// `identity`: re-sign an identity-signed binary with `codesign` (macOS only).
pub(crate) fn edit(path: &Path, edits: &[Edit], identity: Option<&str>) -> Result<EditReport> {
    edit_read(path, crate::fs::read_bytes(path)?, edits, identity)
}

/// [`edit`] of bytes already read from `path`.
fn edit_read(
    path: &Path,
    bytes: Vec<u8>,
    edits: &[Edit],
    identity: Option<&str>,
) -> Result<EditReport> {
    let (new, mut report) = edit::edit_owned(bytes, edits).map_err(|e| cannot_edit(path, e))?;
    if !report.modified {
        // Nothing to write: no backup, no journal entry, no re-signing; the file is untouched.
        if !report.already.is_empty() {
            crate::ui::info(&format!(
                "`{}` is already as wanted ({}); left unchanged",
                path.display(),
                report.already.join(", ")
            ));
        }
        return Ok(report);
    }
    let detail = format!(
        "edit Mach-O `{}` ({} changed; signature: {})",
        path.display(),
        crate::count::count(report.changes.len() as u64, "load command"),
        report.signature
    );
    replace(path, &new, "macho.edit", detail, json!({ "path": path, "edits": edits }))?;
    if crate::run::current().dry_run {
        for c in &report.changes {
            crate::ui::plan_detail(c);
        }
    }
    if report.identity_signed {
        report.signature.push_str(&codesign(path, identity)?);
    }
    Ok(report)
}

/// Re-sign through `codesign` when on macOS with an identity; otherwise say what to do.
fn codesign(path: &Path, identity: Option<&str>) -> Result<String> {
    let identity = identity
        .map(str::to_string)
        .or_else(|| std::env::var("HELIX_CODESIGN_IDENTITY").ok().filter(|s| !s.is_empty()));
    match identity {
        Some(id) if cfg!(target_os = "macos") => {
            let p = path.display().to_string();
            crate::process::Cmd::new(&[
                "codesign",
                "--force",
                "--sign",
                &id,
                "--preserve-metadata=identifier,entitlements,flags,runtime",
                &p,
            ])
            .run()?;
            Ok(format!("; re-signed with codesign as `{id}`"))
        }
        Some(_) => Ok("; codesign is macOS-only: re-sign it there".into()),
        None => {
            Ok("; no signing identity configured (option `identity` or $HELIX_CODESIGN_IDENTITY)"
                .into())
        }
    }
}

/// How `rewrite_prefix` mapped the dependencies.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rewrite {
    /// `(old, new)` pairs.
    pub mapped: Vec<(String, String)>,
    /// Dependencies under the prefix with neither a framework nor a loose dylib in `frameworks`.
    pub unresolved: Vec<String>,
    pub report: EditReport,
}

/// The legacy dynamic fixer's mapping (`scripts/fix-qemu-paths.sh`): for each dependency under
/// `prefix` (or already in the old `@rpath/lib<name>.dylib` form), `lib<name>.dylib` becomes
/// `@rpath/<name>.framework/Versions/A/<name>` if that framework exists in `frameworks`, else
/// `@rpath/lib<name>.dylib` if a loose dylib exists there; otherwise it is unresolved.
pub(crate) fn plan_prefix(
    deps: &[String],
    prefix: &str,
    frameworks: &Path,
) -> (Vec<(String, String)>, Vec<String>) {
    let prefix = prefix.trim_end_matches('/');
    let mut mapped = vec![];
    let mut unresolved = vec![];
    let mut seen = std::collections::BTreeSet::new();
    for dep in deps {
        let under = dep.strip_prefix(prefix).is_some_and(|r| r.starts_with('/'));
        let old_form = dep
            .strip_prefix("@rpath/")
            .is_some_and(|b| !b.contains('/') && b.starts_with("lib") && b.ends_with(".dylib"));
        if !(under || old_form) || !seen.insert(dep.clone()) {
            continue;
        }
        let base = dep.rsplit('/').next().unwrap_or(dep);
        let name = base.strip_prefix("lib").unwrap_or(base);
        let name = name.strip_suffix(".dylib").unwrap_or(name);
        let framework = frameworks.join(format!("{name}.framework/Versions/A/{name}"));
        let to = if !name.is_empty() && framework.is_file() {
            format!("@rpath/{name}.framework/Versions/A/{name}")
        } else if frameworks.join(base).is_file() {
            format!("@rpath/{base}")
        } else {
            unresolved.push(dep.clone());
            continue;
        };
        if to != *dep {
            mapped.push((dep.clone(), to));
        }
    }
    (mapped, unresolved)
}

/// Rewrite every dependency under `prefix` in one pass (see [`plan_prefix`]), optionally set the
/// id, and re-sign. Unresolved dependencies are reported, not skipped silently.
pub fn rewrite_prefix(
    path: &Path,
    prefix: &str,
    frameworks: &Path,
    id: Option<&str>,
    identity: Option<&str>,
) -> Result<Rewrite> {
    let bytes = crate::fs::read_bytes(path)?;
    let info = info_bytes(&bytes, path).map_err(|e| bad(path, e))?;
    let mut deps: Vec<String> =
        info.slices.iter().flat_map(|s| s.dylibs.iter().map(|d| d.name.clone())).collect();
    deps.dedup();
    let (mapped, unresolved) = plan_prefix(&deps, prefix, frameworks);
    let mut edits: Vec<Edit> =
        mapped.iter().map(|(o, n)| Edit::Change { old: o.clone(), new: n.clone() }).collect();
    if let Some(id) = id
        && info.id.as_deref() != Some(id)
    {
        edits.push(Edit::Id { name: id.to_string() });
    }
    for u in &unresolved {
        crate::ui::warn(&format!(
            "`{u}`: no matching framework or dylib in `{}`; it will not load",
            frameworks.display()
        ));
    }
    let report = if edits.is_empty() {
        EditReport { signature: "unchanged".into(), ..Default::default() }
    } else {
        edit_read(path, bytes, &edits, identity)?
    };
    Ok(Rewrite { mapped, unresolved, report })
}

/// What `sign_adhoc` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SignReport {
    pub archs: Vec<String>,
    pub identifier: String,
    pub replaced: String,
    pub modified: bool,
}

/// Sign every slice ad-hoc from scratch (adding `LC_CODE_SIGNATURE` if needed; an identity
/// signature is replaced). Identifier and linker-signed flag of an ad-hoc signature are kept.
pub(crate) fn sign_adhoc(path: &Path) -> Result<SignReport> {
    let bytes = crate::fs::read_bytes(path)?;
    let before = info_bytes(&bytes, path).map_err(|e| bad(path, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "a.out".into());
    let new = edit::sign_bytes(&bytes, &name).map_err(|e| Error::MachO {
        op: "sign",
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    let replaced = match before.slices.iter().find_map(|s| s.signature.clone()) {
        None => "none".to_string(),
        Some(s) => format!("{}{}", s.kind, if s.linker_signed { " (linker-signed)" } else { "" }),
    };
    let after = info_bytes(&new, path).map_err(|e| bad(path, e))?;
    let identifier = after
        .slices
        .iter()
        .find_map(|s| s.signature.as_ref().map(|g| g.identifier.clone()))
        .unwrap_or_default();
    let modified = new != bytes;
    if modified {
        let detail = format!(
            "sign Mach-O `{}` ad-hoc ({}; identifier `{identifier}`; was: {replaced})",
            path.display(),
            after.archs.join(", ")
        );
        replace(path, &new, "macho.sign", detail, json!({ "path": path }))?;
    }
    Ok(SignReport { archs: after.archs, identifier, replaced, modified })
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// Every slice signed and every hash matching.
    pub valid: bool,
    pub slices: Vec<SliceCheck>,
}

/// Check that every code-signature hash matches the file.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let bytes = crate::fs::read_bytes(path)?;
    verify_bytes(&bytes).map_err(|e| bad(path, e))
}

pub fn verify_bytes(bytes: &[u8]) -> read::R<VerifyReport> {
    let slices = edit::verify_bytes(bytes)?;
    Ok(VerifyReport { valid: slices.iter().all(|s| s.valid), slices })
}

/// Replace `path` with `bytes` through the guard, keeping the previous bytes for undo.
fn replace(
    path: &Path,
    bytes: &[u8],
    kind: &'static str,
    detail: String,
    args: serde_json::Value,
) -> Result<()> {
    let backup = if crate::run::current().dry_run { None } else { Some(keep_previous(path)?) };
    let action = Action::new(kind, detail)
        .args(args)
        .undo(backup.map(|b| crate::undo::Undo::restore(b, path)))
        .touches(path, false);
    guard::act(action, || crate::fs::replace_file(path, bytes))
}

/// `trash::keep_previous`, but by hard link when the state dir is on the same filesystem: the
/// file is replaced by a rename, never written in place, so the old inode keeps the previous
/// bytes intact and a 40 MB library costs no copy. Falls back to the guard's copy.
#[allow(clippy::disallowed_methods)] // a backup link into helix's own state dir
fn keep_previous(path: &Path) -> Result<PathBuf> {
    let run = crate::run::current().run_id().unwrap_or_else(|| "no-run".into());
    let dir = crate::config::state_dir().join("backups").join(run);
    if std::fs::create_dir_all(&dir).is_ok() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        let n = std::fs::read_dir(&dir).map(|rd| rd.count()).unwrap_or(0);
        let dest = dir.join(format!("{n:04}-{name}"));
        if std::fs::hard_link(path, &dest).is_ok() {
            return Ok(dest);
        }
    }
    crate::trash::keep_previous(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_mapping_follows_the_legacy_fixer() {
        let d = tempfile::tempdir().unwrap();
        let fw = d.path();
        std::fs::create_dir_all(fw.join("pixman-1.0.framework/Versions/A")).unwrap();
        std::fs::write(fw.join("pixman-1.0.framework/Versions/A/pixman-1.0"), "x").unwrap();
        std::fs::write(fw.join("libusb-1.0.0.dylib"), "x").unwrap();
        std::fs::create_dir_all(fw.join("glib-2.0.0.framework/Versions/A")).unwrap();
        std::fs::write(fw.join("glib-2.0.0.framework/Versions/A/glib-2.0.0"), "x").unwrap();
        let p = "/Users/u/pm/UTM/sysroot-macOS-arm64/lib";
        let deps: Vec<String> = [
            format!("{p}/libpixman-1.0.dylib"),
            format!("{p}/libusb-1.0.0.dylib"),
            format!("{p}/libzstd.1.dylib"),
            "/usr/lib/libSystem.B.dylib".into(),
            "/opt/homebrew/lib/libgnutls.30.dylib".into(),
            "@rpath/libglib-2.0.0.dylib".into(),
            "@rpath/libusb-1.0.0.dylib".into(),
        ]
        .into();
        let (mapped, unresolved) = plan_prefix(&deps, &format!("{p}/"), fw);
        assert_eq!(
            mapped,
            vec![
                (
                    format!("{p}/libpixman-1.0.dylib"),
                    "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0".to_string()
                ),
                (format!("{p}/libusb-1.0.0.dylib"), "@rpath/libusb-1.0.0.dylib".to_string()),
                (
                    "@rpath/libglib-2.0.0.dylib".to_string(),
                    "@rpath/glib-2.0.0.framework/Versions/A/glib-2.0.0".to_string()
                ),
            ]
        );
        assert_eq!(unresolved, vec![format!("{p}/libzstd.1.dylib")]);
    }
}
