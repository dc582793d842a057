//! The core recipes end to end, on real components: build-qemu builds a real arm64 Mach-O in a
//! fake QEMU tree against a fake sysroot and installs it into a fake UTM.app.

use std::path::{Path, PathBuf};

use crate::recovery::shown;
use crate::support::builder::{Output, Test};
use crate::support::fake_mac;
use crate::support::macho::{contains, framework_binary, otool};

/// A world for build-qemu: sysroot, SDK, UTM.app and the QEMU source under the test dir, a
/// config pointing at them, and an `osascript` double saying UTM is not running.
struct MacWorld {
    t: Test,
    sysroot: PathBuf,
    app: PathBuf,
    src: PathBuf,
}

fn mac_world(without_spice: bool) -> MacWorld {
    let t = Test::new();
    let root = t.dir.path().to_path_buf();
    let sysroot = fake_mac::fake_sysroot_opts(&root, without_spice);
    let app = fake_mac::fake_utm_app(&root);
    let src = fake_mac::fake_qemu_src(&root);
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // macOS-only program: the double answers like `osascript -e 'application "UTM" is running'`.
    write_exe(
        &bin.join("osascript"),
        "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/osascript.calls\"\necho false\n",
    );
    let config = format!(
        "[paths]\nqemu_utm = \"{}\"\nsysroot = \"{}\"\nutm_app = \"{}\"\nutm = \"{}\"\n",
        src.display(),
        sysroot.display(),
        app.display(),
        root.join("pm/UTM").display()
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let t = t
        .file("helix.toml", &config)
        .env("SDKROOT", &fake_mac::fake_sdk(&root).display().to_string())
        .env("PATH", &path);
    MacWorld { t, sysroot, app, src }
}

/// [`shown`] without stdout, where configure and meson print their own banners (the versions
/// of this machine's compilers and build tools): what helix says is on stderr.
fn helix_said(t: &Test, out: &Output) -> String {
    let without = Output {
        code: out.code,
        stdout: "(configure's and meson's own output, not snapshotted)\n".into(),
        stderr: out.stderr.clone(),
    };
    shown(t, &without)
}

fn write_exe(p: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn build_qemu_builds_fixes_signs_and_installs_then_is_incremental() {
    let w = mac_world(false);
    let out: Output = w.t.helix(["run", "build-qemu"]);
    out.success();
    insta::assert_snapshot!("build_qemu_built", helix_said(&w.t, &out));
    let fw = framework_binary(&w.app);
    let bytes = std::fs::read(&fw).unwrap();
    assert!(contains(&bytes, fake_mac::VERSION_STRING), "the custom build is installed");
    assert!(!contains(&bytes, fake_mac::ORIGINAL_MARKER));
    let deps = otool(&["-L"], &fw);
    assert!(!deps.contains(w.sysroot.to_str().unwrap()), "sysroot paths left:\n{deps}");
    assert!(deps.contains("@rpath/glib-2.0.0.framework/Versions/A/glib-2.0.0"), "{deps}");
    assert!(deps.contains("@rpath/libusb-1.0.0.dylib"), "the loose-dylib layout maps too:\n{deps}");
    assert!(
        deps.contains("@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu"),
        "{deps}"
    );
    // The signature is valid: helix's own verifier, through the CLI.
    w.t.helix(["macho", "verify", fw.to_str().unwrap()]).success();
    // UTM's original was kept once, outside the signed app bundle, in helix's state dir.
    let originals: Vec<PathBuf> = crate::support::tree::walk(&w.t.path("state/utm-original"))
        .into_iter()
        .filter(|p| {
            std::fs::read(p).map(|b| contains(&b, fake_mac::ORIGINAL_MARKER)).unwrap_or(false)
        })
        .collect();
    assert_eq!(originals.len(), 1, "exactly one kept original: {originals:?}");
    assert!(
        crate::support::tree::walk(&w.app).iter().all(|p| !p.to_string_lossy().contains("backup")),
        "nothing extra inside UTM.app"
    );

    // verify-qemu agrees.
    let verified = w.t.helix(["run", "verify-qemu"]);
    verified.success();
    insta::assert_snapshot!("build_qemu_verified", shown(&w.t, &verified));

    // Second run: nothing to configure or build, and the kept original is not replaced.
    let again = w.t.helix(["run", "build-qemu"]);
    again.success();
    insta::assert_snapshot!("build_qemu_again", shown(&w.t, &again));
    assert!(std::fs::read(&originals[0]).map(|b| contains(&b, fake_mac::ORIGINAL_MARKER)).unwrap());
    assert!(w.src.join("build").is_dir());
}

#[test]
fn build_qemu_stops_at_the_spice_gate() {
    let w = mac_world(true);
    let out = w.t.helix(["run", "build-qemu"]);
    out.code(1);
    insta::assert_snapshot!("build_qemu_spice_gate", helix_said(&w.t, &out));
    let bytes = std::fs::read(framework_binary(&w.app)).unwrap();
    assert!(contains(&bytes, fake_mac::ORIGINAL_MARKER), "UTM.app untouched");
    // verify-qemu tells UTM's original from the helix build.
    let v = w.t.helix(["run", "verify-qemu"]);
    v.code(1);
    insta::assert_snapshot!("verify_qemu_utms_original", shown(&w.t, &v));
}

#[test]
fn build_qemu_no_install_leaves_utm_alone_and_dry_run_changes_nothing() {
    let w = mac_world(false);
    let before = std::fs::read(framework_binary(&w.app)).unwrap();
    let plan = w.t.helix(["run", "build-qemu", "--dry-run"]);
    plan.success();
    insta::assert_snapshot!("build_qemu_dry_run", shown(&w.t, &plan));
    crate::cli::assert_truthful(&["run".into(), "build-qemu".into(), "--dry-run".into()], &plan);
    assert!(!w.src.join("build").exists(), "a dry run configures nothing");
    let built = w.t.helix(["run", "build-qemu", "--no-install"]);
    built.success();
    insta::assert_snapshot!("build_qemu_no_install", helix_said(&w.t, &built));
    assert!(w.sysroot.join("lib/libqemu-aarch64-softmmu.dylib").is_file());
    assert_eq!(std::fs::read(framework_binary(&w.app)).unwrap(), before);
}

#[test]
fn build_qemu_explains_a_missing_sysroot() {
    let w = mac_world(false);
    std::fs::remove_file(w.sysroot.join("host/bin/pkg-config")).unwrap();
    let out = w.t.helix(["run", "build-qemu"]);
    out.code(1);
    insta::assert_snapshot!("build_qemu_no_sysroot", shown(&w.t, &out));
}

#[test]
fn setup_clones_pins_and_is_idempotent() {
    let t = Test::new();
    let remotes = t.path("remotes");
    std::fs::create_dir_all(&remotes).unwrap();
    let (helix_url, _) = crate::git::remote(&remotes, "helix");
    let (fork_url, _) = crate::git::remote(&remotes, "qemu-utm");
    let (upstream_url, _) = crate::git::remote(&remotes, "qemu");
    let (utm_url, utm_commits) = crate::git::remote(&remotes, "UTM");
    let pm = t.path("pm");
    let config = format!(
        "[paths]\nhelix = \"{pm}/helix\"\nqemu_utm = \"{pm}/qemu-utm\"\nutm = \"{pm}/UTM\"\nsysroot = \"{pm}/UTM/sysroot-macOS-arm64\"\n\
         [repos]\nhelix = \"{helix_url}\"\nqemu_utm = \"{fork_url}\"\nqemu_upstream = \"{upstream_url}\"\nutm = \"{utm_url}\"\n\
         [pins]\nutm_commit = \"{}\"\nqemu_branch = \"feature\"\n",
        utm_commits[1],
        pm = pm.display()
    );
    let t = t.file("helix.toml", &config);
    let first = t.helix(["run", "setup"]);
    first.success();
    // The three checkouts cloned, the sysroot missing (with the command that builds it).
    insta::assert_snapshot!("setup_first", shown(&t, &first));
    // qemu-utm: the fork's branch, with origin = upstream and helixml = the fork.
    let q = pm.join("qemu-utm");
    assert_eq!(crate::git::git(&q, &["rev-parse", "--abbrev-ref", "HEAD"]), "feature");
    assert_eq!(crate::git::git(&q, &["remote", "get-url", "origin"]), upstream_url);
    assert_eq!(crate::git::git(&q, &["remote", "get-url", "helixml"]), fork_url);
    // UTM: the pinned commit, detached.
    assert_eq!(crate::git::git(&pm.join("UTM"), &["rev-parse", "HEAD"]), utm_commits[1]);
    // Second run: nothing changes.
    let second = t.helix(["run", "setup"]);
    second.success();
    insta::assert_snapshot!("setup_again", shown(&t, &second));
}

/// A VM with the netplan problem, configured as the `qemu` backend: provisioned (first boot
/// with a seed) under `FIRST_MAC`, so cloud-init's netplan matches it, then configured to run
/// under another MAC. The x86 guest (direct kernel boot); see [`mac_problem_vm_as`].
pub fn mac_problem_vm(instance_id: &str) -> (Test, String, KillVmsUnder) {
    mac_problem_vm_as(&crate::support::vmimage::Boot::x86(), instance_id)
}

/// [`mac_problem_vm`] for `boot` (x86 direct boot, or aarch64 through UEFI as on a Mac). The
/// config sets `vm.dir` (where helix keeps the VM's run files) and the helix runs get their own
/// `TMPDIR` (`<test>/tmp`), so a test can see what a run leaves behind there.
pub fn mac_problem_vm_as(
    boot: &crate::support::vmimage::Boot,
    instance_id: &str,
) -> (Test, String, KillVmsUnder) {
    use crate::support::vmimage::{self, FIRST_MAC, Guest};
    let t = Test::new();
    let dir = t.path("vm");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(t.path("tmp")).unwrap();
    let cleanup = KillVmsUnder(t.dir.path().to_path_buf());
    // Provision: first boot with the provisioning MAC and a seed, then power down.
    let g = Guest::boot_as(boot, &dir, instance_id, FIRST_MAC);
    g.wait_ssh(std::time::Duration::from_secs(900));
    assert_eq!(g.vm.powerdown(std::time::Duration::from_secs(180)).unwrap(), "powered off");
    let seed = dir.join(format!("seed-{instance_id}.img"));
    let (port, repair_port) = (vmimage::free_port(), vmimage::free_port());
    let config = format!(
        "[vm]\nbackend = \"qemu\"\nname = \"helix-recipe-vm\"\ndir = \"{dir}\"\ndisk = \"{disk}\"\nmac = \"52:42:00:ab:cd:ef\"\n\
         ssh_host = \"127.0.0.1\"\nssh_port = {port}\nssh_user = \"{user}\"\nssh_key = \"{key}\"\n\
         provision_mac = \"{FIRST_MAC}\"\nprovision_ssh_port = {repair_port}\nzfs_disk = \"\"\n{qemu}",
        dir = dir.display(),
        disk = g.disk.display(),
        user = vmimage::USER,
        key = g.key.display(),
        qemu = boot.qemu_table(Some(&seed), "systemd.mask=systemd-networkd-wait-online.service"),
    );
    drop(g);
    let tmp = t.path("tmp").display().to_string();
    let t = t.file("helix.toml", &config).env("TMPDIR", &tmp);
    (t, config, cleanup)
}

/// netplan-fix, vm and expand-disk on a real x86 VM: provisioned with one MAC (cloud-init's
/// netplan matches it), then run under another — the netplan problem — and repaired.
#[test]
fn netplan_fix_then_expand_disk_on_a_real_vm() {
    let _turn = crate::support::vmimage::vm_turn();
    netplan_fix_then_expand_disk(&crate::support::vmimage::Boot::x86(), "helix-recipes-1");
}

/// The same on the aarch64 UEFI VM, booted as a Mac's config boots the Ubuntu arm64 cloud
/// image (`-machine virt`, edk2 from pflash with a writable vars copy, GRUB from the ESP's
/// removable path), under TCG instead of hvf.
#[test]
fn netplan_fix_then_expand_disk_on_the_arm64_uefi_vm() {
    let _turn = crate::support::vmimage::vm_turn();
    netplan_fix_then_expand_disk(
        &crate::support::vmimage::Boot::arm64_uefi(),
        "helix-recipes-arm64",
    );
}

/// `7.5s`, `44s`, `2m 05s` or `1h 02m` (what `helix::duration::format` prints).
fn is_human_duration(s: &str) -> bool {
    let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
    let two = |x: &str, unit: char| x.len() == 3 && x.ends_with(unit) && digits(&x[..2]);
    match s.split_once(' ') {
        Some((h, m)) if h.ends_with('h') => digits(&h[..h.len() - 1]) && two(m, 'm'),
        Some((m, sec)) => m.ends_with('m') && digits(&m[..m.len() - 1]) && two(sec, 's'),
        None => s.strip_suffix('s').is_some_and(|n| {
            digits(n)
                || n.split_once('.')
                    .is_some_and(|(a, b)| a.len() == 1 && digits(a) && b.len() == 1 && digits(b))
        }),
    }
}

#[test]
fn human_durations_are_told_from_raw_ones() {
    for ok in ["7.5s", "0.0s", "44s", "2m 05s", "1h 02m"] {
        assert!(is_human_duration(ok), "{ok}");
        assert!(is_human_duration(&helix::duration::format_secs(43.707491923)));
    }
    for bad in ["43.707491923s", "43.7s", "2m 5s", "44", "125.0s", "1h"] {
        assert!(!is_human_duration(bad), "{bad}");
    }
}

/// The `Size` column of the `df -h /` printed after `label` (`before:`/`after:`), in bytes.
fn df_size_after(stdout: &str, label: &str) -> u64 {
    let rest = stdout.split(label).nth(1).unwrap_or_else(|| panic!("no {label} in:\n{stdout}"));
    let line = rest.lines().find(|l| l.starts_with("/dev/")).unwrap_or_else(|| {
        panic!("no df line after {label} in:\n{stdout}");
    });
    let size = line.split_whitespace().nth(1).unwrap();
    helix::size::parse(size).unwrap_or_else(|e| panic!("{size}: {e}"))
}

fn netplan_fix_then_expand_disk(boot: &crate::support::vmimage::Boot, instance_id: &str) {
    let started = std::time::Instant::now();
    let (t, config, _cleanup) = mac_problem_vm_as(boot, instance_id);
    eprintln!("[{}] provisioning boot done after {:?}", boot.arch, started.elapsed());

    let fix = t.helix(["run", "netplan-fix", "--wait", "900"]);
    fix.success()
        .stderr_has("no SSH banner")
        .stderr_has("wrote /etc/netplan/99-helix-override.yaml");
    fix.stderr_has("SSH answers under the VM's own MAC 52:42:00:ab:cd:ef");
    // Durations in human form: "(after 44s)", "(after 2m 05s)", never "43.707491923s".
    let shown = fix.stderr.split("MAC 52:42:00:ab:cd:ef (after ").nth(1).unwrap();
    let shown = shown.split(')').next().unwrap();
    assert!(is_human_duration(shown), "not a human duration: {shown}");
    eprintln!("[{}] netplan-fix done after {:?}", boot.arch, started.elapsed());
    t.helix(["run", "vm", "--action", "status"]).success().stdout_has("started");
    let file = t.helix([
        "run",
        "vm",
        "--action",
        "ssh",
        "--command",
        "sudo stat -c %a /etc/netplan/99-helix-override.yaml; sudo cat /etc/netplan/99-helix-override.yaml; uname -m; if test -d /sys/firmware/efi; then echo booted-through-uefi; fi",
    ]);
    file.success().stdout_has("600").stdout_has("driver: virtio_net");
    if boot.arch == "aarch64" {
        file.stdout_has("aarch64").stdout_has("booted-through-uefi");
    }

    // expand-disk with the VM running: "before" is measured at the old size, before the
    // restart in which cloud-init's growpart grows the root partition.
    let disk = g_disk(&config);
    let before = crate::support::disk::vm_bytes(&disk);
    let grown = before + (1 << 30);
    let out = t.helix(["run", "expand-disk", "--size", &grown.to_string(), "--snapshot"]);
    out.success().stdout_has("before:\n").stdout_has("after:\n");
    assert!(!out.stdout.contains("\\n"), "a literal \\n in:\n{}", out.stdout);
    let (fs_before, fs_after) =
        (df_size_after(&out.stdout, "before:"), df_size_after(&out.stdout, "after:"));
    assert!(
        fs_before <= before && fs_after > before && fs_after > fs_before,
        "before must show the old filesystem ({fs_before} <= disk {before}), after the grown one ({fs_after}):\n{}",
        out.stdout
    );
    assert_eq!(crate::support::disk::vm_bytes(&disk), grown);
    let df =
        t.helix(["run", "vm", "--action", "ssh", "--command", "df -B1 --output=size / | tail -1"]);
    df.success();
    let root_size: u64 = df.stdout.trim().lines().last().unwrap().trim().parse().unwrap();
    assert!(
        root_size > before,
        "the root filesystem grew past the old disk size: {root_size} bytes on a {grown}-byte disk"
    );
    // Refuses to shrink.
    t.helix(["run", "expand-disk", "--size", "1G"]).code(1).stderr_has("refusing to shrink");
    t.helix(["run", "vm", "--action", "stop"]).success();
    t.helix(["run", "vm", "--action", "status"]).success().stdout_has("stopped");
    eprintln!("[{}] netplan-fix + expand-disk done after {:?}", boot.arch, started.elapsed());
    // Three VMs outlived a command (netplan-fix's check, its verify boot, expand-disk's start):
    // none left a temp folder; their sockets and logs are under vm.dir.
    let left: Vec<_> =
        std::fs::read_dir(t.path("tmp")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    let runs: Vec<_> =
        std::fs::read_dir(t.path("vm/.helix")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(
        runs.len(),
        2,
        "one run folder per SSH port (the VM's, the repair boot's): {runs:?}"
    );
}

/// Kills any QEMU whose command line names `dir` when dropped: a failing VM test must not
/// leave a detached VM running.
pub struct KillVmsUnder(PathBuf);

impl Drop for KillVmsUnder {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pkill")
            .args(["-9", "-f", self.0.to_str().unwrap()])
            .status();
    }
}

pub fn g_disk(config: &str) -> PathBuf {
    let line = config.lines().find(|l| l.starts_with("disk = ")).unwrap();
    PathBuf::from(line.trim_start_matches("disk = ").trim_matches('"'))
}

/// provision-vm end to end with the QEMU backend: the test image served over HTTP stands in for
/// the Ubuntu cloud image; interrupted during the first boot, resumed, bundle checked.
#[test]
fn provision_vm_is_interrupted_and_resumed_on_a_real_vm() {
    use crate::support::httpd::{Httpd, Route};
    use crate::support::vmimage::{self, FIRST_MAC};
    use sha2::Digest;
    let _turn = vmimage::vm_turn();
    let t = Test::new();
    let img = vmimage::test_image();
    let bytes = std::fs::read(&img.disk).unwrap();
    let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
    let http = Httpd::start();
    http.route("/questing.img", Route::Serve(bytes));
    let keys = t.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let (key, _) = vmimage::keypair(&keys);
    let vm_dir = t.path("helix-vm");
    let _cleanup = KillVmsUnder(t.dir.path().to_path_buf());
    let config = format!(
        "[pins]\nubuntu_image_url = \"{url}\"\nubuntu_image_sha256 = \"{sha}\"\n\
         [vm]\nbackend = \"qemu\"\nname = \"helix-provision-test\"\ndir = \"{dir}\"\nssh_user = \"{user}\"\nssh_key = \"{key}\"\n\
         ssh_port = {port}\nmac = \"52:42:00:12:34:99\"\nprovision_mac = \"{FIRST_MAC}\"\nprovision_ssh_port = {pport}\n\
         [vm.qemu]\narch = \"x86_64\"\naccel = \"tcg\"\nmemory = \"1G\"\nsmp = 2\nfirmware_code = \"\"\n\
         kernel = \"{kernel}\"\ninitrd = \"{initrd}\"\nappend = \"root=/dev/vda1 console=ttyS0\"\n",
        url = http.url("/questing.img"),
        dir = vm_dir.display(),
        user = vmimage::USER,
        key = key.display(),
        port = vmimage::free_port(),
        pport = vmimage::free_port(),
        kernel = img.kernel.display(),
        initrd = img.initrd.display(),
    );
    let t = t.file("helix.toml", &config);
    let pub_key = format!("{}.pub", key.display());
    let params = [
        "run",
        "provision-vm",
        "--profile",
        "light",
        "--disk-size",
        "3G",
        "--zfs-size",
        "1G",
        "--key",
        &pub_key,
    ];

    // First run: interrupted (Ctrl-C) while the first boot waits for SSH.
    let log = t.path("first.log");
    let mut cmd = t.command(params);
    cmd.stdout(std::fs::File::create(t.path("first.out")).unwrap())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("started the VM") {
        assert!(
            start.elapsed().as_secs() < 300,
            "never booted:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "ended early:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", std::fs::read_to_string(&log).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(500));
    let left = std::process::Command::new("pgrep")
        .args(["-f", vm_dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "a QEMU outlived the interrupted run: {}",
        String::from_utf8_lossy(&left.stdout)
    );
    assert!(vm_dir.join("disk.qcow2").is_file() && vm_dir.join("seed-fat.img").is_file());
    let disk_inode =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(vm_dir.join("disk.qcow2")).unwrap());

    // Resume: the host-side steps are not redone; the guest is set up; the bundle checks out.
    let mut resume: Vec<&str> = params.to_vec();
    resume.push("--resume");
    let out = t.helix(resume);
    out.success()
        .stderr_has("step `download`: already done")
        .stderr_has("step `disk`: already done");
    out.stdout_has("provisioned-by-helix")
        .stderr_has("cloud-init finished")
        .stderr_has("UTM bundle ready");
    assert_eq!(http.requests().len(), 1, "the image was downloaded once");
    let bundle = vm_dir.join("helix-desktop.utm");
    let plist = std::fs::read_to_string(bundle.join("config.plist")).unwrap();
    assert!(
        plist.contains("virtio-gpu-gl-pci.edid=on") && plist.contains("52:42:00:12:34:99"),
        "{plist}"
    );
    let data: Vec<_> = std::fs::read_dir(bundle.join("Data")).unwrap().flatten().collect();
    assert_eq!(data.len(), 2, "both disks placed in Data/");

    // A fresh run never overwrites the disks.
    let again =
        t.helix(["run", "provision-vm", "--profile", "light", "--only", "disk", "--key", &pub_key]);
    again.success().stderr_has("keeping the existing");
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(vm_dir.join("disk.qcow2")).unwrap()),
        disk_inode
    );
}

/// provision-vm on the aarch64 UEFI VM, with the config a Mac user has for it: `arch =
/// "aarch64"`, UEFI (`firmware_code` set, no kernel), `firmware_vars` empty (the vars file is
/// made beside the disks from the firmware's template). The arm64 test image, served over
/// HTTP, stands in for the Ubuntu arm64 cloud image. Every step of the light profile runs:
/// download, disk, cloudinit, boot_setup (UEFI boot, SSH, cloud-init), hello, shutdown (fstrim,
/// ACPI power-off), utm_bundle.
#[test]
fn provision_vm_on_the_arm64_uefi_vm() {
    use crate::support::httpd::{Httpd, Route};
    use crate::support::vmimage::{self, Boot, FIRST_MAC};
    use sha2::Digest;
    let _turn = vmimage::vm_turn();
    let started = std::time::Instant::now();
    let t = Test::new();
    let boot = Boot::arm64_uefi();
    let bytes = std::fs::read(&boot.image).unwrap();
    let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
    let http = Httpd::start();
    http.route("/questing-server-cloudimg-arm64.img", Route::Serve(bytes));
    let keys = t.path("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::create_dir_all(t.path("tmp")).unwrap();
    let (key, _) = vmimage::keypair(&keys);
    let vm_dir = t.path("helix-vm");
    let _cleanup = KillVmsUnder(t.dir.path().to_path_buf());
    let config = format!(
        "[pins]\nubuntu_image_url = \"{url}\"\nubuntu_image_sha256 = \"{sha}\"\n\
         [vm]\nbackend = \"qemu\"\nname = \"helix-provision-arm64\"\ndir = \"{dir}\"\nssh_user = \"{user}\"\nssh_key = \"{key}\"\n\
         ssh_port = {port}\nmac = \"52:42:00:12:34:99\"\nprovision_mac = \"{FIRST_MAC}\"\nprovision_ssh_port = {pport}\n{qemu}",
        url = http.url("/questing-server-cloudimg-arm64.img"),
        dir = vm_dir.display(),
        user = vmimage::USER,
        key = key.display(),
        port = vmimage::free_port(),
        pport = vmimage::free_port(),
        qemu = boot.qemu_table(None, ""),
    );
    let tmp = t.path("tmp").display().to_string();
    let t = t.file("helix.toml", &config).env("TMPDIR", &tmp);
    let pub_key = format!("{}.pub", key.display());
    let params = [
        "run",
        "provision-vm",
        "--profile",
        "light",
        "--disk-size",
        "3G",
        "--zfs-size",
        "1G",
        "--wait",
        "1200",
        "--key",
        &pub_key,
    ];
    // The plan shows the argv a Mac uses, under TCG: the virt machine, the edk2 code read-only
    // from pflash and the VM's own writable vars copy beside its disks; no direct kernel boot.
    let mut dry = params.to_vec();
    dry.push("--dry-run");
    let plan = t.helix(dry);
    plan.success();
    let argv =
        plan.stdout.lines().find(|l| l.contains("would start the VM")).unwrap_or_else(|| {
            panic!("no VM start in the plan:\n{}", plan.stdout);
        });
    for want in [
        "qemu-system-aarch64 -name helix-provision-arm64 -machine virt -accel tcg -cpu ",
        &format!("-drive if=pflash,format=raw,readonly=on,file={}", vmimage::AAVMF_CODE),
        &format!("-drive if=pflash,format=raw,file={}/efi_vars.fd", vm_dir.display()),
    ] {
        assert!(argv.contains(want), "`{want}` not in\n{argv}");
    }
    assert!(!argv.contains("-kernel"), "{argv}");
    assert!(!vm_dir.join("efi_vars.fd").exists(), "a dry run copies no vars file");

    let out = t.helix(params);
    eprintln!("[aarch64] provision-vm took {:?}", started.elapsed());
    out.success()
        .stderr_has("cloud-init finished")
        .stderr_has("the provisioning VM stopped (powered off)")
        .stderr_has("UTM bundle ready");
    out.stdout_has("provisioned-by-helix");
    let vars = vm_dir.join("efi_vars.fd");
    assert_eq!(
        std::fs::metadata(&vars).map(|m| m.len()).ok(),
        std::fs::metadata(vmimage::AAVMF_VARS).map(|m| m.len()).ok(),
        "the vars file was made from the template"
    );
    let run = vm_dir.join(format!(".helix/qemu-{}", config_port(&config, "provision_ssh_port")));
    let serial = std::fs::read_to_string(run.join("serial.log")).unwrap();
    // edk2 ran GRUB from the ESP's removable path, GRUB the guest's arm64 kernel through its
    // EFI stub.
    for booted in ["Welcome to GRUB!", "EFI stub: Booting Linux Kernel", "Linux version", "-arm64"]
    {
        assert!(serial.contains(booted), "`{booted}` not on the serial console:\n{serial}");
    }
    let bundle = vm_dir.join("helix-desktop.utm");
    let data: Vec<_> = std::fs::read_dir(bundle.join("Data")).unwrap().flatten().collect();
    assert_eq!(data.len(), 2, "both disks placed in Data/");
    let left: Vec<_> =
        std::fs::read_dir(t.path("tmp")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

fn config_port(config: &str, key: &str) -> u16 {
    let line = config.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap();
    line.split('=').nth(1).unwrap().trim().parse().unwrap()
}

/// Every built-in recipe: it compiles, `--help` lists its parameters, and `--dry-run` touches
/// nothing on disk (whether it can plan all the way here or stops with a clear error).
#[test]
fn every_builtin_recipe_checks_documents_itself_and_dry_runs_without_side_effects() {
    let t = Test::new();
    std::fs::remove_dir_all(t.path("recipes")).unwrap();
    t.helix(["check"]).success();
    let list = t.helix(["list", "--json"]);
    let recipes: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let pm = t.path("pm");
    let config = format!(
        "[paths]\npm = \"{pm}\"\nhelix = \"{pm}/helix\"\nqemu_utm = \"{pm}/qemu-utm\"\nutm = \"{pm}/UTM\"\nsysroot = \"{pm}/UTM/sysroot-macOS-arm64\"\nutm_app = \"{pm}/UTM.app\"\n\
         [repos]\nhelix = \"{pm}/remotes/helix.git\"\nqemu_utm = \"{pm}/remotes/q.git\"\nqemu_upstream = \"{pm}/remotes/u.git\"\nutm = \"{pm}/remotes/utm.git\"\n\
         [pins]\nubuntu_image_url = \"http://127.0.0.1:9/none.img\"\n\
         [vm]\nbackend = \"qemu\"\ndir = \"{pm}/vm\"\ndisk = \"{pm}/vm/disk.qcow2\"\nssh_key = \"{pm}/id\"\n\
         [vm.qemu]\narch = \"x86_64\"\naccel = \"tcg\"\nfirmware_code = \"\"\n",
        pm = pm.display()
    );
    let t =
        t.file("helix.toml", &config).file("home/.ssh/id_ed25519.pub", "ssh-ed25519 AAAA test\n");
    for r in ["helix", "q", "u", "utm"] {
        let bare = pm.join(format!("remotes/{r}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        crate::git::git(&bare, &["init", "-q", "--bare"]);
    }
    let before = tree(t.dir.path());
    let mut helps = String::new();
    for r in recipes.as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        let help = t.helix(["run", name, "--help"]);
        help.success();
        helps.push_str(&format!("=== helix run {name} --help\n{}", shown(&t, &help)));
        for p in r["header"]["params"].as_array().unwrap() {
            help.stdout_has(&format!("--{}", p["name"].as_str().unwrap()));
        }
        let mut argv = vec!["run".to_string(), name.to_string(), "--dry-run".to_string()];
        match name {
            "expand-disk" => argv.extend(["--size".into(), "1T".into()]),
            "vm" => argv.extend(["--action".into(), "status".into()]),
            _ => {}
        }
        let out = t.helix(argv.clone());
        if out.code != 0 {
            // Stopping is fine when the machine lacks what the recipe needs — with a message
            // that points at the recipe line, not a panic.
            assert_eq!(out.code, 1, "{argv:?}\n{}", out.stderr);
            out.stderr_has("error:").stderr_has(".rhai:");
        }
        assert!(!out.stderr.contains("panicked"), "{argv:?}\n{}", out.stderr);
        assert_eq!(tree(t.dir.path()), before, "`helix {}` changed files", argv.join(" "));
        // Nothing it printed claims a change it did not make.
        crate::cli::assert_truthful(&argv, &out);
    }
    insta::assert_snapshot!("builtin_recipes_help", helps);
    // The recipes that can plan here do.
    let s = t.helix(["run", "setup", "--dry-run"]);
    s.success();
    insta::assert_snapshot!("setup_dry_run", by_repository(&shown(&t, &s)));
    crate::cli::assert_truthful(&["run setup --dry-run".into()], &s);
    let p = t.helix(["run", "provision-vm", "--dry-run", "--profile", "light"]);
    p.success();
    insta::assert_snapshot!("provision_vm_dry_run", shown(&t, &p));
    crate::cli::assert_truthful(&["run provision-vm --dry-run --profile light".into()], &p);
}

/// setup works on its repositories concurrently: its plan lines grouped by the checkout they
/// name last (a stable sort, so each repository's lines keep their order).
fn by_repository(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let is_plan = |l: &&str| l.starts_with("[dry-run] would");
    let start = lines.iter().position(is_plan).unwrap_or(0);
    let end = start + lines[start..].iter().take_while(|l| is_plan(l)).count();
    let mut plan = lines[start..end].to_vec();
    plan.sort_by_key(|l| l.rsplit("`<test>/").next().unwrap_or("").to_string());
    let mut out = lines[..start].to_vec();
    out.extend(plan);
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

/// Every path under `dir` except helix's own state (journal, backups), with file sizes.
fn tree(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let state = dir.join("state");
    crate::support::tree::snapshot(dir, &|p| p.starts_with(&state))
}

/// Where a VM boot keeps its QMP socket and logs: under `vm.dir` when that folder exists here,
/// else under helix's state dir — never a `helix-vm-*` temp folder, and never a folder made on
/// a volume that is not mounted (`/Volumes/Big/…` on a machine without it). The UEFI vars file
/// is the VM's own, beside its disks.
#[test]
fn vm_boots_keep_their_files_under_vm_dir_or_the_state_dir() {
    let show = "import \"vm\" as vm;\nlet s = vm::spec(\"52:54:00:12:34:56\", 2299, []);\nprint(s.dir);\nprint(s.firmware.vars);\n";
    for (dir, exists) in [("vmhome", true), ("Volumes/Big/helix-desktop-vm", false)] {
        let t = Test::new().recipe("show", show);
        let vm_dir = t.path(dir);
        if exists {
            std::fs::create_dir_all(&vm_dir).unwrap();
        }
        let config = format!(
            "[vm]\nbackend = \"qemu\"\nname = \"dev\"\ndir = \"{}\"\n[vm.qemu]\narch = \"aarch64\"\nkernel = \"\"\n\
             firmware_code = \"{}\"\nfirmware_vars = \"\"\n",
            vm_dir.display(),
            crate::support::vmimage::AAVMF_CODE
        );
        let t = t.file("helix.toml", &config);
        let out = t.helix(["run", "show"]);
        out.success();
        let want = if exists {
            vm_dir.join(".helix/qemu-2299")
        } else {
            t.path("state/vms/dev/qemu-2299")
        };
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines[0], want.display().to_string(), "{}", out.stdout);
        assert_eq!(lines[1], vm_dir.join("efi_vars.fd").display().to_string());
        // A dry run of a start creates nothing, on the missing volume least of all.
        t.helix(["run", "vm", "--action", "start", "--dry-run"]).success();
        assert_eq!(vm_dir.exists(), exists, "{}", vm_dir.display());
        assert!(!want.exists(), "a dry run made {}", want.display());
    }
}

/// Rhai does not process escapes in backtick strings: `\n` there prints a backslash and an `n`
/// (expand-disk printed `before:\n…` that way). No built-in recipe or stdlib module writes one;
/// interpolations (`${…}`) may hold ordinary strings with escapes.
#[test]
fn no_builtin_rhai_file_has_an_escape_in_a_backtick_string() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = vec![];
    for dir in ["recipes", "stdlib"] {
        for f in crate::support::tree::walk(&root.join(dir))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        {
            let text = std::fs::read_to_string(&f).unwrap();
            found.extend(
                backtick_escapes(&text).into_iter().map(|l| format!("{}:{l}", f.display())),
            );
        }
    }
    assert!(found.is_empty(), "escapes that would print literally: {found:?}");
    // The scanner itself: it finds one, and leaves ordinary strings and interpolations alone.
    assert_eq!(backtick_escapes("let a = 1;\nprint(`x\\ny`);\n"), vec![2]);
    assert!(backtick_escapes("print(\"a\\nb\"); print(`${\"a\\n\" + b}`); // `c\\n`\n").is_empty());
}

/// Lines (1-based) with a `\` escape inside a backtick string, outside its `${…}` parts.
fn backtick_escapes(text: &str) -> Vec<usize> {
    #[derive(PartialEq)]
    enum In {
        Code,
        Str,
        Tick,
    }
    let (mut stack, mut line, mut out) = (vec![In::Code], 1, vec![]);
    let mut depth: Vec<usize> = vec![]; // brace depth at each `${` entered
    let mut braces = 0usize;
    let c: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
        }
        match stack.last().unwrap() {
            In::Code => match ch {
                '/' if c.get(i + 1) == Some(&'/') => {
                    while i < c.len() && c[i] != '\n' {
                        i += 1;
                    }
                    continue;
                }
                '"' => stack.push(In::Str),
                '`' => stack.push(In::Tick),
                '{' => braces += 1,
                '}' if depth.last() == Some(&braces) => {
                    depth.pop();
                    stack.pop();
                }
                '}' => braces = braces.saturating_sub(1),
                _ => {}
            },
            In::Str => match ch {
                '\\' => i += 1,
                '"' => {
                    stack.pop();
                }
                _ => {}
            },
            In::Tick => match ch {
                '\\' => out.push(line),
                '`' => {
                    stack.pop();
                }
                '$' if c.get(i + 1) == Some(&'{') => {
                    i += 1;
                    depth.push(braces);
                    stack.push(In::Code);
                }
                _ => {}
            },
        }
        i += 1;
    }
    out.dedup();
    out
}
