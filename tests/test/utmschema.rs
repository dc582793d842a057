//! UTM fidelity: a bundle helix accepts is a bundle UTM loads. UTM-shaped samples written
//! from UTM's source (`tests/data/utm/`: a GUI-written version-4 config with argument rows, the
//! camel-case port forwards of UTM < 4.4, a UTM 3 version-2 file); the schema table walked key
//! by key — every required key removed, every key given one bad value — against `utm::check`;
//! every `utm::create_bundle` option that feeds the schema given a value UTM or QEMU refuses.

use std::path::{Path, PathBuf};

use helix::utm::schema::{self, Key, Severity, Ty};
use plist::{Dictionary, Value};

use crate::support::builder::Test;
use crate::support::redact::redact;

/// What a person reads of `helix ARGS`, under a header naming it: one part of a snapshot.
fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/utm").join(name)
}

fn gui_config() -> Dictionary {
    Value::from_file(sample("gui-config.plist")).unwrap().into_dictionary().unwrap()
}

/// A bundle at `dir` with `root` as config.plist and the files it references in `Data/`.
fn bundle(dir: &Path, root: &Dictionary) {
    std::fs::create_dir_all(dir.join("Data")).unwrap();
    Value::Dictionary(root.clone()).to_file_xml(dir.join("config.plist")).unwrap();
    std::fs::write(dir.join("Data/2C5A4C1E-8E49-4E0B-9C2B-6F0D3C1A7B11.qcow2"), "disk").unwrap();
    std::fs::write(dir.join("Data/efi_vars.fd"), "vars").unwrap();
}

/// `name|severity|kind|path|message` for every finding of every bundle in `list`.
const CHECK_ALL: &str = r#"//! Check bundles.
//! @param list File with one bundle per line (required)
for b in fs::read(args.list).split("\n") {
    if b == "" { continue; }
    let n = 0;
    for f in utm::check(b) { print(`${b}|${f.severity}|${f.kind}|${f.path}|${f.message}`); n += 1; }
    if n == 0 { print(`${b}|clean`); }
}
"#;

fn check_all(t: &Test, bundles: &[String]) -> String {
    std::fs::write(t.path("list.txt"), bundles.join("\n")).unwrap();
    let out = t.helix(["run", "checkall", "--list", "list.txt"]);
    out.success();
    out.stdout
}

/// One mutation of the sample and the finding it must produce.
struct Case {
    what: String,
    path: String,
    value: Option<Value>,
    severity: Severity,
    kind: &'static str,
    /// Text the message must hold (the allowed value, for enums).
    says: Option<String>,
}

fn bad_value(ty: Ty) -> (Value, Severity, &'static str, Option<String>) {
    let s = |x: &str| Value::String(x.into());
    match ty {
        Ty::Str => (Value::Integer(7.into()), Severity::Error, "bad-type", None),
        Ty::Int => (s("8"), Severity::Error, "bad-type", None),
        Ty::Bool => (s("yes"), Severity::Error, "bad-type", None),
        Ty::Strings => (s("-S"), Severity::Error, "bad-type", None),
        Ty::Uuid => (s("17DC4F96-F1A9-4B51-962B"), Severity::Error, "bad-uuid", None),
        Ty::Mac => (s("52:42:AB:CD:EF"), Severity::Error, "bad-mac", None),
        Ty::Port => {
            (Value::Integer(70000.into()), Severity::Error, "bad-value", Some("1 to 65535".into()))
        }
        Ty::Enum(vals) => match vals.iter().find(|v| v.to_lowercase() != **v) {
            // The right word in the wrong case: UTM's raw values are case-exact.
            Some(v) => (
                s(&v.to_lowercase()),
                Severity::Error,
                "bad-value",
                Some(format!("did you mean `{v}`")),
            ),
            None => (s("bogus"), Severity::Error, "bad-value", Some(format!("`{}`", vals[0]))),
        },
        Ty::Arch => {
            (s("arm64"), Severity::Error, "bad-value", Some("did you mean `aarch64`".into()))
        }
        Ty::Target => (
            s("q35"),
            Severity::Error,
            "bad-value",
            Some("not one of aarch64's machine targets".into()),
        ),
        Ty::Cpu => {
            (s("cortex-z99"), Severity::Warning, "bad-value", Some("`default` CPU instead".into()))
        }
        Ty::Device(_) => (s("virtio-gpu-gl-pcie"), Severity::Warning, "unknown-device", None),
        Ty::Icon => {
            (s("ubuntoo"), Severity::Warning, "unknown-icon", Some("did you mean `ubuntu`".into()))
        }
        Ty::Dict(_) | Ty::Array(_) | Ty::ArrayEither(..) => {
            (Value::Integer(1.into()), Severity::Error, "bad-type", None)
        }
    }
}

/// Every key of the schema, walked through the sample (arrays at their first item).
fn cases(keys: &'static [Key], prefix: &str, sample: Option<&Dictionary>, out: &mut Vec<Case>) {
    for k in keys {
        let path =
            if prefix.is_empty() { k.name.to_string() } else { format!("{prefix}.{}", k.name) };
        if k.required {
            out.push(Case {
                what: format!("{path} removed"),
                path: path.clone(),
                value: None,
                severity: Severity::Error,
                kind: "missing-key",
                says: None,
            });
        }
        let (value, severity, kind, says) = match (path.as_str(), k.ty) {
            ("ConfigurationVersion", _) => (
                Value::Integer(3.into()),
                Severity::Error,
                "version",
                Some("helix reads version 4".into()),
            ),
            ("Backend", _) => (
                Value::String("qemu".into()),
                Severity::Error,
                "bad-value",
                Some("did you mean `QEMU`".into()),
            ),
            _ => bad_value(k.ty),
        };
        out.push(Case {
            what: format!("{path} = {value:?}"),
            path: path.clone(),
            value: Some(value),
            severity,
            kind,
            says,
        });
        let here = sample.and_then(|d| d.get(k.name));
        match k.ty {
            Ty::Dict(sub) => cases(sub, &path, here.and_then(|v| v.as_dictionary()), out),
            Ty::Array(sub) | Ty::ArrayEither(sub, _) => {
                let first = here.and_then(|v| v.as_array()).and_then(|a| a.first());
                match first.and_then(|v| v.as_dictionary()) {
                    Some(d) => cases(sub, &format!("{path}[0]"), Some(d), out),
                    None => panic!("the sample has no {path}[0] to test its keys"),
                }
            }
            _ => {}
        }
    }
}

#[test]
fn every_key_of_utms_schema_removed_or_bad_is_reported_by_check() {
    let t = Test::new().recipe("checkall", CHECK_ALL);
    let root = gui_config();
    let mut all = vec![];
    cases(schema::TOP, "", Some(&root), &mut all);
    // Every enum of the schema is in the table, and each section has its cases.
    assert!(all.len() > 150, "only {} cases", all.len());
    for p in [
        "Drive[0].Interface",
        "Sharing.DirectoryShareMode",
        "Serial[0].Terminal.Theme",
        "Network[0].PortForward[0].Protocol",
        "Input.UsbBusSupport",
        "Display[0].UpscalingFilter",
        "Serial[0].Target",
    ] {
        assert!(all.iter().any(|c| c.path == p), "no case for {p}");
    }
    // One parent dir each: check compares a VM's UUID with its sibling bundles'.
    let mut dirs = vec![t.path("cases/clean/vm.utm").display().to_string()];
    bundle(&t.path("cases/clean/vm.utm"), &root);
    for (i, c) in all.iter().enumerate() {
        let mut r = root.clone();
        match &c.value {
            None => {
                helix::plist::remove(&mut r, &c.path).unwrap().expect("the key is in the sample");
            }
            Some(v) => helix::plist::set(&mut r, &c.path, v.clone()).unwrap(),
        }
        let d = t.path(&format!("cases/{i}/vm.utm"));
        bundle(&d, &r);
        dirs.push(d.display().to_string());
    }
    let out = check_all(&t, &dirs);
    assert!(
        out.contains(&format!("{}|clean", dirs[0])),
        "the GUI-written sample is not clean:\n{out}"
    );
    let mut missed = vec![];
    for (i, c) in all.iter().enumerate() {
        let at = &c.path;
        let head = format!(
            "{}|{}|{}|{at}|",
            dirs[i + 1],
            match c.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            c.kind
        );
        let line = out.lines().find(|l| l.starts_with(&head));
        match (line, &c.says) {
            (None, _) => missed.push(format!(
                "{}: no `{head}` in\n  {}",
                c.what,
                out.lines()
                    .filter(|l| l.starts_with(&format!("{}|", dirs[i + 1])))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            )),
            (Some(l), Some(s)) if !l.contains(s.as_str()) => {
                missed.push(format!("{}: message lacks {s:?}: {l}", c.what))
            }
            _ => {}
        }
    }
    assert!(
        missed.is_empty(),
        "{} of {} cases not reported:\n{}",
        missed.len(),
        all.len(),
        missed.join("\n")
    );
}

#[test]
fn create_bundle_refuses_what_utm_or_qemu_refuses_and_creates_nothing() {
    let t = Test::new().recipe(
        "bad",
        r#"//! Bad specs.
let cases = [
    #{ arch: "arm64" },
    #{ arch: "riscv64" },
    #{ target: "q35" },
    #{ arch: "x86_64", target: "virt" },
    #{ cpu: "cortex-z99" },
    #{ disks: [#{ image: "disk.qcow2", interface: "virtio" }] },
    #{ share_mode: "virtfs" },
    #{ network: #{ mode: "emulated" } },
    #{ network: #{ port_forwards: [#{ protocol: "sctp", host_port: 2222, guest_port: 22 }] } },
    #{ network: #{ port_forwards: [#{ host_port: 0, guest_port: 22 }] } },
    #{ network: #{ port_forwards: [#{ host_port: 2222, guest_port: 70000 }] } },
    #{ network: #{ mac: "52:42:0A:1B:2C" } },
    #{ network: #{ mac: "01:00:5E:00:00:01" } },
    #{ network: #{ mac: "52-42-0A-1B-2C-3D" } },
    #{ display: "virtio-gpu-gl-pcie" },
    #{ icon: "ubuntoo" },
    #{ uuid: "not-a-uuid" },
    #{ arguments: ["-drive", "file=\"x\""] },
    #{ memory: 0 },
];
for c in cases {
    try { utm::create_bundle("vm.utm", c); print("CREATED"); } catch (e) { print(`ERR ${e}`); }
}
if dry_run() { exit(0); } // the rest reads back what a dry run only planned
let uuid = utm::create_bundle("x86.utm", #{ arch: "x86_64", disks: [#{ image: "disk.qcow2", interface: "NVMe" }], share_mode: "VirtFS" });
print(`x86 ${utm::open("x86.utm").target} findings=${utm::check("x86.utm").len()}`);
"#,
    );
    std::fs::write(t.path("disk.qcow2"), "d").unwrap();
    let out = t.helix(["run", "bad"]);
    out.success();
    // Every case refused, each message whole (in the order of the cases), none in Rust's words.
    let errs: Vec<&str> =
        out.stdout.lines().filter(|l| l.starts_with("ERR") || l == &"CREATED").collect();
    assert_eq!(errs.len(), 19, "{}", out.stdout);
    for line in errs {
        assert!(line.starts_with("ERR"), "{line}");
        assert!(!line.contains("i64") && !line.contains("Error {"), "{line}");
    }
    insta::assert_snapshot!("create_bundle_refusals", t.shown("run bad", &out));
    assert!(!t.path("vm.utm").exists(), "a refused bundle was (partly) created");
}

const PINS_CONFIGURE: &str = r#"//! What register-vm does to an existing bundle.
import "pins" as pins;
let c = utm::configure("gui.utm", #{ name: "Helix Desktop", debug_log: true, hypervisor: true, add_arguments: pins::UTM_QEMU_ARGUMENTS });
print(`changes=${c.len()}`);
let vm = utm::open("gui.utm");
for r in vm.additional_arguments { print(`row ${r}`); }
print(`argv ${vm.qemu_argv.join(" ")}`);
"#;

/// The GUI bundle's argument rows after the pins: each edited in place, in UTM's order, once.
const PINNED_ROWS: [&str; 7] = [
    "-global virtio-gpu-gl-pci.edid=on",
    "-global virtio-gpu-gl-pci.xres=5120",
    "-usbdevice keyboard",
    "-append \"console=ttyAMA0 quiet\"",
    "-global virtio-gpu-gl-pci.yres=2880",
    "-global virtio-gpu-gl-pci.max_outputs=16",
    "-serial file:/tmp/qemu-serial.log",
];

#[test]
fn gui_argument_rows_are_edited_in_place_once_and_never_duplicated() {
    let t = Test::new().recipe("pins", PINS_CONFIGURE);
    bundle(&t.path("gui.utm"), &gui_config());
    let out = t.helix(["run", "pins"]);
    out.success();
    let rows: Vec<&str> = out.stdout.lines().filter_map(|l| l.strip_prefix("row ")).collect();
    assert_eq!(rows, PINNED_ROWS, "{}", out.stdout);
    let argv = out.stdout.lines().find_map(|l| l.strip_prefix("argv ")).unwrap();
    assert_eq!(argv.matches("edid=").count(), 1, "{argv}");
    assert_eq!(argv.matches("xres=").count(), 1, "{argv}");
    assert_eq!(argv.matches("keyboard").count(), 1, "{argv}");
    let once = std::fs::read(t.path("gui.utm/config.plist")).unwrap();
    // The second run (register-vm again) writes nothing.
    t.helix(["run", "pins"]).success().stdout_has("changes=0");
    assert_eq!(std::fs::read(t.path("gui.utm/config.plist")).unwrap(), once);
    // The edited file still passes UTM's schema.
    let t = t.recipe("checkall", CHECK_ALL);
    let out = check_all(&t, &[t.path("gui.utm").display().to_string()]);
    assert!(out.contains("|clean"), "{out}");
}

#[test]
fn utm3_and_apple_bundles_are_recognised_reported_and_never_rewritten() {
    let t = Test::new()
        .recipe("checkall", CHECK_ALL)
        .recipe(
            "conf",
            "//! C.\n//! @param b B (required)\nutm::configure(args.b, #{ debug_log: true });\n",
        )
        .recipe("open", "//! O.\n//! @param b B (required)\nutm::open(args.b);\n")
        .recipe(
            "args",
            "//! A.\n//! @param b B (required)\nutm::add_arguments(args.b, [\"-S\"]);\n",
        );
    let v2 = t.path("old.utm");
    std::fs::create_dir_all(v2.join("Images")).unwrap();
    std::fs::copy(sample("v2-config.plist"), v2.join("config.plist")).unwrap();
    std::fs::write(v2.join("Images/ubuntu.qcow2"), "disk").unwrap();
    let mut apple = gui_config();
    apple.insert("Backend".into(), Value::String("Apple".into()));
    bundle(&t.path("apple.utm"), &apple);
    let before = std::fs::read(v2.join("config.plist")).unwrap();
    let out = check_all(&t, &[v2.display().to_string(), t.path("apple.utm").display().to_string()]);
    let mut all = format!("=== utm::check findings\n{}", redact(&out, t.dir.path()));
    for r in ["conf", "open", "args"] {
        for b in ["old.utm", "apple.utm"] {
            let out = t.helix(["run", r, "--b", b]);
            out.code(1);
            all.push_str(&t.shown(&format!("run {r} --b {b}"), &out));
        }
    }
    insta::assert_snapshot!("utm3_and_apple_bundles", all);
    assert_eq!(
        std::fs::read(v2.join("config.plist")).unwrap(),
        before,
        "the UTM 3 file was touched"
    );
    assert!(v2.join("Images/ubuntu.qcow2").exists());
}

#[test]
fn old_port_forward_keys_load_and_a_qemu_bundles_vmstate_is_flagged() {
    let t = Test::new().recipe("checkall", CHECK_ALL);
    let old =
        Value::from_file(sample("old-forward-keys.plist")).unwrap().into_dictionary().unwrap();
    bundle(&t.path("a/old.utm"), &old);
    bundle(&t.path("b/vmstate.utm"), &gui_config());
    std::fs::write(t.path("b/vmstate.utm/Data/vmstate"), "saved").unwrap();
    let out = check_all(
        &t,
        &[t.path("a/old.utm").display().to_string(), t.path("b/vmstate.utm").display().to_string()],
    );
    insta::assert_snapshot!("old_forward_keys_and_vmstate", redact(&out, t.dir.path()));
}

#[test]
fn configure_refuses_a_change_utm_would_refuse_and_writes_nothing() {
    let t = Test::new().recipe(
        "conf",
        r#"//! C.
for c in [#{ network_mode: "bridged" }, #{ mac: "03:00:00:00:00:01" }, #{ port_forwards: [#{ protocol: "sctp", host_port: 1, guest_port: 2 }] }, #{ add_arguments: ["-name", "a\"b"] }] {
    try { utm::configure("gui.utm", c); print("CHANGED"); } catch (e) { print(`ERR ${e}`); }
}
"#,
    );
    bundle(&t.path("gui.utm"), &gui_config());
    let before = std::fs::read(t.path("gui.utm/config.plist")).unwrap();
    let out = t.helix(["run", "conf"]);
    out.success().stdout_lacks("CHANGED");
    insta::assert_snapshot!("configure_refusals", t.shown("run conf", &out));
    assert_eq!(std::fs::read(t.path("gui.utm/config.plist")).unwrap(), before);
}

#[test]
fn register_vm_on_a_gui_written_bundle_replaces_rows_in_place_and_adds_no_duplicates() {
    use crate::utm::{UUID_A, fake_utm};
    let t = fake_utm(&[(UUID_A, "stopped", "new-dev-vm")]).recipe(
        "show",
        "//! S.\nlet vm = utm::open(\"vms/new-dev-vm.utm\");\nfor r in vm.additional_arguments { print(`row ${r}`); }\n",
    );
    let b = t.path("vms/new-dev-vm.utm");
    bundle(&b, &gui_config());
    let qcow2 = |p: &Path| {
        let _ = std::fs::remove_file(p);
        let out = std::process::Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(p)
            .arg("8M")
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    qcow2(&b.join("Data/2C5A4C1E-8E49-4E0B-9C2B-6F0D3C1A7B11.qcow2"));
    let prefs = t.path("Container/Data/Library/Preferences/com.utmapp.UTM.plist");
    crate::plist::py(t.dir.path(), &["gen_registry", prefs.to_str().unwrap(), b.to_str().unwrap()]);
    std::fs::create_dir_all(t.path("new")).unwrap();
    qcow2(&t.path("new/disk.qcow2"));
    let new = t.path("new/disk.qcow2").display().to_string();
    let run = [
        "run",
        "register-vm",
        "--yes",
        "--repurpose",
        "new-dev-vm",
        "--disk",
        &new,
        "--name",
        "helix-desktop",
    ];
    let out = t.helix(run);
    out.success();
    insta::assert_snapshot!("register_vm_repurpose", t.shown(&run.join(" "), &out));
    let out = t.helix(["run", "show"]);
    out.success();
    let rows: Vec<&str> = out.stdout.lines().filter_map(|l| l.strip_prefix("row ")).collect();
    assert_eq!(rows, PINNED_ROWS);
}
