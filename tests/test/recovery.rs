//! Recovery recipes: `doctor` on this machine (where most of the Mac world is absent) and its
//! known-failure detectors against logs that carry each message.

use std::path::PathBuf;

use crate::support::builder::{Output, Test};
use crate::support::cmd::run as sh;

/// A config whose paths all live in the test dir: `pm/helix` is a real git checkout, every
/// other repo, the sysroot, UTM.app and the VM are absent; SSH points at a closed port.
fn doctor_world() -> Test {
    let t = Test::new();
    let pm = t.path("pm");
    std::fs::create_dir_all(pm.join("helix")).unwrap();
    crate::git::git(&pm.join("helix"), &["init", "-q", "-b", "main"]);
    std::fs::write(pm.join("helix/README"), "helix\n").unwrap();
    crate::git::git(&pm.join("helix"), &["add", "README"]);
    crate::git::git(
        &pm.join("helix"),
        &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first"],
    );
    let config = format!(
        "[paths]\npm = \"{pm}\"\nhelix = \"{pm}/helix\"\nqemu_utm = \"{pm}/qemu-utm\"\nutm = \"{pm}/UTM\"\nsysroot = \"{pm}/UTM/sysroot-macOS-arm64\"\nutm_app = \"{pm}/UTM.app\"\nzed = \"{pm}/zed\"\nqwen_code = \"{pm}/qwen-code\"\n\
         [vm]\nbackend = \"qemu\"\ndir = \"{pm}/vm\"\nbundle = \"{pm}/vm/helix.utm\"\nssh_host = \"127.0.0.1\"\nssh_port = {port}\n",
        pm = pm.display(),
        port = crate::support::ports::free_port()
    );
    t.file("helix.toml", &config)
}

fn json_checks(out: &Output) -> (Vec<(String, String, String)>, i64) {
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json is not JSON ({e}):\n{}", out.stdout));
    let rows = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["state"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (rows, v["failed"].as_i64().unwrap())
}

fn state_of<'a>(rows: &'a [(String, String, String)], check: &str) -> &'a (String, String, String) {
    rows.iter().find(|r| r.0 == check).unwrap_or_else(|| panic!("no `{check}` row in {rows:#?}"))
}

/// A run's output for a snapshot as the kit shows it ([`output`]: the exit status, the streams,
/// the test dir, run ids, times, trash ids) with what else varies with the machine or the moment
/// here made stable: ports the kernel chose, free space, tool versions, how backup-vm copied
/// (the filesystem's choice), build durations, commits and snapshot names made now; tables
/// (doctor's, `--list`'s, build-images', setup's) aligned again after.
///
/// [`output`]: crate::support::redact::output
pub(crate) fn shown(t: &Test, out: &Output) -> String {
    use crate::support::redact::{after, free_space, output, ports, table};
    let copied = Output {
        code: out.code,
        stdout: copy_method(&out.stdout),
        stderr: copy_method(&out.stderr),
    };
    let text = durations(&free_space(&ports(&output(&copied, t.dir.path()))));
    let text: String = text.split_inclusive('\n').map(tool_version).collect();
    // Commits of repositories the test made (`main @ 6009c04cc080`, a full id in setup's table);
    // the time in the name of the snapshot a restore keeps (`before-s1-1795814233`).
    let text = crate::support::redact::commits_made_now(&text);
    let text = after(&text, " @ ", |c| c.is_ascii_hexdigit(), "<commit>");
    let text = after(&text, "before-s1-", |c| c.is_ascii_digit(), "<time>");
    ["CHECK ", "NAME ", "IMAGE ", "WHAT "].iter().fold(text, |s, h| table(&s, h))
}

/// How backup-vm copied a disk depends on the filesystem under the test dir (a clone where it
/// can, else a full copy and its SHA-256): its `A -> B: full copy, sha256 …` line and its
/// `--list` row (`b1  copy  DISK  BACKUP  SHA`) say `<clone or copy>` and drop the checksum
/// (the test checks it against the file); a dry run's `(353 bytes)` of a manifest holding the
/// test dir's paths says `(<n> bytes)`.
fn copy_method(text: &str) -> String {
    const HOW: &str = "<clone or copy>";
    text.split_inclusive('\n')
        .map(|l| {
            if let Some(i) = l.find(": full copy, sha256 ") {
                return format!("{}: {HOW}\n", &l[..i]);
            }
            if l.contains("copy-on-write clone (no space used)") {
                return l.replace("copy-on-write clone (no space used)", HOW);
            }
            if l.contains("vm-backups.json` (") && l.ends_with(" bytes)\n") {
                let start = l.rfind('(').unwrap();
                return format!("{}(<n> bytes)\n", &l[..start]);
            }
            let cells: Vec<&str> = l.trim_end().split("  ").filter(|c| !c.is_empty()).collect();
            match cells.get(1).map(|c| c.trim()) {
                Some("copy" | "clone") if cells.len() >= 4 => {
                    let mut cells: Vec<String> =
                        cells.iter().map(|c| c.trim().to_string()).collect();
                    cells[1] = HOW.to_string();
                    cells.truncate(4);
                    cells.join("  ") + "\n"
                }
                _ => l.to_string(),
            }
        })
        .collect()
}

/// How long a build took (`built in 0.1s`, `(after 0.0s;`, a `TIME` cell): `<secs>`. Only the
/// tenths form, which is what a fast double's runs take; a whole `2s` (a timeout the test
/// chose) stays.
fn durations(text: &str) -> String {
    let tenths = |w: &str| {
        let w = w.trim_end_matches([';', ',', ')']);
        w.strip_suffix('s').and_then(|n| n.split_once('.')).is_some_and(|(a, b)| {
            !a.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.len() == 1
                && b.chars().all(|c| c.is_ascii_digit())
        })
    };
    text.split_inclusive(['\n', ' '])
        .map(|w| {
            let bare = w.trim_end_matches(['\n', ' ']).trim_end_matches([';', ',', ')']);
            if tenths(bare) { w.replacen(bare, "<secs>", 1) } else { w.to_string() }
        })
        .collect()
}

/// A tool's version (`tool ninja  ok  1.11.1 at /usr/bin/ninja`) → `<version>`.
fn tool_version(l: &str) -> String {
    if l.starts_with("tool ")
        && let Some(at) = l.find(" at /")
    {
        let start = l[..at].rfind(' ').map_or(0, |i| i + 1);
        if l[start..at].starts_with(|c: char| c.is_ascii_digit()) {
            return format!("{}<version>{}", &l[..start], &l[at..]);
        }
    }
    l.to_string()
}

#[test]
fn doctor_prints_a_truthful_table_and_fails_when_things_are_missing() {
    let t = doctor_world();
    let out = t.helix(["run", "doctor"]);
    out.code(1);
    // The table says what is there and how to fix what is not: the one checkout that exists at
    // its branch, the others missing with `helix run setup`; zed and qwen-code optional (absent
    // is not a failure); the tools CI installs found where they are; the sysroot, QEMU, UTM and
    // the VM missing or skipped; free space for the volumes that exist (pm, home), not for the
    // missing vm dir.
    insta::assert_snapshot!("doctor_table", shown(&t, &out));
    let vm_dir = format!("disk space {}", t.path("pm/vm").display());
    assert!(!out.stdout.lines().any(|l| l.starts_with(&vm_dir)), "{}", out.stdout);

    // --json: the same checks, parseable, with the failure count the exit status reflects.
    let j = t.helix(["run", "doctor", "--json"]);
    j.code(1);
    let (rows, failed) = json_checks(&j);
    let counted = rows.iter().filter(|r| r.1 == "FAIL" || r.1 == "MISSING").count() as i64;
    assert_eq!(failed, counted, "{rows:#?}");
    assert!(failed >= 5, "{rows:#?}");
    j.stderr_has(&format!("{failed} checks failed"));
    assert_eq!(state_of(&rows, "repo helix").1, "ok");
    assert_eq!(state_of(&rows, "sysroot").1, "MISSING");
    assert_eq!(state_of(&rows, "tool cmake").1, "ok");
}

/// Free space is judged against the thresholds, read from the recipe's parameters (30G and 5G by
/// default): the same volume is ok, WARN or FAIL as the thresholds move past what it has free,
/// and a FAIL counts in the exit status.
#[test]
fn doctor_judges_free_space_against_its_thresholds() {
    let t = doctor_world();
    let check = format!("disk space {}", t.path("pm").display());
    let state = |args: &[&str]| {
        let mut argv = vec!["run", "doctor", "--json"];
        argv.extend(args);
        let out = t.helix(argv);
        let (rows, failed) = json_checks(&out);
        (state_of(&rows, &check).clone(), failed)
    };
    // Far below any volume's free space: ok, with no fix.
    let ((_, s, detail), base) = state(&["--low-space", "1K", "--full-space", "1K"]);
    assert_eq!(s, "ok", "{detail}");
    assert!(detail.ends_with(" free"), "{detail}");
    // Above it: WARN with the fix, and no more failures than before.
    let ((_, s, detail), failed) = state(&["--low-space", "1P", "--full-space", "1K"]);
    assert_eq!(s, "WARN", "{detail}");
    assert!(detail.contains("helix trash"), "{detail}");
    assert_eq!(failed, base);
    // Under the full mark: FAIL, counted (home may share the volume, so at least one more).
    let ((_, s, _), failed) = state(&["--low-space", "1P", "--full-space", "1P"]);
    assert_eq!(s, "FAIL");
    assert!(failed > base, "{failed} vs {base}");
    // A threshold that is not a size is a usage error naming the parameter, before any check
    // runs.
    let out = t.helix(["run", "doctor", "--low-space", "lots"]);
    out.code(2).stderr_has("--low-space");
    insta::assert_snapshot!("doctor_threshold_not_a_size", shown(&t, &out));
}

/// A log line for each known failure of the setup document's troubleshooting section, in the
/// words the tool that prints it uses, and the row doctor must add for it.
const KNOWN: &[(&str, &str, &str)] = &[
    (
        "qemu-aarch64-softmmu: -spice: invalid option\n",
        "log: QEMU without SPICE",
        "built without SPICE",
    ),
    (
        "../ui/spice-display.c:1012:41: error: use of undeclared identifier 'EGL_IOSURFACE_WRITE_HINT_ANGLE'\n",
        "log: EGL_IOSURFACE_WRITE_HINT_ANGLE undeclared",
        "ui/spice-display.c",
    ),
    (
        "../hw/display/virtio-gpu-virgl.c:1190:20: error: redefinition of 'd3d_tex2d'\n",
        "log: d3d_tex2d redefinition",
        "virtio-gpu-virgl.c",
    ),
    (
        "qemu-aarch64-softmmu: -drive if=none,file=/v/disk.qcow2: Failed to get \"write\" lock\nIs another process using the image [/v/disk.qcow2]?\n",
        "log: VM won't start: disk locked",
        "lsof",
    ),
    (
        "qemu-aarch64-softmmu: -drive file=/v/gone.qcow2: Could not open '/v/gone.qcow2': No such file or directory\n",
        "log: VM won't start: disk missing",
        "utm::check",
    ),
    (
        "QEMU exited from an error: qemu-aarch64-softmmu: terminating on signal 6\n",
        "log: VM won't start",
        "utmctl status",
    ),
    (
        "ERROR: Build directory has been generated with Meson version 1.2.3, which is incompatible with the current version 1.5.1.\n",
        "log: stale build cache",
        "build-qemu --clean",
    ),
    (
        "fatal error: file '/pm/qemu-utm/include/qemu/osdep.h' has been modified since the precompiled header 'build/pch.gch' was built\n",
        "log: stale build cache",
        "build-qemu --clean",
    ),
];

#[test]
fn doctor_detects_each_known_failure_in_a_log_and_not_in_a_clean_one() {
    let t = doctor_world();
    let clean = "[1/2] Compiling C object libqemu.a.p/ui_spice-display.c.o\n[2/2] Linking target qemu-system-aarch64\nspice protocol support: YES\n";
    let log = t.path("build.log");
    // What doctor's table says for each message (the `log…` rows), for the snapshot.
    let mut said = String::new();
    for (message, check, fix) in KNOWN {
        std::fs::write(&log, format!("{clean}{message}")).unwrap();
        let out = t.helix(["run", "doctor", "--json", "--log", &log.display().to_string()]);
        out.code(1);
        let (rows, _) = json_checks(&out);
        let row = state_of(&rows, check);
        assert_eq!(row.1, "FAIL", "{message}: {row:?}");
        assert!(row.2.contains(fix), "{message}: the fix `{}` lacks `{fix}`", row.2);
        let others: Vec<_> =
            rows.iter().filter(|r| r.0.starts_with("log:") && r.0 != *check).collect();
        // Only the generic "won't start" may accompany a specific start failure.
        assert!(
            others.iter().all(|r| r.0.starts_with("log: VM won't start")),
            "{message}: {others:?}"
        );
        let mut table = "CHECK  STATE  DETAIL/FIX\n".to_string();
        for r in rows.iter().filter(|r| r.0.starts_with("log")) {
            table.push_str(&format!("{}  {}  {}\n", r.0, r.1, r.2));
        }
        said.push_str(&format!("--- {}\n", message.lines().next().unwrap()));
        said.push_str(&crate::support::redact::table(&table, "CHECK "));
    }
    insta::assert_snapshot!("doctor_known_failures", said);
    // A clean log triggers nothing; a mention of d3d_tex2d that is not an error neither.
    std::fs::write(&log, format!("{clean}note: d3d_tex2d is set up in virgl_cmd_resource_map\n"))
        .unwrap();
    let out = t.helix(["run", "doctor", "--json", "--log", &log.display().to_string()]);
    let (rows, _) = json_checks(&out);
    assert_eq!(state_of(&rows, "log").1, "ok", "{rows:#?}");
    assert!(!rows.iter().any(|r| r.0.starts_with("log:")), "{rows:#?}");
    // A missing --log file is reported, not ignored.
    let out =
        t.helix(["run", "doctor", "--json", "--log", &t.path("nope.log").display().to_string()]);
    assert_eq!(state_of(&json_checks(&out).0, "log").1, "MISSING");
}

#[test]
fn doctor_reads_the_build_dirs_logs_and_the_utm_debug_log_on_its_own() {
    let t = doctor_world();
    let build: PathBuf = t.path("pm/qemu-utm/build");
    std::fs::create_dir_all(build.join("meson-logs")).unwrap();
    std::fs::write(build.join("meson-logs/meson-log.txt"), "Program python3 found: YES\n").unwrap();
    std::fs::write(
        build.join("helix-ninja.log"),
        "FAILED: libcommon.a.p/hw_display_virtio-gpu-virgl.c.o\n../hw/display/virtio-gpu-virgl.c:88:20: error: redefinition of 'd3d_tex2d'\n",
    )
    .unwrap();
    std::fs::create_dir_all(t.path("pm/vm/helix.utm/Data")).unwrap();
    std::fs::write(
        t.path("pm/vm/helix.utm/Data/debug.log"),
        "qemu-aarch64-softmmu: -spice: invalid option\n",
    )
    .unwrap();
    let out = t.helix(["run", "doctor", "--json"]);
    out.code(1);
    let (rows, _) = json_checks(&out);
    assert_eq!(state_of(&rows, "meson log").1, "ok");
    assert_eq!(state_of(&rows, "build log: d3d_tex2d redefinition").1, "FAIL");
    assert_eq!(state_of(&rows, "UTM debug log: QEMU without SPICE").1, "FAIL");
    // The vm dir exists now, so its volume is checked too.
    state_of(&rows, &format!("disk space {}", t.path("pm/vm").display()));
}

/// A qemu-backed VM with two real qcow2 disks (system and ZFS) under `vm/`, each holding 1 MiB
/// of `0xab` at offset 0.
fn backup_world() -> (Test, PathBuf, PathBuf) {
    let t = Test::new();
    let vm = t.path("vm");
    std::fs::create_dir_all(&vm).unwrap();
    let (disk, zfs) = (vm.join("disk.qcow2"), vm.join("zfs.qcow2"));
    for d in [&disk, &zfs] {
        sh("qemu-img", &["create", "-q", "-f", "qcow2", &d.display().to_string(), "32M"]);
        qemu_io(d, "write -P 0xab 0 1M");
    }
    let config = format!(
        "[vm]\nbackend = \"qemu\"\ndir = \"{}\"\ndisk = \"{}\"\nzfs_disk = \"{}\"\n",
        vm.display(),
        disk.display(),
        zfs.display()
    );
    (t.file("helix.toml", &config), disk, zfs)
}

/// Run one qemu-io command; false when it fails or a pattern check does not match.
fn qemu_io(disk: &std::path::Path, command: &str) -> bool {
    let out = std::process::Command::new("qemu-io")
        .args(["-c", command, &disk.display().to_string()])
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out.status.success() && !text.contains("Pattern verification failed")
}

fn sha256sum(p: &std::path::Path) -> String {
    sh("sha256sum", &[&p.display().to_string()]).split_whitespace().next().unwrap().to_string()
}

#[test]
fn backup_vm_backs_up_restores_byte_for_byte_and_its_backups_cannot_be_removed() {
    let (t, disk, zfs) = backup_world();
    // --dry-run plans and changes nothing.
    let dry = t.helix(["run", "backup-vm", "--dry-run", "--name", "b1"]);
    dry.success();
    insta::assert_snapshot!("backup_vm_dry_run", shown(&t, &dry));
    crate::cli::assert_truthful(&["run backup-vm --dry-run --name b1".into()], &dry);
    assert!(!t.path("vm/helix.backups").exists());
    assert!(!t.path("state/vm-backups.json").exists());

    let out = t.helix(["run", "backup-vm", "--yes", "--name", "b1"]);
    out.success();
    insta::assert_snapshot!("backup_vm_done", shown(&t, &out));
    let (b_disk, b_zfs) =
        (t.path("vm/helix.backups/b1/disk.qcow2"), t.path("vm/helix.backups/b1/zfs.qcow2"));
    assert_eq!(std::fs::read(&b_disk).unwrap(), std::fs::read(&disk).unwrap());
    assert_eq!(std::fs::read(&b_zfs).unwrap(), std::fs::read(&zfs).unwrap());
    // A full copy records the checksum of what it wrote; --list shows it.
    let list = t.helix(["run", "backup-vm", "--list"]);
    list.success();
    insta::assert_snapshot!("backup_vm_list", shown(&t, &list));
    if out.stderr.contains("full copy") {
        list.stdout_has(&sha256sum(&b_disk));
    }
    // A second backup under the same name is refused.
    let again = t.helix(["run", "backup-vm", "--yes", "--name", "b1"]);
    again.code(1);
    insta::assert_snapshot!("backup_vm_name_taken", shown(&t, &again));

    // Risky work changes the disk; restoring brings the backup's bytes back, and keeps the
    // changed disk as a backup of its own.
    assert!(qemu_io(&disk, "write -P 0xcd 0 1M"));
    assert_ne!(std::fs::read(&disk).unwrap(), std::fs::read(&b_disk).unwrap());
    let changed = sha256sum(&disk);
    let r = t.helix(["run", "backup-vm", "--yes", "--restore", "b1"]);
    r.success();
    insta::assert_snapshot!("backup_vm_restored", shown(&t, &r));
    assert_eq!(std::fs::read(&disk).unwrap(), std::fs::read(&b_disk).unwrap());
    assert_eq!(std::fs::read(&zfs).unwrap(), std::fs::read(&b_zfs).unwrap());
    assert!(qemu_io(&disk, "read -P 0xab 0 1M"));
    sh("qemu-img", &["check", "-q", &disk.display().to_string()]);
    let kept: Vec<_> = std::fs::read_dir(t.path("vm/helix.backups"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("pre-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(sha256sum(&kept[0].join("disk.qcow2")), changed);
    let list = t.helix(["run", "backup-vm", "--list"]);
    list.success();
    insta::assert_snapshot!("backup_vm_list_after_restore", shown(&t, &list));
    // The kept pre-restore state is itself a backup that restores.
    let kept_name = kept[0].file_name().unwrap().to_string_lossy().into_owned();
    t.helix(["run", "backup-vm", "--yes", "--restore", &kept_name]).success();
    assert_eq!(sha256sum(&disk), changed);
    assert_eq!(std::fs::read(&zfs).unwrap(), std::fs::read(&b_zfs).unwrap());

    // No helix primitive can delete, move or overwrite a backup, --yes or not.
    let before = std::fs::read(&b_disk).unwrap();
    let bd = b_disk.display().to_string();
    let dir = t.path("vm/helix.backups/b1").display().to_string();
    let t = t
        .recipe("rm", &format!("//! Remove.\nfs::remove(\"{bd}\");\n"))
        .recipe("rmdir", &format!("//! Remove the dir.\nfs::remove(\"{dir}\");\n"))
        .recipe("gone", &format!("//! Forever.\nfs::remove_permanently(\"{bd}\");\n"))
        .recipe("mv", &format!("//! Move.\nfs::move(\"{dir}\", \"{dir}-x\");\n"))
        .recipe("over", &format!("//! Overwrite.\nfs::write(\"{bd}\", \"zero\");\n"))
        .recipe("cp", &format!("//! Copy over.\nfs::copy(\"{}\", \"{bd}\");\n", zfs.display()));
    let mut refused = String::new();
    for r in ["rm", "rmdir", "gone", "mv", "over", "cp"] {
        let out = t.helix(["run", r, "--yes"]);
        out.code(1);
        refused.push_str(&format!("=== helix run {r} --yes\n{}", shown(&t, &out)));
    }
    insta::assert_snapshot!("backup_vm_backups_protected", refused);
    assert_eq!(std::fs::read(&b_disk).unwrap(), before);
}

#[test]
fn backup_vm_snapshot_method_reverts_inside_the_image() {
    let (t, disk, _) = backup_world();
    let made = t.helix([
        "run",
        "backup-vm",
        "--yes",
        "--method",
        "snapshot",
        "--disk",
        &disk.display().to_string(),
        "--name",
        "s1",
    ]);
    made.success();
    insta::assert_snapshot!("backup_vm_snapshot_made", shown(&t, &made));
    assert!(sh("qemu-img", &["snapshot", "-l", &disk.display().to_string()]).contains("s1"));
    assert!(qemu_io(&disk, "write -P 0xcd 0 1M"));
    let reverted = t.helix(["run", "backup-vm", "--yes", "--restore", "s1"]);
    reverted.success();
    insta::assert_snapshot!("backup_vm_snapshot_reverted", shown(&t, &reverted));
    assert!(qemu_io(&disk, "read -P 0xab 0 1M"), "the snapshot's data is not back");
    // The state before the restore was kept as a snapshot first.
    let snaps = sh("qemu-img", &["snapshot", "-l", &disk.display().to_string()]);
    assert!(snaps.contains("before-s1-"), "{snaps}");
    assert_eq!(
        snaps.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).count(),
        2,
        "one snapshot taken by the restore, not two:\n{snaps}"
    );
    let list = t.helix(["run", "backup-vm", "--list"]);
    list.success();
    insta::assert_snapshot!("backup_vm_snapshot_list", shown(&t, &list));
    let nope = t.helix(["run", "backup-vm", "--restore", "nope"]);
    nope.code(1);
    // --method is a choice: a usage error naming the choices, before anything runs.
    let rsync = t.helix(["run", "backup-vm", "--method", "rsync"]);
    rsync.code(2);
    insta::assert_snapshot!(
        "backup_vm_mistakes",
        format!(
            "=== --restore nope\n{}=== --method rsync\n{}",
            shown(&t, &nope),
            shown(&t, &rsync)
        )
    );
}

#[test]
fn register_vm_repurposes_a_registered_vm_without_deleting_its_disk() {
    use crate::utm::{CREATE, UUID_A, created, fake_utm};
    let t = fake_utm(&[(UUID_A, "stopped", "new-dev-vm")]).recipe("create", CREATE);
    let b = created(&t);
    let prefs = t.path("Container/Data/Library/Preferences/com.utmapp.UTM.plist");
    crate::plist::py(t.dir.path(), &["gen_registry", prefs.to_str().unwrap(), b.to_str().unwrap()]);
    let data = b.join("Data");
    let t = t.recipe(
        "show",
        r#"//! Show.
let vm = utm::open("vms/helix-desktop.utm");
print(`name=${vm.name} debug=${vm.debug_log} hv=${vm.hypervisor} drive0=${vm.drives[0].image_name}`);
print(`args=${vm.additional_arguments.join(" ")}`);
print(`findings=${utm::check("vms/helix-desktop.utm").len()}`);
"#,
    );
    let before = t.helix(["run", "show"]);
    before.success();
    let drive0 = before.stdout.split("drive0=").nth(1).unwrap().lines().next().unwrap().to_string();
    let old = data.join(&drive0);
    // The fake UTM names the disk it creates by a fresh UUID.
    let disk_named = |text: &str| text.replace(&drive0, "<UUID>.qcow2");
    let old_bytes = std::fs::read(&old).unwrap();
    let others_before = others(&data, &drive0);
    assert!(others_before.len() >= 2, "{others_before:?}");

    // The new, provisioned disk.
    std::fs::create_dir_all(t.path("new")).unwrap();
    let new = t.path("new/disk.qcow2");
    sh("qemu-img", &["create", "-q", "-f", "qcow2", &new.display().to_string(), "8M"]);

    // Without --repurpose: the explanation, and nothing opened without a person or --yes.
    let explained = t.helix(["run", "register-vm", "--bundle", &b.display().to_string()]);
    explained.success();
    insta::assert_snapshot!("register_vm_explains", disk_named(&shown(&t, &explained)));
    // An unknown VM is a clear error naming the registered ones.
    let unknown = t.helix([
        "run",
        "register-vm",
        "--repurpose",
        "nope",
        "--disk",
        &new.display().to_string(),
    ]);
    unknown.code(1);
    insta::assert_snapshot!("register_vm_unknown_vm", disk_named(&shown(&t, &unknown)));
    // --dry-run changes nothing.
    let plan = t.helix([
        "run",
        "register-vm",
        "--dry-run",
        "--repurpose",
        "new-dev-vm",
        "--disk",
        &new.display().to_string(),
    ]);
    plan.success();
    insta::assert_snapshot!("register_vm_dry_run", disk_named(&shown(&t, &plan)));
    crate::cli::assert_truthful(&["run register-vm --dry-run --repurpose".into()], &plan);
    assert!(!old.is_symlink() && std::fs::read(&old).unwrap() == old_bytes);

    // A running VM is not repurposed under UTM's feet.
    let vms = t.path("utmstate/vms");
    let stopped = std::fs::read_to_string(&vms).unwrap();
    std::fs::write(&vms, stopped.replace("|stopped|", "|started|")).unwrap();
    let running = t.helix([
        "run",
        "register-vm",
        "--yes",
        "--repurpose",
        "new-dev-vm",
        "--disk",
        &new.display().to_string(),
    ]);
    running.code(1);
    insta::assert_snapshot!("register_vm_running", disk_named(&shown(&t, &running)));
    assert!(!old.is_symlink());
    std::fs::write(&vms, stopped).unwrap();
    let out = t.helix([
        "run",
        "register-vm",
        "--yes",
        "--repurpose",
        "new-dev-vm",
        "--disk",
        &new.display().to_string(),
        "--name",
        "helix-desktop",
    ]);
    out.success();
    insta::assert_snapshot!("register_vm_repurposed", disk_named(&shown(&t, &out)));
    // The old disk was moved aside, not deleted: the same bytes, beside the bundle.
    assert_eq!(std::fs::read_link(&old).unwrap(), new);
    let kept: Vec<PathBuf> = std::fs::read_dir(t.path("vms/helix-repurposed"))
        .unwrap()
        .map(|e| e.unwrap().path().join(&drive0))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(&kept[0]).unwrap(), old_bytes);
    let after = t.helix(["run", "show"]);
    after.success().stdout_has("name=helix-desktop debug=true hv=true").stdout_has("findings=0");
    after
        .stdout_has("-global virtio-gpu-gl-pci.max_outputs=16")
        .stdout_has("-serial file:/tmp/qemu-serial.log");
    // Every other file in Data/ (the ZFS data disk, the EFI vars) is untouched.
    assert_eq!(others(&data, &drive0), others_before);
    // `helix undo` of the repurpose run puts everything back.
    let u = t.helix(["undo", &undo_id_in(&out)]);
    u.success();
    insta::assert_snapshot!("register_vm_undone", disk_named(&shown(&t, &u)));
    assert!(!old.is_symlink(), "{}{}", u.stdout, u.stderr);
    assert_eq!(std::fs::read(&old).unwrap(), old_bytes);
    t.helix(["run", "show"]).success().stdout_has("name=Helix Desktop").stdout_has("findings=0");
}

/// The run id a recipe run printed (`run `ID``), or from the journal's newest run.
fn undo_id_in(out: &Output) -> String {
    let text = format!("{}{}", out.stdout, out.stderr);
    let id = text.split("helix undo ").nth(1).expect("the run names its undo line");
    id.split(|c: char| c.is_whitespace() || c == '`').next().unwrap().to_string()
}

/// The regular files in `dir` other than `except`, with their sizes.
fn others(dir: &std::path::Path, except: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy() != except)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().len()))
        .collect();
    v.sort();
    v
}

#[test]
fn doctor_lists_utms_vms_and_judges_the_installed_qemu() {
    use crate::utm::{UUID_A, fake_utm};
    let t = fake_utm(&[
        (UUID_A, "started", "new-dev-vm"),
        ("0DADCFD5-C147-4870-9C0F-925F33B5D405", "stopped", "Helix Desktop"),
    ]);
    let toml = std::fs::read_to_string(t.path("helix.toml")).unwrap();
    let with_vm = |name: &str| {
        format!(
            "{toml}[vm]\nname = \"{name}\"\nuuid = \"{UUID_A}\"\nssh_port = {}\n",
            crate::support::ports::free_port()
        )
    };
    let t = t.file("helix.toml", &with_vm("new-dev-vm"));
    let out = t.helix(["run", "doctor", "--json"]);
    out.code(1);
    let (rows, _) = json_checks(&out);
    assert_eq!(state_of(&rows, "UTM VMs").2, "2 registered");
    assert_eq!(state_of(&rows, "VM new-dev-vm").1, "ok");
    assert_eq!(state_of(&rows, "VM Helix Desktop").1, "ok");
    // The fake app's QEMU is UTM's original (no HELIX version string) and no Mach-O at all.
    assert_eq!(state_of(&rows, "QEMU binary").1, "FAIL");
    // What doctor's table says about UTM, its VMs and its QEMU, in each world.
    let dir = t.dir.path().to_path_buf();
    let utm_rows = |world: &str, rows: &[(String, String, String)]| {
        let mut table = "CHECK  STATE  DETAIL/FIX\n".to_string();
        for r in rows.iter().filter(|r| ["UTM", "VM ", "QEMU"].iter().any(|p| r.0.starts_with(p))) {
            table.push_str(&format!("{}  {}  {}\n", r.0, r.1, r.2));
        }
        let table = crate::support::redact::redact(&table, &dir);
        format!("--- {world}\n{}", crate::support::redact::table(&table, "CHECK "))
    };
    let mut said = utm_rows("the configured VM registered and started", &rows);
    // The configured VM missing from UTM points at register-vm; a refused Apple event is a FAIL.
    let t = t.file(
        "helix.toml",
        &with_vm("elsewhere").replace(UUID_A, "00000000-0000-0000-0000-000000000000"),
    );
    let (rows, _) = json_checks(&t.helix(["run", "doctor", "--json"]));
    assert_eq!(state_of(&rows, "VM elsewhere").1, "MISSING");
    said.push_str(&utm_rows("the configured VM not in UTM", &rows));
    std::fs::write(t.path("utmstate/mode"), "deny").unwrap();
    let (rows, _) = json_checks(&t.helix(["run", "doctor", "--json"]));
    assert_eq!(state_of(&rows, "UTM VMs").1, "FAIL");
    said.push_str(&utm_rows("Apple events refused", &rows));
    insta::assert_snapshot!("doctor_utm_and_its_qemu", crate::support::redact::ports(&said));
}

/// A helix checkout whose `stack` is a double of the real one's `build-desktop`: docker
/// BuildKit-style output, the 6-hex image tag written to `sandbox-images/helix-<name>.version`,
/// and the real failure (`ERROR: failed to solve: …`, exit 1) when `$STACK_FAIL` names the
/// desktop; `$STACK_SLEEP` makes a build take that long.
fn images_world() -> Test {
    let t = Test::new();
    let helix = t.path("pm/helix");
    std::fs::create_dir_all(&helix).unwrap();
    stack_double(&helix);
    let config = format!("[paths]\nhelix = \"{}\"\n", helix.display());
    t.file("helix.toml", &config)
}

/// Writes the `stack` double and the two Dockerfiles into a helix checkout.
pub(crate) fn stack_double(helix: &std::path::Path) {
    let stack = r##"#!/usr/bin/env bash
set -euo pipefail
echo "$(date +%s) $* SKIP=${SKIP_DESKTOP_TRANSFER:-} BUILDKIT=${DOCKER_BUILDKIT:-}" >> "$(dirname "$0")/stack.calls"
name="${1#build-}"
[ -f "Dockerfile.${name}-helix" ] || { echo "Dockerfile.${name}-helix not found"; exit 1; }
echo "#0 building with \"default\" instance using docker driver"
echo "#1 [internal] load build definition from Dockerfile.${name}-helix"
sleep "${STACK_SLEEP:-0}"
if [ "${STACK_FAIL:-}" = "$name" ]; then
  echo "#9 [5/9] RUN apt-get install -y gnome-shell" >&2
  echo "#9 ERROR: process \"/bin/sh -c apt-get install -y gnome-shell\" did not complete successfully: exit code: 100" >&2
  echo "ERROR: failed to solve: process \"/bin/sh -c apt-get install -y gnome-shell\" did not complete successfully: exit code: 100" >&2
  exit 1
fi
echo "#12 naming to docker.io/library/helix-${name}:latest done"
mkdir -p sandbox-images
printf '%s' "$(echo "$name$(cat "sandbox-images/helix-${name}.version" 2>/dev/null)" | sha256sum | cut -c1-6)" > "sandbox-images/helix-${name}.version"
echo "✅ helix-${name} built: tag $(cat "sandbox-images/helix-${name}.version")"
"##;
    std::fs::write(helix.join("stack"), stack).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(helix.join("stack"), std::fs::Permissions::from_mode(0o755)).unwrap();
    for d in ["ubuntu", "sway"] {
        std::fs::write(helix.join(format!("Dockerfile.{d}-helix")), "FROM ubuntu:25.10\n").unwrap();
    }
}

#[test]
fn build_images_builds_keeps_logs_reports_tags_and_explains_failures() {
    let t = images_world();
    let helix = t.path("pm/helix");
    // --dry-run runs nothing.
    let plan = t.helix(["run", "build-images", "--dry-run"]);
    plan.success();
    insta::assert_snapshot!("build_images_dry_run", shown(&t, &plan));
    crate::cli::assert_truthful(&["run build-images --dry-run".into()], &plan);
    assert!(!helix.join("stack.calls").exists());

    let out = t.helix(["run", "build-images", "--no-transfer"]);
    out.success();
    let tag = |d: &str| {
        std::fs::read_to_string(helix.join(format!("sandbox-images/helix-{d}.version"))).unwrap()
    };
    let (u1, s1) = (tag("ubuntu"), tag("sway"));
    assert_eq!(u1.len(), 6);
    insta::assert_snapshot!("build_images_built", shown(&t, &out));
    // The tags shown are the ones written.
    out.stdout_has(&format!("helix-ubuntu  {u1}")).stdout_has(&format!("helix-sway    {s1}"));
    let calls = std::fs::read_to_string(helix.join("stack.calls")).unwrap();
    assert!(
        calls.contains("build-ubuntu SKIP=1 BUILDKIT=1") && calls.contains("build-sway SKIP=1"),
        "{calls}"
    );
    // The whole output is kept.
    let log = std::fs::read_to_string(t.path("state/build-images/build-ubuntu.log")).unwrap();
    assert!(log.contains("naming to docker.io/library/helix-ubuntu:latest"), "{log}");

    // A rebuild reports the new tag and the old one.
    let out = t.helix(["run", "build-images", "--desktops", "ubuntu"]);
    out.success();
    insta::assert_snapshot!("build_images_rebuilt", shown(&t, &out));
    out.stdout_has(&format!("was {u1}"));
    assert!(
        std::fs::read_to_string(helix.join("stack.calls"))
            .unwrap()
            .contains("build-ubuntu SKIP= BUILDKIT=1")
    );

    // A failing build: the error has BuildKit's message and where the log is.
    let t = t.env("STACK_FAIL", "sway");
    let out = t.helix(["run", "build-images", "--desktops", "sway"]);
    out.code(1);
    insta::assert_snapshot!("build_images_failed", shown(&t, &out));
    // One that never finishes is stopped at the timeout, with a clear message.
    let started = std::time::Instant::now();
    let t = t.env("STACK_SLEEP", "30");
    let out = t.helix(["run", "build-images", "--desktops", "ubuntu", "--timeout", "2"]);
    out.code(1);
    insta::assert_snapshot!("build_images_timed_out", shown(&t, &out));
    assert!(started.elapsed().as_secs() < 15, "{:?}", started.elapsed());
    // Unknown desktops and a missing checkout are explained.
    let gnome = t.helix(["run", "build-images", "--desktops", "gnome"]);
    gnome.code(1);
    let nowhere = t.helix(["run", "build-images", "--helix", "/nonexistent"]);
    nowhere.code(1);
    insta::assert_snapshot!(
        "build_images_mistakes",
        format!(
            "=== --desktops gnome\n{}=== --helix /nonexistent\n{}",
            shown(&t, &gnome),
            shown(&t, &nowhere)
        )
    );
}
