//! The real-VM harness: a small bootable Debian cloud image (cloud-init NoCloud, netplan,
//! growpart, sshd, sudo; root on partition 1 of an MBR disk) built once per machine by
//! `scripts/build-test-image` and cached under `/var/tmp/helix-test-image` (override with
//! `HELIX_TEST_IMAGE_DIR`), booted with helix's own `qemu` and `cloudinit` primitives under TCG.
//!
//! For recipe tests: [`test_image`] (the cached image), [`Guest::boot`] (a thin overlay + seed +
//! VM with SSH forwarded to a free port), [`Guest::ssh`] / [`Guest::wait_ssh`] (the system
//! `ssh` client), [`banner`] (raw TCP: does an SSH banner come?). Take [`vm_turn`] first: VM
//! tests run one at a time on this machine (2 cores; TCG is CPU-bound).

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
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-image");
            let out = Command::new("bash")
                .arg(&script)
                .arg(&dir)
                .output()
                .expect("run scripts/build-test-image");
            assert!(
                out.status.success(),
                "building the test image failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            TestImage {
                disk: dir.join("disk.qcow2"),
                kernel: dir.join("vmlinuz"),
                initrd: dir.join("initrd.img"),
            }
        })
        .clone()
}

/// One VM test at a time on this machine (threads and processes alike): an `flock`.
pub struct VmTurn(std::fs::File);

pub fn vm_turn() -> VmTurn {
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

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
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

    /// A thin qcow2 overlay on the cached image (the cache is never written).
    pub fn overlay(dir: &Path) -> PathBuf {
        let disk = dir.join("root.qcow2");
        if !disk.exists() {
            let img = test_image();
            helix::qemu_img::create(
                &disk,
                None,
                &helix::qemu_img::CreateOptions { backing: Some(img.disk), ..Default::default() },
            )
            .unwrap();
        }
        disk
    }

    /// The VM spec the harness boots: direct kernel boot, root overlay, optional seed, SSH
    /// forwarded from a free port on 127.0.0.1, `mac`, TCG.
    pub fn spec(dir: &Path, disk: &Path, seed: Option<&Path>, mac: &str, port: u16) -> VmSpec {
        let img = test_image();
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
            arch: "x86_64".into(),
            accel: Some(std::env::var("HELIX_TEST_ACCEL").unwrap_or_else(|_| "tcg".into())),
            smp: 2,
            memory: 1 << 30,
            kernel: Some(img.kernel),
            initrd: Some(img.initrd),
            append: Some("root=/dev/vda1 console=ttyS0".into()),
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

    /// Boot the image in `dir` (overlay made on first use) with a seed for `instance_id`.
    pub fn boot(dir: &Path, instance_id: &str, mac: &str) -> Guest {
        let (key, public) = if dir.join("id_ed25519").exists() {
            (
                dir.join("id_ed25519"),
                std::fs::read_to_string(dir.join("id_ed25519.pub")).unwrap().trim().to_string(),
            )
        } else {
            keypair(dir)
        };
        let disk = Self::overlay(dir);
        let seed = Self::seed(dir, instance_id, &Self::user_data(&public));
        Self::boot_with(dir, &disk, Some(&seed), mac, key)
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
