//! macOS-only tests: helix against the real Apple tools it replaces or drives — `codesign`,
//! `otool`, `install_name_tool`, Homebrew, `clonefile` on APFS. Compiled only for macOS
//! (`.github/workflows/macos.yml` runs them on an Apple Silicon runner); on Linux the darwin
//! check (`scripts/check-darwin`) keeps them compiling.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::builder::Test;
use crate::support::cmd::{s, stdout_of as run};

/// A real arm64 dylib built by Apple's clang, linked against a second one (so it has a
/// dependency to change), with room for longer install names.
fn dylibs(dir: &Path) -> (PathBuf, PathBuf) {
    let dep_c = dir.join("dep.c");
    std::fs::write(&dep_c, "int dep(void) { return 7; }\n").unwrap();
    let dep = dir.join("libdep.dylib");
    run(Command::new("clang")
        .args(["-dynamiclib", "-arch", "arm64", "-install_name"])
        .arg("/opt/old/lib/libdep.dylib")
        .arg("-o")
        .arg(&dep)
        .arg(&dep_c));
    let main_c = dir.join("main.c");
    std::fs::write(&main_c, "int dep(void);\nint twice(void) { return 2 * dep(); }\n").unwrap();
    let lib = dir.join("libmain.dylib");
    run(Command::new("clang")
        .args(["-dynamiclib", "-arch", "arm64", "-headerpad_max_install_names", "-install_name"])
        .arg("/opt/old/lib/libmain.dylib")
        .arg("-o")
        .arg(&lib)
        .arg(&main_c)
        .arg(&dep));
    (lib, dep)
}

fn otool_l(file: &Path) -> String {
    run(Command::new("otool").arg("-L").arg(file))
}

#[test]
fn codesign_verifies_a_dylib_helix_changed_and_re_signed() {
    let t = Test::new();
    let (lib, _) = dylibs(t.dir.path());
    t.helix(["macho", "set-id", &s(&lib), "@rpath/libmain.dylib"]).success();
    t.helix(["macho", "change", &s(&lib), "/opt/old/lib/libdep.dylib", "@rpath/libdep.dylib"])
        .success();
    run(Command::new("codesign").args(["--verify", "--strict", "--verbose=2"]).arg(&lib));
}

#[test]
fn otool_sees_what_helix_macho_info_reports() {
    let t = Test::new();
    let (lib, _) = dylibs(t.dir.path());
    let out = t.helix(["macho", "info", &s(&lib), "--json"]);
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let otool = otool_l(&lib);
    let text = v.to_string();
    for line in otool.lines().skip(1) {
        let name = line.split_whitespace().next().unwrap();
        assert!(text.contains(name), "{name} from otool -L is not in helix's info:\n{text}");
    }
}

/// The same edit by Apple's `install_name_tool` and by helix: `otool -L` reads the same, and
/// helix's file verifies under `codesign` without a separate re-sign.
#[test]
fn helix_edits_match_apples_install_name_tool() {
    let t = Test::new();
    let (lib, _) = dylibs(t.dir.path());
    let apple = t.path("apple.dylib");
    let ours = t.path("ours.dylib");
    std::fs::copy(&lib, &apple).unwrap();
    std::fs::copy(&lib, &ours).unwrap();
    run(Command::new("install_name_tool")
        .args(["-change", "/opt/old/lib/libdep.dylib", "@rpath/libdep.dylib"])
        .args(["-id", "@rpath/libmain.dylib", "-add_rpath", "@loader_path/../Frameworks"])
        .arg(&apple));
    t.helix(["macho", "change", &s(&ours), "/opt/old/lib/libdep.dylib", "@rpath/libdep.dylib"])
        .success();
    t.helix(["macho", "set-id", &s(&ours), "@rpath/libmain.dylib"]).success();
    t.helix(["macho", "add-rpath", &s(&ours), "@loader_path/../Frameworks"]).success();
    let strip = |f: &Path| otool_l(f).lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&ours), strip(&apple));
    let rpaths = |f: &Path| {
        run(Command::new("otool").arg("-l").arg(f))
            .lines()
            .filter(|l| l.trim_start().starts_with("path "))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(rpaths(&ours), rpaths(&apple));
    run(Command::new("codesign").args(["--verify", "--strict"]).arg(&ours));
}

/// Homebrew's keg-only bison is found under `brew --prefix`, ahead of Apple's bison 2.3 on
/// `PATH` (the QEMU build needs bison >= 3). The workflow installs bison first.
#[test]
fn homebrew_is_found_with_brew_prefix_and_its_keg_only_tools_come_first() {
    let prefix = run(Command::new("brew").arg("--prefix")).trim().to_string();
    let keg = Path::new(&prefix).join("opt/bison/bin/bison");
    if !keg.exists() {
        panic!("run `brew install bison` first (the macOS workflow does)");
    }
    let t = Test::new()
        .env("HOMEBREW_PREFIX", "")
        .recipe("b", "//! B.\nprint(deps::find(\"bison\"));\nprint(deps::version(\"bison\"));\n");
    let out = t.helix(["run", "b"]);
    out.success().stdout_has(&s(&keg));
    assert!(!out.stdout.contains("2.3"), "{}", out.stdout);
}

/// On APFS a backup copy is a `clonefile(2)` clone: instant, no data copied.
#[test]
fn clone_file_uses_clonefile_on_apfs() {
    let t = Test::new().recipe(
        "c",
        "//! C.\nlet r = fs::clone_file(\"big.img\", \"big.backup.img\");\nprint(r.method);\n",
    );
    std::fs::write(t.path("big.img"), vec![7u8; 1 << 20]).unwrap();
    let out = t.helix(["run", "c"]);
    out.success().stdout_has("clone");
    assert_eq!(std::fs::read(t.path("big.backup.img")).unwrap(), vec![7u8; 1 << 20]);
}
