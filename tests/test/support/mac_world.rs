//! A simulated Mac: the world a Mac user's *default* configuration points at, built in a temp
//! dir that stands for `/` (`HELIX_MAC_ROOT`, read by `src/paths.rs`). Nothing of helix's
//! configuration is overridden — no `helix.toml`, no `--config`, no `HELIX_CONFIG_DIR`: the
//! built-in defaults find everything where a Mac has it.
//!
//! - `/Users/alice` is `$HOME` (`$USER` = alice): `~/pm/UTM/sysroot-macOS-arm64` (the fake
//!   sysroot), `~/pm/qemu-utm` (the fake QEMU source, a git repo), `~/pm/helix` (a git repo
//!   with the `stack` and helix CLI doubles, `.env.usercreds`), `~/.ssh/id_ed25519{,.pub}`,
//!   UTM's container `~/Library/Containers/com.utmapp.UTM/Data/{Documents,Library/Preferences}`;
//! - `/Applications/UTM.app`: real arm64 Mach-O frameworks and UTM's original QEMU
//!   ([`fake_mac::fake_utm_app`]), with the `utmctl` double as `Contents/MacOS/utmctl`;
//! - `/opt/homebrew`: Homebrew's prefix (the `brew` double answers for it, every formula the
//!   QEMU build needs installed) with QEMU's edk2 firmware in `share/qemu`;
//! - `/Volumes/External`: a mounted volume's place;
//! - the doubles of the macOS-only programs (`brew`, `open`, `osascript`, `utmctl`) first on
//!   `PATH`, recording their argv in `/calls.log`.
//!
//! [`MacWorld::with_vm`] adds a provisioned VM as a Mac user has it: `~/helix-desktop-vm`
//! (root and ZFS qcow2 disks, UEFI vars, the `helix-desktop.utm` bundle hard-linking them),
//! registered in UTM's preferences as "helix-desktop" and listed (stopped) by `utmctl list`.

use std::path::{Path, PathBuf};

use crate::support::builder::{Output, Test};
use crate::support::fake_mac;

pub const USER: &str = "alice";
pub const VM_NAME: &str = "helix-desktop";
pub const VM_UUID: &str = "6C1B3F0E-2A4D-4E8B-9F10-3C5D7E9A1B2C";

pub struct MacWorld {
    pub t: Test,
    /// The Mac's `/`.
    pub root: PathBuf,
    pub home: PathBuf,
}

impl MacWorld {
    /// A Mac with UTM, Homebrew, Xcode's SDK, the sysroot and the QEMU source — and no VM yet.
    pub fn new() -> MacWorld {
        let t = Test::new();
        let root = t.dir.path().to_path_buf();
        let home = root.join("Users").join(USER);
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        for d in ["Volumes/External", "System", "Library", "usr/bin", "private/tmp"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        ssh_key(&home.join(".ssh/id_ed25519"));

        let sysroot = fake_mac::fake_sysroot(&home);
        fake_mac::fake_qemu_src(&home);
        helix_checkout(&home.join("pm/helix"));
        // ~/pm/UTM is UTM's checkout (the sysroot was built inside it, untracked).
        let utm = home.join("pm/UTM");
        std::fs::write(utm.join("README.md"), "# UTM\n").unwrap();
        std::fs::write(utm.join(".gitignore"), "/sysroot-*/\n").unwrap();
        git_commit(&utm, "UTM");
        let app = fake_mac::fake_utm_app(&root);
        let doubles = crate::utm::doubles();
        std::fs::copy(doubles.join("utmctl"), app.join("Contents/MacOS/utmctl")).unwrap();
        let container = home.join("Library/Containers/com.utmapp.UTM/Data");
        std::fs::create_dir_all(container.join("Documents")).unwrap();
        std::fs::create_dir_all(container.join("Library/Preferences")).unwrap();
        let utm_state = root.join(".utmctl-double");
        std::fs::create_dir_all(&utm_state).unwrap();
        std::fs::write(utm_state.join("vms"), "").unwrap();
        std::fs::write(utm_state.join("running"), "false").unwrap();

        // Homebrew: the formulae the QEMU build needs, and QEMU's firmware.
        let brew = root.join("opt/homebrew");
        let qemu_share = brew.join("share/qemu");
        std::fs::create_dir_all(&qemu_share).unwrap();
        std::fs::create_dir_all(brew.join("bin")).unwrap();
        std::fs::write(qemu_share.join("edk2-aarch64-code.fd"), vec![0x11u8; 64 * 1024]).unwrap();
        std::fs::write(qemu_share.join("edk2-arm-vars.fd"), vec![0u8; 64 * 1024]).unwrap();
        let brew_state = root.join(".brew-double");
        std::fs::create_dir_all(&brew_state).unwrap();
        std::fs::write(
            brew_state.join("installed.json"),
            r#"{"bison": "3.8.2", "pkgconf": "2.3.0_1", "gettext": "0.22.5", "glib-utils": "2.82.4", "libgpg-error": "1.51", "nasm": "2.16.03", "make": "4.4.1", "meson": "1.6.1", "cmake": "3.31.4", "libclc": "19.1.6", "qemu": "9.2.0"}"#,
        )
        .unwrap();

        let path = format!("{}:{}", doubles.display(), std::env::var("PATH").unwrap_or_default());
        let t = t
            .cwd(&home)
            .env("HOME", &home.display().to_string())
            .env("USER", USER)
            .env("HELIX_MAC_ROOT", &root.display().to_string())
            // helix's own dirs are the defaults under the home directory.
            .env("HELIX_CONFIG_DIR", "")
            .env("HELIX_STATE_DIR", "")
            .env("XDG_CONFIG_HOME", "")
            .env("XDG_STATE_HOME", "")
            .env("PATH", &path)
            .env("SDKROOT", &fake_mac::fake_sdk(&root).display().to_string())
            .env("HELIX_DOUBLE_LOG", &root.join("calls.log").display().to_string())
            .env("UTM_DOUBLE_DIR", &utm_state.display().to_string())
            .env("BREW_DOUBLE_DIR", &brew_state.display().to_string())
            .env("BREW_DOUBLE_PREFIX", &brew.display().to_string())
            // Go's build cache outlives the test: the standard library compiles once.
            .env("GOCACHE", "/var/tmp/helix-test-gocache")
            .env("FAKE_HELIX_STATE", &root.join(".helix-cli-double").display().to_string());
        assert!(sysroot.starts_with(&home));
        MacWorld { t, root, home }
    }

    /// The same Mac after `provision-vm`: the VM's disks and bundle in `~/helix-desktop-vm`,
    /// registered in UTM and stopped.
    pub fn with_vm(self) -> MacWorld {
        let dir = self.vm_dir();
        std::fs::create_dir_all(&dir).unwrap();
        super::disk::qcow2(&dir.join("disk.qcow2"), "64M");
        super::disk::qcow2(&dir.join("zfs-data.qcow2"), "32M");
        std::fs::write(dir.join("efi_vars.fd"), vec![0u8; 64 * 1024]).unwrap();
        let bundle = dir.join("helix-desktop.utm");
        let fixtures = self.root.join(".fixture-recipes");
        std::fs::create_dir_all(&fixtures).unwrap();
        std::fs::write(
            fixtures.join("make-bundle.rhai"),
            format!(
                r#"//! Writes the provisioned VM's UTM bundle (a fixture).
let d = "{dir}";
utm::create_bundle(`${{d}}/helix-desktop.utm`, #{{
    name: "{VM_NAME}", uuid: "{VM_UUID}", cpus: 4, memory: 4096, hypervisor: true,
    disks: [#{{ image: `${{d}}/disk.qcow2`, how: "hardlink" }}, #{{ image: `${{d}}/zfs-data.qcow2`, how: "hardlink" }}],
    network: #{{ mode: "Emulated", mac: "52:42:00:00:00:01", port_forwards: [#{{ host_address: "127.0.0.1", host_port: 2222, guest_port: 22 }}] }},
}});
"#,
                dir = dir.display()
            ),
        )
        .unwrap();
        self.helix(["--recipes", fixtures.to_str().unwrap(), "run", "make-bundle"]).success();
        assert!(bundle.join("config.plist").is_file());
        write_registry(&self.preferences(), &[(VM_UUID, VM_NAME, &bundle)]);
        self.set_vms(&[(VM_UUID, "stopped", VM_NAME)]);
        // The fixture's own run is not part of any test's history.
        let _ = std::fs::remove_file(self.root.join("calls.log"));
        self
    }

    pub fn helix<I: IntoIterator<Item = S>, S: Into<String>>(&self, args: I) -> Output {
        self.t.helix(args)
    }

    pub fn vm_dir(&self) -> PathBuf {
        self.home.join("helix-desktop-vm")
    }

    pub fn app(&self) -> PathBuf {
        self.root.join("Applications/UTM.app")
    }

    pub fn preferences(&self) -> PathBuf {
        self.home
            .join("Library/Containers/com.utmapp.UTM/Data/Library/Preferences/com.utmapp.UTM.plist")
    }

    /// What `utmctl list` shows: `(uuid, status, name)`.
    pub fn set_vms(&self, vms: &[(&str, &str, &str)]) {
        let rows: String = vms.iter().map(|(u, s, n)| format!("{u}|{s}|{n}\n")).collect();
        std::fs::write(self.root.join(".utmctl-double/vms"), rows).unwrap();
    }

    /// The argv of every double called so far, one line each.
    pub fn calls(&self) -> String {
        std::fs::read_to_string(self.root.join("calls.log")).unwrap_or_default()
    }

    /// `text` with this world's temp root written as `/` (`<mac>`), for snapshots.
    pub fn filter(&self, text: &str) -> String {
        let root = self.root.display().to_string();
        let real = self.root.canonicalize().unwrap().display().to_string();
        text.replace(&real, "<mac>").replace(&root, "<mac>")
    }
}

/// `~/pm/helix`: a git checkout with the `stack` double, the helix CLI double as its `api`
/// module and a credentials file.
fn helix_checkout(dir: &Path) {
    let api = dir.join("api");
    std::fs::create_dir_all(&api).unwrap();
    crate::recovery::stack_double(dir);
    let double = crate::utm::doubles().join("helix-cli");
    for f in ["go.mod", "main.go"] {
        std::fs::copy(double.join(f), api.join(f)).unwrap();
    }
    std::fs::write(
        dir.join(".env.usercreds"),
        "HELIX_API_KEY=hl-mac-world-key\nHELIX_URL=http://helix.test:8080\nHELIX_PROJECT=prj_mac\n",
    )
    .unwrap();
    std::fs::write(dir.join(".gitignore"), ".env.usercreds\nsandbox-images/\nstack.calls\n")
        .unwrap();
    git_commit(dir, "helix");
}

/// `git init` + one commit of everything in `dir` (branch `main`).
fn git_commit(dir: &Path, message: &str) {
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=alice",
            "-c",
            "user.email=alice@mac.invalid",
            "commit",
            "-q",
            "-m",
            message,
        ],
    ] {
        let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

fn ssh_key(path: &Path) {
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "alice@mac", "-f"])
        .arg(path)
        .output()
        .expect("ssh-keygen");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// UTM's preferences as cfprefsd writes them (binary): `VMEntryList` and `Registry`.
pub fn write_registry(prefs: &Path, vms: &[(&str, &str, &Path)]) {
    let mut registry = plist::Dictionary::new();
    let mut list = Vec::new();
    for (uuid, name, bundle) in vms {
        let mut package = plist::Dictionary::new();
        package.insert("Path".into(), bundle.display().to_string().into());
        package.insert("Bookmark".into(), plist::Value::Data(b"book\0mark".repeat(8)));
        package.insert("ReadOnly".into(), false.into());
        let mut entry = plist::Dictionary::new();
        entry.insert("Name".into(), (*name).into());
        entry.insert("UUID".into(), (*uuid).into());
        entry.insert("Package".into(), package.into());
        entry.insert("Suspended".into(), false.into());
        registry.insert((*uuid).into(), entry.into());
        list.push(plist::Value::String((*uuid).into()));
    }
    let mut root = plist::Dictionary::new();
    root.insert("VMEntryList".into(), list.into());
    root.insert("Registry".into(), registry.into());
    plist::Value::Dictionary(root).to_file_binary(prefs).unwrap();
}
