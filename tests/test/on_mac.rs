//! Every built-in recipe on a Mac user's *default* configuration, in the simulated Mac of
//! [`crate::support::mac_world`]: each `--dry-run` passes and its plan is snapshotted (a change to what
//! a recipe would do shows up in review), and each real run goes as far as the doubles reach.

use crate::support::builder::Output;
use crate::support::mac_world::{MacWorld, USER, VM_UUID};
use crate::support::macho::framework_binary;
use crate::support::redact;

/// A run's output for a snapshot: both streams, this world's root written as `<mac>`, run
/// ids as `<run>`.
fn shown(w: &MacWorld, out: &Output) -> String {
    let text = w.filter(&format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    ));
    let text = redact::free_space(&redact::shaped(&text, "########-#########-HHH", "<run>"));
    // A headless VM's scratch dir (`/tmp/helix-vm-Ab12Cd`) and the commits of the fixture's
    // repositories (made now, so their hashes change) are not part of the plan.
    let text = redact::after(&text, "/helix-vm-", |c| c.is_ascii_alphanumeric(), "<tmp>");
    // backup-vm's manifest holds this world's paths, so its size goes with the temp dir's.
    let text = redact::after(&text, "vm-backups.json` (", |c| c.is_ascii_digit(), "<n>");
    // A table is as wide as its longest cell, which may name this world's path.
    let text = ["CHECK ", "FACT ", "WHAT "].iter().fold(text, |s, h| redact::table(&s, h));
    redact::commits_made_now(&text).lines().collect::<Vec<_>>().join("\n") + "\n"
}

/// setup works on its repositories concurrently: its plan lines, grouped by the checkout they
/// name (a stable sort, so each repository's lines keep their order).
fn by_repository(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let is_plan = |l: &&str| l.starts_with("[dry-run]");
    let start = lines.iter().position(is_plan).unwrap_or(0);
    let end = start + lines[start..].iter().take_while(|l| is_plan(l)).count();
    let mut plan: Vec<&str> = lines[start..end].to_vec();
    let repo = |l: &&str| l.rsplit("`<mac>/").next().unwrap_or("").to_string();
    plan.sort_by_key(repo);
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.extend(plan);
    out.extend(&lines[end..]);
    out.join("\n") + "\n"
}

/// The parameters a recipe cannot do without.
fn required(name: &str) -> Vec<&'static str> {
    match name {
        "expand-disk" => vec!["--size", "1T"],
        "vm" => vec!["--action", "status"],
        // Its menu needs a terminal; `nothing` is always a choice.
        "recover-vm" => vec!["--choose", "nothing"],
        _ => vec![],
    }
}

fn builtin_recipes(w: &MacWorld) -> Vec<String> {
    let list = w.helix(["list", "--json"]);
    list.success();
    let v: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let names: Vec<String> =
        v.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    for r in v.as_array().unwrap() {
        let source = r["source_name"].as_str().unwrap();
        assert!(source.starts_with("builtin:"), "only built-in recipes on this Mac: {source}");
    }
    assert!(names.len() >= 14, "{names:?}");
    names
}

/// Dry-run every built-in recipe. Each must plan (exit 0), except those in `stops`, which
/// must stop with exit 1 and the given message — a clear error at the recipe line where a
/// recipe needs what this Mac does not have yet, or the failed checks of a checking recipe.
fn dry_runs(w: &MacWorld, world: &str, stops: &[(&str, &str)]) {
    let before = tree(&w.root);
    let mut wrong = Vec::new();
    for name in builtin_recipes(w) {
        let mut argv = vec!["run".to_string(), name.clone(), "--dry-run".to_string()];
        argv.extend(required(&name).into_iter().map(String::from));
        let out = w.helix(argv.clone());
        let mut text = shown(w, &out);
        if name == "setup" {
            text = by_repository(&text);
        }
        match stops.iter().find(|(n, _)| *n == name) {
            Some((_, why)) if out.code != 1 || !out.stderr.contains(why) => {
                wrong.push(format!("`helix {}` should stop with {why:?}:\n{text}", argv.join(" ")))
            }
            None if out.code != 0 => {
                wrong.push(format!("`helix {}` should plan:\n{text}", argv.join(" ")))
            }
            _ => {}
        }
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
        insta::assert_snapshot!(format!("{world}__{name}"), text);
        let after = tree(&w.root);
        let changed = crate::support::tree::diff(&before, &after);
        assert!(changed.is_empty(), "`helix {}` changed files: {changed:#?}", argv.join(" "));
    }
    assert!(wrong.is_empty(), "on the {world} Mac:\n{}", wrong.join("\n"));
}

/// Every recipe plans on a fresh Mac (UTM installed, no VM yet).
#[test]
fn every_recipe_dry_runs_on_a_fresh_mac_with_the_default_config() {
    let w = MacWorld::new();
    dry_runs(
        &w,
        "fresh",
        &[
            ("backup-vm", "no disk to back up"),
            ("doctor", "checks failed: see the table for the fixes"),
            ("expand-disk", "disk.qcow2` does not exist: check the path"),
            ("netplan-fix", "UTM knows no VM with that UUID or full name"),
            ("register-vm", "no bundle at"),
            ("verify-qemu", "1 check failed"),
            ("vm", "UTM knows no VM with that UUID or full name"),
        ],
    );
}

/// Every recipe plans on a Mac whose VM is provisioned and registered in UTM.
#[test]
fn every_recipe_dry_runs_on_a_mac_with_its_vm() {
    let w = MacWorld::new().with_vm();
    // UTM still runs its own QEMU: the checks say so until build-qemu ran.
    dry_runs(
        &w,
        "with_vm",
        &[("doctor", "2 checks failed: see the table"), ("verify-qemu", "1 check failed")],
    );
}

/// Files under `dir` with their sizes, except helix's own state (journal, trash records).
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    // helix's own state dir (`~/.local/state/helix`: journal, trash records).
    let state = dir.join("Users").join(USER).join(".local");
    crate::support::tree::snapshot(dir, &|p| {
        p.starts_with(&state) || p.file_name().is_some_and(|n| n == "calls.log")
    })
}

/// The configuration a Mac user gets: the backend from the OS, the user from the account, the
/// VM from UTM's registry, the paths where a Mac has them.
#[test]
fn the_default_config_is_this_users_mac() {
    let w = MacWorld::new();
    let out = w.helix(["config"]);
    out.success()
        .stdout_has("vm.backend = \"utm\"    # this machine (macos)")
        .stdout_has(&format!("vm.ssh_user = \"{USER}\"    # this machine (your user name)"))
        .stdout_has(&format!(
            "paths.utm_app = \"{}\"    # built-in",
            w.root.join("Applications/UTM.app").display()
        ))
        .stdout_has(&format!("paths.pm = \"{}/pm\"", w.home.display()))
        .stdout_has("vm.uuid = \"\"    # built-in");
    let w = w.with_vm();
    let out = w.helix(["config"]);
    out.success()
        .stdout_has(&format!("vm.uuid = \"{VM_UUID}\"    # UTM's registry"))
        .stdout_has(&format!(
            "vm.bundle = \"{}/helix-desktop.utm\"    # UTM's registry",
            w.vm_dir().display()
        ))
        .stdout_has(&format!("vm.disk = \"{}/disk.qcow2\"    # vm.dir", w.vm_dir().display()));
}

/// build-qemu for real on a fresh Mac's defaults: builds the fake QEMU against the sysroot in
/// `~/pm`, installs it into `/Applications/UTM.app`, and names nobody's VM. A second run says
/// there is nothing to install — and does not then claim it installed it.
#[test]
fn build_qemu_on_a_fresh_mac_installs_into_utm_and_names_no_vm() {
    let w = MacWorld::new();
    let first = w.helix(["run", "build-qemu"]);
    first
        .success()
        .stderr_has(&format!("installed {}", framework_binary(&w.app()).display()))
        .stderr_has("done — UTM loads the new QEMU the next time it starts a VM");
    for other in ["utmctl start", "17DC4F96", "luke", "/Volumes/Big", "new-dev-vm"] {
        assert!(
            !first.stderr.contains(other) && !first.stdout.contains(other),
            "{other}:\n{}",
            first.stderr
        );
    }
    assert!(crate::support::macho::holds(
        &framework_binary(&w.app()),
        crate::support::fake_mac::VERSION_STRING
    ));
    w.helix(["run", "verify-qemu"]).success().stderr_has("the installed QEMU is good");

    let again = w.helix(["run", "build-qemu"]);
    again.success().stderr_has("already is this build; nothing to install");
    assert!(!again.stderr.contains("✓ installed"), "{}", again.stderr);

    // With the VM registered in UTM, the last line says how to start *this* VM.
    let w = w.with_vm();
    w.helix(["run", "build-qemu"]).success().stderr_has(&format!("utmctl start {VM_UUID}"));
}

/// The vm recipe on defaults drives UTM through utmctl by the UUID found in UTM's registry.
#[test]
fn vm_recipe_on_defaults_drives_the_registered_vm_through_utmctl() {
    let w = MacWorld::new().with_vm();
    w.helix(["run", "vm", "--action", "status"]).success().stdout_has("helix-desktop: stopped");
    w.helix(["run", "vm", "--action", "start"]).success();
    w.helix(["run", "vm", "--action", "status"]).success().stdout_has("helix-desktop: started");
    assert!(w.calls().contains(&format!("utmctl start {VM_UUID}\n")), "{}", w.calls());
    // Stopping a running VM needs a person.
    w.helix(["run", "vm", "--action", "stop"]).code(1).stderr_has("needs a person to confirm");
}

/// provision-vm's host steps for real on defaults: the disks, the UEFI vars copied from
/// Homebrew's template (the branch a `.replace(…)` used as a value broke), the seed, and the
/// UTM bundle — the guest steps need an arm64 VM (tests/test/vm*.rs).
#[test]
fn provision_vm_host_steps_on_defaults_make_disks_uefi_vars_seed_and_bundle() {
    let w = MacWorld::new();
    let dir = w.vm_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let template = w.root.join("opt/homebrew/share/qemu/edk2-arm-vars.fd");
    std::fs::write(&template, vec![0x5au8; 64 * 1024]).unwrap();
    // The cloud image, already downloaded (no network here).
    let img = dir.join("ubuntu-cloud.img");
    let out = std::process::Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2"])
        .arg(&img)
        .arg("32M")
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = w.helix(["run", "provision-vm", "--only", "download,disk,cloudinit"]);
    out.success().stderr_has("already downloaded");
    // The writable UEFI vars are made from the firmware's template at the first boot
    // (`qemu::start`), not by the disk step: no boot ran here.
    assert!(!dir.join("efi_vars.fd").exists());
    assert_eq!(crate::support::disk::vm_bytes(&dir.join("disk.qcow2")), 256 << 30);
    assert_eq!(crate::support::disk::vm_bytes(&dir.join("zfs-data.qcow2")), 128 << 30);
    assert!(std::fs::metadata(dir.join("seed-fat.img")).unwrap().len() > 0);
    let out = w.helix(["run", "provision-vm", "--only", "utm_bundle"]);
    out.success();
    let bundle = dir.join("helix-desktop.utm");
    let plist = std::fs::read(bundle.join("config.plist")).unwrap();
    let plist = String::from_utf8_lossy(&plist);
    assert!(plist.contains("helix-desktop"), "the bundle is named after vm.name");
}

/// backup-vm for real on defaults: the registered VM's disks copied into the protected
/// `helix.backups` folder beside them.
#[test]
fn backup_vm_on_defaults_copies_the_vms_disks() {
    let w = MacWorld::new().with_vm();
    w.helix(["run", "backup-vm", "--yes", "--name", "b1"]).success();
    let b = w.vm_dir().join("helix.backups/b1");
    for d in ["disk.qcow2", "zfs-data.qcow2"] {
        assert_eq!(
            crate::support::disk::vm_bytes(&b.join(d)),
            crate::support::disk::vm_bytes(&w.vm_dir().join(d)),
            "{d} backed up"
        );
    }
    w.helix(["run", "backup-vm", "--list"]).success().stdout_has("b1");
}

/// expand-disk for real on defaults: the registered VM is stopped, so the image grows at
/// once; `--no-start` leaves it stopped (the guest's growpart needs the arm64 VM).
#[test]
fn expand_disk_on_defaults_grows_the_registered_vms_disk() {
    let w = MacWorld::new().with_vm();
    let out = w.helix(["run", "expand-disk", "--size", "128M", "--no-start"]);
    out.success();
    assert_eq!(crate::support::disk::vm_bytes(&w.vm_dir().join("disk.qcow2")), 128 << 20);
    assert!(!w.calls().contains("utmctl start"), "{}", w.calls());
    w.helix(["run", "expand-disk", "--size", "64M"]).code(1).stderr_has("refusing to shrink");
}

/// recover-vm for real on defaults: the facts come from UTM (registered, stopped) and the
/// disks UTM's registry points at.
#[test]
fn recover_vm_on_defaults_finds_nothing_wrong_with_a_healthy_vm() {
    let w = MacWorld::new().with_vm();
    let out = w.helix(["run", "recover-vm", "--choose", "nothing"]);
    out.success()
        .stderr_has("no known problem found")
        .stdout_has("registered in UTM")
        .stdout_has("disk.qcow2");
    // UTM forgets the VM: named, with the way back in.
    w.set_vms(&[]);
    let out = w.helix(["run", "recover-vm", "--choose", "nothing"]);
    out.success().stderr_has(&format!("UTM does not know the VM {VM_UUID}"));
}

/// The simulated root adds protection and takes none away: its system roots, volumes and the
/// root itself are refused — through a symlink, `..`, a trailing slash, a glob, a command —
/// and the real ones still are.
#[test]
fn a_simulated_macs_roots_are_protected_and_the_real_ones_still_are() {
    let w = MacWorld::new();
    let root = w.root.display().to_string();
    std::os::unix::fs::symlink(w.root.join("Volumes/External"), w.home.join("ext")).unwrap();
    let attempts = [
        format!("fs::remove(\"{root}/Applications\");"),
        format!("fs::remove(\"{root}/Volumes/External\");"),
        format!("fs::remove(\"{root}/Users/../Volumes/External\");"),
        "fs::remove(\"~/ext/\");".to_string(),
        format!("fs::remove(\"{root}\");"),
        format!("fs::move(\"{root}/Volumes/External\", \"{root}/elsewhere\");"),
        format!("fs::remove(\"{root}/Library/\");"),
        format!("cmd::run([\"rm\", \"-rf\", \"{root}/Volumes/External\"]);"),
        format!("cmd::shell(\"cd {root}/Volumes && rm -rf External\");"),
        format!("for p in fs::glob(\"{root}/Vol*/*\") {{ fs::remove(p); }}"),
        // The real roots, under the simulation (a command: `fs::remove` of a missing path is
        // a no-op before the guard is asked).
        "cmd::run([\"rm\", \"-rf\", \"/Volumes/Nope\"]);".to_string(),
    ];
    let fixtures = w.root.join(".attack-recipes");
    std::fs::create_dir_all(&fixtures).unwrap();
    for (i, body) in attempts.iter().enumerate() {
        std::fs::write(fixtures.join(format!("a{i}.rhai")), format!("//! Attack {i}.\n{body}\n"))
            .unwrap();
        let out = w.helix(["--recipes", fixtures.to_str().unwrap(), "run", &format!("a{i}")]);
        assert_ne!(out.code, 0, "{body} was allowed:\n{}", out.stderr);
        assert!(
            out.stderr.contains("protected") || out.stderr.contains("needs a person"),
            "{body}:\n{}",
            out.stderr
        );
        assert!(
            w.root.join("Volumes/External").is_dir()
                && w.root.join("Applications/UTM.app").is_dir()
        );
    }
    // Dry-run plans say so for the real system roots too.
    std::fs::write(fixtures.join("real.rhai"), "//! Real.\nfs::remove(\"/usr\");\n").unwrap();
    w.helix(["--recipes", fixtures.to_str().unwrap(), "run", "real", "--dry-run"])
        .stdout_has("refused: protected by the rule `/usr`");
}

/// `helix config init` shows the VMs UTM knows and writes the chosen one to the user's config
/// file, keeping what was there; without a terminal it needs `--vm`.
#[test]
fn config_init_finds_the_vm_in_utm_and_writes_it_to_the_users_config() {
    let w = MacWorld::new();
    // A fresh Mac: UTM knows no VM; nothing is written.
    w.helix(["config", "init"]).success().stderr_has("UTM knows no VM on this machine yet");
    let file = w.home.join(".config/helix/config.toml");
    assert!(!file.exists());

    let w = w.with_vm();
    let other = w.root.join("Volumes/External/old.utm");
    std::fs::create_dir_all(&other).unwrap();
    let other_uuid = "0DADCFD5-C147-4870-9C0F-925F33B5D405";
    crate::support::mac_world::write_registry(
        &w.preferences(),
        &[
            (VM_UUID, "helix-desktop", &w.vm_dir().join("helix-desktop.utm")),
            (other_uuid, "Old Linux", &other),
        ],
    );
    w.set_vms(&[(VM_UUID, "stopped", "helix-desktop"), (other_uuid, "started", "Old Linux")]);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, "# mine\n[vm]\nssh_port = 2300 # my port\n").unwrap();

    let out = w.helix(["config", "init"]);
    out.code(1)
        .stderr_has("2 VMs UTM knows")
        .stderr_has(&format!("Old Linux ({other_uuid}), started"))
        .stderr_has("pass --vm NAME_OR_UUID");
    w.helix(["config", "init", "--vm", "nope"]).code(1).stderr_has("`Old Linux`");
    w.helix(["config", "init", "--vm", "Old Linux"])
        .success()
        .stderr_has("wrote vm.name, vm.uuid, vm.bundle");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# mine\n[vm]\n") && text.contains("ssh_port = 2300 # my port"),
        "{text}"
    );
    let out = w.helix(["config"]);
    out.success()
        .stdout_has(&format!("vm.uuid = \"{other_uuid}\"    # {}", file.display()))
        .stdout_has(&format!("vm.bundle = \"{}\"", other.display()))
        .stdout_has("vm.ssh_port = 2300");
    // At a terminal: the menu shows what was found; the configured VM is highlighted.
    let (code, screen) = crate::support::pty::pty_session(
        &w.t,
        &["config", "init"],
        &[],
        &[("Which of these is the Helix VM?", "\x1b[A\r")],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("None of these"), "{screen}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("uuid = \"{VM_UUID}\"")), "{text}");
}

/// netplan-fix, register-vm and build-images for real on defaults, as far as the doubles
/// reach: netplan-fix starts the registered VM through utmctl and tells "not running" from
/// the netplan problem; register-vm sees UTM already knows the bundle; build-images runs the
/// checkout's `stack`.
#[test]
fn netplan_fix_register_vm_and_build_images_on_defaults() {
    let w = MacWorld::new().with_vm();
    let out = w.helix(["run", "netplan-fix", "--wait", "3"]);
    out.code(1)
        .stderr_has("nothing listens on 127.0.0.1:2222")
        .stderr_has("not the netplan problem");
    assert!(w.calls().contains(&format!("utmctl start {VM_UUID}\n")), "{}", w.calls());
    w.helix(["run", "register-vm"]).success().stderr_has(&format!(
        "UTM already knows {}",
        w.vm_dir().join("helix-desktop.utm").display()
    ));
    let out = w.helix(["run", "build-images", "--desktops", "sway"]);
    out.success().stdout_has("helix-sway").stderr_has("built in");
    assert!(w.home.join("pm/helix/sandbox-images/helix-sway.version").is_file());
}

/// setup for real on defaults: the checkouts get the remotes a Mac's clones have; the pinned
/// UTM commit needs GitHub, which this machine cannot reach — a clear error naming the
/// checkout, not a half-done silence.
#[test]
fn setup_on_defaults_adds_the_remotes_and_names_what_needs_the_network() {
    let w = MacWorld::new();
    let out = w.helix(["run", "setup"]);
    out.code(1)
        .stderr_has("1 of 3 repositories failed")
        .stderr_has("pm/UTM`: git: could not fetch `origin`");
    let remotes = std::process::Command::new("git")
        .args(["remote", "-v"])
        .current_dir(w.home.join("pm/qemu-utm"))
        .output()
        .unwrap();
    let remotes = String::from_utf8_lossy(&remotes.stdout);
    assert!(remotes.contains("helixml\tgit@github.com:helixml/qemu-utm.git"), "{remotes}");
    assert!(remotes.contains("origin\thttps://github.com/utmapp/qemu"), "{remotes}");
}

/// test-video for real on defaults: the helix CLI built with the real `go build` in
/// `~/pm/helix/api`, the credentials read from `~/pm/helix/.env.usercreds` (the key never
/// shown), the session benchmarked; the run's files go to `~/.local/state/helix`.
#[test]
fn test_video_on_defaults_builds_the_cli_in_the_checkout_and_benchmarks() {
    let MacWorld { t, root, home } = MacWorld::new();
    let t = t.env("FAKE_HELIX_EXPECT_KEY", "hl-mac-world-key").env("FAKE_HELIX_READY_AFTER", "1");
    let w = MacWorld { t, root, home };
    let out = w.helix(["run", "test-video", "--duration", "2", "--ready", "60"]);
    out.success().stderr_has("built ").stdout_has("frame rate");
    assert!(!out.stdout.contains("hl-mac-world-key") && !out.stderr.contains("hl-mac-world-key"));
    assert!(w.home.join(".local/state/helix/test-video").is_dir());
}
