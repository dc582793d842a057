//! Mach-O: fixtures linked at run time with clang + ld64.lld against .tbd stubs, edited by helix
//! and by llvm-install-name-tool (LLVM 14) and compared; signatures recomputed and verified;
//! a real published arm64 library; malformed input.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::builder::Test;
use crate::support::cmd::s;
use crate::support::redact::shown;

include!("../data/macho/fixtures.rs");
use fixtures::{NAME, run, sysroot, tool};

/// Fixtures are linked once per test process.
fn fx() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        assert!(
            fixtures::have_tools(),
            "clang, ld64.lld and llvm-14 tools are needed (see .ci/install-deps)"
        );
        let dir = std::env::temp_dir().join(format!("helix-macho-fixtures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        fixtures::build(&dir, 0);
        dir
    })
}

/// A private copy of a fixture variant, under `dir/<sub>/libqemu-aarch64-softmmu.dylib`.
fn copy(variant: &str, dir: &Path, sub: &str) -> PathBuf {
    let to = dir.join(sub).join(NAME);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(fixtures::path(fx(), variant), &to).unwrap();
    to
}

/// `llvm-otool FLAG file` without the first line (which names the file).
fn otool(flag: &str, p: &Path) -> String {
    let out = run(&[&tool("llvm-otool"), flag, &s(p)]);
    out.lines().filter(|l| !l.ends_with(':') || !l.contains(&s(p))).collect::<Vec<_>>().join("\n")
}

fn dep(lib: &str) -> String {
    format!("{}/lib{lib}.dylib", sysroot())
}

fn info(t: &Test, p: &Path) -> serde_json::Value {
    let out = t.helix(["macho", "info", "--json", &s(p)]);
    out.success();
    serde_json::from_str(&out.stdout).unwrap()
}

fn verify_ok(t: &Test, p: &Path) {
    t.helix(["macho", "verify", &s(p)]).success().stdout_lacks("INVALID");
}

#[test]
fn info_lists_what_otool_lists() {
    let t = Test::new();
    let p = copy("kinds", t.dir.path(), "a");
    // Two more dependency kinds lld cannot emit: patch the commands' types (upward, lazy).
    let mut b = std::fs::read(&p).unwrap();
    patch_kind(&mut b, &dep("gio-2.0.0"), 0x8000_0023);
    patch_kind(&mut b, &dep("epoxy.0"), 0x20);
    std::fs::write(&p, &b).unwrap();
    let ours = t.helix(["macho", "info", &s(&p)]);
    ours.success();
    for line in otool("-L", &p).lines() {
        assert!(ours.stdout.contains(line), "helix lacks otool's line {line:?}:\n{}", ours.stdout);
    }
    insta::assert_snapshot!("info", shown(&format!("macho info {}", s(&p)), &ours, t.dir.path()));
    let j = info(&t, &p);
    assert_eq!(j["file_type"], "dylib");
    assert_eq!(j["archs"], serde_json::json!(["arm64"]));
    assert_eq!(j["universal"], false);
    assert_eq!(j["id"], format!("{}/{NAME}", sysroot()));
    assert_eq!(j["rpaths"], serde_json::json!([sysroot()]));
    assert_eq!(j["signed"], true);
    assert_eq!(j["linker_signed"], true);
    assert!(j["header_free"].as_u64().unwrap() > 1000, "{j}");
    let kind = |name: &str| {
        j["dylibs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .map(|d| d["kind"].clone())
            .unwrap()
    };
    assert_eq!(kind(&dep("png16.16")), "weak");
    assert!(
        j["dylibs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["name"] == dep("jpeg.62") && d["kind"] == "reexport"),
        "{j}"
    );
    assert_eq!(kind(&dep("gio-2.0.0")), "upward");
    assert_eq!(kind(&dep("epoxy.0")), "lazy");
    assert_eq!(kind(&dep("zstd.1")), "load");
    let z = j["dylibs"].as_array().unwrap().iter().find(|d| d["name"] == dep("zstd.1")).unwrap();
    assert_eq!(z["current_version"], "42.2.1");
    assert_eq!(z["compatibility_version"], "42.0.0");
    assert_eq!(j["slices"][0]["signature"]["identifier"], NAME);

    let u = copy("universal", t.dir.path(), "u");
    let j = info(&t, &u);
    assert_eq!(j["universal"], true);
    // llvm-lipo puts x86_64 first.
    assert_eq!(j["archs"], serde_json::json!(["x86_64", "arm64"]));
    assert_eq!(j["slices"][0]["signed"], false);
    assert_eq!(j["slices"][1]["signature"]["linker_signed"], true);
    assert_eq!(j["linker_signed"], false);
    let x = copy("x86_64", t.dir.path(), "x");
    assert_eq!(info(&t, &x)["signed"], false);
}

/// Find the dependency load command naming `name` and give it another command type.
fn patch_kind(b: &mut [u8], name: &str, cmd: u32) {
    let at = b.windows(name.len()).position(|w| w == name.as_bytes()).expect("name in file");
    let lc = at - 24;
    assert_eq!(u32::from_le_bytes(b[lc..lc + 4].try_into().unwrap()), 0xc);
    b[lc..lc + 4].copy_from_slice(&cmd.to_le_bytes());
}

/// llvm-install-name-tool lays `__LINKEDIT` out again (it packs the string table and page-aligns
/// the segment's vmsize); helix, like Apple's install_name_tool, moves nothing. Passing the
/// input through llvm-install-name-tool once with a no-op edit puts it in llvm's layout, so
/// that further edits can be compared byte for byte.
fn canonical(variant: &str, dir: &Path, sub: &str) -> PathBuf {
    let p = copy(variant, dir, sub);
    run(&[&tool("llvm-install-name-tool"), "-id", &format!("{}/{NAME}", sysroot()), &s(&p)]);
    p
}

#[test]
fn same_edits_as_llvm_install_name_tool_give_the_same_file() {
    let t = Test::new();
    let new_pixman = "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0";
    let new_png = "@rpath/png16.16.framework/Versions/A/png16.16";
    let id = "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu";
    for variant in ["arm64", "x86_64", "universal", "unsigned"] {
        let theirs = canonical(variant, t.dir.path(), &format!("{variant}-llvm"));
        let ours = canonical(variant, t.dir.path(), &format!("{variant}-helix"));
        run(&[
            &tool("llvm-install-name-tool"),
            "-change",
            &dep("pixman-1.0"),
            new_pixman,
            "-change",
            &dep("png16.16"),
            new_png,
            "-id",
            id,
            "-delete_rpath",
            &sysroot(),
            "-add_rpath",
            "@loader_path/../Frameworks",
            "-add_rpath",
            "@executable_path/../Frameworks",
            &s(&theirs),
        ]);
        let recipe = format!(
            "//! Edit.\nlet r = macho::edit(\"{}\", #{{ change: #{{ \"{}\": \"{new_pixman}\", \"{}\": \"{new_png}\" }}, id: \"{id}\", delete_rpath: \"{}\", add_rpath: [\"@loader_path/../Frameworks\", \"@executable_path/../Frameworks\"] }});\nprint(r.signature);\n",
            s(&ours),
            dep("pixman-1.0"),
            dep("png16.16"),
            sysroot()
        );
        let t2 = Test::new().recipe("edit", &recipe);
        t2.helix(["run", "edit"]).success();
        assert_eq!(otool("-L", &ours), otool("-L", &theirs), "{variant}: otool -L differs");
        assert_eq!(otool("-l", &ours), otool("-l", &theirs), "{variant}: otool -l differs");
        let (a, b) = (std::fs::read(&ours).unwrap(), std::fs::read(&theirs).unwrap());
        assert!(
            a == b,
            "{variant}: helix's bytes differ from llvm-install-name-tool's (first at {:?})",
            a.iter().zip(&b).position(|(x, y)| x != y)
        );
        if variant == "arm64" {
            verify_ok(&t, &ours);
        }
    }
}

#[test]
fn edits_of_raw_linker_output_move_nothing_and_keep_a_valid_signature() {
    let t = Test::new();
    let ours = copy("arm64", t.dir.path(), "h");
    let theirs = copy("arm64", t.dir.path(), "l");
    let before = std::fs::read(&ours).unwrap();
    let new = "@rpath/zstd.1.framework/Versions/A/zstd.1";
    let out = t.helix(["macho", "change", &s(&ours), &dep("zstd.1"), new]);
    out.success();
    // The change, and the signature: ad-hoc re-signed, the linker-signed flag kept.
    insta::assert_snapshot!(
        "change_raw_linker_output",
        shown(&format!("macho change {} {} {new}", s(&ours), dep("zstd.1")), &out, t.dir.path())
    );
    run(&[&tool("llvm-install-name-tool"), "-change", &dep("zstd.1"), new, &s(&theirs)]);
    assert_eq!(otool("-L", &ours), otool("-L", &theirs));
    // llvm re-lays out __LINKEDIT; the only -l differences are those two fields.
    let (a, b) = (otool("-l", &ours), otool("-l", &theirs));
    let diff: Vec<(&str, &str)> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
    assert!(!diff.is_empty());
    for (x, _) in &diff {
        let key = x.split_whitespace().next().unwrap();
        assert!(
            matches!(key, "vmsize" | "stroff" | "sizeofcmds") || x.contains("0xfeedfacf"),
            "unexpected -l difference: {x}"
        );
    }
    // Only the header (load commands) and the signature's hashes changed.
    let after = std::fs::read(&ours).unwrap();
    let j = info(&t, &ours);
    let sig = j["slices"][0]["signature"]["dataoff"].as_u64().unwrap() as usize;
    let header_end = 32
        + j["slices"][0]["sizeofcmds"].as_u64().unwrap() as usize
        + j["header_free"].as_u64().unwrap() as usize;
    assert_eq!(before.len(), after.len());
    assert_eq!(before[header_end..sig], after[header_end..sig]);
    verify_ok(&t, &ours);
}

fn frameworks(dir: &Path) -> PathBuf {
    let fw = dir.join("UTM.app/Contents/Frameworks");
    for lib in fixtures::SYSROOT_LIBS {
        match lib {
            "usb-1.0.0" => std::fs::write(fw.join("libusb-1.0.0.dylib"), "x").unwrap(),
            "ffi.8" => {}
            _ => {
                let d = fw.join(format!("{lib}.framework/Versions/A"));
                std::fs::create_dir_all(&d).unwrap();
                std::fs::write(d.join(lib), "x").unwrap();
            }
        }
    }
    fw
}

#[test]
fn rewrite_prefix_maps_like_the_legacy_fixer_in_one_call_and_keeps_undo() {
    let t = Test::new();
    let fw = frameworks(t.dir.path());
    let p = copy("universal", t.dir.path(), "q");
    let original = std::fs::read(&p).unwrap();
    let id = "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu";
    let recipe = format!(
        "//! Fix.\nlet r = macho::rewrite_prefix(\"{}\", \"{}\", \"{}\", #{{ id: \"{id}\" }});\nprint(`mapped=${{r.mapped.len()}} unresolved=${{r.unresolved}}`);\nprint(r.report.signature);\nlet v = macho::verify(\"{}\");\nprint(`valid=${{v.valid}}`);\n",
        s(&p),
        sysroot(),
        s(&fw),
        s(&p)
    );
    let t2 = Test::new().recipe("fix", &recipe);
    let out = t2.helix(["run", "fix"]);
    out.success();
    // 14 mapped, libffi unresolved (`no matching framework or dylib`), the arm64 slice ad-hoc
    // re-signed (linker-signed kept), the x86_64 one not signed, so not valid.
    let shown_fix = shown("run fix", &out, t2.dir.path());
    insta::assert_snapshot!("rewrite_prefix", shown_fix.replace(&s(t.dir.path()), "<files>"));
    let l = otool("-L", &p);
    assert!(
        l.contains(&format!("\t{id} (compatibility version 1.0.0, current version 9.2.0)")),
        "{l}"
    );
    assert!(
        l.contains(
            "\t@rpath/pixman-1.0.framework/Versions/A/pixman-1.0 (compatibility version 42.0.0"
        ),
        "{l}"
    );
    assert!(l.contains("\t@rpath/png16.16.framework/Versions/A/png16.16 (compatibility version 42.0.0, current version 42.2.1, weak)"), "{l}");
    assert!(l.contains("\t@rpath/libusb-1.0.0.dylib "), "{l}");
    assert!(l.contains(&dep("ffi.8")), "{l}");
    assert!(l.contains("/opt/homebrew/opt/gnutls/lib/libgnutls.30.dylib"), "{l}");
    assert!(l.contains("/usr/lib/libSystem.B.dylib"), "{l}");
    let j = info(&t, &p);
    for slice in j["slices"].as_array().unwrap() {
        let left: Vec<&str> = slice["dylibs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|d| d["name"].as_str())
            .filter(|n| n.contains("sysroot"))
            .collect();
        assert_eq!(
            left,
            vec![dep("ffi.8")],
            "{}: only the unresolved libffi is left",
            slice["arch"]
        );
    }
    let arm = &j["slices"][1];
    assert_eq!(arm["signature"]["linker_signed"], true);
    let v: serde_json::Value =
        serde_json::from_str(&t.helix(["macho", "verify", "--json", &s(&p)]).stdout).unwrap();
    assert_eq!(v["slices"][1]["valid"], true, "{v}");
    // Undo record: the previous bytes, where they go back to.
    let runs = t2.path("state/runs");
    let journal: String = std::fs::read_dir(&runs)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    // The real run's record (its dry run journals the same action as planned, with no undo).
    let rec = journal
        .lines()
        .find(|l| l.contains("macho.edit") && l.contains("restore"))
        .expect("journaled");
    let rec: serde_json::Value = serde_json::from_str(rec).unwrap();
    let undo = rec.get("undo").unwrap_or(&rec["record"]["undo"]);
    assert_eq!(undo["to"], s(&p));
    let backup = PathBuf::from(undo["restore"].as_str().unwrap());
    assert_eq!(std::fs::read(backup).unwrap(), original);
    // A second run has nothing left to do.
    t2.helix(["run", "fix"]).success().stdout_has("mapped=0");
}

#[test]
fn dry_run_prints_the_exact_changes_and_changes_nothing() {
    let t = Test::new();
    let fw = frameworks(t.dir.path());
    let p = copy("arm64", t.dir.path(), "q");
    let before = std::fs::read(&p).unwrap();
    let out = t.helix([
        "macho",
        "rewrite-prefix",
        &s(&p),
        "--prefix",
        &sysroot(),
        "--frameworks",
        &s(&fw),
        "--id",
        "@rpath/q",
        "--dry-run",
    ]);
    out.code(3); // ffi unresolved
    // Each change is printed once: as a detail line under the plan line, not again as the
    // mapping and again as the report.
    assert_eq!(out.stdout.matches("libpixman-1.0.dylib").count(), 1, "{}", out.stdout);
    // The plan whole: the count and the re-signing, then every load command's old and new
    // name (the id first), and libffi unresolved.
    insta::assert_snapshot!(
        "rewrite_prefix_dry_run",
        shown(
            &format!(
                "macho rewrite-prefix {} --prefix {} --frameworks {} --id @rpath/q --dry-run",
                s(&p),
                sysroot(),
                s(&fw)
            ),
            &out,
            t.dir.path()
        )
    );
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[test]
fn no_header_room_is_a_clear_error_and_the_file_is_untouched() {
    let t = Test::new();
    let p = copy("nopad", t.dir.path(), "n");
    let before = std::fs::read(&p).unwrap();
    let free = info(&t, &p)["header_free"].as_u64().unwrap();
    let long = format!("@rpath/{}", "x".repeat(600));
    let out = t.helix(["macho", "set-id", &s(&p), &long]);
    out.code(1);
    // How many bytes are missing, the fix (relink with -headerpad_max_install_names), and that
    // the file is untouched.
    insta::assert_snapshot!(
        "no_header_room",
        shown(&format!("macho set-id {} {long}", s(&p)), &out, t.dir.path())
            .replace(&long, "<long>")
    );
    assert!(free < 600, "the no-padding fixture has {free} bytes free");
    assert_eq!(std::fs::read(&p).unwrap(), before);
    // llvm-install-name-tool 14 does not check: it writes load commands over `__text`, and the
    // result no longer parses.
    let l = copy("nopad", t.dir.path(), "l");
    run(&[&tool("llvm-install-name-tool"), "-id", &long, &s(&l)]);
    let otool =
        std::process::Command::new(tool("llvm-otool")).args(["-l", &s(&l)]).output().unwrap();
    assert!(String::from_utf8_lossy(&otool.stderr).contains("not past the headers of the file"));
}

#[test]
fn rpath_and_change_semantics_follow_install_name_tool() {
    let t = Test::new();
    let p = copy("arm64", t.dir.path(), "r");
    let before = std::fs::read(&p).unwrap();
    let mut all = String::new();
    for (args, code) in [
        (vec!["add-rpath", &s(&p), &sysroot()], 1),
        (vec!["delete-rpath", &s(&p), "/nowhere"], 1),
        (vec!["rename-rpath", &s(&p), "/nowhere", "/x"], 1),
        (vec!["change", &s(&p), "/not/a/dep.dylib", "/x.dylib"], 0),
    ] {
        let out = t.helix(std::iter::once("macho").chain(args.iter().copied()));
        out.code(code);
        all.push_str(&shown(&format!("macho {}", args.join(" ")), &out, t.dir.path()));
    }
    // A duplicate LC_RPATH, no LC_RPATH with that path (delete, rename), a change of a
    // dependency the file does not have: not found, nothing to change.
    insta::assert_snapshot!("rpath_and_change_verdicts", all);
    assert_eq!(std::fs::read(&p).unwrap(), before, "failed and no-op edits leave the file alone");
    // The same verdicts from llvm-install-name-tool.
    let l = |args: &[&str]| {
        std::process::Command::new(tool("llvm-install-name-tool"))
            .args(args)
            .arg(&p)
            .output()
            .unwrap()
    };
    assert!(!l(&["-add_rpath", &sysroot()]).status.success());
    assert!(!l(&["-delete_rpath", "/nowhere"]).status.success());
    // Re-exported dependencies are changed too (as Apple's install_name_tool does; llvm 14
    // refuses such files).
    let k = copy("kinds", t.dir.path(), "k");
    t.helix(["macho", "change", &s(&k), &dep("jpeg.62"), "@rpath/libjpeg.62.dylib"]).success();
    assert!(
        otool("-L", &k).contains(
            "@rpath/libjpeg.62.dylib (compatibility version 0.0.0, current version 0.0.0, reexport)"
        ),
        "{}",
        otool("-L", &k)
    );
    verify_ok(&t, &k);
    t.helix(["macho", "rename-rpath", &s(&p), &sysroot(), "@loader_path"]).success();
    t.helix(["macho", "delete-rpath", &s(&p), "@loader_path"]).success();
    assert!(info(&t, &p)["rpaths"].as_array().unwrap().is_empty());
    verify_ok(&t, &p);
    // -id on an executable is a reported no-op (there is no LC_ID_DYLIB).
}

#[test]
fn sign_adhoc_matches_the_linkers_signature_and_verify_catches_tampering() {
    let t = Test::new();
    // Signing the linker-signed build from scratch writes exactly the signature lld wrote.
    let l = copy("arm64", t.dir.path(), "l");
    let lld = std::fs::read(&l).unwrap();
    t.helix(["macho", "sign", &s(&l)]).success();
    assert!(std::fs::read(&l).unwrap() == lld, "a fresh ad-hoc signature differs from lld's");
    // An unsigned build gets LC_CODE_SIGNATURE and a signature at the end of __LINKEDIT.
    let p = copy("unsigned", t.dir.path(), "s");
    let unsigned_len = std::fs::metadata(&p).unwrap().len();
    let out = t.helix(["macho", "verify", &s(&p)]);
    out.code(1);
    let mut all = shown(&format!("macho verify {}", s(&p)), &out, t.dir.path());
    let out = t.helix(["macho", "sign", &s(&p)]);
    out.success();
    all.push_str(&shown(&format!("macho sign {}", s(&p)), &out, t.dir.path()));
    // Not signed; then signed with the file's name as its identifier.
    insta::assert_snapshot!("sign_unsigned", all);
    verify_ok(&t, &p);
    let j = info(&t, &p);
    let sig = &j["slices"][0]["signature"];
    assert_eq!(sig["kind"], "adhoc");
    assert_eq!(j["linker_signed"], false);
    let dataoff = sig["dataoff"].as_u64().unwrap();
    assert_eq!(dataoff, unsigned_len.next_multiple_of(16));
    assert_eq!(std::fs::metadata(&p).unwrap().len(), dataoff + sig["datasize"].as_u64().unwrap());
    let l = otool("-l", &p);
    assert!(
        l.contains("cmd LC_CODE_SIGNATURE") && l.contains(&format!("dataoff {dataoff}")),
        "{l}"
    );
    // A universal file with an unsigned slice: slices grow, the fat header is laid out again.
    let u = copy("universal", t.dir.path(), "u");
    t.helix(["macho", "sign", &s(&u)]).success();
    verify_ok(&t, &u);
    let j = info(&t, &u);
    assert_eq!(j["slices"][0]["signature"]["kind"], "adhoc");
    assert_eq!(j["slices"][1]["signature"]["linker_signed"], true, "kept");
    run(&[&tool("llvm-otool"), "-l", &s(&u)]);
    run(&[&tool("llvm-lipo"), "-info", &s(&u)]);
    // Tampering with one byte of code is caught, page by page.
    let text = 4096 + 100;
    let mut b = std::fs::read(&p).unwrap();
    b[text] ^= 0xff;
    std::fs::write(&p, &b).unwrap();
    let out = t.helix(["macho", "verify", "--json", &s(&p)]);
    out.code(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["slices"][0]["bad_pages"], serde_json::json!([1]));
    // Re-signing repairs it.
    t.helix(["macho", "sign", &s(&p)]).success();
    verify_ok(&t, &p);
}

#[test]
fn a_real_published_arm64_library_is_rewritten_and_re_signed() {
    // markupsafe 3.0.4's `_speedups.cpython-312-darwin.so` from its macosx_11_0_arm64 wheel on
    // PyPI (BSD-3-Clause, tests/data/macho/real/LICENSE-markupsafe.txt), linked by Apple's ld.
    let t = Test::new();
    let real = fixtures::data().join("real/_speedups.cpython-312-darwin.so");
    verify_ok(&t, &real);
    let j = info(&t, &real);
    assert_eq!(j["archs"], serde_json::json!(["arm64"]));
    assert_eq!(j["linker_signed"], true);
    for (sub, canon) in [("raw", false), ("canonical", true)] {
        let dir = t.dir.path().join(sub);
        std::fs::create_dir_all(dir.join("h")).unwrap();
        std::fs::create_dir_all(dir.join("l")).unwrap();
        let (ours, theirs) = (
            dir.join("h/_speedups.cpython-312-darwin.so"),
            dir.join("l/_speedups.cpython-312-darwin.so"),
        );
        std::fs::copy(&real, &ours).unwrap();
        std::fs::copy(&real, &theirs).unwrap();
        if canon {
            for p in [&ours, &theirs] {
                run(&[&tool("llvm-install-name-tool"), "-add_rpath", "/tmp", &s(p)]);
                run(&[&tool("llvm-install-name-tool"), "-delete_rpath", "/tmp", &s(p)]);
            }
        }
        t.helix([
            "macho",
            "change",
            &s(&ours),
            "/usr/lib/libSystem.B.dylib",
            "@rpath/libSystem.B.dylib",
        ])
        .success();
        t.helix(["macho", "add-rpath", &s(&ours), "/usr/lib"]).success();
        verify_ok(&t, &ours);
        run(&[
            &tool("llvm-install-name-tool"),
            "-change",
            "/usr/lib/libSystem.B.dylib",
            "@rpath/libSystem.B.dylib",
            "-add_rpath",
            "/usr/lib",
            &s(&theirs),
        ]);
        assert_eq!(otool("-L", &ours), otool("-L", &theirs));
        if canon {
            assert!(
                std::fs::read(&ours).unwrap() == std::fs::read(&theirs).unwrap(),
                "real library: bytes differ from llvm-install-name-tool's"
            );
        }
    }
}

#[test]
fn malformed_input_is_an_error_never_a_panic() {
    let t = Test::new();
    let good = std::fs::read(fixtures::path(fx(), "arm64")).unwrap();
    let uni = std::fs::read(fixtures::path(fx(), "universal")).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("text", b"#!/bin/sh\necho not a binary\n".to_vec()),
        ("truncated-header", good[..20].to_vec()),
        ("truncated-commands", good[..600].to_vec()),
        ("truncated-linkedit", good[..good.len() - 100].to_vec()),
    ];
    let mut lying_cmdsize = good.clone();
    lying_cmdsize[32 + 4..32 + 8].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    cases.push(("lying-cmdsize", lying_cmdsize));
    let mut lying_sizeofcmds = good.clone();
    lying_sizeofcmds[20..24].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    cases.push(("lying-sizeofcmds", lying_sizeofcmds));
    let mut lying_ncmds = good.clone();
    lying_ncmds[16..20].copy_from_slice(&5000u32.to_le_bytes());
    cases.push(("lying-ncmds", lying_ncmds));
    let mut lying_nsects = good.clone();
    lying_nsects[32 + 64..32 + 68].copy_from_slice(&0x1000_0000u32.to_le_bytes());
    cases.push(("lying-nsects", lying_nsects));
    let mut lying_fat = uni.clone();
    lying_fat[8 + 8..8 + 12].copy_from_slice(&0xffff_0000u32.to_be_bytes());
    cases.push(("lying-fat-offset", lying_fat));
    let mut all = String::new();
    for (name, bytes) in cases {
        let p = t.path(&format!("bad/{name}/{NAME}"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &bytes).unwrap();
        for args in [
            vec!["macho", "info", &s(&p)],
            vec!["macho", "verify", &s(&p)],
            vec!["macho", "sign", &s(&p)],
            vec!["macho", "change", &s(&p), "/usr/lib/libSystem.B.dylib", "/x"],
            vec!["macho", "add-rpath", &s(&p), "/x"],
        ] {
            let args: Vec<String> = args.into_iter().map(String::from).collect();
            let out = t.helix(args.clone());
            assert!(
                out.code == 1,
                "{name} {args:?}: exit {} (101 is a panic)\n{}",
                out.code,
                out.stderr
            );
            // `verify` may parse a file whose bytes no longer match its hashes: that is its answer.
            let answered = out.stderr.contains("error:")
                || (args[1] == "verify" && out.stdout.contains("INVALID"));
            assert!(
                answered && !out.stderr.contains("panicked"),
                "{name} {args:?}: {}{}",
                out.stdout,
                out.stderr
            );
            all.push_str(&shown(&args.join(" "), &out, t.dir.path()));
        }
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{name}: untouched");
    }
    // What a person reads for each damaged file: what is wrong with it, in words.
    insta::assert_snapshot!("malformed_input", all);
}

/// The deterministic stand-in for the cargo-fuzz target (`fuzz/`) in CI: mutate the fixtures
/// (byte flips, extreme values at 4-byte-aligned header offsets, truncation) and run the reader,
/// the editor, the signer and the verifier; none may panic.
#[test]
fn mutated_fixtures_never_panic_the_parser_or_writer() {
    use helix::macho::{self, Edit};
    let inputs = [
        std::fs::read(fixtures::path(fx(), "arm64")).unwrap(),
        std::fs::read(fixtures::path(fx(), "universal")).unwrap(),
        std::fs::read(fixtures::data().join("real/_speedups.cpython-312-darwin.so")).unwrap(),
    ];
    let edits = [
        Edit::Change { old: dep("zstd.1"), new: "@rpath/z".into() },
        Edit::Id { name: "@rpath/q".into() },
        Edit::AddRpath { path: "@loader_path".into() },
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let extremes =
        [0u32, 1, 7, 8, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_fff8, 0x1000, 0x4000];
    let mut failures = vec![];
    // Inputs on which cargo-fuzz once found a panic, replayed first.
    for e in std::fs::read_dir(fixtures::data().join("fuzz-regressions")).unwrap().flatten() {
        let b = std::fs::read(e.path()).unwrap();
        let r = std::panic::catch_unwind(|| {
            let _ = macho::info_bytes(&b, Path::new("x"));
            let _ = macho::verify_bytes(&b);
            let _ = macho::edit::edit_bytes(&b, &edits);
            let _ = macho::edit::sign_bytes(&b, "x");
        });
        assert!(r.is_ok(), "fuzz regression {} panics again", e.path().display());
    }
    for (n, input) in inputs.iter().enumerate() {
        for i in 0..1500 {
            let mut b = input.clone();
            let hot = 4096.min(b.len());
            match next() % 4 {
                0 => {
                    let at = (next() as usize % hot) & !3;
                    let v = extremes[next() as usize % extremes.len()];
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                1 => {
                    for _ in 0..1 + next() % 8 {
                        let at = next() as usize % hot;
                        b[at] ^= 1 << (next() % 8);
                    }
                }
                2 => {
                    let at = next() as usize % b.len();
                    b[at] = next() as u8;
                    let cut = next() as usize % b.len();
                    b.truncate(cut);
                }
                _ => {
                    // Corrupt the signature area.
                    let at = b.len() - 1 - (next() as usize % 600.min(b.len() - 1));
                    let at = at & !3;
                    if at + 4 <= b.len() {
                        let v = extremes[next() as usize % extremes.len()];
                        b[at..at + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
            let r = std::panic::catch_unwind(|| {
                let _ = macho::info_bytes(&b, Path::new("x"));
                let _ = macho::verify_bytes(&b);
                let _ = macho::edit::edit_bytes(&b, &edits);
                let _ = macho::edit::sign_bytes(&b, "x");
            });
            if r.is_err() {
                failures.push((n, i));
            }
        }
    }
    assert!(failures.is_empty(), "panics on mutations (input, iteration): {failures:?}");
}

#[test]
fn rhai_surface_reads_edits_signs_and_verifies() {
    let t = Test::new();
    let p = copy("unsigned", t.dir.path(), "r");
    let recipe = format!(
        r#"//! Mach-O primitives.
let f = "{f}";
let i = macho::info(f);
if i.signed {{ throw "fixture should be unsigned"; }}
if i.dylibs.len() != 17 {{ throw `dylibs: ${{i.dylibs.len()}}`; }}
let s = macho::sign_adhoc(f);
if !macho::verify(f).valid {{ throw "not valid after sign_adhoc"; }}
let r = macho::change(f, "{zstd}", "@rpath/zstd.1.framework/Versions/A/zstd.1");
print(r.signature);
let r = macho::change(f, "/absent.dylib", "/x");
print(`not_found=${{r.not_found.len()}} modified=${{r.modified}}`);
macho::set_id(f, "@rpath/q.framework/Versions/A/q");
macho::add_rpath(f, "@loader_path/../Frameworks");
macho::delete_rpath(f, "{sysroot}");
let i = macho::info(f);
print(`id=${{i.id}} rpaths=${{i.rpaths}} signed=${{i.signed}}`);
if !macho::verify(f).valid {{ throw "not valid after edits"; }}
macho::add_rpath(f, "@loader_path/../Frameworks");
"#,
        f = s(&p),
        zstd = dep("zstd.1"),
        sysroot = sysroot()
    );
    let t2 = Test::new().recipe("m", &recipe);
    let out = t2.helix(["run", "m"]);
    out.code(1);
    // What the recipe printed (the re-signing, not_found=1 modified=false, the new id, rpaths
    // and signed=true), then the duplicate LC_RPATH refused at recipes/m.rhai:18.
    let all = shown("run m", &out, t2.dir.path()).replace(&s(t.dir.path()), "<files>");
    insta::assert_snapshot!("rhai_surface", all);
    verify_ok(&t, &p);
}

#[test]
fn an_identity_signature_is_reported_invalid_not_silently_kept() {
    let t = Test::new();
    let p = copy("arm64", t.dir.path(), "i");
    // Turn the linker's ad-hoc CodeDirectory into a non-ad-hoc one (flags 0): a certificate
    // signature as far as helix can tell, which it cannot recompute.
    let mut b = std::fs::read(&p).unwrap();
    let dataoff = info(&t, &p)["slices"][0]["signature"]["dataoff"].as_u64().unwrap() as usize;
    b[dataoff + 24 + 12..dataoff + 24 + 16].copy_from_slice(&0u32.to_be_bytes());
    std::fs::write(&p, &b).unwrap();
    assert_eq!(info(&t, &p)["slices"][0]["signature"]["kind"], "identity");
    let out = t.helix([
        "macho",
        "set-id",
        &s(&p),
        "@rpath/q",
        "--identity",
        "Developer ID Application: X",
    ]);
    out.success();
    let mut all = shown(
        &format!("macho set-id {} @rpath/q --identity 'Developer ID Application: X'", s(&p)),
        &out,
        t.dir.path(),
    );
    let v = t.helix(["macho", "verify", &s(&p)]);
    v.code(1);
    all.push_str(&shown(&format!("macho verify {}", s(&p)), &v, t.dir.path()));
    // sign_adhoc replaces it with an ad-hoc signature that verifies.
    let out = t.helix(["macho", "sign", &s(&p)]);
    out.success();
    all.push_str(&shown(&format!("macho sign {}", s(&p)), &out, t.dir.path()));
    // The signature is INVALID now: re-sign it with codesign (macOS-only here); verify says
    // INVALID; `sign` replaces the identity signature.
    if cfg!(target_os = "macos") {
        assert!(all.contains("re-sign it with codesign"), "{all}");
    } else {
        insta::assert_snapshot!("identity_signature", all);
    }
    verify_ok(&t, &p);
}

/// `setxattr(2)`: Linux and macOS differ (macOS has a position and options).
///
/// # Safety
/// Plain FFI on valid C strings and a buffer.
#[cfg(target_os = "macos")]
unsafe fn set_xattr(p: &std::ffi::CStr, n: &std::ffi::CStr, v: &[u8]) -> libc::c_int {
    // SAFETY: the caller's pointers are valid for the call.
    unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), v.as_ptr().cast(), v.len(), 0, 0) }
}
#[cfg(not(target_os = "macos"))]
unsafe fn set_xattr(p: &std::ffi::CStr, n: &std::ffi::CStr, v: &[u8]) -> libc::c_int {
    // SAFETY: the caller's pointers are valid for the call.
    unsafe { libc::setxattr(p.as_ptr(), n.as_ptr(), v.as_ptr().cast(), v.len(), 0) }
}

/// `getxattr(2)` into `buf`: the value's length, or -1.
///
/// # Safety
/// Plain FFI on valid C strings and a buffer.
#[cfg(target_os = "macos")]
unsafe fn get_xattr(p: &std::ffi::CStr, n: &std::ffi::CStr, buf: &mut [u8]) -> isize {
    // SAFETY: the caller's pointers are valid for the call.
    unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), 0, 0) }
}
#[cfg(not(target_os = "macos"))]
unsafe fn get_xattr(p: &std::ffi::CStr, n: &std::ffi::CStr, buf: &mut [u8]) -> isize {
    // SAFETY: the caller's pointers are valid for the call.
    unsafe { libc::getxattr(p.as_ptr(), n.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) }
}

#[test]
fn the_replaced_file_keeps_its_mode_and_extended_attributes() {
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new();
    let p = copy("arm64", t.dir.path(), "m");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o751)).unwrap();
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let (cp, name) = (c(&s(&p)), c("user.helix-test"));
    // SAFETY: valid C strings and a 3-byte value.
    let set = unsafe { set_xattr(&cp, &name, b"yes") };
    let xattrs = set == 0; // some filesystems (tmpfs without user xattrs) refuse
    t.helix(["macho", "set-id", &s(&p), "@rpath/m"]).success();
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777, 0o751);
    if xattrs {
        let mut buf = [0u8; 8];
        // SAFETY: as above, with an 8-byte buffer.
        let n = unsafe { get_xattr(&cp, &name, &mut buf) };
        assert_eq!(n, 3, "xattr lost");
        assert_eq!(&buf[..3], b"yes");
    }
    // No temp files left beside it.
    let left: Vec<_> =
        std::fs::read_dir(p.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

#[test]
fn no_op_edits_write_nothing_the_inode_stays_and_nothing_is_journaled() {
    use std::os::unix::fs::MetadataExt;
    let t = Test::new().recipe(
        "noop",
        r#"//! No-op edits.
//! @param f File (required)
let id = macho::info(args.f).id;
let dep = macho::info(args.f).dylibs[0].name;
let a = macho::set_id(args.f, id);
let b = macho::change(args.f, dep, dep);
let m = #{};
m[dep] = dep;
let c = macho::edit(args.f, #{ id: id, change: m });
print(`modified=${a.modified}/${b.modified}/${c.modified}`);
print(`already=${a.already.len()}/${b.already.len()}/${c.already.len()}`);
print(`changes=${a.changes.len() + b.changes.len() + c.changes.len()}`);
"#,
    );
    for variant in ["arm64", "universal"] {
        let p = copy(variant, t.dir.path(), variant);
        let before = std::fs::read(&p).unwrap();
        let (ino, mtime) = {
            let m = std::fs::metadata(&p).unwrap();
            (m.ino(), m.mtime_nsec())
        };
        let out = t.helix(["run", "noop", "--f", &s(&p)]);
        out.success();
        // Nothing modified, every edit already as wanted (once per slice), no changes.
        insta::assert_snapshot!(
            format!("no_op_edits_{variant}"),
            shown(&format!("run noop --f {}", s(&p)), &out, t.dir.path())
        );
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!((m.ino(), m.mtime_nsec()), (ino, mtime), "{variant}: the file was replaced");
        assert_eq!(std::fs::read(&p).unwrap(), before, "{variant}: bytes changed (re-signed?)");
    }
    // No journal entry, no backup kept.
    let journal: String = std::fs::read_dir(t.path("state/runs"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(!journal.contains("macho.edit"), "{journal}");
    let trash = t.path("state/trash");
    let kept = std::fs::read_dir(&trash).map(|d| d.count()).unwrap_or(0);
    assert_eq!(kept, 0, "a backup was kept in {}", trash.display());
    assert!(!t.path("state/trash-dirs").exists(), "a backup was kept in another trash");
    // The CLI says it too.
    let p = copy("arm64", t.dir.path(), "cli");
    let id = info(&t, &p)["slices"][0]["id"].as_str().unwrap().to_string();
    let out = t.helix(["macho", "set-id", &s(&p), &id]);
    out.success();
    insta::assert_snapshot!(
        "no_op_set_id",
        shown(&format!("macho set-id {} {id}", s(&p)), &out, t.dir.path())
    );
}
