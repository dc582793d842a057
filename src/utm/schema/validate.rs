//! The validator: walks a configuration tree against the key tables (`keys.rs`), checks each
//! value (`rules.rs`) and what holds between keys (the architecture's target, CPU and devices,
//! UEFI, duplicate MACs), and returns every [`Finding`].

use plist::{Dictionary, Value};

use super::super::constants as c;
use super::Finding;
use super::keys::*;
use super::rules::*;

/// Validate a whole configuration tree against the schema. Never fails: every problem is a
/// [`Finding`]. A UTM 3 (version 2) file or an Apple-virtualization one is recognised and
/// reported as one finding, not checked against the version-4 schema.
pub(crate) fn validate(root: &Dictionary) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(f) = version_finding(root) {
        out.push(f);
        return out;
    }
    let arch = root
        .get("System")
        .and_then(|s| s.as_dictionary())
        .and_then(|s| s.get("Architecture"))
        .and_then(|a| a.as_string());
    let cx = Cx { arch, root };
    check_dict(&cx, root, TOP, "", &mut out);
    semantic(&cx, &mut out);
    out
}

/// Whether the file is a version-4 QEMU configuration; if not, the one finding saying what it
/// is instead (a UTM 3 file UTM migrates, an Apple-virtualization VM, a newer UTM's file).
pub(crate) fn version_finding(root: &Dictionary) -> Option<Finding> {
    let version = root.get("ConfigurationVersion");
    let backend = root.get("Backend").and_then(|v| v.as_string());
    let v = match version {
        None => None,
        Some(Value::Integer(i)) => i.as_signed(),
        Some(other) => {
            return Some(Finding::error(
                "bad-type",
                "ConfigurationVersion",
                format!(
                    "ConfigurationVersion is {} {}, not an integer; UTM refuses to load it",
                    article(kind_of(other)),
                    kind_of(other)
                ),
            ));
        }
    };
    if backend.is_none() && v.is_some_and(|v| v > LEGACY_VERSION) {
        // UTM takes a file without Backend for a UTM 3 one, whose migration refuses versions
        // above 2 (UTMLegacyQemuConfiguration.m): UTM cannot load it.
        return Some(Finding::error(
            "missing-key",
            "Backend",
            "`Backend` is missing; UTM takes a file without it for a UTM 3 configuration, which this is not (its ConfigurationVersion is above 2), and fails to load it — it must be `QEMU`",
        ));
    }
    if backend.is_none() {
        // UTMConfiguration.load: no Backend → a legacy file, migrated by UTM 4+ on open.
        if root.get("isAppleVirtualization").and_then(|v| v.as_boolean()) == Some(true) {
            return Some(Finding::error(
                "legacy-config",
                "ConfigurationVersion",
                "this is an Apple-virtualization VM in UTM 3's format; helix handles QEMU VMs only",
            ));
        }
        return Some(Finding::error(
            "legacy-config",
            "ConfigurationVersion",
            format!(
                "this is a UTM 3 configuration (ConfigurationVersion {}, no Backend key): UTM 4 and 5 migrate it to version {VERSION} when they open the bundle, and helix reads version {VERSION} only — open it once in UTM (which rewrites config.plist and moves Images/ to Data/), then run helix again",
                v.map(|v| v.to_string()).unwrap_or_else(|| "missing".into())
            ),
        ));
    }
    match backend {
        Some("QEMU") => {}
        Some("Apple") => {
            return Some(Finding::error(
                "backend",
                "Backend",
                "this is an Apple-virtualization VM (Backend `Apple`); helix handles QEMU VMs only",
            ));
        }
        Some(other) => {
            return Some(Finding::error(
                "bad-value",
                "Backend",
                format!(
                    "Backend `{other}` is not one UTM knows; {}",
                    expected(other, &["QEMU", "Apple"])
                ),
            ));
        }
        None => unreachable!("handled above"),
    }
    match v {
        Some(VERSION) => None,
        Some(n) if n < VERSION => Some(Finding::error(
            "version",
            "ConfigurationVersion",
            format!(
                "ConfigurationVersion is {n}, helix reads version {VERSION} only, and so do UTM 4 and 5 (\"This configuration is too old and is not supported\")"
            ),
        )),
        Some(n) => Some(Finding::error(
            "version",
            "ConfigurationVersion",
            format!(
                "ConfigurationVersion is {n}, helix reads version {VERSION}: it was written by a newer UTM than helix knows; update helix"
            ),
        )),
        None => Some(Finding::error(
            "missing-key",
            "ConfigurationVersion",
            format!(
                "the QEMU configuration has no ConfigurationVersion; UTM refuses it (it must be {VERSION})"
            ),
        )),
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

struct Cx<'a> {
    arch: Option<&'a str>,
    root: &'a Dictionary,
}

fn check_dict(cx: &Cx, d: &Dictionary, keys: &[Key], prefix: &str, out: &mut Vec<Finding>) {
    for k in keys {
        let path = join(prefix, k.name);
        match d.get(k.name) {
            None if k.required => out.push(Finding::error(
                "missing-key",
                &path,
                format!("`{path}` is missing; UTM requires it and refuses to load the file"),
            )),
            None => {}
            Some(v) => check_value(cx, v, k.ty, &path, out),
        }
    }
    for name in d.keys() {
        if !keys.iter().any(|k| k.name == name) {
            let path = join(prefix, name);
            out.push(Finding::warning(
                "unknown-key",
                &path,
                format!("UTM does not know `{path}`: it ignores it and drops it the next time it saves the VM"),
            ));
        }
    }
}

fn bad_type(path: &str, want: &str, v: &Value) -> Finding {
    let got = kind_of(v);
    Finding::error(
        "bad-type",
        path,
        format!(
            "`{path}` is {} {got}; UTM requires {want} there and refuses to load the file",
            article(got)
        ),
    )
}

fn check_value(cx: &Cx, v: &Value, ty: Ty, path: &str, out: &mut Vec<Finding>) {
    let s = v.as_string();
    let need_str = |out: &mut Vec<Finding>| {
        if s.is_none() {
            out.push(bad_type(path, "a string", v));
        }
        s
    };
    match ty {
        Ty::Str => {
            need_str(out);
        }
        Ty::Int => {
            if v.as_signed_integer().is_none() {
                out.push(bad_type(path, "an integer", v));
            }
        }
        Ty::Bool => {
            if v.as_boolean().is_none() {
                out.push(bad_type(path, "a boolean (<true/> or <false/>)", v));
            }
        }
        Ty::Port => match v.as_signed_integer() {
            None => out.push(bad_type(path, "an integer port", v)),
            Some(p) if !(1..=65535).contains(&p) => out.push(Finding::error(
                "bad-value",
                path,
                format!("`{path}` is {p}; a port is 1 to 65535 (QEMU refuses the forward)"),
            )),
            Some(_) => {}
        },
        Ty::Strings => match v.as_array() {
            None => out.push(bad_type(path, "an array of strings", v)),
            Some(a) => {
                for (i, x) in a.iter().enumerate() {
                    if x.as_string().is_none() {
                        out.push(bad_type(&format!("{path}[{i}]"), "a string", x));
                    }
                }
            }
        },
        Ty::Uuid => {
            if let Some(u) = need_str(out)
                && !is_uuid(u)
            {
                out.push(Finding::error(
                    "bad-uuid",
                    path,
                    format!("`{path}` is `{u}`, not a UUID (8-4-4-4-12 hex digits); UTM refuses to load the file"),
                ));
            }
        }
        Ty::Mac => {
            if let Some(m) = need_str(out)
                && let Some((sev, why)) = mac_problem(m)
            {
                out.push(Finding {
                    severity: sev,
                    kind: "bad-mac",
                    path: path.into(),
                    message: format!("`{path}` is `{m}`: {why}"),
                });
            }
        }
        Ty::Enum(allowed) => {
            if let Some(x) = need_str(out)
                && !allowed.contains(&x)
            {
                out.push(Finding::error(
                    "bad-value",
                    path,
                    format!("`{path}` is `{x}`, which UTM refuses to load (\"An invalid value of '{x}' is used in the configuration file\"); {}", expected(x, allowed)),
                ));
            }
        }
        Ty::Arch => {
            if let Some(x) = need_str(out)
                && !c::ARCHITECTURES.contains(&x)
            {
                out.push(Finding::error(
                    "bad-value",
                    path,
                    format!(
                        "`{path}` is `{x}`, not an architecture UTM knows; {}",
                        expected(x, c::ARCHITECTURES)
                    ),
                ));
            }
        }
        Ty::Target => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(targets) {
                    Some(t) if !t.contains(&x) => out.push(Finding::error(
                        "bad-value",
                        path,
                        format!(
                            "`{path}` is `{x}`, which is not one of {}'s machine targets, so UTM refuses to load the file; {}",
                            cx.arch.unwrap_or_default(),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Cpu => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(cpus) {
                    Some(t) if !t.contains(&x) => out.push(Finding::warning(
                        "bad-value",
                        path,
                        format!(
                            "`{path}` is `{x}`, not one of {}'s CPUs: UTM loads the VM with the `default` CPU instead; {}",
                            cx.arch.unwrap_or_default(),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Device(d) => {
            if let Some(x) = need_str(out) {
                match cx.arch.and_then(|a| devices(a, d)) {
                    Some(t) if !t.contains(&x) => out.push(Finding::warning(
                        "unknown-device",
                        path,
                        format!(
                            "`{path}` is `{x}`, not one of {}'s {}s in UTM's QEMU: UTM loads it but QEMU refuses to start the VM unless your build adds it; {}",
                            cx.arch.unwrap_or_default(),
                            device_word(d),
                            expected(x, t)
                        ),
                    )),
                    Some(_) => {}
                    None => unknown_arch(cx, path, out),
                }
            }
        }
        Ty::Icon => {
            let custom = cx
                .root
                .get("Information")
                .and_then(|i| i.as_dictionary())
                .and_then(|i| i.get("IconCustom"))
                .and_then(|v| v.as_boolean())
                .unwrap_or(false);
            if let Some(x) = need_str(out)
                && !custom
                && !c::ICONS.contains(&x)
            {
                out.push(Finding::warning(
                    "unknown-icon",
                    path,
                    format!(
                        "`{path}` is `{x}`, not one of UTM's built-in icons: UTM shows no icon; {}",
                        expected(x, c::ICONS)
                    ),
                ));
            }
        }
        Ty::Dict(keys) => match v.as_dictionary() {
            Some(d) => check_dict(cx, d, keys, path, out),
            None => out.push(bad_type(path, "a dictionary", v)),
        },
        Ty::Array(keys) => check_array(cx, v, keys, None, path, out),
        Ty::ArrayEither(keys, old) => check_array(cx, v, keys, Some(old), path, out),
    }
}

fn check_array(
    cx: &Cx,
    v: &Value,
    keys: &[Key],
    old: Option<&[Key]>,
    path: &str,
    out: &mut Vec<Finding>,
) {
    let Some(a) = v.as_array() else {
        out.push(bad_type(path, "an array", v));
        return;
    };
    for (i, item) in a.iter().enumerate() {
        let p = format!("{path}[{i}]");
        match item.as_dictionary() {
            None => out.push(bad_type(&p, "a dictionary", item)),
            Some(d) => {
                // Old spelling: used when the first key of the new one is absent and the old one there.
                let keys = match old {
                    Some(o) if !d.contains_key(keys[0].name) && d.contains_key(o[0].name) => o,
                    _ => keys,
                };
                check_dict(cx, d, keys, &p, out)
            }
        }
    }
}

fn unknown_arch(cx: &Cx, path: &str, out: &mut Vec<Finding>) {
    if let Some(a) = cx.arch
        && c::ARCHITECTURES.contains(&a)
    {
        out.push(Finding::warning(
            "unchecked",
            path,
            format!("helix has no table of {a}'s targets, CPUs and devices (only {}), so `{path}` is not checked", KNOWN_ARCHITECTURES.join(" and ")),
        ));
    }
}

/// Rules across keys.
fn semantic(cx: &Cx, out: &mut Vec<Finding>) {
    let get = |sec: &str, key: &str| {
        cx.root.get(sec).and_then(|s| s.as_dictionary()).and_then(|s| s.get(key))
    };
    if get("QEMU", "UEFIBoot").and_then(|v| v.as_boolean()) == Some(true)
        && let Some(a) = cx.arch
        && c::ARCHITECTURES.contains(&a)
        && !UEFI_ARCHITECTURES.contains(&a)
    {
        out.push(Finding::error(
            "bad-value",
            "QEMU.UEFIBoot",
            format!("UEFI boot is on, but UTM has no UEFI firmware for {a} (\"UEFI is not supported with this architecture\"); it fails when it saves the VM"),
        ));
    }
    if let Some(n) = get("System", "MemorySize").and_then(|v| v.as_signed_integer())
        && n <= 0
    {
        out.push(Finding::error(
            "bad-value",
            "System.MemorySize",
            format!("`System.MemorySize` is {n} MiB; QEMU needs more than 0"),
        ));
    }
    if let Some(n) = get("System", "CPUCount").and_then(|v| v.as_signed_integer())
        && n < 0
    {
        out.push(Finding::error(
            "bad-value",
            "System.CPUCount",
            format!("`System.CPUCount` is {n}; it is 0 (as many as the host has) or more"),
        ));
    }
    if get("Information", "IconCustom").and_then(|v| v.as_boolean()) == Some(true)
        && get("Information", "Icon").is_none()
    {
        out.push(Finding::error(
            "missing-key",
            "Information.Icon",
            "`Information.IconCustom` is true but `Information.Icon` (the icon's file in Data/) is missing; UTM refuses to load the file",
        ));
    }
}
