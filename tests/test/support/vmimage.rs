//! The real-VM harness: small bootable Debian cloud images (cloud-init NoCloud, netplan,
//! growpart, sshd, sudo) built once per machine and cached, booted with helix's own `qemu` and
//! `cloudinit` primitives under TCG:
//!
//! - x86_64, direct kernel boot (root on partition 1 of an MBR disk): `scripts/build-test-image`,
//!   `/var/tmp/helix-test-image` (override with `HELIX_TEST_IMAGE_DIR`);
//! - aarch64 through UEFI, the way a Mac boots the Ubuntu arm64 cloud image (`-machine virt`,
//!   edk2 from pflash, GRUB at the removable path of the ESP, root on partition 1 after the ESP
//!   at 15): `scripts/build-test-image-arm64`, `/var/tmp/helix-test-image-arm64` (override with
//!   `HELIX_TEST_IMAGE_ARM64_DIR`).
//!
//! A [`Boot`] is how a guest boots, as the `[vm.qemu]` config table says it: the harness makes
//! its own boots from the same values it writes into the recipes' config
//! ([`Boot::qemu_table`]), so the arch and firmware come from the config. For recipe tests:
//! [`Guest::boot`] (a thin overlay + seed + VM with SSH forwarded to a free port),
//! [`Guest::ssh`] / [`Guest::wait_ssh`] (the system `ssh` client), [`banner`] (raw TCP: does an
//! SSH banner come?). Take [`vm_turn`] first: VM tests run one at a time on this machine
//! (2 cores; TCG is CPU-bound).

#![allow(dead_code)]

use std::io::Read;
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use helix::qemu::{Drive, Forward, Vm, VmSpec};

pub const USER: &str = "luke";
/// The MAC the provisioning QEMU uses (what cloud-init's netplan ends up matching).
pub const FIRST_MAC: &str = "52:54:00:12:34:56";

#[derive(Debug, Clone)]
pub struct TestImage {
    pub disk: PathBuf,
    pub kernel: PathBuf,
    pub initrd: PathBuf,
}

/// Run `scripts/NAME DIR`, the cached image's builder (its file lock keeps concurrent test
/// processes from building twice); a failure fails the test with the script's stderr.
fn build(name: &str, dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name);
    let out = Command::new("bash").arg(&script).arg(dir).output().expect("run the image builder");
    assert!(
        out.status.success(),
        "scripts/{name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn image_dir() -> PathBuf {
    std::env::var_os("HELIX_TEST_IMAGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/helix-test-image"))
}

/// The cached test image, built on first use (≈1.5–5 min; the script's file lock keeps
/// concurrent test processes from building twice).
pub fn test_image() -> TestImage {
    static BUILT: OnceLock<TestImage> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = image_dir();
            build("build-test-image", &dir);
            TestImage {
                disk: dir.join("disk.qcow2"),
                kernel: dir.join("vmlinuz"),
                initrd: dir.join("initrd.img"),
            }
        })
        .clone()
}

pub fn image_dir_arm64() -> PathBuf {
    std::env::var_os("HELIX_TEST_IMAGE_ARM64_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/helix-test-image-arm64"))
}

/// The cached arm64 UEFI image (`disk.qcow2` only: the kernel is inside, behind GRUB), built on
/// first use by `scripts/build-test-image-arm64`.
pub fn test_image_arm64() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = image_dir_arm64();
            build("build-test-image-arm64", &dir);
            dir.join("disk.qcow2")
        })
        .clone()
}

/// edk2 for `qemu-system-aarch64 -machine virt`, as Debian's `qemu-efi-aarch64` installs it
/// (code and the empty vars template beside it).
pub const AAVMF_CODE: &str = "/usr/share/AAVMF/AAVMF_CODE.fd";
pub const AAVMF_VARS: &str = "/usr/share/AAVMF/AAVMF_VARS.fd";

/// How a test guest boots: what the `[vm.qemu]` table of the recipes' config says.
#[derive(Debug, Clone)]
pub struct Boot {
    pub arch: &'static str,
    /// The cached image the guest's disk is an overlay of.
    pub image: PathBuf,
    /// UEFI from pflash: the code read-only, `<vm dir>/efi_vars.fd` made from its template.
    pub firmware_code: Option<PathBuf>,
    /// Direct kernel boot.
    pub kernel: Option<PathBuf>,
    pub initrd: Option<PathBuf>,
    pub append: Option<String>,
}

impl Boot {
    /// x86_64 with direct kernel boot (the x86 image).
    pub fn x86() -> Boot {
        let img = test_image();
        Boot {
            arch: "x86_64",
            image: img.disk,
            firmware_code: None,
            kernel: Some(img.kernel),
            initrd: Some(img.initrd),
            append: Some("root=/dev/vda1 console=ttyS0".into()),
        }
    }

    /// aarch64 through UEFI (edk2 → GRUB on the ESP → the guest's own kernel): the Mac's
    /// default boot, with nothing but the firmware named.
    pub fn arm64_uefi() -> Boot {
        Boot {
            arch: "aarch64",
            image: test_image_arm64(),
            firmware_code: Some(PathBuf::from(AAVMF_CODE)),
            kernel: None,
            initrd: None,
            append: None,
        }
    }

    /// The `[vm.qemu]` table for the recipes' config: this boot, under TCG, with `seed` (if any)
    /// attached on every boot (as the provisioning seed stays attached to a UTM VM) and
    /// `extra_append` added to a direct boot's kernel command line.
    pub fn qemu_table(&self, seed: Option<&Path>, extra_append: &str) -> String {
        let mut t = format!(
            "[vm.qemu]\narch = \"{}\"\naccel = \"tcg\"\nmemory = \"1G\"\nsmp = 2\nseed = \"{}\"\n",
            self.arch,
            seed.map(|s| s.display().to_string()).unwrap_or_default()
        );
        t += &format!(
            "firmware_vars = \"\"\nfirmware_code = \"{}\"\n",
            self.firmware_code.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        );
        match &self.kernel {
            Some(k) => {
                let append = format!("{} {extra_append}", self.append.as_deref().unwrap_or(""));
                t += &format!(
                    "kernel = \"{}\"\ninitrd = \"{}\"\nappend = \"{}\"\n",
                    k.display(),
                    self.initrd.as_ref().unwrap().display(),
                    append.trim()
                );
            }
            None => t += "kernel = \"\"\ninitrd = \"\"\nappend = \"\"\n",
        }
        t
    }
}

/// One VM test at a time on this machine (threads and processes alike): an `flock`.
pub struct VmTurn(std::fs::File);

/// Take the machine's VM turn. A real-VM test runs without the builder's dry-run invariant: its
/// VMs outlive single runs and write their disks, serial logs and sockets under the test's dir
/// between and during runs, so "the tree is byte-identical after a dry run" cannot be asked.
pub fn vm_turn() -> VmTurn {
    super::builder::no_dry_run_on_this_thread(
        "a real VM outlives the runs and writes its disk, logs and sockets under the test dir",
    );
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/var/tmp/helix-vm-tests.lock")
        .expect("lock file");
    // SAFETY: flock on an fd we own; blocks until the other holder closes theirs.
    unsafe {
        libc::flock(f.as_raw_fd(), libc::LOCK_EX);
    }
    VmTurn(f)
}

/// A fresh ed25519 key pair in `dir`: (private key path, public key text).
pub fn keypair(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("id_ed25519");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "helix-test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(st.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap().trim().to_string();
    (key, public)
}

/// What arrives on `127.0.0.1:port` within `wait` after connecting: `None` when the
/// connection is refused, `Some("")` when TCP is accepted but nothing is said.
pub fn banner(port: u16, wait: Duration) -> Option<String> {
    let mut s =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(wait)).ok()?;
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(_) => Some(String::new()),
    }
}

/// A booted (or booting) test guest.
pub struct Guest {
    pub vm: Vm,
    pub port: u16,
    pub key: PathBuf,
    pub disk: PathBuf,
    pub dir: PathBuf,
}

impl Guest {
    /// The `#cloud-config` the harness gives the guest: user `luke` with `public_key` and
    /// passwordless sudo.
    pub fn user_data(public_key: &str) -> serde_json::Value {
        serde_json::json!({
            "hostname": "helix-vm",
            "users": [{
                "name": USER, "sudo": "ALL=(ALL) NOPASSWD:ALL", "shell": "/bin/bash",
                "lock_passwd": true, "ssh_authorized_keys": [public_key],
            }],
            "ssh_pwauth": false,
        })
    }

    /// Write a FAT `CIDATA` seed for `instance_id` into `dir` with helix's `cloudinit`.
    pub fn seed(dir: &Path, instance_id: &str, user_data: &serde_json::Value) -> PathBuf {
        let seed = helix::cloudinit::Seed {
            user_data: helix::cloudinit::user_data(user_data).unwrap(),
            meta_data: helix::cloudinit::meta_data(
                &serde_json::json!({"instance-id": instance_id, "local-hostname": "helix-vm"}),
            )
            .unwrap(),
            ..Default::default()
        };
        let path = dir.join(format!("seed-{instance_id}.img"));
        if path.exists() {
            return path;
        }
        helix::cloudinit::write_seed(&path, &seed, helix::cloudinit::SeedFormat::Fat).unwrap();
        path
    }

    /// A thin qcow2 overlay on the cached x86 image (the cache is never written).
    pub fn overlay(dir: &Path) -> PathBuf {
        Self::overlay_of(&Boot::x86(), dir)
    }

    /// A thin qcow2 overlay on `boot`'s cached image.
    pub fn overlay_of(boot: &Boot, dir: &Path) -> PathBuf {
        let disk = dir.join("root.qcow2");
        if !disk.exists() {
            helix::qemu_img::create(
                &disk,
                None,
                &helix::qemu_img::CreateOptions {
                    backing: Some(boot.image.clone()),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        disk
    }

    /// The x86 VM spec the harness boots: direct kernel boot, root overlay, optional seed, SSH
    /// forwarded from a free port on 127.0.0.1, `mac`, TCG.
    pub fn spec(dir: &Path, disk: &Path, seed: Option<&Path>, mac: &str, port: u16) -> VmSpec {
        Self::spec_for(&Boot::x86(), dir, disk, seed, mac, port)
    }

    /// The VM spec for `boot`, made as `stdlib/vm.rhai`'s `vm::spec` makes it from the config:
    /// UEFI with `<dir>/efi_vars.fd` (helix copies the template on the first boot), or a
    /// direct kernel boot.
    pub fn spec_for(
        boot: &Boot,
        dir: &Path,
        disk: &Path,
        seed: Option<&Path>,
        mac: &str,
        port: u16,
    ) -> VmSpec {
        let mut drives = vec![Drive {
            file: disk.to_path_buf(),
            format: "qcow2".into(),
            interface: "virtio".into(),
            read_only: false,
            snapshot: false,
        }];
        if let Some(s) = seed {
            drives.push(Drive {
                file: s.to_path_buf(),
                format: "raw".into(),
                interface: "virtio".into(),
                read_only: true,
                snapshot: false,
            });
        }
        VmSpec {
            name: "helix-test-vm".into(),
            arch: boot.arch.into(),
            accel: Some(std::env::var("HELIX_TEST_ACCEL").unwrap_or_else(|_| "tcg".into())),
            smp: 2,
            memory: 1 << 30,
            firmware: boot.firmware_code.as_ref().map(|code| helix::qemu::Firmware {
                code: code.clone(),
                vars: Some(dir.join("efi_vars.fd")),
                vars_template: None,
            }),
            kernel: boot.kernel.clone(),
            initrd: boot.initrd.clone(),
            append: boot.append.clone(),
            drives,
            mac: Some(mac.into()),
            forwards: vec![Forward {
                proto: "tcp".into(),
                bind: "127.0.0.1".into(),
                host: port,
                guest: 22,
            }],
            smbios: vec!["type=1,serial=ds=nocloud".into()],
            serial_log: Some(dir.join(format!("serial-{port}.log"))),
            dir: Some(dir.to_path_buf()),
            ..Default::default()
        }
    }

    /// Boot the x86 image in `dir` (overlay made on first use) with a seed for `instance_id`.
    pub fn boot(dir: &Path, instance_id: &str, mac: &str) -> Guest {
        Self::boot_as(&Boot::x86(), dir, instance_id, mac)
    }

    /// Boot `boot`'s image in `dir` (overlay made on first use) with a seed for `instance_id`.
    pub fn boot_as(boot: &Boot, dir: &Path, instance_id: &str, mac: &str) -> Guest {
        let (key, public) = if dir.join("id_ed25519").exists() {
            (
                dir.join("id_ed25519"),
                std::fs::read_to_string(dir.join("id_ed25519.pub")).unwrap().trim().to_string(),
            )
        } else {
            keypair(dir)
        };
        let disk = Self::overlay_of(boot, dir);
        let seed = Self::seed(dir, instance_id, &Self::user_data(&public));
        let port = free_port();
        Self::start(Self::spec_for(boot, dir, &disk, Some(&seed), mac, port), key)
    }

    pub fn boot_with(
        dir: &Path,
        disk: &Path,
        seed: Option<&Path>,
        mac: &str,
        key: PathBuf,
    ) -> Guest {
        let port = free_port();
        Self::start(Self::spec(dir, disk, seed, mac, port), key)
    }

    /// Start a spec made by [`Guest::spec`] (and adjusted: kernel arguments, drives, …).
    pub fn start(spec: VmSpec, key: PathBuf) -> Guest {
        let port = spec.forwards[0].host;
        let disk = spec.drives[0].file.clone();
        let dir = spec.dir.clone().expect("spec has a dir");
        let vm = helix::qemu::start(&spec).expect("the test VM starts");
        Guest { vm, port, key, disk, dir }
    }

    /// Run `command` in the guest with the system `ssh` client.
    pub fn ssh(&self, command: &str) -> std::process::Output {
        ssh(self.port, &self.key, command, 10)
    }

    /// Poll until SSH runs a command (or `timeout`); returns how long it took.
    pub fn wait_ssh(&self, timeout: Duration) -> Duration {
        let t = Instant::now();
        while t.elapsed() < timeout {
            assert!(self.vm.is_running(), "the VM exited; serial log:\n{}", self.serial_tail(30));
            if ssh(self.port, &self.key, "true", 5).status.success() {
                return t.elapsed();
            }
            std::thread::sleep(Duration::from_secs(2));
        }
        panic!("no SSH within {timeout:?}; serial log:\n{}", self.serial_tail(40));
    }

    pub fn serial_tail(&self, n: usize) -> String {
        let s = std::fs::read_to_string(self.vm.serial_log()).unwrap_or_default();
        let l: Vec<&str> = s.lines().collect();
        l[l.len().saturating_sub(n)..].join("\n")
    }
}

/// The system `ssh` client the way the legacy scripts used it, plus BatchMode and a key.
pub fn ssh(port: u16, key: &Path, command: &str, connect_timeout: u32) -> std::process::Output {
    Command::new("ssh")
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
        ])
        .args(["-o", &format!("ConnectTimeout={connect_timeout}"), "-i"])
        .arg(key)
        .args(["-p", &port.to_string(), &format!("{USER}@127.0.0.1"), command])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh runs")
}

pub use super::ports::free_port;
