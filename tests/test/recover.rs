//! recover-vm: the facts it gathers, the problems it names, and each fix on real images, real
//! QEMU processes and, through a real terminal, a real VM with the netplan MAC problem.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::builder::Test;
use crate::support::cmd::run;
use crate::support::pty::pty_session;

/// A stopped `qemu`-backend VM whose one disk is `vm/disk.qcow2` (64 MiB).
fn disk_world() -> (Test, PathBuf) {
    let t = Test::new();
    std::fs::create_dir_all(t.path("vm")).unwrap();
    let disk = t.path("vm/disk.qcow2");
    run("qemu-img", &["create", "-q", "-f", "qcow2", disk.to_str().unwrap(), "64M"]);
    let config = format!(
        "[vm]\nbackend = \"qemu\"\nname = \"recover-test\"\ndir = \"{dir}\"\ndisk = \"{disk}\"\nzfs_disk = \"\"\n\
         ssh_host = \"127.0.0.1\"\nssh_port = {port}\n",
        dir = t.path("vm").display(),
        disk = disk.display(),
        port = crate::support::ports::free_port()
    );
    (t.file("helix.toml", &config), disk)
}

/// Whether the first 64 KiB of the disk hold the byte `pattern` (read by qemu-io).
fn holds(disk: &Path, pattern: u8) -> bool {
    let out = run(
        "qemu-io",
        &["-r", "-U", "-c", &format!("read -P {pattern:#x} 0 64k"), disk.to_str().unwrap()],
    );
    !out.contains("verification failed")
}

fn snapshots(disk: &Path) -> String {
    run("qemu-img", &["snapshot", "-U", "-l", disk.to_str().unwrap()])
}

/// The run id in helix's `to undo this run: helix undo ID` line (stderr or a screen).
fn undo_id(output: &str) -> String {
    output
        .lines()
        .find_map(|l| l.split("to undo this run: helix undo ").nth(1))
        .unwrap_or_else(|| panic!("no undo line in:\n{output}"))
        .trim()
        .to_string()
}

#[test]
fn revert_takes_a_checkpoint_first_and_undo_goes_back_to_it() {
    let (t, disk) = disk_world();
    let d = disk.to_str().unwrap();
    run("qemu-io", &["-c", "write -P 0x11 0 64k", d]);
    run("qemu-img", &["snapshot", "-c", "base", d]);
    run("qemu-io", &["-c", "write -P 0x22 0 64k", d]);

    let out = t.helix(["run", "recover-vm", "--choose", "revert", "--snapshot", "base"]);
    out.success().stdout_has("1 snapshot: base").stderr_has("no known problem found");
    assert!(holds(&disk, 0x11), "reverted to base");
    let id = undo_id(&out.stderr);
    assert!(snapshots(&disk).contains(&format!("helix-recover-{id}")), "{}", snapshots(&disk));
    out.stderr_has(&format!("took snapshot helix-recover-{id}"));

    t.helix(["undo", &id]).success().stdout_has("reverted");
    assert!(holds(&disk, 0x22), "undo brought back the state before the run");
    // A snapshot that is not there is a clear error, and nothing changes.
    t.helix(["run", "recover-vm", "--choose", "revert", "--snapshot", "nope"])
        .code(1)
        .stderr_has("no disk has a snapshot called nope");
    assert!(holds(&disk, 0x22));
}

#[test]
fn a_disk_in_helix_trash_is_named_and_restored_and_undo_trashes_it_again() {
    let (t, disk) = disk_world();
    run("qemu-io", &["-c", "write -P 0x33 0 64k", disk.to_str().unwrap()]);
    let t = t.recipe("lose", "//! L.\nfs::remove(\"vm/disk.qcow2\");\n");
    t.helix(["run", "lose"]).success();
    assert!(!disk.exists());

    let look = t.helix(["run", "recover-vm", "--choose", "nothing"]);
    look.success().stdout_has("missing (in helix's trash since").stderr_has("is in helix's trash");
    look.stderr_has("nothing was changed");
    // A fix that does not fit is refused with the ones that do.
    t.helix(["run", "recover-vm", "--choose", "repair"])
        .code(1)
        .stderr_has("--choose repair does not fit")
        .stderr_has("untrash, nothing");

    let back = t.helix(["run", "recover-vm", "--choose", "untrash"]);
    back.success().stderr_has("is back from helix's trash");
    assert!(holds(&disk, 0x33), "the same disk came back");
    t.helix(["undo", &undo_id(&back.stderr)]).success().stdout_has("to the trash");
    assert!(!disk.exists(), "undo put it back in the trash");
}

#[test]
fn an_unreadable_image_and_a_full_volume_are_named_and_no_terminal_means_no_fix() {
    let (t, disk) = disk_world();
    let mut junk = b"QFI\xfb".to_vec();
    junk.extend(std::iter::repeat_n(0xee, 4096));
    std::fs::write(&disk, &junk).unwrap();
    let out = t.helix(["run", "recover-vm", "--low-space", "1P"]);
    out.code(1)
        .stderr_has("qemu-img cannot read")
        .stderr_has("free on")
        .stderr_has("What should helix do?\" needs an answer and there is no terminal");
    assert_eq!(std::fs::read(&disk).unwrap(), junk, "nothing touched the image");
}

/// Under UTM: a VM UTM does not list is named as unregistered, with register-vm as the way in.
#[test]
fn under_utm_an_unregistered_vm_is_named_with_the_way_in() {
    let t =
        crate::utm::fake_utm(&[("0DADCFD5-C147-4870-9C0F-925F33B5D405", "stopped", "other-vm")]);
    std::fs::create_dir_all(t.path("vm")).unwrap();
    let disk = t.path("vm/disk.qcow2");
    run("qemu-img", &["create", "-q", "-f", "qcow2", disk.to_str().unwrap(), "64M"]);
    let toml = std::fs::read_to_string(t.path("helix.toml")).unwrap();
    let bundle = t.path("vm/helix.utm");
    let t = t.file(
        "helix.toml",
        &format!(
            "{toml}[vm]\nbackend = \"utm\"\nuuid = \"17DC4F96-F1A9-4B51-962B-03D85998E0E7\"\n\
             disk = \"{}\"\nzfs_disk = \"\"\nbundle = \"{}\"\nssh_port = {}\n",
            disk.display(),
            bundle.display(),
            crate::support::ports::free_port()
        ),
    );
    let out = t.helix(["run", "recover-vm", "--choose", "nothing"]);
    out.success()
        .stdout_has("registered in UTM")
        .stderr_has("UTM does not know the VM 17DC4F96")
        .stderr_has("next: helix run register-vm");
    assert!(crate::utm::calls(&t).contains("utmctl list"), "{}", crate::utm::calls(&t));
}

/// A child killed when the test ends, even by a panic.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A QEMU left holding the disk while the VM counts as stopped: named with its pid; stopping it
/// is refused without a terminal and done once a person says yes at one.
#[test]
fn a_stale_qemu_holding_the_disk_is_stopped_only_when_a_person_confirms() {
    let (t, disk) = disk_world();
    let mut qemu = KillOnDrop(
        Command::new("qemu-system-x86_64")
            .args(["-S", "-accel", "tcg", "-display", "none", "-nodefaults", "-drive"])
            .arg(format!("file={},if=virtio,format=qcow2", disk.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let qemu = &mut qemu.0;
    let pid = qemu.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while Command::new("qemu-img").arg("check").arg(&disk).output().unwrap().status.success() {
        assert!(std::time::Instant::now() < deadline, "QEMU never locked the disk");
        std::thread::sleep(Duration::from_millis(100));
    }

    let look = t.helix(["run", "recover-vm", "--choose", "nothing"]);
    look.success()
        .stdout_has(&format!("open by pid {pid}"))
        .stderr_has(&format!("is locked by process {pid}"))
        .stdout_has("a stale QEMU");
    t.helix(["run", "recover-vm", "--choose", "unlock"]).code(1);
    assert!(qemu.try_wait().unwrap().is_none(), "refused without a terminal: QEMU still runs");

    // At a terminal: the menu's first entry is the fix, then the guard asks.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm"],
        &[],
        &[("What should helix do?", "\r"), ("[y/N]", "y\r")],
        Duration::from_secs(120),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains(&format!("process {pid} terminated")), "{screen}");
    assert!(
        !screen.contains("helix undo"),
        "stopping a process is not offered as undoable: {screen}"
    );
    let status = qemu.wait().unwrap();
    assert!(!status.success() || status.code() == Some(0), "QEMU ended: {status:?}");
    assert!(Command::new("qemu-img").arg("check").arg(&disk).output().unwrap().status.success());
}

/// The whole flow on a real VM with the netplan MAC problem, driven at a real terminal:
/// cancelling changes nothing; the repair takes a snapshot first and SSH answers under the new
/// MAC; `helix undo` (once the VM is stopped) reverts the disk, and the problem is back; an
/// inspection boot takes a checkpoint, shows the guest's state and powers it down.
#[test]
fn recover_vm_repairs_the_mac_problem_at_a_terminal_and_undo_reverts_it() {
    let _turn = crate::support::vmimage::vm_turn();
    let (t, config, _cleanup) = crate::recipes::mac_problem_vm("helix-recover-1");
    let disk = crate::recipes::g_disk(&config);
    t.helix(["run", "vm", "--action", "start"]).success();
    let pid_of = |t: &Test| {
        let rec = std::fs::read_to_string(t.path("state/vms/helix-recipe-vm.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&rec).unwrap()["pid"].as_i64()
    };
    let pid = pid_of(&t);
    let before = snapshots(&disk);

    // Cancel: the menu's last entry.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm", "--wait", "600"],
        &[],
        &[("What should helix do?", "k\r")],
        Duration::from_secs(900),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("the VM runs but has no network"), "{screen}");
    assert!(screen.contains("netplan repair"), "{screen}");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert_eq!(snapshots(&disk), before, "cancelled: no snapshot");
    assert_eq!(pid_of(&t), pid, "cancelled: the same VM still runs");

    // Repair: the menu's first entry.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm", "--wait", "600"],
        &[],
        &[("What should helix do?", "\r")],
        Duration::from_secs(1200),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("SSH answers under the VM's own MAC 52:42:00:ab:cd:ef"), "{screen}");
    let id = undo_id(&screen);
    assert!(snapshots(&disk).contains(&format!("helix-recover-{id}")), "{}", snapshots(&disk));
    t.helix([
        "run",
        "vm",
        "--action",
        "ssh",
        "--command",
        "sudo cat /etc/netplan/99-helix-override.yaml",
    ])
    .success()
    .stdout_has("driver: virtio_net");

    // Undo needs the disk free: refused while the VM runs, with what to do.
    t.helix(["undo", &id]).code(1).stderr_has("stop it first");
    t.helix(["run", "vm", "--action", "stop"]).success();
    t.helix(["undo", &id]).success().stdout_has(&format!("to snapshot `helix-recover-{id}`"));

    // The revert is real: under the new MAC the network is gone again.
    t.helix(["run", "vm", "--action", "start"]).success();
    t.helix(["run", "recover-vm", "--choose", "nothing", "--wait", "600"])
        .success()
        .stderr_has("the VM runs but has no network");
    t.helix(["run", "vm", "--action", "stop"]).success();

    // Inspection of the stopped VM (no problem found, so the menu is: nothing, revert, start,
    // inspect): a checkpoint, a headless boot with the provisioning MAC, its serial log and
    // SSH state, then power-down.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm", "--wait", "600"],
        &[],
        &[("What should helix do?", "jjj\r"), ("The inspection VM runs. Now?", "j\r")],
        Duration::from_secs(900),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("the guest finished booting"), "{screen}");
    assert!(screen.contains("the serial console so far"), "{screen}");
    assert!(screen.contains("inspection boot ended: powered off"), "{screen}");
    let id2 = undo_id(&screen);
    assert!(snapshots(&disk).contains(&format!("helix-recover-{id2}")), "{}", snapshots(&disk));
}

/// `--choose revert` without `--snapshot` asks which snapshot (the header's "without it, a
/// menu" once became the default value `asks`); with no problem found, the main menu's
/// highlighted entry is "Nothing", so a reflexive Enter changes nothing.
#[test]
fn revert_without_a_snapshot_asks_and_with_nothing_found_enter_changes_nothing() {
    let (t, disk) = disk_world();
    let d = disk.to_str().unwrap();
    run("qemu-io", &["-c", "write -P 0x11 0 64k", d]);
    run("qemu-img", &["snapshot", "-c", "base", d]);
    run("qemu-io", &["-c", "write -P 0x22 0 64k", d]);

    // The main menu: Enter on the highlighted entry.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm"],
        &[],
        &[("What should helix do?", "\r")],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("no known problem found"), "{screen}");
    assert!(screen.contains("nothing was changed"), "Enter picked Nothing: {screen}");
    assert!(holds(&disk, 0x22), "the disk is untouched");
    assert!(!snapshots(&disk).contains("helix-recover"), "no checkpoint: {}", snapshots(&disk));
    // Without a terminal the order shows in the refusal of a fix that does not fit.
    t.helix(["run", "recover-vm", "--choose", "repair"])
        .code(1)
        .stderr_has("the choices are nothing, revert");

    // Revert without --snapshot: the snapshot menu, newest first; Enter picks `base`.
    let (code, screen) = pty_session(
        &t,
        &["run", "recover-vm", "--choose", "revert"],
        &[],
        &[("Which snapshot (newest first)?", "\r")],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("called asks"), "{screen}");
    assert!(holds(&disk, 0x11), "reverted to base: {screen}");
    // Without a terminal, the question is refused rather than answered with a made-up name.
    t.helix(["run", "recover-vm", "--choose", "revert"])
        .code(1)
        .stderr_has("Which snapshot (newest first)?\" needs an answer and there is no terminal");
}
