//! UTM: bundles helix creates and edits, `utm::check`, the registry, `utmctl` (a double that
//! prints the real tool's formats and records its argv), and the app (QEMU install, caches,
//! restart) — against a fake `UTM.app` that the config points at.

use std::path::{Path, PathBuf};

use crate::plist::{entry, py, tree};
use crate::support::builder::Test;

/// What a person reads of `helix ARGS`, under a header naming it: one part of a snapshot.
/// `text` with the random ids of the bundle `b` helix created (its VM UUID, its drives'
/// identifiers) named by what they are: `<vm-uuid>`, `<drive0>`, `<drive1>`.
fn bundle_ids(t: &Test, b: &Path, text: &str) -> String {
    let cfg = tree(t.dir.path(), &b.join("config.plist"));
    let mut text = text.to_string();
    let id = |path: &str| at(&cfg, path).unwrap()[1].as_str().unwrap().to_string();
    text = text.replace(&id("Information.UUID"), "<vm-uuid>");
    for i in 0..2 {
        text = text.replace(&id(&format!("Drive[{i}].Identifier")), &format!("<drive{i}>"));
    }
    text
}

pub(crate) const UUID_A: &str = "17DC4F96-F1A9-4B51-962B-03D85998E0E7";
const UUID_B: &str = "0DADCFD5-C147-4870-9C0F-925F33B5D405";

pub(crate) fn doubles() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doubles")
}

/// A test whose config points at a fake UTM.app (utmctl double inside, a fake QEMU framework
/// binary, Info.plist), with `open`/`osascript` doubles first on PATH and the VMs `vms`.
pub(crate) fn fake_utm(vms: &[(&str, &str, &str)]) -> Test {
    let t = Test::new();
    let d = t.dir.path().to_path_buf();
    let app = d.join("UTM.app");
    std::fs::create_dir_all(app.join("Contents/MacOS")).unwrap();
    std::fs::copy(doubles().join("utmctl"), app.join("Contents/MacOS/utmctl")).unwrap();
    let fw = app.join("Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A");
    std::fs::create_dir_all(&fw).unwrap();
    std::fs::write(fw.join("qemu-aarch64-softmmu"), "UTM'S OWN QEMU 10.0.2-utm").unwrap();
    std::fs::write(
        app.join("Contents/Info.plist"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>CFBundleShortVersionString</key><string>5.0.6</string></dict></plist>\n",
    )
    .unwrap();
    let lib = d.join("Container/Data/Library");
    std::fs::create_dir_all(lib.join("Preferences")).unwrap();
    std::fs::create_dir_all(d.join("Container/Data/Documents")).unwrap();
    let state = d.join("utmstate");
    std::fs::create_dir_all(&state).unwrap();
    let rows: String = vms.iter().map(|(u, s, n)| format!("{u}|{s}|{n}\n")).collect();
    std::fs::write(state.join("vms"), rows).unwrap();
    std::fs::write(state.join("ips"), "10.0.2.15\nfec0::5054:ff:fe12:3456\n").unwrap();
    let toml = format!(
        "[paths]\nutm_app = \"{}\"\nutm_documents = \"{}\"\nutm_preferences = \"{}\"\n",
        app.display(),
        d.join("Container/Data/Documents").display(),
        lib.join("Preferences/com.utmapp.UTM.plist").display()
    );
    let path = format!("{}:{}", doubles().display(), std::env::var("PATH").unwrap_or_default());
    t.file("helix.toml", &toml)
        .env("PATH", &path)
        .env("HELIX_DOUBLE_LOG", &d.join("calls.log").display().to_string())
        .env("UTM_DOUBLE_DIR", &state.display().to_string())
}

pub(crate) fn calls(t: &Test) -> String {
    std::fs::read_to_string(t.path("calls.log")).unwrap_or_default()
}

fn set_mode(t: &Test, mode: &str) {
    std::fs::write(t.path("utmstate/mode"), mode).unwrap();
}

/// Every key §6.11/§7 of the legacy reference lists for a UTM 5 config.plist, with its type.
const KEYS: &[(&str, &str)] = &[
    ("Backend", "str"),
    ("ConfigurationVersion", "int"),
    ("Display[0].DownscalingFilter", "str"),
    ("Display[0].DynamicResolution", "bool"),
    ("Display[0].Hardware", "str"),
    ("Display[0].NativeResolution", "bool"),
    ("Display[0].UpscalingFilter", "str"),
    ("Drive[0].Identifier", "str"),
    ("Drive[0].ImageName", "str"),
    ("Drive[0].ImageType", "str"),
    ("Drive[0].Interface", "str"),
    ("Drive[0].InterfaceVersion", "int"),
    ("Drive[0].ReadOnly", "bool"),
    ("Information.Icon", "str"),
    ("Information.IconCustom", "bool"),
    ("Information.Name", "str"),
    ("Information.UUID", "str"),
    ("Input.MaximumUsbShare", "int"),
    ("Input.UsbBusSupport", "str"),
    ("Input.UsbSharing", "bool"),
    ("Network[0].Hardware", "str"),
    ("Network[0].IsolateFromHost", "bool"),
    ("Network[0].MacAddress", "str"),
    ("Network[0].Mode", "str"),
    ("Network[0].PortForward[0].GuestAddress", "str"),
    ("Network[0].PortForward[0].GuestPort", "int"),
    ("Network[0].PortForward[0].HostAddress", "str"),
    ("Network[0].PortForward[0].HostPort", "int"),
    ("Network[0].PortForward[0].Protocol", "str"),
    ("QEMU.AdditionalArguments", "array"),
    ("QEMU.AdditionalArguments[0]", "str"),
    ("QEMU.BalloonDevice", "bool"),
    ("QEMU.DebugLog", "bool"),
    ("QEMU.Hypervisor", "bool"),
    ("QEMU.PS2Controller", "bool"),
    ("QEMU.RNGDevice", "bool"),
    ("QEMU.RTCLocalTime", "bool"),
    ("QEMU.TPMDevice", "bool"),
    ("QEMU.TSO", "bool"),
    ("QEMU.UEFIBoot", "bool"),
    ("Serial", "array"),
    ("Sharing.ClipboardSharing", "bool"),
    ("Sharing.DirectoryShareMode", "str"),
    ("Sharing.DirectoryShareReadOnly", "bool"),
    ("Sound[0].Hardware", "str"),
    ("System.Architecture", "str"),
    ("System.CPU", "str"),
    ("System.CPUCount", "int"),
    ("System.CPUFlagsAdd", "array"),
    ("System.CPUFlagsRemove", "array"),
    ("System.ForceMulticore", "bool"),
    ("System.JITCacheSize", "int"),
    ("System.MemorySize", "int"),
    ("System.Target", "str"),
];

/// Follow a simple key path through a plistlib-tagged tree.
fn at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut cur = v;
    for part in path.split('.') {
        let (key, idx) = match part.split_once('[') {
            Some((k, rest)) => (k, Some(rest.trim_end_matches(']').parse::<usize>().unwrap())),
            None => (part, None),
        };
        cur = entry(cur, key)?;
        if let Some(i) = idx {
            if cur[0] != "array" {
                return None;
            }
            cur = cur[1].as_array()?.get(i)?;
        }
    }
    Some(cur)
}

pub(crate) const CREATE: &str = r#"//! Creates a bundle.
let uuid = utm::create_bundle("vms/helix-desktop.utm", #{
    name: "Helix Desktop", cpus: 20, memory: "60G", debug_log: true,
    arguments: ["-global", "virtio-gpu-gl-pci.edid=on", "-serial", "file:/tmp/qemu-serial.log"],
    disks: [#{ image: "disk.qcow2", how: "copy" }, #{ image: "zfs-data.qcow2", how: "hardlink" }],
    efi_vars: "efi_vars.fd",
    network: #{ mode: "Emulated", port_forwards: [#{ host_port: 2222, guest_port: 22 }, #{ host_port: 8080, guest_port: 8080 }] },
});
print(`uuid=${uuid}`);
if dry_run() { exit(0); } // the rest reads back the bundle a dry run only planned
print(`findings=${utm::check("vms/helix-desktop.utm").len()}`);
let vm = utm::open("vms/helix-desktop.utm");
print(`${vm.name} ${vm.cpu_count} ${vm.memory_mb} ${vm.drives.len()} ${vm.drives[0].exists} ${vm.networks[0].port_forwards[1].host_port}`);
"#;

pub(crate) fn created(t: &Test) -> PathBuf {
    crate::support::disk::qcow2(&t.path("disk.qcow2"), "1M");
    crate::support::disk::qcow2(&t.path("zfs-data.qcow2"), "1M");
    std::fs::write(t.path("efi_vars.fd"), vec![0u8; 4096]).unwrap();
    std::fs::create_dir_all(t.path("vms")).unwrap();
    let out = t.helix(["run", "create"]);
    out.success().stdout_has("findings=0").stdout_has("Helix Desktop 20 61440 2 true 8080");
    t.path("vms/helix-desktop.utm")
}

#[test]
fn a_created_bundle_passes_check_and_has_every_key_utm_writes() {
    let t = fake_utm(&[]).recipe("create", CREATE);
    let b = created(&t);
    let cfg = tree(t.dir.path(), &b.join("config.plist"));
    for (path, kind) in KEYS {
        let v = at(&cfg, path).unwrap_or_else(|| panic!("config.plist lacks {path}"));
        assert_eq!(v[0], *kind, "{path} has the wrong type: {v}");
    }
    assert_eq!(at(&cfg, "ConfigurationVersion").unwrap()[1], 4);
    assert_eq!(at(&cfg, "Network[0].Mode").unwrap()[1], "Emulated");
    assert!(at(&cfg, "Network[0].MacAddress").unwrap()[1].as_str().unwrap().starts_with("52:42:"));
    // Top-level keys in UTM's (sorted) order, as an XML plist.
    let top: Vec<&str> =
        cfg[1].as_array().unwrap().iter().map(|p| p[0].as_str().unwrap()).collect();
    let mut sorted = top.clone();
    sorted.sort();
    assert_eq!(top, sorted);
    assert!(std::fs::read(b.join("config.plist")).unwrap().starts_with(b"<?xml"));
    // Data/ holds exactly the referenced files: both disks under their Identifier, efi_vars.fd.
    let mut data: Vec<String> = std::fs::read_dir(b.join("Data"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    data.sort();
    let mut want: Vec<String> = (0..2)
        .map(|i| {
            at(&cfg, &format!("Drive[{i}].ImageName")).unwrap()[1].as_str().unwrap().to_string()
        })
        .chain(["efi_vars.fd".to_string()])
        .collect();
    want.sort();
    assert_eq!(data, want);
    let id = at(&cfg, "Drive[0].Identifier").unwrap()[1].as_str().unwrap();
    assert_eq!(at(&cfg, "Drive[0].ImageName").unwrap()[1], format!("{id}.qcow2"));
    // The hard-linked disk is the same file as its source.
    use std::os::unix::fs::MetadataExt;
    let zfs = b.join("Data").join(at(&cfg, "Drive[1].ImageName").unwrap()[1].as_str().unwrap());
    assert_eq!(
        std::fs::metadata(&zfs).unwrap().ino(),
        std::fs::metadata(t.path("zfs-data.qcow2")).unwrap().ino()
    );
    // Creating over it again is refused.
    t.helix(["run", "create"]).code(1).stderr_has("already stands there");
}

#[test]
fn check_finds_unreferenced_files_missing_images_and_duplicate_uuids() {
    let t = fake_utm(&[]).recipe("create", CREATE).recipe(
        "check",
        "//! Check.\n//! @param b Bundle (required)\nfor f in utm::check(args.b) { print(`${f.kind}: ${f.message}`); }\n",
    );
    let b = created(&t);
    std::fs::write(b.join("Data/stray.qcow2"), "x").unwrap();
    let cfg = tree(t.dir.path(), &b.join("config.plist"));
    let disk = at(&cfg, "Drive[0].ImageName").unwrap()[1].as_str().unwrap().to_string();
    std::fs::remove_file(b.join("Data").join(&disk)).unwrap();
    crate::support::tree::copy_dir(&b, &t.path("vms/copy.utm"));
    let out = t.helix(["run", "check", "--b", "vms/helix-desktop.utm"]);
    out.success();
    assert!(out.stdout.contains(&format!("`Data/{disk}`")), "{}", out.stdout);
    let mut all = bundle_ids(&t, &b, &t.shown("run check --b vms/helix-desktop.utm", &out));
    // Refusing to put a file into Data/ that config.plist would not reference.
    let t2 = fake_utm(&[]).recipe(
        "noefi",
        "//! N.\nutm::create_bundle(\"x.utm\", #{ uefi: false, efi_vars: \"efi_vars.fd\" });\n",
    );
    std::fs::write(t2.path("efi_vars.fd"), "v").unwrap();
    let out = t2.helix(["run", "noefi"]);
    out.code(1);
    all.push_str(&t2.shown("run noefi", &out));
    insta::assert_snapshot!("check_findings", all);
    assert!(!t2.path("x.utm").exists());
}

#[test]
fn bad_bundles_are_clear_errors_and_stay_untouched() {
    let t = Test::new()
        .recipe("open", "//! O.\n//! @param b Bundle (required)\nutm::open(args.b);\n")
        .recipe("conf", "//! C.\n//! @param b Bundle (required)\nutm::configure(args.b, #{ debug_log: true });\n");
    let d = t.dir.path();
    std::fs::create_dir_all(d.join("empty.utm/Data")).unwrap();
    std::fs::create_dir_all(d.join("v3.utm")).unwrap();
    py(d, &["gen_config", d.join("v3.utm/config.plist").to_str().unwrap()]);
    let v3 = std::fs::read_to_string(d.join("v3.utm/config.plist")).unwrap().replacen(
        "<key>ConfigurationVersion</key>\n\t<integer>4</integer>",
        "<key>ConfigurationVersion</key>\n\t<integer>3</integer>",
        1,
    );
    assert!(v3.contains("<integer>3</integer>"));
    std::fs::write(d.join("v3.utm/config.plist"), &v3).unwrap();
    std::fs::create_dir_all(d.join("cut.utm")).unwrap();
    std::fs::write(d.join("cut.utm/config.plist"), &v3.as_bytes()[..300]).unwrap();
    let mut all = String::new();
    for b in ["empty.utm", "v3.utm", "cut.utm", "missing.utm"] {
        let before = std::fs::read(d.join(b).join("config.plist")).ok();
        for r in ["open", "conf"] {
            let out = t.helix(["run", r, "--b", b]);
            out.code(1);
            all.push_str(&t.shown(&format!("run {r} --b {b}"), &out));
        }
        assert_eq!(std::fs::read(d.join(b).join("config.plist")).ok(), before, "{b} was touched");
    }
    insta::assert_snapshot!("bad_bundles", all);
}

#[test]
fn utmctl_output_is_parsed_and_its_argv_recorded() {
    let t = fake_utm(&[(UUID_A, "started", "new-dev-vm"), (UUID_B, "stopped", "Helix Desktop")])
        .recipe(
            "ctl",
            r#"//! utmctl.
for vm in utm::list() { print(`${vm.uuid}|${vm.status}|${vm.name}|${vm.running}`); }
print(utm::status("Helix Desktop").status);
print(utm::find("17dc4f96-f1a9-4b51-962b-03d85998e0e7").name);
print(utm::ip_address("new-dev-vm"));
utm::start("Helix Desktop", #{ disposable: true });
print(utm::status(`0DADCFD5-C147-4870-9C0F-925F33B5D405`).status);
"#,
        );
    let out = t.helix(["run", "ctl"]);
    out.success()
        .stdout_has(&format!(
            "{UUID_A}|started|new-dev-vm|true\n{UUID_B}|stopped|Helix Desktop|false\n"
        ))
        .stdout_has("stopped\nnew-dev-vm\n[\"10.0.2.15\", \"fec0::5054:ff:fe12:3456\"]\nstarted\n");
    assert_eq!(
        calls(&t),
        "utmctl list\nutmctl status Helix Desktop\nutmctl list\nutmctl ip-address new-dev-vm\nutmctl start Helix Desktop --disposable\n\
         utmctl status 0DADCFD5-C147-4870-9C0F-925F33B5D405\n"
    );
}

#[test]
fn stopping_a_running_vm_is_guarded_and_a_stopped_one_is_left_alone() {
    let t = fake_utm(&[(UUID_A, "started", "new-dev-vm"), (UUID_B, "stopped", "Helix Desktop")])
        .recipe("stop", "//! S.\n//! @param vm VM (required)\nprint(`was ${utm::stop(args.vm, \"request\")}`);\n");
    let out = t.helix(["run", "stop", "--vm", "Helix Desktop"]);
    out.success();
    let mut all = t.shown("run stop --vm 'Helix Desktop'", &out);
    assert!(!calls(&t).contains("utmctl stop"), "a stopped VM was stopped again:\n{}", calls(&t));
    // Dry-run: the plan says a person would be asked; nothing stops.
    let out = t.helix(["run", "--dry-run", "stop", "--vm", "new-dev-vm"]);
    out.success();
    all.push_str(&t.shown("run --dry-run stop --vm new-dev-vm", &out));
    // No terminal: refused, the VM keeps running.
    let out = t.helix(["run", "stop", "--vm", "new-dev-vm"]);
    out.code(1);
    all.push_str(&t.shown("run stop --vm new-dev-vm", &out));
    assert!(!calls(&t).contains("utmctl stop"), "{}", calls(&t));
    assert!(
        std::fs::read_to_string(t.path("utmstate/vms"))
            .unwrap()
            .contains(&format!("{UUID_A}|started|"))
    );
    let out = t.helix(["run", "stop", "--vm", "nope"]);
    out.code(1);
    all.push_str(&t.shown("run stop --vm nope", &out));
    insta::assert_snapshot!("stopping_vms", all);
}

#[test]
fn gui_session_failures_say_what_to_do() {
    let t = fake_utm(&[(UUID_A, "started", "new-dev-vm")])
        .recipe("ls", "//! L.\nprint(utm::list());\n")
        .recipe("st", "//! S.\nprint(utm::status(\"nope\"));\n");
    // Each failure whole: what macOS refused, where to run helix instead, what to allow.
    let mut all = String::new();
    for (mode, recipe) in [("deny", "ls"), ("deny", "st"), ("notrunning", "ls"), ("ok", "st")] {
        set_mode(&t, mode);
        let out = t.helix(["run", recipe]);
        out.code(1);
        all.push_str(&format!("=== utmctl {mode}: helix run {recipe}\n{}", out.stderr));
    }
    // Without utmctl in the app, the one on PATH is used.
    std::fs::remove_file(t.path("UTM.app/Contents/MacOS/utmctl")).unwrap();
    t.helix(["run", "ls"]).success().stdout_has("new-dev-vm");
    let t2 = Test::new()
        .file("helix.toml", "[paths]\nutm_app = \"/nonexistent/UTM.app\"\n")
        .recipe("ls", "//! L.\nutm::list();\n");
    let out = t2.helix(["run", "ls"]);
    out.code(1);
    all.push_str(&format!("=== no UTM.app: helix run ls\n{}", out.stderr));
    let all = crate::support::redact::redact(&all, t.dir.path());
    insta::assert_snapshot!(
        "gui_session_failures",
        crate::support::redact::redact(&all, t2.dir.path())
    );
}

#[test]
fn registry_lists_known_vms_and_register_offers_open_in_utm() {
    let t = fake_utm(&[]).recipe("create", CREATE).recipe(
        "reg",
        r#"//! Registry.
for vm in utm::registry() { print(`${vm.name}|${vm.exists}|${vm.listed}`); }
for b in utm::documents() { print(`doc ${b.name} registered=${b.registered}`); }
"#,
    );
    let b = created(&t);
    let prefs = t.path("Container/Data/Library/Preferences/com.utmapp.UTM.plist");
    py(t.dir.path(), &["gen_registry", prefs.to_str().unwrap(), b.to_str().unwrap()]);
    crate::support::tree::copy_dir(&b, &t.path("Container/Data/Documents/unregistered.utm"));
    t.helix(["run", "reg"])
        .success()
        .stdout_has("new-dev-vm|true|true\nHelix Desktop|false|true\n")
        .stdout_has("doc Helix Desktop registered=false");
    let t = t.recipe(
        "register",
        "//! R.\n//! @param b Bundle (required)\nprint(`opened=${utm::register(args.b)}`);\n",
    );
    t.helix(["run", "register", "--b", "vms/helix-desktop.utm"])
        .success()
        .stdout_has("opened=false");
    let other = t.path("Container/Data/Documents/unregistered.utm");
    let out = t.helix(["run", "register", "--b", other.to_str().unwrap()]);
    out.code(1);
    insta::assert_snapshot!(
        "register_without_a_terminal",
        t.shown("run register --b <test>/Container/Data/Documents/unregistered.utm", &out)
    );
    assert!(!calls(&t).contains("open "), "{}", calls(&t));
    t.helix(["run", "--yes", "register", "--b", other.to_str().unwrap()])
        .success()
        .stdout_has("opened=true");
    assert!(
        calls(&t).contains(&format!("open -a {} {}", t.path("UTM.app").display(), other.display())),
        "{}",
        calls(&t)
    );
}

#[test]
fn install_keeps_utms_original_once_and_refuses_the_loose_dylib() {
    let t = fake_utm(&[])
        .recipe(
            "inst",
            "//! I.\n//! @param build Build (required)\nlet r = utm::install_qemu(args.build);\nprint(`changed=${r.changed} original_created=${r.original_created}`);\n",
        )
        .recipe("back", "//! B.\nutm::restore_original_qemu();\n");
    let fw = t.path("UTM.app/Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu");
    std::fs::write(t.path("build1.dylib"), "HELIX QEMU build 1").unwrap();
    std::fs::write(t.path("build2.dylib"), "HELIX QEMU build 2").unwrap();
    let out = t.helix(["run", "--dry-run", "inst", "--build", "build1.dylib"]);
    out.success();
    let mut all = t.shown("run --dry-run inst --build build1.dylib", &out);
    assert_eq!(std::fs::read_to_string(&fw).unwrap(), "UTM'S OWN QEMU 10.0.2-utm");
    t.helix(["run", "inst", "--build", "build1.dylib"])
        .success()
        .stdout_has("changed=true original_created=true");
    t.helix(["run", "inst", "--build", "build2.dylib"])
        .success()
        .stdout_has("changed=true original_created=false");
    t.helix(["run", "inst", "--build", "build2.dylib"]).success().stdout_has("changed=false");
    assert_eq!(std::fs::read_to_string(&fw).unwrap(), "HELIX QEMU build 2");
    let original = t.path("state/utm-original/5.0.6/qemu-aarch64-softmmu");
    assert_eq!(
        std::fs::read_to_string(&original).unwrap(),
        "UTM'S OWN QEMU 10.0.2-utm",
        "the original was overwritten"
    );
    let loose = t.path("UTM.app/Contents/Frameworks/libqemu-aarch64-softmmu.dylib");
    std::fs::write(&loose, "stale").unwrap();
    let out = t.helix(["run", "inst", "--build", loose.to_str().unwrap()]);
    out.code(1);
    all.push_str(&t.shown("run inst --build <the loose dylib>", &out));
    insta::assert_snapshot!("install_qemu", all);
    assert_eq!(std::fs::read_to_string(&fw).unwrap(), "HELIX QEMU build 2");
    t.helix(["run", "back"]).success();
    assert_eq!(std::fs::read_to_string(&fw).unwrap(), "UTM'S OWN QEMU 10.0.2-utm");
}

#[test]
fn caches_are_moved_aside_and_restart_asks_before_stopping_vms() {
    let t = fake_utm(&[(UUID_A, "stopped", "new-dev-vm")])
        .recipe("caches", "//! C.\nprint(`aside=${utm::clear_caches()}`);\n")
        .recipe("restart", "//! R.\nprint(utm::restart());\n");
    let caches = t.path("Container/Data/Library/Caches");
    std::fs::create_dir_all(caches.join("com.utmapp.UTM/fsCachedData")).unwrap();
    std::fs::write(caches.join("com.utmapp.UTM/Cache.db"), "db").unwrap();
    let out = t.helix(["run", "caches"]);
    out.success().stdout_has("helix-cleared-caches/20");
    assert_eq!(std::fs::read_dir(&caches).unwrap().count(), 0);
    let aside: Vec<PathBuf> =
        std::fs::read_dir(t.path("Container/Data/Library/helix-cleared-caches"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
    assert_eq!(std::fs::read_to_string(aside[0].join("com.utmapp.UTM/Cache.db")).unwrap(), "db");

    // Not running: nothing to restart.
    t.helix(["run", "restart"]).success().stdout_has("\"was_running\": false");
    assert_eq!(calls(&t), "osascript -e application \"UTM\" is running\n");
    // Running with no VM running: quit politely, open again.
    std::fs::write(t.path("utmstate/running"), "true").unwrap();
    t.helix(["run", "restart"]).success().stdout_has("\"was_running\": true");
    let log = calls(&t);
    assert!(log.contains("osascript -e quit app \"UTM\"\n"), "{log}");
    assert!(log.ends_with(&format!("open -a {}\n", t.path("UTM.app").display())), "{log}");
    assert!(!log.contains("killall"));
    // A running VM: listed, and with nobody to confirm, nothing is stopped or quit.
    std::fs::write(t.path("utmstate/vms"), format!("{UUID_A}|started|new-dev-vm\n")).unwrap();
    std::fs::write(t.path("calls.log"), "").unwrap();
    let out = t.helix(["run", "restart"]);
    out.code(1);
    insta::assert_snapshot!("restart_with_a_running_vm", t.shown("run restart", &out));
    let log = calls(&t);
    assert!(!log.contains("stop") && !log.contains("quit"), "{log}");
}

#[test]
fn add_disk_writes_the_drive_entry_and_places_the_image() {
    let t = fake_utm(&[]).recipe("create", CREATE).recipe(
        "add",
        r#"//! Add a disk.
let name = utm::add_disk("vms/helix-desktop.utm", #{ image: "extra.qcow2", how: "move" });
print(`name=${name}`);
print(`findings=${utm::check("vms/helix-desktop.utm").len()}`);
print(`drives=${utm::open("vms/helix-desktop.utm").drives.len()}`);
"#,
    );
    let b = created(&t);
    crate::support::disk::qcow2(&t.path("extra.qcow2"), "1M");
    let before = std::fs::read(b.join("config.plist")).unwrap();
    let out = t.helix(["run", "--dry-run", "add"]);
    out.success();
    // The new drive's identifier is made up anew by each run (the dry one too).
    let text = bundle_ids(&t, &b, &t.shown("run --dry-run add", &out));
    let text = crate::support::redact::shaped(
        &text,
        "HHHHHHHH-HHHH-HHHH-HHHH-HHHHHHHHHHHH",
        "<new-drive>",
    );
    insta::assert_snapshot!("add_disk_dry_run", text);
    assert_eq!(std::fs::read(b.join("config.plist")).unwrap(), before);
    assert!(t.path("extra.qcow2").exists());
    let out = t.helix(["run", "add"]);
    out.success().stdout_has("findings=0").stdout_has("drives=3");
    let name = out.stdout.lines().find_map(|l| l.strip_prefix("name=")).unwrap().to_string();
    assert!(b.join("Data").join(&name).is_file() && !t.path("extra.qcow2").exists());
    let cfg = tree(t.dir.path(), &b.join("config.plist"));
    assert_eq!(at(&cfg, "Drive[2].ImageName").unwrap()[1], name.as_str());
    assert_eq!(at(&cfg, "Drive[2].Interface").unwrap()[1], "VirtIO");
}

#[test]
fn the_vm_recipe_drives_utm_through_utmctl() {
    let t = fake_utm(&[(UUID_A, "stopped", "new-dev-vm"), (UUID_B, "started", "Helix Desktop")]);
    let toml = std::fs::read_to_string(t.path("helix.toml")).unwrap();
    // The user name of the ssh line is this machine's: the same one on every machine.
    let t = t
        .file(
            "helix.toml",
            &format!("{toml}[vm]\nbackend = \"utm\"\nname = \"new-dev-vm\"\nuuid = \"{UUID_A}\"\n"),
        )
        .env("USER", "grace");
    let mut all = String::new();
    for (action, code) in [("status", 0), ("start", 0), ("status", 0), ("list", 0), ("stop", 1)] {
        let out = t.helix(["run", "vm", "--action", action]);
        out.code(code);
        all.push_str(&t.shown(&format!("run vm --action {action}"), &out));
    }
    insta::assert_snapshot!("vm_recipe_through_utmctl", all);
    let log = calls(&t);
    assert!(
        log.contains(&format!("utmctl start {UUID_A}\n")) && !log.contains("utmctl stop"),
        "{log}"
    );
}
