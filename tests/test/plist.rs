//! Property lists: round trips checked against Python's plistlib (an independent
//! implementation), format and key order kept, idempotent edits, dry-run diffs, bad input.

use std::path::Path;

use crate::support::builder::Test;
use crate::support::redact::shown;

/// Python helpers: `gen_config`, `gen_registry` write fixtures; `dump` prints a file's tree as
/// JSON with every value tagged by its plist type (dict key order kept).
pub const PY: &str = r#"
import datetime, json, plistlib, sys

def norm(v):
    if isinstance(v, bool): return ["bool", v]
    if isinstance(v, int): return ["int", v]
    if isinstance(v, float): return ["real", v]
    if isinstance(v, str): return ["str", v]
    if isinstance(v, (bytes, bytearray)): return ["data", bytes(v).hex()]
    if isinstance(v, datetime.datetime): return ["date", v.replace(tzinfo=None).isoformat()]
    if isinstance(v, plistlib.UID): return ["uid", v.data]
    if isinstance(v, list): return ["array", [norm(x) for x in v]]
    if isinstance(v, dict): return ["dict", [[k, norm(x)] for k, x in v.items()]]
    raise SystemExit("unexpected type %r" % type(v))

ARGS = ["-S"]

def utm_config():
    # A UTM 5 config.plist (keys as UTM writes them), plus values of every plist type.
    return {
        "Backend": "QEMU",
        "ConfigurationVersion": 4,
        "Display": [{"DownscalingFilter": "Linear", "DynamicResolution": True, "Hardware": "virtio-gpu-gl-pci",
                     "NativeResolution": False, "UpscalingFilter": "Nearest"}],
        "Drive": [{"Identifier": "D999E038-76E9-4C81-BCF1-80A6F2E157CF", "ImageName": "D999E038-76E9-4C81-BCF1-80A6F2E157CF.qcow2",
                   "ImageType": "Disk", "Interface": "VirtIO", "InterfaceVersion": 1, "ReadOnly": False},
                  {"Identifier": "0C5A7E1E-0000-4000-8000-000000000001", "ImageType": "CD", "Interface": "USB",
                   "InterfaceVersion": 1, "ReadOnly": True}],
        "Information": {"Icon": "linux", "IconCustom": False, "Name": "new-dev-vm", "Notes": "Ünïcödé & <xml> \"quotes\"",
                        "UUID": "17DC4F96-F1A9-4B51-962B-03D85998E0E7"},
        "Input": {"MaximumUsbShare": 3, "UsbBusSupport": "3.0", "UsbSharing": False},
        "Network": [{"Hardware": "virtio-net-pci", "IsolateFromHost": False, "MacAddress": "52:42:AB:CD:EF:01", "Mode": "Emulated",
                     "PortForward": [{"GuestAddress": "10.0.2.15", "GuestPort": 22, "HostAddress": "127.0.0.1", "HostPort": 2222, "Protocol": "TCP"}]}],
        "QEMU": {"AdditionalArguments": list(ARGS), "BalloonDevice": False, "DebugLog": False, "Hypervisor": True,
                 "PS2Controller": False, "RNGDevice": True, "RTCLocalTime": False, "TPMDevice": False, "TSO": False, "UEFIBoot": True},
        "Serial": [],
        "Sharing": {"ClipboardSharing": True, "DirectoryShareMode": "None", "DirectoryShareReadOnly": False},
        "Sound": [{"Hardware": "intel-hda"}],
        "System": {"Architecture": "aarch64", "CPU": "default", "CPUCount": 20, "CPUFlagsAdd": [], "CPUFlagsRemove": [],
                   "ForceMulticore": False, "JITCacheSize": 0, "MemorySize": 61440, "Target": "virt"},
        "Extra": {"real": 1.0, "half": 0.5, "neg": -42, "big": 2**63 + 5, "data": bytes(range(40)),
                  "date": datetime.datetime(2026, 2, 9, 10, 0, 0), "empty": {}, "zz": "last", "aa": "first"},
    }

def registry():
    # UTM's preferences (UserDefaults): binary, written in cfprefsd's own order (not sorted).
    uuid = "17DC4F96-F1A9-4B51-962B-03D85998E0E7"
    other = "0DADCFD5-C147-4870-9C0F-925F33B5D405"
    entry = lambda name, path: {
        "Name": name, "UUID": uuid if name == "new-dev-vm" else other,
        "Package": {"Path": path, "Bookmark": b"book\x00mark" * 20, "ReadOnly": False},
        "Suspended": False, "ExternalDrives": {}, "SharedDirectories": [],
        "WindowSettings": {"0": {"IsKeyShortcutsEnabled": True}}, "ResolutionSettings": {}, "MigratedConfig": True}
    return {
        "VMEntryList": [uuid, other],
        "SULastCheckTime": datetime.datetime(2026, 1, 31, 23, 59, 58),
        "NSWindow Frame main": "0 0 800 600 0 0 1512 944",
        "Registry": {uuid: entry("new-dev-vm", sys.argv[3] if len(sys.argv) > 3 else "/Volumes/Big/Linux-broken.utm"),
                     other: entry("Helix Desktop", "/nonexistent/helix-desktop.utm")},
        "KeyedUID": plistlib.UID(7),
    }

cmd = sys.argv[1]
if cmd == "gen_config":
    d = utm_config()
    d["QEMU"]["AdditionalArguments"] = list(ARGS)
    with open(sys.argv[2], "wb") as f: plistlib.dump(d, f, fmt=plistlib.FMT_XML, sort_keys=True)
elif cmd == "gen_config_binary":
    with open(sys.argv[2], "wb") as f: plistlib.dump(utm_config(), f, fmt=plistlib.FMT_BINARY, sort_keys=False)
elif cmd == "gen_registry":
    with open(sys.argv[2], "wb") as f: plistlib.dump(registry(), f, fmt=plistlib.FMT_BINARY, sort_keys=False)
elif cmd == "gen_list_root":
    with open(sys.argv[2], "wb") as f: plistlib.dump([1, 2], f, fmt=plistlib.FMT_XML)
elif cmd == "dump":
    with open(sys.argv[2], "rb") as f: print(json.dumps(norm(plistlib.load(f))))
else:
    raise SystemExit("unknown command " + cmd)
"#;

/// Run the Python helper.
pub fn py(dir: &Path, args: &[&str]) -> String {
    let script = dir.join("plisthelper.py");
    if !script.exists() {
        std::fs::write(&script, PY).unwrap();
    }
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A file's tree as plistlib sees it (ordered, type-tagged).
pub fn tree(dir: &Path, file: &Path) -> serde_json::Value {
    serde_json::from_str(&py(dir, &["dump", file.to_str().unwrap()])).unwrap()
}

/// Order-insensitive form of a tagged tree (dict entries sorted by key).
pub fn unordered(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    match v {
        Value::Array(a) if a.len() == 2 && a[0] == "dict" => {
            let mut pairs: Vec<(String, Value)> = a[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().to_string(), unordered(&p[1])))
                .collect();
            pairs.sort_by(|x, y| x.0.cmp(&y.0));
            json!(["dict", pairs.into_iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()])
        }
        Value::Array(a) if a.len() == 2 && a[0] == "array" => {
            json!(["array", a[1].as_array().unwrap().iter().map(unordered).collect::<Vec<_>>()])
        }
        other => other.clone(),
    }
}

/// The tagged dict's entry `key` (top level).
pub fn entry<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    v[1].as_array().unwrap().iter().find(|p| p[0] == key).map(|p| &p[1])
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    v[1].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap().to_string()).collect()
}

#[test]
fn read_write_round_trips_equal_plistlib_and_keep_format_and_order() {
    let t = Test::new().recipe(
        "rt",
        r#"//! Round trips.
plist::edit("config.plist", |doc| { doc.Touched = true; });
plist::edit("config.bplist", |doc| { doc.Touched = true; });
plist::edit("registry.plist", |doc| { doc.Touched = true; });
plist::write("copy.plist", plist::read("orig-config.plist"));
plist::write("copy.bplist", plist::read("orig-registry.plist"), "binary");
print(plist::format("registry.plist"));
"#,
    );
    let d = t.dir.path();
    py(d, &["gen_config", d.join("config.plist").to_str().unwrap()]);
    py(d, &["gen_config_binary", d.join("config.bplist").to_str().unwrap()]);
    py(d, &["gen_registry", d.join("registry.plist").to_str().unwrap()]);
    for f in ["config.plist", "config.bplist", "registry.plist"] {
        std::fs::copy(d.join(f), d.join(format!("orig-{f}"))).unwrap();
    }
    t.helix(["run", "rt"]).success().stdout_has("binary");

    for (f, binary) in [("config.plist", false), ("config.bplist", true), ("registry.plist", true)]
    {
        let bytes = std::fs::read(d.join(f)).unwrap();
        assert_eq!(bytes.starts_with(b"bplist00"), binary, "{f} changed format");
        let before = tree(d, &d.join(format!("orig-{f}")));
        let after = tree(d, &d.join(f));
        // Every value and type as before, in the same order; the one new key where it sorts
        // (sorted dicts) or at the end (unsorted ones).
        let mut want = before.clone();
        let pairs = want[1].as_array_mut().unwrap();
        let sorted = keys(&before).windows(2).all(|w| w[0] <= w[1]);
        let pos = if sorted {
            pairs.iter().position(|p| p[0].as_str().unwrap() > "Touched").unwrap_or(pairs.len())
        } else {
            pairs.len()
        };
        pairs.insert(pos, serde_json::json!(["Touched", ["bool", true]]));
        assert_eq!(after, want, "{f}: the tree changed beyond the one edit");
    }
    // Read into Rhai values and written to a new file: equal as plistlib parses it.
    for (copy, orig, binary) in
        [("copy.plist", "orig-config.plist", false), ("copy.bplist", "orig-registry.plist", true)]
    {
        assert_eq!(std::fs::read(d.join(copy)).unwrap().starts_with(b"bplist00"), binary);
        assert_eq!(
            unordered(&tree(d, &d.join(copy))),
            unordered(&tree(d, &d.join(orig))),
            "{copy}"
        );
    }
    // Types are kept apart: 1.0 stays real, 2^63+5 stays an integer, data and dates stay.
    let after = tree(d, &d.join("config.plist"));
    let extra = entry(&after, "Extra").unwrap();
    assert_eq!(entry(extra, "real").unwrap(), &serde_json::json!(["real", 1.0]));
    assert_eq!(entry(extra, "big").unwrap(), &serde_json::json!(["int", 9223372036854775813u64]));
    assert_eq!(entry(extra, "date").unwrap(), &serde_json::json!(["date", "2026-02-09T10:00:00"]));
    assert_eq!(entry(extra, "data").unwrap()[0], "data");
    let reg = tree(d, &d.join("registry.plist"));
    assert_eq!(entry(&reg, "KeyedUID").unwrap(), &serde_json::json!(["uid", 7]));
}

#[test]
fn adding_arguments_twice_leaves_one_copy_and_every_other_key_alone() {
    let t = Test::new().recipe(
        "args",
        r#"//! Adds the multi-scanout arguments.
let changes = utm::configure("vm.utm", #{
    debug_log: true,
    add_arguments: ["-global", "virtio-gpu-gl-pci.edid=on", "-global", "virtio-gpu-gl-pci.xres=5120",
                    "-global", "virtio-gpu-gl-pci.yres=2880", "-global", "virtio-gpu-gl-pci.max_outputs=16",
                    "-serial", "file:/tmp/qemu-serial.log"],
});
print(`changes: ${changes.len()}`);
"#,
    );
    let d = t.dir.path();
    std::fs::create_dir_all(d.join("vm.utm/Data")).unwrap();
    let cfg = d.join("vm.utm/config.plist");
    py(d, &["gen_config", cfg.to_str().unwrap()]);
    let before = tree(d, &cfg);
    let out = t.helix(["run", "args"]);
    out.success();
    let mut all = shown("run args", &out, d);
    let once = std::fs::read(&cfg).unwrap();
    // The second run: no change, and it says what it left unchanged.
    let out = t.helix(["run", "args"]);
    out.success();
    all.push_str(&shown("run args", &out, d));
    insta::assert_snapshot!("arguments_twice", all);
    assert_eq!(std::fs::read(&cfg).unwrap(), once, "the second run must not write");
    let after = tree(d, &cfg);
    let qemu = entry(&after, "QEMU").unwrap();
    let args: Vec<&str> = entry(qemu, "AdditionalArguments").unwrap()[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a[1].as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "-S",
            "-global virtio-gpu-gl-pci.edid=on",
            "-global virtio-gpu-gl-pci.xres=5120",
            "-global virtio-gpu-gl-pci.yres=2880",
            "-global virtio-gpu-gl-pci.max_outputs=16",
            "-serial file:/tmp/qemu-serial.log"
        ],
        "new groups are one row each, as UTM's settings page stores them"
    );
    // Everything else: exactly as before, in the same order.
    let strip = |mut v: serde_json::Value| {
        for p in v[1].as_array_mut().unwrap() {
            if p[0] == "QEMU" {
                for q in p[1][1].as_array_mut().unwrap() {
                    if q[0] == "AdditionalArguments" || q[0] == "DebugLog" {
                        q[1] = serde_json::Value::Null;
                    }
                }
            }
        }
        v
    };
    assert_eq!(strip(after.clone()), strip(before));
    assert_eq!(entry(qemu, "DebugLog").unwrap(), &serde_json::json!(["bool", true]));
}

#[test]
fn edit_dry_run_prints_the_diff_and_changes_nothing_and_a_real_edit_is_undoable() {
    let t = Test::new().recipe(
        "e",
        r#"//! Edit.
plist::edit("c.plist", |doc| {
    doc.QEMU.DebugLog = true;
    doc.set_path("System.CPUCount", 8);
    doc.remove_path("Information.Notes");
    doc.set_path("QEMU.AdditionalArguments[1]", "-nodefaults");
});
"#,
    );
    let d = t.dir.path();
    let c = d.join("c.plist");
    py(d, &["gen_config", c.to_str().unwrap()]);
    let original = std::fs::read(&c).unwrap();
    let out = t.helix(["run", "e", "--dry-run"]);
    out.success();
    // The plan whole: `would edit <file> (4 keys changed: …)` and one line per key; the last
    // line counts that edit as the one change planned (the key lines are its details).
    insta::assert_snapshot!("edit_dry_run", shown("run e --dry-run", &out, d));
    assert_eq!(std::fs::read(&c).unwrap(), original, "dry-run wrote the file");

    t.helix(["run", "e"]).success();
    assert_ne!(std::fs::read(&c).unwrap(), original);
    // The journal has the undo record, and the kept copy is the original.
    let runs = std::fs::read_dir(d.join("state/runs")).unwrap().flatten().map(|e| e.path());
    let mut found = false;
    for r in runs {
        for line in std::fs::read_to_string(&r).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v.to_string().contains("plist.edit") && !v.to_string().contains("dry-run") {
                let undo = v.get("undo").unwrap_or(&serde_json::Value::Null);
                let kept = undo["restore"].as_str().expect("an undo record with restore");
                assert_eq!(std::fs::read(kept).unwrap(), original);
                assert!(undo["to"].as_str().unwrap().ends_with("c.plist"));
                found = true;
            }
        }
    }
    assert!(found, "no plist.edit journal entry");
}

#[test]
fn bad_plists_are_clear_errors_and_stay_untouched() {
    let t = Test::new()
        .recipe("read", "//! R.\n//! @param file File (required)\nplist::read(args.file);\n")
        .recipe("edit", "//! E.\n//! @param file File (required)\nplist::edit(args.file, |doc| { doc.X = 1; });\n");
    let d = t.dir.path();
    let good = d.join("good.plist");
    py(d, &["gen_config", good.to_str().unwrap()]);
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(d.join("cut.plist"), &bytes[..bytes.len() / 2]).unwrap();
    py(d, &["gen_registry", d.join("reg.plist").to_str().unwrap()]);
    let bin = std::fs::read(d.join("reg.plist")).unwrap();
    std::fs::write(d.join("cut.bplist"), &bin[..bin.len() - 40]).unwrap();
    py(d, &["gen_list_root", d.join("list.plist").to_str().unwrap()]);
    // Each error whole: the file, what is wrong with it (not valid xml, not valid binary, an
    // array at the root), the recipe's line.
    let mut all = String::new();
    for file in ["cut.plist", "cut.bplist", "list.plist"] {
        let before = std::fs::read(d.join(file)).unwrap();
        for r in ["read", "edit"] {
            let out = t.helix(["run", r, "--file", file]);
            out.code(1);
            all.push_str(&shown(&format!("run {r} --file {file}"), &out, d));
        }
        assert_eq!(std::fs::read(d.join(file)).unwrap(), before, "{file} was touched");
    }
    // A value a plist cannot hold (`Nothing` is `()`) is refused before anything is written,
    // pointing at plist::remove.
    let t2 = Test::new()
        .recipe("unit", "//! U.\nplist::edit(\"good.plist\", |doc| { doc.Nothing = (); });\n");
    std::fs::copy(&good, t2.path("good.plist")).unwrap();
    let out = t2.helix(["run", "unit"]);
    out.code(1);
    all.push_str(&shown("run unit", &out, t2.dir.path()));
    insta::assert_snapshot!("bad_plists", python_offsets(&all));
    assert_eq!(std::fs::read(t2.path("good.plist")).unwrap(), bytes);
}

#[test]
fn key_paths_get_set_remove_from_recipes() {
    let t = Test::new().recipe(
            "kp",
            r#"//! Key paths.
let doc = #{ Drive: [#{ ImageName: "a.qcow2" }], QEMU: #{ AdditionalArguments: ["-S"] } };
print(plist::get(doc, "Drive[0].ImageName"));
print(plist::get(doc, "QEMU.AdditionalArguments[-1]"));
print(plist::get(doc, "Nope.Deeper", "fallback"));
plist::set(doc, "Drive[1].ImageName", "b.qcow2");
print(plist::get(doc, "Drive[1].ImageName"));
plist::remove(doc, "Drive[0]");
print(plist::get(doc, "Drive[0].ImageName"));
print(plist::has(doc, "QEMU.AdditionalArguments"));
let d = plist::parse(plist::to_binary(#{ when: plist::date("2026-02-09T10:00:00Z"), n: 1, r: 1.0 }));
print(`${d.when} ${type_of(d.n)} ${type_of(d.r)} ${plist::is_date(d.when)}`);
plist::set(doc, "Drive[7]", 1);
"#,
    );
    let out = t.helix(["run", "kp"]);
    out.code(1);
    // What each get printed, then `index 7 is out of range` at recipes/kp.rhai:13.
    insta::assert_snapshot!("key_paths", shown("run kp", &out, t.dir.path()));
}

/// `text` with the byte offsets of damage (`at byte 2030`) made `at byte <n>`: in a file
/// Python's plistlib wrote and the test cut, they follow Python's layout, not helix.
fn python_offsets(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("at byte ") {
        let (head, tail) = rest.split_at(at + "at byte ".len());
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        out.push_str(head);
        out.push_str(if digits > 0 { "<n>" } else { "" });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// A binary plist `{a: [[[…]]]}` nested `depth` arrays deep, written by hand (Python's
/// plistlib recurses and cannot write one): object refs of 2 bytes, offsets of 4.
fn deep_binary(depth: usize) -> Vec<u8> {
    let n = depth + 2; // dict, key, arrays
    let mut out = b"bplist00".to_vec();
    let mut offsets = vec![];
    offsets.push(out.len());
    out.extend([0xD1, 0, 1, 0, 2]); // {obj1: obj2}
    offsets.push(out.len());
    out.extend([0x51, b'a']);
    for i in 0..depth {
        offsets.push(out.len());
        if i + 1 < depth {
            let next = (i + 3) as u16;
            out.push(0xA1);
            out.extend(next.to_be_bytes());
        } else {
            out.push(0xA0);
        }
    }
    let table = out.len();
    for o in &offsets {
        out.extend((*o as u32).to_be_bytes());
    }
    out.extend([0u8; 6]);
    out.extend([4, 2]);
    out.extend((n as u64).to_be_bytes());
    out.extend(0u64.to_be_bytes());
    out.extend((table as u64).to_be_bytes());
    out
}

#[test]
fn a_20000_deep_plist_is_an_error_not_a_crash_xml_binary_and_rhai() {
    let t = Test::new()
        .recipe("read", "//! R.\n//! @param f F (required)\nplist::read(args.f);\n")
        .recipe("edit", "//! E.\n//! @param f F (required)\nplist::edit(args.f, |d| { d.x = 1; });\n")
        .recipe(
            "mapdeep",
            "//! M.\nlet m = #{};\nfor i in 0..1000 { m = #{ a: m }; }\nplist::write(\"deep.plist\", m);\n",
        );
    let d = t.dir.path();
    let n = 20_000;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>a</key>{}{}</dict></plist>\n",
        "<array>".repeat(n),
        "</array>".repeat(n)
    );
    std::fs::write(d.join("deep.xml.plist"), &xml).unwrap();
    std::fs::write(d.join("deep.bin.plist"), deep_binary(n)).unwrap();
    // The hand-written binary writer is right: a shallow one parses.
    std::fs::write(d.join("shallow.bin.plist"), deep_binary(3)).unwrap();
    t.helix(["run", "read", "--f", "shallow.bin.plist"]).success();
    // Every refusal whole: `nest more than 256 levels deep` at the recipe's line 3.
    let mut all = String::new();
    for f in ["deep.xml.plist", "deep.bin.plist"] {
        let before = std::fs::read(d.join(f)).unwrap();
        for r in ["read", "edit"] {
            let out = t.helix(["run", r, "--f", f]);
            out.code(1);
            all.push_str(&shown(&format!("run {r} --f {f}"), &out, d));
        }
        assert_eq!(std::fs::read(d.join(f)).unwrap(), before, "{f} was touched");
    }
    // 256 levels are fine, 257 are not (the limit is exact).
    std::fs::write(d.join("ok.bin.plist"), deep_binary(255)).unwrap();
    t.helix(["run", "read", "--f", "ok.bin.plist"]).success();
    std::fs::write(d.join("over.bin.plist"), deep_binary(256)).unwrap();
    let out = t.helix(["run", "read", "--f", "over.bin.plist"]);
    out.code(1);
    all.push_str(&shown("run read --f over.bin.plist", &out, d));
    // A Rhai map nested 1,000 deep is refused before anything is written.
    let out = t.helix(["run", "mapdeep"]);
    out.code(1);
    all.push_str(&shown("run mapdeep", &out, d));
    insta::assert_snapshot!("too_deep", all);
    assert!(!d.join("deep.plist").exists());
}

#[test]
fn a_plist_edited_through_a_symlink_stays_a_link_and_new_files_are_0644() {
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new().recipe(
        "e",
        "//! E.\nplist::edit(\"link.plist\", |d| { d.QEMU.DebugLog = true; });\nplist::write(\"fresh.plist\", #{ a: 1 });\nutm::create_bundle(\"x.utm\", #{});\n",
    );
    let d = t.dir.path();
    std::fs::create_dir_all(d.join("real")).unwrap();
    py(d, &["gen_config", d.join("real/c.plist").to_str().unwrap()]);
    std::os::unix::fs::symlink("real/c.plist", d.join("link.plist")).unwrap();
    let before = std::fs::read(d.join("real/c.plist")).unwrap();
    t.helix(["run", "e"]).success();
    assert!(d.join("link.plist").symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_link(d.join("link.plist")).unwrap(), Path::new("real/c.plist"));
    let after = tree(d, &d.join("real/c.plist"));
    assert_eq!(
        entry(entry(&after, "QEMU").unwrap(), "DebugLog").unwrap(),
        &serde_json::json!(["bool", true])
    );
    for f in ["fresh.plist", "x.utm/config.plist"] {
        let mode = std::fs::metadata(d.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644, "{f} has mode {mode:o}");
    }
    t.helix(["undo", "last"]).success();
    assert_eq!(std::fs::read(d.join("real/c.plist")).unwrap(), before);
    assert!(d.join("link.plist").symlink_metadata().unwrap().file_type().is_symlink());
    // A link is no way around protection: editing through it to a protected file is refused.
    std::fs::copy(d.join("real/c.plist"), d.join("real/vm.backup.plist")).unwrap();
    std::os::unix::fs::symlink("real/vm.backup.plist", d.join("safe-looking.plist")).unwrap();
    std::fs::write(
        d.join("recipes/p.rhai"),
        "//! P.\nplist::edit(\"safe-looking.plist\", |d| { d.QEMU.DebugLog = true; });\n",
    )
    .unwrap();
    let out = t.helix(["run", "p"]);
    out.code(1);
    insta::assert_snapshot!("protected_through_a_link", shown("run p", &out, d));
    assert_eq!(std::fs::read(d.join("real/vm.backup.plist")).unwrap(), before);
}

#[test]
fn plist_errors_are_in_plain_words() {
    let t = Test::new()
        .recipe("read", "//! R.\n//! @param f F (required)\nplist::read(args.f);\n")
        .recipe("badset", "//! S.\nlet d = #{ n: 1 };\nplist::set(d, \"n.x\", 2);\n")
        .recipe("badval", "//! V.\nplist::write(\"v.plist\", #{ f: || 1 });\n");
    let d = t.dir.path();
    let good = deep_binary(2);
    std::fs::write(d.join("cut.plist"), &good[..good.len() - 40]).unwrap();
    std::fs::write(
        d.join("b64.plist"),
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>d</key><data>!!!not base64</data></dict></plist>",
    )
    .unwrap();
    // Each error whole, in plain words: not a valid binary plist (an offset past its cut end,
    // not the standard library's `invalid seek`), a <data> element that is not
    // valid base64, a whole number that has no key, a function that cannot be stored.
    let mut all = String::new();
    for f in ["cut.plist", "b64.plist"] {
        let out = t.helix(["run", "read", "--f", f]);
        out.code(1);
        for debug in
            ["InvalidDataString", "Io(", "Error {", "kind:", "UnexpectedEof", "seek", "read failed"]
        {
            assert!(!out.stderr.contains(debug), "{f}: {debug} in {}", out.stderr);
        }
        all.push_str(&shown(&format!("run read --f {f}"), &out, d));
    }
    let out = t.helix(["run", "badset"]);
    out.code(1);
    assert!(!out.stderr.contains("i64"), "{}", out.stderr);
    all.push_str(&shown("run badset", &out, d));
    let out = t.helix(["run", "badval"]);
    out.code(1);
    all.push_str(&shown("run badval", &out, d));
    insta::assert_snapshot!("plain_words", all);
}

#[test]
fn qemu_img_json_nested_too_deep_is_a_plain_error_not_a_crash() {
    // qemu-img's JSON goes through serde_json, which stops at 128 levels.
    let deep = format!(
        "{{\"format\": \"qcow2\", \"virtual-size\": 1, \"x\": {}1{}}}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let e = helix::qemu_img::parse_info(&deep).unwrap_err();
    assert!(e.contains("nests more than 128 levels deep"), "{e}");
    let ok = "{\"format\": \"qcow2\", \"virtual-size\": 1048576}";
    assert_eq!(helix::qemu_img::parse_info(ok).unwrap().virtual_size, 1_048_576);
}
