//! Fixtures for the macOS-only parts of the world, made real on Linux: a fake macOS SDK
//! (a `libSystem` text stub), UTM's dependency sysroot (`pkg-config` + `.pc` files + `.tbd`
//! stubs whose install names are absolute sysroot paths), a fake `UTM.app` with real arm64
//! Mach-O framework binaries, and a fake QEMU source tree (`tests/data/fake-qemu`) whose
//! `configure` + meson/ninja build links an arm64 Mach-O `libqemu-aarch64-softmmu.dylib`
//! with clang + ld64.lld against that sysroot.
//!
//! Layout under a test's `root` (use a temp dir as `HOME`-like root):
//! - `MacOSX.sdk/usr/lib/libSystem.tbd`                 — [`fake_sdk`]
//! - `pm/UTM/sysroot-macOS-arm64/`                      — [`fake_sysroot`]
//! - `pm/qemu-utm/`                                     — [`fake_qemu_src`]
//! - `Applications/UTM.app/`                            — [`fake_utm_app`]
//!
//! Run `configure` with [`build_env`] (what the legacy script exports, plus `SDKROOT`).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::macho::{contains, otool};

/// One library of UTM's sysroot: its pkg-config name, the `-l` name, the install name's
/// file name (what `otool -L` shows under `<sysroot>/lib/`), its version and one symbol.
pub struct Lib {
    pub pc: &'static str,
    pub link: &'static str,
    pub dylib: &'static str,
    pub version: &'static str,
    pub symbol: &'static str,
}

impl Lib {
    /// The framework name UTM bundles it as (`libpixman-1.0.dylib` → `pixman-1.0`).
    pub fn framework(&self) -> &'static str {
        self.dylib.trim_start_matches("lib").trim_end_matches(".dylib")
    }
    fn is_spice(&self) -> bool {
        self.pc.starts_with("spice-")
    }
}

/// The 14 linked libraries of the legacy fixer's mapping (the 15th entry is QEMU itself)
/// plus the header-only `spice-protocol` (`dylib` empty).
pub const LIBS: &[Lib] = &[
    Lib {
        pc: "glib-2.0",
        link: "glib-2.0",
        dylib: "libglib-2.0.0.dylib",
        version: "2.80.0",
        symbol: "_g_main_loop_new",
    },
    Lib {
        pc: "gio-2.0",
        link: "gio-2.0",
        dylib: "libgio-2.0.0.dylib",
        version: "2.80.0",
        symbol: "_g_file_new_for_path",
    },
    Lib {
        pc: "gobject-2.0",
        link: "gobject-2.0",
        dylib: "libgobject-2.0.0.dylib",
        version: "2.80.0",
        symbol: "_g_object_new",
    },
    Lib {
        pc: "gmodule-2.0",
        link: "gmodule-2.0",
        dylib: "libgmodule-2.0.0.dylib",
        version: "2.80.0",
        symbol: "_g_module_open",
    },
    Lib {
        pc: "pixman-1",
        link: "pixman-1",
        dylib: "libpixman-1.0.dylib",
        version: "0.42.2",
        symbol: "_pixman_image_create_bits",
    },
    Lib {
        pc: "libpng16",
        link: "png16",
        dylib: "libpng16.16.dylib",
        version: "1.6.43",
        symbol: "_png_create_write_struct",
    },
    Lib {
        pc: "libjpeg",
        link: "jpeg",
        dylib: "libjpeg.62.dylib",
        version: "3.0.2",
        symbol: "_jpeg_CreateCompress",
    },
    Lib {
        pc: "epoxy",
        link: "epoxy",
        dylib: "libepoxy.0.dylib",
        version: "1.5.10",
        symbol: "_epoxy_gl_version",
    },
    Lib {
        pc: "libzstd",
        link: "zstd",
        dylib: "libzstd.1.dylib",
        version: "1.5.6",
        symbol: "_ZSTD_compressBound",
    },
    Lib {
        pc: "slirp",
        link: "slirp",
        dylib: "libslirp.0.dylib",
        version: "4.8.0",
        symbol: "_slirp_new",
    },
    Lib {
        pc: "spice-server",
        link: "spice-server",
        dylib: "libspice-server.1.dylib",
        version: "0.15.1",
        symbol: "_spice_server_new",
    },
    Lib { pc: "spice-protocol", link: "", dylib: "", version: "0.14.4", symbol: "" },
    Lib {
        pc: "virglrenderer",
        link: "virglrenderer",
        dylib: "libvirglrenderer.1.dylib",
        version: "1.0.1",
        symbol: "_virgl_renderer_init",
    },
    Lib {
        pc: "libusbredirparser-0.5",
        link: "usbredirparser",
        dylib: "libusbredirparser.1.dylib",
        version: "0.13.0",
        symbol: "_usbredirparser_create",
    },
    Lib {
        pc: "libusb-1.0",
        link: "usb-1.0",
        dylib: "libusb-1.0.0.dylib",
        version: "1.0.27",
        symbol: "_libusb_init",
    },
];

/// The library `fake_utm_app` ships loose (`Frameworks/libusb-1.0.0.dylib`, UTM's older layout).
pub const LOOSE_DYLIB: &str = "libusb-1.0.0.dylib";

/// The string the fake QEMU's helix module carries (`hw/display/helix/helix-frame-export.m`).
pub const VERSION_STRING: &str = "HELIX_FRAME_EXPORT_VERSION=v3 DisplaySurface";

/// The string only UTM's original QEMU framework binary carries.
pub const ORIGINAL_MARKER: &str = "UTM-ORIGINAL-QEMU qemu-aarch64-softmmu 10.0.2";

/// The flags `build-qemu-standalone.sh` passes to `./configure` (after `--prefix=`).
pub const CONFIGURE_FLAGS: &[&str] = &[
    "--target-list=aarch64-softmmu",
    "-Dshared_lib=true",
    "-Dcocoa=disabled",
    "-Db_pie=false",
    "-Ddocs=disabled",
    "-Dplugins=true",
    "-Dsdl=disabled",
];

/// `<root>/pm/UTM/sysroot-macOS-arm64`, with SPICE (see [`fake_sysroot_opts`]).
pub fn fake_sysroot(root: &Path) -> PathBuf {
    fake_sysroot_opts(root, false)
}

/// Creates `<root>/pm/UTM/sysroot-macOS-arm64/` (and the SDK, [`fake_sdk`]):
/// - `host/bin/pkg-config`: the system pkg-config restricted to `lib/pkgconfig`;
/// - `lib/pkgconfig/<pc>.pc` for every [`LIBS`] entry (`libpng.pc` too), without
///   `spice-server.pc`/`spice-protocol.pc` when `without_spice`;
/// - `lib/lib<link>.tbd`: text stubs whose install name is `<sysroot>/lib/<dylib>`;
/// - empty `include/` and `Frameworks/`.
pub fn fake_sysroot_opts(root: &Path, without_spice: bool) -> PathBuf {
    fake_sdk(root);
    let sysroot = root.join("pm/UTM/sysroot-macOS-arm64");
    let lib = sysroot.join("lib");
    for d in ["host/bin", "lib/pkgconfig", "include", "Frameworks"] {
        std::fs::create_dir_all(sysroot.join(d)).unwrap();
    }
    for l in LIBS {
        if without_spice && l.is_spice() {
            continue;
        }
        let libs = if l.link.is_empty() {
            String::new()
        } else {
            write_tbd(
                &lib.join(format!("lib{}.tbd", l.link)),
                &lib.join(l.dylib).display().to_string(),
                &[l.symbol],
            );
            format!("Libs: -L${{libdir}} -l{}\n", l.link)
        };
        let pc = format!(
            "prefix={}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n\
             Name: {}\nDescription: {} (helix fake UTM sysroot)\nVersion: {}\n{}Cflags: -I${{includedir}}\n",
            sysroot.display(),
            l.pc,
            l.pc,
            l.version,
            libs
        );
        std::fs::write(lib.join(format!("pkgconfig/{}.pc", l.pc)), &pc).unwrap();
        if l.pc == "libpng16" {
            std::fs::write(lib.join("pkgconfig/libpng.pc"), &pc).unwrap();
        }
    }
    let real = system_pkg_config(&sysroot);
    write_exec(
        &sysroot.join("host/bin/pkg-config"),
        &format!(
            "#!/bin/sh\n# UTM sysroot pkg-config (helix fixture): only this sysroot's .pc files.\n\
             PKG_CONFIG_LIBDIR='{}' PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR= exec '{}' \"$@\"\n",
            lib.join("pkgconfig").display(),
            real.display()
        ),
    );
    sysroot
}

/// Creates `<root>/MacOSX.sdk` with `usr/lib/libSystem.tbd` (install name
/// `/usr/lib/libSystem.B.dylib`, exporting `dyld_stub_binder` and a few libc symbols): what
/// clang's darwin driver links every Mach-O against. Pass it as `SDKROOT`.
pub fn fake_sdk(root: &Path) -> PathBuf {
    let sdk = root.join("MacOSX.sdk");
    let tbd = sdk.join("usr/lib/libSystem.tbd");
    if !tbd.exists() {
        std::fs::create_dir_all(tbd.parent().unwrap()).unwrap();
        std::fs::create_dir_all(sdk.join("usr/include")).unwrap();
        let syms = [
            "dyld_stub_binder",
            "_malloc",
            "_free",
            "_memcpy",
            "_memset",
            "_bzero",
            "_strlen",
            "___stack_chk_fail",
            "___stack_chk_guard",
        ];
        write_tbd(&tbd, "/usr/lib/libSystem.B.dylib", &syms);
    }
    sdk
}

/// Copies `tests/data/fake-qemu` to `<root>/pm/qemu-utm` (a git repo with one commit on
/// branch `utm-edition-venus-helix`, `/build/` ignored) and returns that path. A second call
/// on the same root changes nothing.
pub fn fake_qemu_src(root: &Path) -> PathBuf {
    let dst = root.join("pm/qemu-utm");
    if dst.join(".git").exists() {
        return dst;
    }
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fake-qemu"), &dst);
    std::fs::write(dst.join(".gitignore"), "/build/\n").unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=fixture",
                "-c",
                "user.email=fixture@example.invalid",
                "-c",
                "init.defaultBranch=utm-edition-venus-helix",
            ])
            .args(args)
            .current_dir(&dst)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fake qemu-utm"]);
    dst
}

/// The environment `build-qemu-standalone.sh` sets for configure/ninja, plus `SDKROOT` (the
/// fake SDK, which on a Mac comes from Xcode): `PKG_CONFIG`, `PKG_CONFIG_PATH`, `PATH` (sysroot
/// `host/bin` first), `MACOSX_DEPLOYMENT_TARGET=14.0`.
pub fn build_env(root: &Path, sysroot: &Path) -> Vec<(String, String)> {
    let path = format!(
        "{}:{}",
        sysroot.join("host/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    vec![
        ("PKG_CONFIG".into(), sysroot.join("host/bin/pkg-config").display().to_string()),
        ("PKG_CONFIG_PATH".into(), sysroot.join("lib/pkgconfig").display().to_string()),
        ("PATH".into(), path),
        ("MACOSX_DEPLOYMENT_TARGET".into(), "14.0".into()),
        ("SDKROOT".into(), fake_sdk(root).display().to_string()),
    ]
}

/// Creates `<root>/Applications/UTM.app` and returns its path:
/// - `Contents/Info.plist` (`com.utmapp.UTM`, version 5.0.6), `Contents/MacOS/UTM` (a real
///   arm64 Mach-O executable) and `Contents/MacOS/utmctl` (a placeholder that fails: install a
///   double over it if a test needs one);
/// - `Contents/Frameworks/<name>.framework/` for every linked [`LIBS`] entry except
///   [`LOOSE_DYLIB`]: `Versions/A/<name>` is a real arm64 MH_DYLIB (linker-signed by ld64.lld,
///   id `@rpath/<name>.framework/Versions/A/<name>`, exporting the library's symbol), with
///   `Versions/A/Resources/Info.plist`, `Versions/Current -> A`, `<name>` and `Resources` symlinks;
/// - `Contents/Frameworks/libusb-1.0.0.dylib` (id `@rpath/libusb-1.0.0.dylib`);
/// - `qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu`: UTM's ORIGINAL QEMU, a real
///   arm64 MH_DYLIB carrying [`ORIGINAL_MARKER`], linked against the frameworks above.
///
/// All binaries are linker-signed (ad-hoc) by ld64.lld. Calling it again rebuilds every binary
/// (so it would replace an installed custom QEMU): call it once per root.
pub fn fake_utm_app(root: &Path) -> PathBuf {
    let sdk = fake_sdk(root);
    let app = root.join("Applications/UTM.app");
    let contents = app.join("Contents");
    let fw = contents.join("Frameworks");
    std::fs::create_dir_all(contents.join("MacOS")).unwrap();
    std::fs::create_dir_all(&fw).unwrap();
    std::fs::write(
        contents.join("Info.plist"),
        info_plist("UTM", "com.utmapp.UTM", "APPL", "5.0.6"),
    )
    .unwrap();
    std::fs::write(contents.join("PkgInfo"), "APPL????").unwrap();
    write_exec(
        &contents.join("MacOS/utmctl"),
        "#!/bin/sh\necho 'utmctl: fixture placeholder (install a utmctl double for this test)' >&2\nexit 1\n",
    );

    let work = root.join(".fake-utm-build");
    std::fs::create_dir_all(&work).unwrap();
    let mut c = String::new();
    for l in LIBS.iter().filter(|l| !l.symbol.is_empty()) {
        c.push_str(&format!("int {}(void) {{ return 0; }}\n", &l.symbol[1..]));
    }
    std::fs::write(work.join("libs.c"), c).unwrap();
    let mut src = format!(
        "__attribute__((used, visibility(\"default\"))) const char utm_original_qemu[] = \"{ORIGINAL_MARKER}\";\n"
    );
    for l in LIBS.iter().filter(|l| !l.symbol.is_empty()) {
        src.push_str(&format!("extern int {}(void);\n", &l.symbol[1..]));
    }
    src.push_str("int qemu_init(void) { return 0");
    for l in LIBS.iter().filter(|l| !l.symbol.is_empty()) {
        src.push_str(&format!(" + {}()", &l.symbol[1..]));
    }
    src.push_str("; }\n");
    std::fs::write(work.join("qemu.c"), src).unwrap();
    std::fs::write(work.join("main.c"), "int main(void) { return 0; }\n").unwrap();
    clang(&sdk, &["-c", "libs.c", "qemu.c", "main.c"], &work);

    // ld64.lld directly (3x faster than through the clang driver); the links run in parallel.
    let mut qemu_links = vec![];
    let mut links = vec![];
    for l in LIBS.iter().filter(|l| !l.dylib.is_empty()) {
        let name = l.framework();
        let (bin, id) = if l.dylib == LOOSE_DYLIB {
            (fw.join(l.dylib), format!("@rpath/{}", l.dylib))
        } else {
            let dir = fw.join(format!("{name}.framework"));
            let a = dir.join("Versions/A");
            std::fs::create_dir_all(a.join("Resources")).unwrap();
            let id = format!(
                "org.helix.fixture.{}",
                name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
            );
            std::fs::write(
                a.join("Resources/Info.plist"),
                info_plist(name, &id, "FMWK", l.version),
            )
            .unwrap();
            symlink("A", &dir.join("Versions/Current"));
            symlink(&format!("Versions/Current/{name}"), &dir.join(name));
            symlink("Versions/Current/Resources", &dir.join("Resources"));
            (a.join(name), format!("@rpath/{name}.framework/Versions/A/{name}"))
        };
        let bin_s = bin.display().to_string();
        links.push(ld64(&sdk, &["-dylib", "libs.o", "-o", &bin_s, "-install_name", &id], &work));
        qemu_links.push(bin_s);
    }
    links.into_iter().for_each(wait_ok);

    // UTM's original QEMU, and the app's main executable.
    let q = fw.join("qemu-aarch64-softmmu.framework");
    let qa = q.join("Versions/A");
    std::fs::create_dir_all(qa.join("Resources")).unwrap();
    std::fs::write(
        qa.join("Resources/Info.plist"),
        info_plist("qemu-aarch64-softmmu", "com.utmapp.qemu-aarch64-softmmu", "FMWK", "10.0.2"),
    )
    .unwrap();
    symlink("A", &q.join("Versions/Current"));
    symlink("Versions/Current/qemu-aarch64-softmmu", &q.join("qemu-aarch64-softmmu"));
    symlink("Versions/Current/Resources", &q.join("Resources"));
    let qbin = qa.join("qemu-aarch64-softmmu").display().to_string();
    let mut args: Vec<&str> = vec![
        "-dylib",
        "qemu.o",
        "-o",
        &qbin,
        "-install_name",
        "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu",
        "-rpath",
        "@loader_path/../../..",
    ];
    args.extend(qemu_links.iter().map(String::as_str));
    let main = contents.join("MacOS/UTM").display().to_string();
    let exe = ["main.o", "-o", &main, "-rpath", "@executable_path/../Frameworks"];
    [ld64(&sdk, &args, &work), ld64(&sdk, &exe, &work)].into_iter().for_each(wait_ok);
    std::fs::remove_dir_all(&work).unwrap();
    app
}

/// `llvm-otool` (Debian installs it only as `/usr/lib/llvm-<N>/bin/llvm-otool`).
pub fn llvm_tool(name: &str) -> PathBuf {
    for dir in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(PathBuf::from)
        .chain((13..=20).rev().map(|v| PathBuf::from(format!("/usr/lib/llvm-{v}/bin"))))
    {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} not found (install llvm)");
}

/// Starts `ld64.lld` as clang's darwin driver would run it for arm64 macOS 11.
fn ld64(sdk: &Path, args: &[&str], cwd: &Path) -> (String, std::process::Child) {
    static LD64: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let ld = LD64.get_or_init(|| {
        let out = Command::new("clang").arg("-print-prog-name=ld64.lld").output().expect("clang");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    });
    let child = Command::new(ld)
        .args(["-arch", "arm64", "-platform_version", "macos", "11.0", "11.0", "-syslibroot"])
        .arg(sdk)
        .args(["-lSystem", "-headerpad_max_install_names"])
        .args(args)
        .current_dir(cwd)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} runs: {e}", ld.display()));
    (format!("ld64.lld {args:?}"), child)
}

fn wait_ok((what, child): (String, std::process::Child)) {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{what} failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

/// Compiles (only) for arm64 macOS 11 against the fake SDK.
fn clang(sdk: &Path, args: &[&str], cwd: &Path) {
    let out = Command::new("clang")
        .args(["-target", "arm64-apple-macos11", "-isysroot"])
        .arg(sdk)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("clang runs");
    assert!(
        out.status.success(),
        "clang {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_tbd(path: &Path, install_name: &str, symbols: &[&str]) {
    let text = format!(
        "--- !tapi-tbd\ntbd-version:     4\ntargets:         [ arm64-macos ]\ninstall-name:    '{install_name}'\n\
         current-version: 1.0\ncompatibility-version: 1.0\nexports:\n  - targets:         [ arm64-macos ]\n    \
         symbols:         [ {} ]\n...\n",
        symbols.join(", ")
    );
    std::fs::write(path, text).unwrap();
}

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn symlink(target: &str, link: &Path) {
    if link.symlink_metadata().is_err() {
        std::os::unix::fs::symlink(target, link).unwrap();
    }
}

/// The system pkg-config (not a sysroot wrapper: the legacy PATH puts `host/bin` first).
fn system_pkg_config(sysroot: &Path) -> PathBuf {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| Path::new(d).join("pkg-config"))
        .find(|p| {
            p.is_file()
                && !p.starts_with(sysroot)
                && !p.to_string_lossy().contains("sysroot-macOS-arm64")
        })
        .unwrap_or_else(|| PathBuf::from("/usr/bin/pkg-config"))
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap(); // keeps the mode (configure stays executable)
        }
    }
}

fn info_plist(name: &str, id: &str, kind: &str, version: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>{name}</string>
	<key>CFBundleIdentifier</key>
	<string>{id}</string>
	<key>CFBundleName</key>
	<string>{name}</string>
	<key>CFBundlePackageType</key>
	<string>{kind}</string>
	<key>CFBundleShortVersionString</key>
	<string>{version}</string>
	<key>CFBundleVersion</key>
	<string>{version}</string>
	<key>LSMinimumSystemVersion</key>
	<string>11.0</string>
</dict>
</plist>
"#
    )
}

// ---------------------------------------------------------------------------------------------
// Tests: the fixtures are real.

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

fn configure(root: &Path, sysroot: &Path, src: &Path) -> String {
    run(Command::new("./configure")
        .arg(format!("--prefix={}", sysroot.display()))
        .args(CONFIGURE_FLAGS)
        .envs(build_env(root, sysroot))
        .current_dir(src))
}

fn ninja(root: &Path, sysroot: &Path, src: &Path, extra: &[&str]) -> String {
    run(Command::new("ninja")
        .args(["-C", "build"])
        .args(extra)
        .envs(build_env(root, sysroot))
        .current_dir(src))
}

#[test]
fn fake_qemu_builds_an_arm64_dylib_linked_into_the_sysroot_and_rebuilds_nothing_twice() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let sysroot = fake_sysroot(root);
    let src = fake_qemu_src(root);
    let t = std::time::Instant::now();
    configure(root, &sysroot, &src);
    let log = std::fs::read_to_string(src.join("build/meson-logs/meson-log.txt")).unwrap();
    assert!(
        log.lines().any(|l| l.trim_start().starts_with("spice protocol support: YES")),
        "{log}"
    );
    let configured = t.elapsed();
    let out = ninja(root, &sysroot, &src, &[]);
    assert!(out.contains("Linking target libqemu-aarch64-softmmu.dylib"), "{out}");
    ninja(root, &sysroot, &src, &["install"]);
    eprintln!("configure {configured:?}, build+install {:?}", t.elapsed() - configured);

    let dylib = sysroot.join("lib/libqemu-aarch64-softmmu.dylib");
    let header = otool(&["-h"], &dylib);
    let fields: Vec<&str> = header.lines().last().unwrap().split_whitespace().collect();
    assert_eq!(&fields[..2], ["0xfeedfacf", "16777228"], "64-bit arm64 Mach-O:\n{header}"); // CPU_TYPE_ARM64
    assert_eq!(fields[4], "6", "MH_DYLIB:\n{header}");
    let deps = otool(&["-L"], &dylib);
    let in_sysroot: Vec<&str> =
        deps.lines().skip(1).filter(|l| l.contains(&sysroot.display().to_string())).collect();
    assert_eq!(in_sysroot.len(), 15, "id + 14 libraries in the sysroot:\n{deps}");
    assert!(
        in_sysroot[0].trim_start().starts_with(&dylib.display().to_string()),
        "the id is the install path:\n{deps}"
    );
    for l in LIBS.iter().filter(|l| !l.dylib.is_empty()) {
        assert!(
            deps.contains(&sysroot.join("lib").join(l.dylib).display().to_string()),
            "{} missing:\n{deps}",
            l.dylib
        );
    }
    assert!(deps.contains("/usr/lib/libSystem.B.dylib"), "{deps}");
    let cmds = otool(&["-l"], &dylib);
    assert!(cmds.contains("LC_CODE_SIGNATURE"), "ld64.lld signs arm64 output:\n{cmds}");
    assert!(cmds.contains("minos 14.0"), "MACOSX_DEPLOYMENT_TARGET honoured:\n{cmds}");
    let bytes = std::fs::read(&dylib).unwrap();
    assert!(contains(&bytes, VERSION_STRING));
    assert!(!contains(&bytes, ORIGINAL_MARKER));

    // Incremental: a second ninja, and configure + ninja again, do nothing.
    assert!(ninja(root, &sysroot, &src, &[]).contains("no work to do"));
    configure(root, &sysroot, &src);
    assert!(ninja(root, &sysroot, &src, &[]).contains("no work to do"));

    // Every sysroot library resolves in the fake UTM.app, the way the legacy fixer looks
    // (framework first, then a loose dylib).
    let t = std::time::Instant::now();
    let app = fake_utm_app(root);
    eprintln!("fake_utm_app {:?}", t.elapsed());
    let fw = app.join("Contents/Frameworks");
    let mut rewrite = Command::new(llvm_tool("llvm-install-name-tool"));
    for line in &in_sysroot[1..] {
        let path = Path::new(line.split_whitespace().next().unwrap());
        let base = path.file_name().unwrap().to_str().unwrap();
        let name = base.trim_start_matches("lib").trim_end_matches(".dylib");
        let framework = fw.join(format!("{name}.framework/Versions/A/{name}"));
        assert!(
            framework.is_file() || fw.join(base).is_file(),
            "{base} has no framework or dylib in UTM.app"
        );
        let new = if framework.is_file() {
            format!("@rpath/{name}.framework/Versions/A/{name}")
        } else {
            format!("@rpath/{base}")
        };
        rewrite.arg("-change").arg(path).arg(new);
    }
    // The header has room for the rewrite (-headerpad_max_install_names).
    let id = "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu";
    run(rewrite.args(["-id", id]).arg(&dylib));
    let deps = otool(&["-L"], &dylib);
    assert!(!deps.lines().skip(1).any(|l| l.contains("sysroot")), "{deps}");
    assert!(deps.contains(&format!("@rpath/{LOOSE_DYLIB} (")), "{deps}");
    assert!(deps.contains(&format!("\t{id} (")), "{deps}");
}

#[test]
fn without_spice_the_meson_log_says_no() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let sysroot = fake_sysroot_opts(root, true);
    assert!(!sysroot.join("lib/pkgconfig/spice-server.pc").exists());
    let src = fake_qemu_src(root);
    configure(root, &sysroot, &src);
    let log = std::fs::read_to_string(src.join("build/meson-logs/meson-log.txt")).unwrap();
    assert!(!log.contains("spice protocol support: YES"), "{log}");
    assert!(log.contains("spice protocol support: NO"), "{log}");

    // The sysroot gains SPICE: configure sees it (no stale cached lookup).
    let with = fake_sysroot(root);
    assert_eq!(with, sysroot);
    configure(root, &sysroot, &src);
    let log = std::fs::read_to_string(src.join("build/meson-logs/meson-log.txt")).unwrap();
    assert!(log.contains("spice protocol support: YES"), "{log}");
}

#[test]
fn sysroot_pkg_config_sees_only_the_sysroot() {
    let root = tempfile::tempdir().unwrap();
    let sysroot = fake_sysroot(root.path());
    let pc = sysroot.join("host/bin/pkg-config");
    let out =
        run(Command::new(&pc).args(["--libs", "pixman-1"]).envs(build_env(root.path(), &sysroot)));
    assert_eq!(out.trim(), format!("-L{}/lib -lpixman-1", sysroot.display()));
    assert_eq!(run(Command::new(&pc).args(["--modversion", "spice-protocol"])).trim(), "0.14.4");
    // A library outside the sysroot is not visible, even on PKG_CONFIG_PATH.
    let host = root.path().join("host-pc");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("hostlib.pc"), "Name: hostlib\nDescription: x\nVersion: 1\n").unwrap();
    let plain = Command::new("pkg-config")
        .args(["--exists", "hostlib"])
        .env("PKG_CONFIG_PATH", &host)
        .status()
        .unwrap();
    assert!(plain.success(), "the system pkg-config sees it");
    let wrapped = Command::new(&pc)
        .args(["--exists", "hostlib"])
        .env("PKG_CONFIG_PATH", &host)
        .status()
        .unwrap();
    assert!(!wrapped.success(), "the sysroot's does not");
}

#[test]
fn fake_utm_app_holds_real_frameworks_and_the_original_qemu() {
    let root = tempfile::tempdir().unwrap();
    let app = fake_utm_app(root.path());
    let plist = std::fs::read_to_string(app.join("Contents/Info.plist")).unwrap();
    assert!(plist.contains("<string>com.utmapp.UTM</string>"));
    let fw = app.join("Contents/Frameworks");
    let qemu = fw.join("qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu");
    let header = otool(&["-h"], &qemu);
    let fields: Vec<&str> = header.lines().last().unwrap().split_whitespace().collect();
    assert_eq!((fields[1], fields[4]), ("16777228", "6"), "arm64 MH_DYLIB:\n{header}");
    let deps = otool(&["-L"], &qemu);
    assert!(
        deps.contains(
            "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu (compat"
        ),
        "{deps}"
    );
    assert!(deps.contains("@rpath/pixman-1.0.framework/Versions/A/pixman-1.0 ("), "{deps}");
    assert!(deps.contains(&format!("@rpath/{LOOSE_DYLIB} (")), "{deps}");
    assert!(!deps.contains("sysroot"), "{deps}");
    assert!(contains(&std::fs::read(&qemu).unwrap(), ORIGINAL_MARKER));
    assert!(otool(&["-l"], &qemu).contains("LC_CODE_SIGNATURE"));
    for l in LIBS.iter().filter(|l| !l.dylib.is_empty()) {
        let name = l.framework();
        let bin = fw.join(format!("{name}.framework/Versions/A/{name}"));
        assert_eq!(bin.is_file(), l.dylib != LOOSE_DYLIB, "{}", bin.display());
        if l.dylib != LOOSE_DYLIB {
            assert!(
                fw.join(format!("{name}.framework/{name}")).is_file(),
                "top-level symlink for {name}"
            );
        }
    }
    assert!(fw.join(LOOSE_DYLIB).is_file());
    let main = otool(&["-h"], &app.join("Contents/MacOS/UTM"));
    assert_eq!(
        main.lines().last().unwrap().split_whitespace().nth(4),
        Some("2"),
        "MH_EXECUTE:\n{main}"
    );
}

/// Not a test: builds the README's demo world (a fake sysroot, SDK, UTM.app and QEMU source,
/// plus a `helix.toml` pointing at them) in `$HELIX_DEMO_DIR`. `scripts/demo` runs it, then
/// runs the real `helix run build-qemu` there.
#[test]
#[ignore = "run by scripts/demo"]
fn demo_world() {
    let Some(root) = std::env::var_os("HELIX_DEMO_DIR").map(PathBuf::from) else { return };
    std::fs::create_dir_all(&root).unwrap();
    let sysroot = fake_sysroot(&root);
    fake_sdk(&root);
    let app = fake_utm_app(&root);
    let src = fake_qemu_src(&root);
    let config = format!(
        "# The demo world made by scripts/demo: everything build-qemu touches lives here.\n\
         [paths]\npm = \"{pm}\"\nqemu_utm = \"{src}\"\nsysroot = \"{sysroot}\"\nutm_app = \"{app}\"\nutm = \"{pm}/UTM\"\n",
        pm = root.join("pm").display(),
        src = src.display(),
        sysroot = sysroot.display(),
        app = app.display(),
    );
    std::fs::write(root.join("helix.toml"), config).unwrap();
}
