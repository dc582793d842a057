//! `macho::` — read and fix Mach-O binaries natively: dependencies, install names, rpaths, and
//! the ad-hoc code signature (recomputed after every edit).

use rhai::plugin::*;

use crate::error::{Error, Result};

pub fn module() -> rhai::Module {
    exported_module!(macho_api)
}

fn to_map<T: serde::Serialize>(v: &T) -> Result<rhai::Map> {
    rhai::serde::to_dynamic(v)
        .map_err(|e| Error::Encode { what: "a Mach-O report".into(), message: e.to_string() })?
        .try_cast::<rhai::Map>()
        .ok_or_else(|| Error::Encode {
            what: "a Mach-O report".into(),
            message: "it is not a map".into(),
        })
}

fn edit_map(r: &crate::macho::EditReport) -> Result<rhai::Map> {
    to_map(r)
}

/// The edits of `macho::edit`'s option map.
/// One `install_name_tool`-style edit of `file`, as the map the Rhai functions return.
fn one_edit(file: &str, edit: crate::macho::Edit) -> Result<rhai::Map> {
    crate::macho::edit(&crate::api::convert::path(file), &[edit], None).and_then(|x| edit_map(&x))
}

/// `macho::edit`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EditOptions {
    #[serde(default)]
    change: std::collections::BTreeMap<String, String>,
    id: Option<String>,
    #[serde(default)]
    add_rpath: crate::api::options::OneOrMore,
    #[serde(default)]
    delete_rpath: crate::api::options::OneOrMore,
    #[serde(default)]
    rename_rpath: std::collections::BTreeMap<String, String>,
    identity: Option<String>,
}

/// `macho::rewrite_prefix`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RewriteOptions {
    id: Option<String>,
    identity: Option<String>,
}

fn edits_from(opts: &rhai::Map) -> Result<(Vec<crate::macho::Edit>, Option<String>)> {
    use crate::macho::Edit;
    let o: EditOptions = crate::api::options::decode(opts, "macho::edit")?;
    let mut edits = vec![];
    for (old, new) in o.change {
        edits.push(Edit::Change { old, new });
    }
    if let Some(name) = o.id {
        edits.push(Edit::Id { name });
    }
    for path in o.delete_rpath.0 {
        edits.push(Edit::DeleteRpath { path });
    }
    for (old, new) in o.rename_rpath {
        edits.push(Edit::RenameRpath { old, new });
    }
    for path in o.add_rpath.0 {
        edits.push(Edit::AddRpath { path });
    }
    Ok((edits, o.identity))
}

#[export_module]
mod macho_api {
    use crate::api::convert::path;
    use crate::error::{RhaiResult, rhai as r};
    use crate::macho::{self, Edit};

    /// What a Mach-O file holds: `file_type`, `archs`, `universal`, `id`, `dylibs` (each
    /// `#{name, kind, current_version, compatibility_version}`; kind is load, weak, reexport,
    /// lazy or upward), `rpaths`, `signed`, `linker_signed`, `header_free` (bytes the load
    /// commands may grow by), and `slices` with the same per architecture.
    ///
    /// ```rhai
    /// let i = macho::info("/tmp/libqemu-aarch64-softmmu.dylib");
    /// for d in i.dylibs { print(d.name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn info(ctx: NativeCallContext, file: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, macho::info(&path(file)).and_then(|i| super::to_map(&i)))
    }

    /// `install_name_tool -change OLD NEW` on every slice, then an ad-hoc signature is
    /// recomputed. Returns `#{changes, not_found, already, signature, modified}`; a name the
    /// binary does not use is a no-op listed in `not_found`, and `-change X X` (or any edit to
    /// what is already there) writes nothing and is listed in `already`.
    ///
    /// ```rhai
    /// macho::change("/tmp/libq.dylib", "/Users/u/pm/UTM/sysroot-macOS-arm64/lib/libz.1.dylib", "@rpath/libz.1.dylib");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn change(
        ctx: NativeCallContext,
        file: &str,
        old: &str,
        new: &str,
    ) -> RhaiResult<rhai::Map> {
        r(&ctx, super::one_edit(file, Edit::Change { old: old.into(), new: new.into() }))
    }

    /// `install_name_tool -id NAME`: set a dylib's install name (and re-sign).
    ///
    /// ```rhai
    /// macho::set_id("/tmp/libq.dylib", "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_id(ctx: NativeCallContext, file: &str, id: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, super::one_edit(file, Edit::Id { name: id.into() }))
    }

    /// `install_name_tool -add_rpath PATH`. Adding an rpath that is already there is an error.
    ///
    /// ```rhai
    /// macho::add_rpath("/tmp/libq.dylib", "@executable_path/../Frameworks");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_rpath(ctx: NativeCallContext, file: &str, rpath: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, super::one_edit(file, Edit::AddRpath { path: rpath.into() }))
    }

    /// `install_name_tool -delete_rpath PATH`. Deleting an rpath that is not there is an error.
    ///
    /// ```rhai
    /// macho::delete_rpath("/tmp/libq.dylib", "@executable_path/../Frameworks");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn delete_rpath(ctx: NativeCallContext, file: &str, rpath: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, super::one_edit(file, Edit::DeleteRpath { path: rpath.into() }))
    }

    /// `install_name_tool -rpath OLD NEW`: rename an rpath.
    ///
    /// ```rhai
    /// macho::rename_rpath("/tmp/libq.dylib", "/old/lib", "@loader_path/../lib");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rename_rpath(
        ctx: NativeCallContext,
        file: &str,
        old: &str,
        new: &str,
    ) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            macho::edit(
                &path(file),
                &[Edit::RenameRpath { old: old.into(), new: new.into() }],
                None,
            )
            .and_then(|x| super::edit_map(&x)),
        )
    }

    /// Many edits in one pass: `change` (map old: new), `id`, `add_rpath`, `delete_rpath`
    /// (string or array), `rename_rpath` (map), `identity` (re-sign an identity-signed binary
    /// with codesign on macOS).
    ///
    /// ```rhai
    /// macho::edit("/tmp/libq.dylib", #{ id: "@rpath/libq.dylib", add_rpath: ["@loader_path"] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn edit(ctx: NativeCallContext, file: &str, options: rhai::Map) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            super::edits_from(&options)
                .and_then(|(e, id)| macho::edit(&path(file), &e, id.as_deref()))
                .and_then(|x| super::edit_map(&x)),
        )
    }

    /// Rewrite every dependency under `prefix` in one pass, the legacy fixer's way:
    /// `lib<name>.dylib` becomes `@rpath/<name>.framework/Versions/A/<name>` when that framework
    /// is in `frameworks`, else `@rpath/lib<name>.dylib` when a loose dylib is there; others are
    /// returned in `unresolved` (and warned about). Returns `#{mapped, unresolved, report}`.
    ///
    /// ```rhai
    /// let r = macho::rewrite_prefix("/tmp/q", "/Users/u/pm/UTM/sysroot-macOS-arm64/lib", "/Applications/UTM.app/Contents/Frameworks");
    /// if r.unresolved.len() > 0 { throw `unresolved: ${r.unresolved}`; }
    /// ```
    #[rhai_fn(return_raw, name = "rewrite_prefix")]
    pub fn rewrite_prefix(
        ctx: NativeCallContext,
        file: &str,
        prefix: &str,
        frameworks: &str,
    ) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            macho::rewrite_prefix(&path(file), prefix, &path(frameworks), None, None)
                .and_then(|x| super::to_map(&x)),
        )
    }

    /// `rewrite_prefix` with options: `id` (set the install name in the same pass), `identity`.
    ///
    /// ```rhai
    /// macho::rewrite_prefix("/tmp/q", "/Users/u/pm/UTM/sysroot-macOS-arm64/lib", "/tmp/Frameworks",
    ///     #{ id: "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu" });
    /// ```
    #[rhai_fn(return_raw, name = "rewrite_prefix")]
    pub fn rewrite_prefix_with(
        ctx: NativeCallContext,
        file: &str,
        prefix: &str,
        frameworks: &str,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        let go = || {
            let o: super::RewriteOptions =
                crate::api::options::decode(&options, "macho::rewrite_prefix")?;
            let (id, identity) = (o.id, o.identity);
            macho::rewrite_prefix(
                &path(file),
                prefix,
                &path(frameworks),
                id.as_deref(),
                identity.as_deref(),
            )
            .and_then(|x| super::to_map(&x))
        };
        r(&ctx, go())
    }

    /// Sign ad-hoc from scratch (adds a signature to an unsigned binary, replaces any other);
    /// the identifier and linker-signed flag of an ad-hoc signature are kept.
    ///
    /// ```rhai
    /// macho::sign_adhoc("/tmp/libq.dylib");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sign_adhoc(ctx: NativeCallContext, file: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, macho::sign_adhoc(&path(file)).and_then(|x| super::to_map(&x)))
    }

    /// Check that every code-signature hash matches the file: `#{valid, slices}` (each slice
    /// with `signed`, `valid`, `bad_pages`, `problem`).
    ///
    /// ```rhai
    /// if !macho::verify("/tmp/libq.dylib").valid { throw "bad signature"; }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn verify(ctx: NativeCallContext, file: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, macho::verify(&path(file)).and_then(|x| super::to_map(&x)))
    }
}
