// Builds the Mach-O test fixtures at run time with clang and ld64.lld (LLVM 14) against the
// hand-written .tbd stubs beside this file. Shared by tests/test/macho.rs and benches/macho.rs
// through `include!`. Nothing here is committed as a binary.

#[allow(dead_code)]
pub mod fixtures {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub const LLVM: &str = "/usr/lib/llvm-14/bin";
    pub const USER: &str = "luke";
    /// The 15 UTM sysroot libraries the legacy static fixer rewrote (plus libffi).
    pub const SYSROOT_LIBS: [&str; 15] = [
        "pixman-1.0",
        "png16.16",
        "jpeg.62",
        "epoxy.0",
        "gio-2.0.0",
        "gobject-2.0.0",
        "glib-2.0.0",
        "zstd.1",
        "slirp.0",
        "spice-server.1",
        "virglrenderer.1",
        "usbredirparser.1",
        "usb-1.0.0",
        "gmodule-2.0.0",
        "ffi.8",
    ];
    pub const NAME: &str = "libqemu-aarch64-softmmu.dylib";

    pub fn data() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/macho")
    }

    pub fn sysroot() -> String {
        format!("/Users/{USER}/pm/UTM/sysroot-macOS-arm64/lib")
    }

    pub fn tool(name: &str) -> String {
        format!("{LLVM}/{name}")
    }

    pub fn have_tools() -> bool {
        ["clang", "ld64.lld", "llvm-install-name-tool", "llvm-otool", "llvm-lipo"]
            .iter()
            .all(|t| Path::new(&tool(t)).exists())
    }

    #[track_caller]
    pub fn run(argv: &[&str]) -> String {
        let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        assert!(out.status.success(), "{argv:?} failed:\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// One linked variant: `dir/<variant>/libqemu-aarch64-softmmu.dylib`.
    pub fn path(dir: &Path, variant: &str) -> PathBuf {
        dir.join(variant).join(NAME)
    }

    fn symbol(lib: &str) -> String {
        lib.replace(['-', '.'], "_")
    }

    /// Stubs, objects and every variant: `arm64` (linker-signed, -headerpad_max_install_names),
    /// `x86_64` (unsigned), `universal` (llvm-lipo of both), `nopad` (-headerpad 0),
    /// `unsigned` (arm64, -no_adhoc_codesign), `kinds` (arm64 with a re-exported library) and, with `blob_mb`, `big` (a QEMU-sized arm64 dylib).
    pub fn build(dir: &Path, blob_mb: u32) {
        let stubs = dir.join("stubs");
        std::fs::create_dir_all(&stubs).unwrap();
        let template = std::fs::read_to_string(data().join("sysroot-lib.tbd.in")).unwrap();
        let mut tbds = vec![];
        for lib in SYSROOT_LIBS {
            let p = stubs.join(format!("lib{lib}.tbd"));
            std::fs::write(&p, template.replace("@DIR@", &sysroot()).replace("@LIB@", lib).replace("@SYM@", &symbol(lib))).unwrap();
            tbds.push(p.display().to_string());
        }
        let src = data().join("qemu.c").display().to_string();
        for (arch, target) in [("arm64", "arm64-apple-macos11"), ("x86_64", "x86_64-apple-macos11")] {
            let o = dir.join(format!("qemu-{arch}.o")).display().to_string();
            run(&[&tool("clang"), "-target", target, "-ffreestanding", "-O1", "-c", &src, "-o", &o]);
        }
        let link = |variant: &str, arch: &str, obj: &str, extra: &[&str]| {
            let out = path(dir, variant);
            std::fs::create_dir_all(out.parent().unwrap()).unwrap();
            let id = format!("{}/{NAME}", sysroot());
            let system = data().join("libSystem.B.tbd").display().to_string();
            let gnutls = data().join("homebrew-gnutls.tbd").display().to_string();
            let out_s = out.display().to_string();
            let sr = sysroot();
            let mut argv: Vec<&str> = vec![
                "ld64.lld", "-arch", arch, "-platform_version", "macos", "11.0", "11.0", "-dylib", "-install_name", &id,
                "-current_version", "9.2.0", "-compatibility_version", "1.0", "-rpath", &sr, "-o", &out_s, obj, &system, &gnutls,
            ];
            argv.extend_from_slice(extra);
            // libpng weak and, in `kinds`, libjpeg re-exported: kinds other than plain `load`
            // (llvm-install-name-tool 14 refuses LC_REEXPORT_DYLIB, so only there).
            for t in &tbds {
                if t.ends_with("libpng16.16.tbd") {
                    argv.extend(["-weak_library", t.as_str()]);
                } else if t.ends_with("libjpeg.62.tbd") && variant == "kinds" {
                    argv.extend(["-reexport_library", t.as_str()]);
                } else {
                    argv.push(t.as_str());
                }
            }
            let lld = tool("ld64.lld");
            argv[0] = &lld;
            run(&argv);
        };
        let arm = dir.join("qemu-arm64.o").display().to_string();
        let x86 = dir.join("qemu-x86_64.o").display().to_string();
        link("arm64", "arm64", &arm, &["-headerpad_max_install_names"]);
        link("x86_64", "x86_64", &x86, &["-headerpad_max_install_names"]);
        link("nopad", "arm64", &arm, &["-headerpad", "0"]);
        link("kinds", "arm64", &arm, &["-headerpad_max_install_names"]);
        link("unsigned", "arm64", &arm, &["-headerpad_max_install_names", "-no_adhoc_codesign"]);
        let u = path(dir, "universal");
        std::fs::create_dir_all(u.parent().unwrap()).unwrap();
        run(&[
            &tool("llvm-lipo"),
            "-create",
            &path(dir, "arm64").display().to_string(),
            &path(dir, "x86_64").display().to_string(),
            "-output",
            &u.display().to_string(),
        ]);
        if blob_mb > 0 {
            let o = dir.join("qemu-big.o").display().to_string();
            let def = format!("-DBLOB_MB={blob_mb}");
            run(&[&tool("clang"), "-target", "arm64-apple-macos11", "-ffreestanding", "-O1", &def, "-c", &src, "-o", &o]);
            link("big", "arm64", &o, &["-headerpad_max_install_names"]);
        }
    }
}
