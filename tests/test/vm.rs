//! VMs: qemu-img, cloud-init seeds and headless QEMU from recipes, and a real cloud-init guest
//! booted under TCG (see `vmimage.rs`).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::builder::Test;
use crate::support::vmimage::{self, FIRST_MAC, Guest};

/// Whether any process's command line contains `needle` (zombies excluded).
fn running_with(needle: &str) -> Vec<u32> {
    let mut pids = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle)
            && !stat.contains(") Z ")
            && pid != std::process::id()
        {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn qemu_img_from_a_recipe_with_clear_errors() {
    let t = Test::new().recipe(
        "disk",
        r#"//! Disks.
qemu_img::create("d.qcow2", "1G");
print(`size ${qemu_img::resize("d.qcow2", "+1G")}`);
if dry_run() { exit(0); } // what follows reads the image back
let i = qemu_img::info("d.qcow2");
print(`info ${i.format} ${i.virtual_size_text} dirty=${i.dirty}`);
qemu_img::snapshot_create("d.qcow2", "clean");
print(`snaps ${qemu_img::snapshot_list("d.qcow2").map(|s| s.name)}`);
print(`check ${qemu_img::check("d.qcow2").ok}`);
qemu_img::convert("d.qcow2", "d.raw", #{ format: "raw" });
print(`raw ${qemu_img::info("d.raw").format}`);
"#,
    );
    t.helix(["run", "disk"])
        .success()
        .stdout_has("size 2147483648")
        .stdout_has("info qcow2 2G dirty=false")
        .stdout_has("snaps [\"clean\"]")
        .stdout_has("check true")
        .stdout_has("raw raw");
    let bad = Test::new().recipe("bad", "//! Bad.\n\nqemu_img::create(\"d.qcow2\", \"12Q\");\n");
    bad.helix(["run", "bad"])
        .code(1)
        .stderr_has("invalid size `12Q`")
        .stderr_has("recipes/bad.rhai:3:");
    assert!(!bad.path("d.qcow2").exists());
    let missing = Test::new().recipe("m", "//! M.\nqemu_img::resize(\"nope.qcow2\", \"+1G\");\n");
    missing
        .helix(["run", "m"])
        .code(1)
        .stderr_has("the disk image `nope.qcow2` does not exist")
        .stderr_has("recipes/m.rhai:2:");
    // An existing disk helix did not make: overwriting needs a person; here there is none.
    let over = Test::new().recipe("o", "//! O.\nqemu_img::create(\"keep.qcow2\", \"2G\");\n");
    let st = Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(over.path("keep.qcow2"))
        .arg("1G")
        .status()
        .unwrap();
    assert!(st.success());
    over.helix(["run", "o"])
        .code(1)
        .stderr_has("refused")
        .stderr_has("replaced by a new, empty image");
    over.helix(["run", "o", "--dry-run"])
        .success()
        .stdout_has("would ask: replaced by a new, empty image (`keep.qcow2`)")
        .stdout_has("create the qcow2 image `keep.qcow2`");
}

#[test]
fn seeds_are_read_by_the_standard_tools() {
    let t = Test::new().recipe(
        "seed",
        r#"//! Seed.
let ud = #{
    hostname: "helix-vm",
    users: [#{ name: "luke", sudo: "ALL=(ALL) NOPASSWD:ALL", shell: "/bin/bash", ssh_authorized_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBexample me@host"] }],
    packages: ["curl", "git"],
    runcmd: [["touch", "/var/lib/cloud/instance/provision-ready"]],
    write_files: [#{ path: "/etc/netplan/99-helix-override.yaml", content: "network: {version: 2}\n" }],
};
let nc = #{ network: #{ version: 2, ethernets: #{ id0: #{ "match": #{ driver: "virtio_net" }, dhcp4: true, dhcp6: true } } } };
fs::write("user-data", cloudinit::user_data(ud));
fs::write("network-config", cloudinit::network_config(nc));
let seed = #{ user_data: ud, meta_data: #{ "instance-id": "helix-vm-1", "local-hostname": "helix-vm" }, network_config: nc };
cloudinit::seed("seed-fat.img", seed);
seed.format = "iso";
cloudinit::seed("seed.iso", seed);
"#,
    );
    t.helix(["run", "seed"]).success();
    let run = |argv: &[&str]| {
        let o = Command::new(argv[0]).args(&argv[1..]).current_dir(t.dir.path()).output().unwrap();
        assert!(
            o.status.success(),
            "{argv:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // FAT: label and files as mtools and blkid see them.
    let fat = run(&["blkid", "-p", "-o", "export", "seed-fat.img"]);
    assert!(fat.contains("LABEL=CIDATA") && fat.contains("TYPE=vfat"), "{fat}");
    let dir = run(&["mdir", "-i", "seed-fat.img", "-b", "::"]);
    assert!(
        dir.contains("user-data") && dir.contains("meta-data") && dir.contains("network-config"),
        "{dir}"
    );
    let ud = run(&["mtype", "-i", "seed-fat.img", "::user-data"]);
    assert_eq!(ud, std::fs::read_to_string(t.path("user-data")).unwrap());
    // ISO 9660: label and exact names as xorriso extracts them.
    let iso = run(&["blkid", "-p", "-o", "export", "seed.iso"]);
    assert!(iso.contains("LABEL=cidata") && iso.contains("TYPE=iso9660"), "{iso}");
    run(&["xorriso", "-osirrox", "on", "-indev", "seed.iso", "-extract", "/", "iso-out"]);
    assert_eq!(std::fs::read_to_string(t.path("iso-out/user-data")).unwrap(), ud);
    assert!(
        std::fs::read_to_string(t.path("iso-out/meta-data"))
            .unwrap()
            .contains("instance-id: helix-vm-1")
    );
    // cloud-init and netplan accept what helix generated.
    if which("cloud-init") {
        let out = run(&["cloud-init", "schema", "--config-file", "user-data"]);
        assert!(out.contains("Valid") && !out.contains("Invalid"), "{out}");
    }
    if which("netplan") {
        std::fs::create_dir_all(t.path("root/etc/netplan")).unwrap();
        std::fs::copy(t.path("network-config"), t.path("root/etc/netplan/50-cloud-init.yaml"))
            .unwrap();
        run(&["netplan", "generate", "--root-dir", "root"]);
        let units: Vec<_> = std::fs::read_dir(t.path("root/run/systemd/network"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(units.iter().any(|u| u.contains("id0")), "{units:?}");
    }
}

fn which(p: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {p}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// qemu_img's option maps are declared: a mistyped key names itself and the right one, and
/// nothing is created or converted.
#[test]
fn qemu_img_option_maps_refuse_a_mistyped_key() {
    let t = Test::new()
        .recipe("c", "//! C.\nqemu_img::create(\"o.qcow2\", \"1M\", #{ fromat: \"raw\" });\n")
        .recipe(
            "v",
            "//! V.\nqemu_img::create(\"a.qcow2\", \"1M\");\nqemu_img::convert(\"a.qcow2\", \"b.qcow2\", #{ compres: true });\n",
        )
        .recipe(
            "a",
            "//! A.\nqemu_img::create(\"s.qcow2\", \"1M\");\nqemu_img::snapshot_create(\"s.qcow2\", \"x\");\nqemu_img::snapshot_apply(\"s.qcow2\", \"x\", #{ save: false });\n",
        )
        .recipe(
            "ok",
            "//! Ok.\nqemu_img::create(\"r.img\", \"1M\", #{ format: \"raw\" });\nqemu_img::convert(\"r.img\", \"r.qcow2\", #{ compress: true });\n",
        );
    t.helix(["run", "c"])
        .code(1)
        .stderr_has("unknown option `fromat` for `qemu_img::create`: did you mean `format`?")
        .stderr_has("recipes/c.rhai:2:");
    assert!(!t.path("o.qcow2").exists());
    t.helix(["run", "v"])
        .code(1)
        .stderr_has("unknown option `compres` for `qemu_img::convert`: did you mean `compress`?")
        .stderr_has("recipes/v.rhai:3:");
    assert!(!t.path("b.qcow2").exists());
    t.helix(["run", "a"])
        .code(1)
        .stderr_has("unknown option `save` for `qemu_img::snapshot_apply`")
        .stderr_has("allowed: save_current");
    t.helix(["run", "ok"]).success();
    assert!(t.path("r.qcow2").exists());
}

/// A mistyped key in `qemu::start`'s map, at the top or inside a drive, is an error naming the
/// key and the right one, at the recipe line, before any QEMU runs. The stand-in QEMU leaves a
/// mark when started; a correct map does start it, so the mark's absence means something.
#[test]
fn qemu_start_refuses_a_mistyped_key_before_starting_qemu() {
    let t = Test::new();
    let fake = t.path("fake-qemu");
    let mark = t.path("qemu-ran");
    std::fs::write(&fake, format!("#!/bin/sh\ntouch '{}'\nexit 1\n", mark.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = |map: &str| {
        format!(
            "//! Start.\nqemu::start(#{{ binary: \"{}\", accel: \"tcg\", {map} }});\n",
            fake.display()
        )
    };
    let t = t
        .recipe("top", &start("memroy: 64"))
        .recipe("nested", &start(r#"drives: [#{ file: "d.qcow2", fromat: "qcow2" }]"#))
        .recipe("right", &start(r#"memory: 64, drives: [#{ file: "d.img", format: "raw" }]"#))
        .file("d.img", "");
    t.helix(["run", "top"])
        .code(1)
        .stderr_has("unknown option `memroy` for `qemu::start`: did you mean `memory`?")
        .stderr_has("recipes/top.rhai:2:");
    assert!(!mark.exists(), "QEMU ran for a map with a mistyped key");
    t.helix(["run", "nested"])
        .code(1)
        .stderr_has("unknown option `drives[0].fromat` for `qemu::start`: did you mean `format`?")
        .stderr_has("allowed: file, format, interface, read_only, snapshot")
        .stderr_has("recipes/nested.rhai:2:");
    assert!(!mark.exists(), "QEMU ran for a drive with a mistyped key");
    t.helix(["run", "right"]).code(1).stderr_has("did not start: QEMU exited");
    assert!(mark.exists(), "the stand-in QEMU runs for a correct map");
}

#[test]
fn a_failing_or_interrupted_recipe_leaves_no_qemu_behind() {
    let _turn = vmimage::vm_turn();
    let tag = format!("stray-{}", std::process::id());
    let t = Test::new().recipe(
        "boom",
        &format!(
            "//! Boom.\nlet vm = qemu::start(#{{ name: \"{tag}\", arch: \"x86_64\", accel: \"tcg\", memory: 64, smp: 1 }});\nprint(`pid ${{vm.pid}} ${{vm.qmp(\"query-status\").status}}`);\nthrow \"something broke\";\n"
        ),
    );
    let out = t.helix(["run", "boom"]);
    out.code(1).stdout_has("running").stderr_has("something broke");
    assert!(
        running_with(&tag).is_empty(),
        "a QEMU outlived the failed run: {:?}",
        running_with(&tag)
    );
    // A busy forward port: a clear error, and no QEMU either.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let busy = Test::new().recipe(
        "busy",
        &format!("//! Busy.\nqemu::start(#{{ name: \"{tag}-busy\", arch: \"x86_64\", accel: \"tcg\", memory: 64, forwards: [#{{ host: {port}, guest: 22 }}] }});\n"),
    );
    busy.helix(["run", "busy"])
        .code(1)
        .stderr_has(&format!("port {port} on 127.0.0.1 is already in use"))
        .stderr_has("recipes/busy.rhai:2:");
    assert!(running_with(&format!("{tag}-busy")).is_empty());
    // A missing disk image.
    let missing = Test::new().recipe(
        "nodisk",
        &format!("//! M.\nqemu::start(#{{ name: \"{tag}-m\", accel: \"tcg\", drives: [#{{ file: \"gone.qcow2\" }}] }});\n"),
    );
    missing
        .helix(["run", "nodisk"])
        .code(1)
        .stderr_has("the disk image `gone.qcow2` does not exist");
    // Detached: it outlives the run (and this test kills it by pid).
    let det = Test::new().recipe(
        "det",
        &format!("//! D.\nlet vm = qemu::start(#{{ name: \"{tag}-det\", arch: \"x86_64\", accel: \"tcg\", memory: 64, smp: 1 }});\nprint(`detached ${{vm.detach()}}`);\n"),
    );
    let out = det.helix(["run", "det"]);
    out.success();
    let pid: i32 = out.stdout.split("detached ").nth(1).unwrap().trim().parse().unwrap();
    assert_eq!(running_with(&format!("{tag}-det")), vec![pid as u32]);
    // SAFETY: kill(2) on the pid the recipe printed.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    // The recipe-level powerdown escalation and the dry run.
    let pd = Test::new().recipe(
        "pd",
        &format!("//! P.\nlet vm = qemu::start(#{{ name: \"{tag}-pd\", arch: \"x86_64\", accel: \"tcg\", memory: 64, smp: 1 }});\nprint(`ended: ${{vm.powerdown(1)}}`);\n"),
    );
    pd.helix(["run", "pd"]).success().stdout_has("ended: quit");
    pd.helix(["run", "pd", "--dry-run"])
        .success()
        .stdout_has("would start the VM")
        .stdout_has("ended: not running");
    assert!(running_with(&tag).is_empty());
}

#[test]
fn ctrl_c_stops_the_vm_with_the_run() {
    let _turn = vmimage::vm_turn();
    let tag = format!("ctrlc-{}", std::process::id());
    let t = Test::new().recipe(
        "wait",
        &format!("//! W.\nlet vm = qemu::start(#{{ name: \"{tag}\", arch: \"x86_64\", accel: \"tcg\", memory: 64, smp: 1 }});\nprint(\"started\");\nvm.wait_serial(\"never printed\", 300);\n"),
    );
    let mut cmd = t.command(["run", "wait"]);
    cmd.stdout(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // helix's own command line does not carry the tag; QEMU's does.
    while running_with(&tag).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(running_with(&tag).len(), 1, "QEMU is running");
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: SIGINT to the helix child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(running_with(&tag).is_empty(), "a QEMU outlived Ctrl-C: {:?}", running_with(&tag));
}

/// The real guest: boot with a cloud-init seed under TCG, SSH in, sudo, power down cleanly;
/// then boot the same disk with another MAC: TCP is accepted on the forward, but no SSH banner
/// ever comes (cloud-init's netplan matches the first MAC) — the netplan MAC problem.
#[test]
fn real_vm_boots_with_a_seed_and_loses_its_network_with_another_mac() {
    let _turn = vmimage::vm_turn();
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let g = Guest::boot(dir.path(), "helix-test-1", FIRST_MAC);
    let took = g.wait_ssh(Duration::from_secs(600));
    eprintln!("SSH ready {took:?} after start");
    let out = g.ssh("cat /etc/hostname; id -un; ip -o link");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success()
            && text.contains("helix-vm")
            && text.contains("luke")
            && text.contains(FIRST_MAC),
        "{text}"
    );
    let out = g.ssh("echo written-by-helix | sudo tee /root/proof >/dev/null && sudo cat /root/proof && sudo stat -c %U /root/proof");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "written-by-helix\nroot\n",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // cloud-init renders the network to netplan (or, with another renderer, straight to
    // systemd-networkd); either way the match is on the first MAC.
    let read_net = || {
        g.ssh("sudo cat /etc/netplan/50-cloud-init.yaml /etc/systemd/network/10-cloud-init-*.network 2>/dev/null; true")
    };
    let mut out = read_net();
    if out.stdout.is_empty() {
        std::thread::sleep(Duration::from_secs(2));
        out = read_net();
    }
    let netplan = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        netplan.contains("macaddress") && netplan.contains(FIRST_MAC),
        "{netplan}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = g.vm.pid();
    let t_down = Instant::now();
    assert_eq!(g.vm.powerdown(Duration::from_secs(120)).unwrap(), "powered off");
    eprintln!("powered off in {:?}", t_down.elapsed());
    assert!(running_with(&format!("serial-{}", g.port)).is_empty(), "QEMU {pid} is gone");
    let serial = std::fs::read_to_string(g.vm.serial_log()).unwrap();
    assert!(serial.contains("reboot: Power down"), "a clean ACPI shutdown");

    // Second boot, same disk and seed (same instance: cloud-init keeps its network config),
    // but the MAC UTM would give it.
    let seed = dir.path().join("seed-helix-test-1.img");
    let mut spec =
        Guest::spec(dir.path(), &g.disk, Some(&seed), "52:42:00:ab:cd:ef", vmimage::free_port());
    // Without its NIC the guest would sit 2 minutes in systemd-networkd-wait-online before
    // starting sshd; skipping that wait changes nothing about the network it (does not) get.
    spec.append =
        Some(format!("{} systemd.mask=systemd-networkd-wait-online.service", spec.append.unwrap()));
    let g2 = Guest::start(spec, g.key.clone());
    g2.vm.wait_port(g2.port, Duration::from_secs(10)).unwrap();
    // The guest boots all the way (sshd started, a login prompt on the console)...
    g2.vm.wait_serial("login:", Duration::from_secs(600)).unwrap();
    // ...and sshd is running inside, yet from outside: TCP accepted, no banner.
    let said = vmimage::banner(g2.port, Duration::from_secs(15));
    assert_eq!(said.as_deref(), Some(""), "TCP is accepted but no SSH banner comes");
    let out = g2.ssh("true");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("banner exchange"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(g2.vm.powerdown(Duration::from_secs(120)).unwrap(), "powered off");
    eprintln!("real-VM test took {:?}", t.elapsed());
}
