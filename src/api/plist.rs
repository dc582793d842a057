//! `plist::` — read and edit property lists (XML and binary). Dictionaries are maps, arrays
//! arrays, data blobs, dates `PlistDate` values (ISO-8601 text), integers and reals stay apart.
//! Edits are atomic, keep the file's format and key order, and keep the previous version.

use rhai::plugin::*;

use crate::error::Result;
use crate::plist::script::{self, PlistBigInt, PlistDate, PlistUid};

pub fn module() -> rhai::Module {
    exported_module!(plist_api)
}

fn segs(key_path: &str) -> Result<Vec<crate::plist::Seg>> {
    crate::plist::path::parse(key_path)
}

fn to_map(root: &plist::Dictionary) -> Dynamic {
    Dynamic::from_map(script::dict_to_map(root))
}

fn dict(doc: &rhai::Map, template: Option<&plist::Dictionary>) -> Result<plist::Dictionary> {
    script::map_to_dict(doc, template, "")
}

/// The `plist::edit` document `doc` is a copy of, if any. The run keeps the documents of the
/// `plist::edit` calls running now ([`crate::run::Run::editing`]), innermost last. Rhai hands a
/// shared value to a namespaced function as a copy, so `plist::set(doc, …)` inside the closure
/// would change a copy and be lost; `set`/`remove` apply the change to the edit's document as
/// well when the map they were given is (a copy of) it.
fn editing(ctx: &NativeCallContext, doc: &rhai::Map) -> Option<Dynamic> {
    let current = crate::run::of(ctx).editing.lock().unwrap().last().cloned()?;
    let same =
        current.read_lock::<rhai::Map>().is_some_and(|m| format!("{:?}", *m) == format!("{doc:?}"));
    same.then_some(current)
}

/// Run the recipe's closure on the document: it may change `doc` in place or return a new map.
fn edit_with(
    ctx: &NativeCallContext,
    file: &std::path::Path,
    f: &rhai::FnPtr,
) -> std::result::Result<rhai::Array, Box<rhai::EvalAltResult>> {
    let old = crate::error::rhai(ctx, crate::plist::read(file))?;
    let shared = Dynamic::from_map(script::dict_to_map(&old.root)).into_shared();
    let run = crate::run::of(ctx);
    run.editing.lock().unwrap().push(shared.clone());
    let returned: std::result::Result<Dynamic, _> = f.call_within_context(ctx, (shared.clone(),));
    run.editing.lock().unwrap().pop();
    let returned = returned?;
    let doc: rhai::Map = if returned.is_map() {
        returned.cast::<rhai::Map>()
    } else {
        shared.flatten_clone().cast::<rhai::Map>()
    };
    let new = crate::error::rhai(ctx, dict(&doc, Some(&old.root)))?;
    let changes = crate::error::rhai(ctx, crate::plist::write_changes(file, &old, &new))?;
    Ok(changes.into_iter().map(|c| Dynamic::from(c.to_string())).collect())
}

#[export_module]
mod plist_api {
    use crate::api::convert::path;
    use crate::error::{RhaiResult, rhai as r};

    pub type Date = PlistDate;
    pub type BigInt = PlistBigInt;
    pub type Uid = PlistUid;

    /// A keyed-archive uid.
    ///
    /// ```rhai
    /// let u = plist::uid(7);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn uid(ctx: NativeCallContext, n: i64) -> RhaiResult<Uid> {
        if n < 0 {
            return r(
                &ctx,
                Err(crate::error::Error::invalid("uid", n.to_string(), "it cannot be negative")),
            );
        }
        Ok(PlistUid(n as u64))
    }

    /// A uid prints as `uid(n)`.
    ///
    /// ```rhai
    /// print(plist::uid(7));
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn uid_to_string(u: &mut Uid) -> String {
        format!("uid({})", u.0)
    }

    /// A uid in debug output.
    ///
    /// ```rhai
    /// debug(plist::uid(7));
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn uid_to_debug(u: &mut Uid) -> String {
        format!("uid({})", u.0)
    }

    /// Two uids are equal when their numbers are.
    ///
    /// ```rhai
    /// let same = plist::uid(7) == plist::uid(7);
    /// ```
    #[rhai_fn(global, name = "==", pure)]
    pub fn uid_eq(a: &mut Uid, b: Uid) -> bool {
        *a == b
    }

    /// An integer above `i64::MAX` prints as its number.
    ///
    /// ```rhai
    /// let big = plist::parse("<plist><dict><key>n</key><integer>18446744073709551615</integer></dict></plist>").n;
    /// print(big);
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn big_to_string(n: &mut BigInt) -> String {
        n.0.to_string()
    }

    /// An integer above `i64::MAX` in debug output.
    ///
    /// ```rhai
    /// debug(plist::parse("<plist><dict><key>n</key><integer>18446744073709551615</integer></dict></plist>").n);
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn big_to_debug(n: &mut BigInt) -> String {
        n.0.to_string()
    }

    /// Read a plist file (XML or binary) whose root is a dictionary, as a map.
    ///
    /// ```rhai
    /// let cfg = plist::read("/tmp/vm.utm/config.plist");
    /// print(cfg.Information.Name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read(ctx: NativeCallContext, file: &str) -> RhaiResult<Dynamic> {
        r(&ctx, crate::plist::read(&path(file))).map(|d| to_map(&d.root))
    }

    /// Parse plist text (XML) into a map.
    ///
    /// ```rhai
    /// let m = plist::parse("<plist version=\"1.0\"><dict><key>a</key><integer>1</integer></dict></plist>");
    /// ```
    #[rhai_fn(return_raw, name = "parse")]
    pub fn parse_text(ctx: NativeCallContext, text: &str) -> RhaiResult<Dynamic> {
        r(&ctx, crate::plist::parse(text.as_bytes(), "(text)")).map(|d| to_map(&d.root))
    }

    /// Parse plist bytes (XML or binary) into a map.
    ///
    /// ```rhai
    /// let m = plist::parse(plist::to_binary(#{ a: 1 }));
    /// ```
    #[rhai_fn(return_raw, name = "parse")]
    pub fn parse_blob(ctx: NativeCallContext, bytes: rhai::Blob) -> RhaiResult<Dynamic> {
        r(&ctx, crate::plist::parse(&bytes, "(bytes)")).map(|d| to_map(&d.root))
    }

    /// A map as XML plist text (keys sorted, as Apple's encoders write them).
    ///
    /// ```rhai
    /// print(plist::to_xml(#{ Name: "vm", CPUCount: 4 }));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_xml(ctx: NativeCallContext, doc: rhai::Map) -> RhaiResult<String> {
        let bytes = r(
            &ctx,
            dict(&doc, None).and_then(|d| crate::plist::to_bytes(&d, crate::plist::Format::Xml)),
        )?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// A map as binary plist bytes.
    ///
    /// ```rhai
    /// let b = plist::to_binary(#{ a: 1 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_binary(ctx: NativeCallContext, doc: rhai::Map) -> RhaiResult<rhai::Blob> {
        r(
            &ctx,
            dict(&doc, None).and_then(|d| crate::plist::to_bytes(&d, crate::plist::Format::Binary)),
        )
    }

    /// `"xml"` or `"binary"`: how a plist file is encoded.
    ///
    /// ```rhai
    /// let f = plist::format("/tmp/prefs.plist");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn format(ctx: NativeCallContext, file: &str) -> RhaiResult<String> {
        r(&ctx, crate::plist::read(&path(file))).map(|d| d.format.name().to_string())
    }

    /// Write a map as a plist file, atomically. Over an existing plist its format and key order
    /// are kept and the previous version is kept for undo; a new file is XML, mode 0644. A
    /// symbolic link is followed: the file it points at is written and the link stays. Maps
    /// and arrays nested more than 256 deep are refused.
    ///
    /// ```rhai
    /// plist::write("/tmp/helix-demo.plist", #{ Name: "demo", Count: 1 });
    /// ```
    #[rhai_fn(return_raw, name = "write")]
    pub fn write(ctx: NativeCallContext, file: &str, doc: rhai::Map) -> RhaiResult<rhai::Array> {
        let p = path(file);
        let template =
            if crate::fs::exists(&p) { Some(r(&ctx, crate::plist::read(&p))?.root) } else { None };
        let d = r(&ctx, dict(&doc, template.as_ref()))?;
        r(&ctx, crate::plist::write(&p, &d, None))
            .map(|c| c.into_iter().map(|c| Dynamic::from(c.to_string())).collect())
    }

    /// Write a map as a plist file in the given format, `"xml"` or `"binary"`.
    ///
    /// ```rhai
    /// plist::write("/tmp/helix-demo.bplist", #{ Name: "demo" }, "binary");
    /// ```
    #[rhai_fn(return_raw, name = "write")]
    pub fn write_format(
        ctx: NativeCallContext,
        file: &str,
        doc: rhai::Map,
        format: &str,
    ) -> RhaiResult<rhai::Array> {
        let p = path(file);
        let fmt = r(&ctx, crate::plist::Format::parse(format))?;
        let template =
            if crate::fs::exists(&p) { Some(r(&ctx, crate::plist::read(&p))?.root) } else { None };
        let d = r(&ctx, dict(&doc, template.as_ref()))?;
        r(&ctx, crate::plist::write(&p, &d, Some(fmt)))
            .map(|c| c.into_iter().map(|c| Dynamic::from(c.to_string())).collect())
    }

    /// Edit a plist file: the closure gets the document as a map and changes it in place (or
    /// returns a new map). Only if something changed is the file written — atomically, in its
    /// own format (XML stays XML, binary stays binary), keys in their order, the previous
    /// version kept for `helix undo`. A symbolic link is followed (the link stays a link); a
    /// file nested more than 256 levels deep is refused as damaged. Under `--dry-run` the
    /// changed keys are printed. Returns the changes as lines (`~ QEMU.DebugLog: false → true`).
    ///
    /// ```rhai
    /// plist::edit("/tmp/vm.utm/config.plist", |doc| {
    ///     doc.QEMU.DebugLog = true;
    ///     doc.set_path("Drive[0].ReadOnly", false);
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn edit(ctx: NativeCallContext, file: &str, f: rhai::FnPtr) -> RhaiResult<rhai::Array> {
        edit_with(&ctx, &path(file), &f)
    }

    /// The value at a key path (`QEMU.AdditionalArguments`, `Drive[0].ImageName`,
    /// `Registry["…"].Name`, `Drive[-1]`), or `()` when it is not there.
    ///
    /// ```rhai
    /// let args = plist::get(plist::read("/tmp/vm.utm/config.plist"), "QEMU.AdditionalArguments");
    /// ```
    #[rhai_fn(return_raw, name = "get")]
    pub fn get(ctx: NativeCallContext, doc: rhai::Map, key_path: &str) -> RhaiResult<Dynamic> {
        let s = r(&ctx, segs(key_path))?;
        Ok(script::get(&doc, &s).unwrap_or(Dynamic::UNIT))
    }

    /// The value at a key path, or `default` when it is not there.
    ///
    /// ```rhai
    /// let cpus = plist::get(#{}, "System.CPUCount", 4);
    /// ```
    #[rhai_fn(return_raw, name = "get")]
    pub fn get_or(
        ctx: NativeCallContext,
        doc: rhai::Map,
        key_path: &str,
        default: Dynamic,
    ) -> RhaiResult<Dynamic> {
        let s = r(&ctx, segs(key_path))?;
        Ok(script::get(&doc, &s).unwrap_or(default))
    }

    /// Whether a key path exists.
    ///
    /// ```rhai
    /// if plist::has(#{ QEMU: #{} }, "QEMU.DebugLog") { print("set"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn has(ctx: NativeCallContext, doc: rhai::Map, key_path: &str) -> RhaiResult<bool> {
        let s = r(&ctx, segs(key_path))?;
        Ok(script::get(&doc, &s).is_some())
    }

    /// Set the value at a key path in a map (changes the variable). Missing dictionaries on
    /// the way are created; index `len` appends to an array. Inside a `plist::edit` closure it
    /// changes the document being edited, like the method form `doc.set_path(…)`.
    ///
    /// ```rhai
    /// let doc = #{};
    /// plist::set(doc, "QEMU.DebugLog", true);
    /// plist::set(doc, "QEMU.AdditionalArguments", []);
    /// plist::set(doc, "QEMU.AdditionalArguments[0]", "-global");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set(
        ctx: NativeCallContext,
        doc: &mut rhai::Map,
        key_path: &str,
        value: Dynamic,
    ) -> RhaiResult<()> {
        let s = r(&ctx, segs(key_path))?;
        // Refuse what a plist cannot hold now, not later at write time.
        r(&ctx, script::from_dynamic(&value, None, key_path).map(|_| ()))?;
        if let Some(mut edited) = editing(&ctx, doc)
            && let Some(mut m) = edited.write_lock::<rhai::Map>()
        {
            r(&ctx, script::set(&mut m, &s, value.clone(), key_path))?;
        }
        r(&ctx, script::set(doc, &s, value, key_path))
    }

    /// Remove the value at a key path (changes the variable); returns it, or `()`.
    ///
    /// ```rhai
    /// let doc = #{ a: #{ b: 1 } };
    /// plist::remove(doc, "a.b");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remove(
        ctx: NativeCallContext,
        doc: &mut rhai::Map,
        key_path: &str,
    ) -> RhaiResult<Dynamic> {
        let s = r(&ctx, segs(key_path))?;
        if let Some(mut edited) = editing(&ctx, doc)
            && let Some(mut m) = edited.write_lock::<rhai::Map>()
        {
            script::remove(&mut m, &s);
        }
        Ok(script::remove(doc, &s).unwrap_or(Dynamic::UNIT))
    }

    /// Set a key path as a method: `doc.set_path("System.CPUCount", 8)` (inside a `plist::edit`
    /// closure too).
    ///
    /// ```rhai
    /// let doc = #{};
    /// doc.set_path("QEMU.DebugLog", true);
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn set_path(
        ctx: NativeCallContext,
        doc: &mut rhai::Map,
        key_path: &str,
        value: Dynamic,
    ) -> RhaiResult<()> {
        set(ctx, doc, key_path, value)
    }

    /// Remove a key path as a method (see `set_path`); returns the removed value or `()`.
    ///
    /// ```rhai
    /// let doc = #{ a: #{ b: 1 } };
    /// doc.remove_path("a.b");
    /// ```
    #[rhai_fn(global, return_raw)]
    pub fn remove_path(
        ctx: NativeCallContext,
        doc: &mut rhai::Map,
        key_path: &str,
    ) -> RhaiResult<Dynamic> {
        remove(ctx, doc, key_path)
    }

    /// The value at a key path as a method, or `()`.
    ///
    /// ```rhai
    /// let doc = #{ a: [1, 2] };
    /// let last = doc.get_path("a[-1]");
    /// ```
    #[rhai_fn(global, return_raw, pure)]
    pub fn get_path(
        ctx: NativeCallContext,
        doc: &mut rhai::Map,
        key_path: &str,
    ) -> RhaiResult<Dynamic> {
        let s = r(&ctx, segs(key_path))?;
        Ok(script::get(doc, &s).unwrap_or(Dynamic::UNIT))
    }

    /// A plist date from ISO-8601 text.
    ///
    /// ```rhai
    /// let d = plist::date("2026-02-09T10:00:00Z");
    /// print(d.iso);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn date(ctx: NativeCallContext, iso: &str) -> RhaiResult<Date> {
        r(&ctx, PlistDate::parse(iso))
    }

    /// Whether a value is a plist date.
    ///
    /// ```rhai
    /// let d = plist::is_date(plist::date("2026-02-09T10:00:00Z"));
    /// ```
    pub fn is_date(value: Dynamic) -> bool {
        value.is::<PlistDate>()
    }

    /// A date's ISO-8601 text.
    ///
    /// ```rhai
    /// let s = plist::date("2026-02-09T10:00:00Z").iso;
    /// ```
    #[rhai_fn(global, get = "iso", pure)]
    pub fn iso(d: &mut Date) -> String {
        d.iso()
    }

    /// A date prints as its ISO-8601 text.
    ///
    /// ```rhai
    /// print(plist::date("2026-02-09T10:00:00Z"));
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn date_to_string(d: &mut Date) -> String {
        d.iso()
    }

    /// A date shows as `date(…)` in debug output.
    ///
    /// ```rhai
    /// debug(plist::date("2026-02-09T10:00:00Z"));
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn date_to_debug(d: &mut Date) -> String {
        format!("date({})", d.iso())
    }

    /// Two dates are equal when they are the same instant.
    ///
    /// ```rhai
    /// let same = plist::date("2026-02-09T10:00:00Z") == plist::date("2026-02-09T10:00:00Z");
    /// ```
    #[rhai_fn(global, name = "==", pure)]
    pub fn date_eq(a: &mut Date, b: Date) -> bool {
        *a == b
    }

    /// Dates differ when they are different instants.
    ///
    /// ```rhai
    /// let differ = plist::date("2026-02-09T10:00:00Z") != plist::date("2026-02-10T10:00:00Z");
    /// ```
    #[rhai_fn(global, name = "!=", pure)]
    pub fn date_ne(a: &mut Date, b: Date) -> bool {
        *a != b
    }
}
