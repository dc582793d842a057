//! The hardened core: nothing destructive without a person at a terminal; the trash; undo.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::builder::Test;
use crate::support::pty::with_pty;
use crate::support::redact::{redact, times_and_trash_ids};

/// What a person reads of `helix ARGS`, under a header naming it: one part of a snapshot.
/// What the terminal showed, as a person reads it (line ends as written, moments redacted).
fn screen(t: &Test, tty: &str) -> String {
    times_and_trash_ids(&redact(&tty.replace("\r\n", "\n"), t.dir.path()))
}

fn victim(t: &Test) {
    std::fs::create_dir_all(t.path("victim/inner")).unwrap();
    std::fs::write(t.path("victim/inner/data.txt"), "precious").unwrap();
}

fn intact(t: &Test) -> bool {
    std::fs::read_to_string(t.path("victim/inner/data.txt")).is_ok_and(|s| s == "precious")
}

#[test]
fn without_a_terminal_destruction_is_refused_and_stdin_cannot_answer() {
    let cases: &[(&str, &str)] = &[
        ("rm", r#"cmd::run(["rm", "-rf", "victim"]);"#),
        ("sudo", r#"cmd::run(["sudo", "rm", "-rf", "victim"]);"#),
        ("shc", r#"cmd::run(["sh", "-c", "cd victim && rm -rf inner"]);"#),
        ("shell", r#"cmd::shell("rm -rf victim/inner");"#),
        ("ssh", r#"cmd::run(["ssh", "-p", "2222", "luke@127.0.0.1", "rm -rf ~/victim"]);"#),
        ("perm", r#"fs::remove_permanently("victim");"#),
        ("protected", r#"fs::remove("victim.backup");"#),
        ("protected-link", r#"fs::remove_permanently("via-link/");"#),
    ];
    let mut all = String::new();
    for (name, body) in cases {
        let mut first: Option<String> = None;
        for stdin in [None, Some("y\n"), Some("victim\ny\nyes\ninner\n")] {
            let mut t =
                Test::new().recipe(name, &format!("//! Destroys.\n{body}\nprint(\"after\");\n"));
            if let Some(s) = stdin {
                t = t.stdin(s);
            }
            victim(&t);
            std::fs::create_dir_all(t.path("victim.backup")).unwrap();
            std::fs::write(t.path("victim.backup/disk.img"), "backup").unwrap();
            std::os::unix::fs::symlink(t.path("victim.backup"), t.path("via-link")).unwrap();
            let out = t.helix(["run", name]);
            assert_ne!(
                out.code, 0,
                "{name} with stdin {stdin:?} succeeded:\n{}\n{}",
                out.stdout, out.stderr
            );
            assert!(intact(&t), "{name}: the target was touched");
            assert!(t.path("victim.backup/disk.img").exists(), "{name}: the backup was touched");
            assert!(!out.stdout.contains("after"), "{name}: the recipe went on");
            // What stdin held changes nothing of the refusal: each case's is the same.
            let seen = t.shown(&format!("run {name}"), &out);
            match &first {
                None => first = Some(seen),
                Some(f) => assert_eq!(&seen, f, "{name} with stdin {stdin:?}"),
            }
        }
        all.push_str(&first.unwrap());
    }
    insta::assert_snapshot!("refused_without_a_terminal", all);
}

#[test]
fn config_protected_paths_name_their_rule_and_file() {
    let t = Test::new()
        .file("helix.toml", "[guard]\nprotected = [\"vms/*.qcow2\"]\n")
        .recipe("r", "//! R.\nfs::remove(\"vms/disk.qcow2\");\n");
    // Relative glob entries are resolved against the cwd of the run: make it absolute.
    std::fs::write(
        t.path("helix.toml"),
        format!("[guard]\nprotected = [\"{}/vms/*.qcow2\"]\n", t.dir.path().display()),
    )
    .unwrap();
    std::fs::create_dir_all(t.path("vms")).unwrap();
    std::fs::write(t.path("vms/disk.qcow2"), "disk").unwrap();
    let out = t.helix(["run", "r"]);
    out.code(1);
    insta::assert_snapshot!("config_protected_path", t.shown("run r", &out));
    assert!(t.path("vms/disk.qcow2").exists());
}

#[test]
fn what_the_run_created_it_may_remove_without_asking() {
    let t = Test::new().recipe(
        "scratch",
        "//! S.\nfs::mkdir(\"scratch/sub\");\nfs::write(\"scratch/sub/f.txt\", \"x\");\ncmd::run([\"rm\", \"-rf\", \"scratch\"]);\nfs::write(\"tmp.bin\", \"y\");\nfs::remove_permanently(\"tmp.bin\");\n",
    );
    t.helix(["run", "scratch"]).success();
    assert!(!t.path("scratch").exists() && !t.path("tmp.bin").exists());
}

#[test]
fn dry_run_shows_the_classification() {
    let t = Test::new().recipe(
        "plan",
        "//! P.\nfs::remove(\"a.txt\");\ncmd::run([\"rm\", \"-rf\", \"victim\"]);\nfs::remove(\"victim.backup\");\nfs::remove_permanently(\"a.txt\");\ncmd::run([\"sudo\", \"rm\", \"-rf\", \"vms\"]);\n",
    );
    std::fs::create_dir_all(t.path("vms/Linux.utm.backup")).unwrap();
    victim(&t);
    std::fs::write(t.path("a.txt"), "a").unwrap();
    std::fs::create_dir_all(t.path("victim.backup")).unwrap();
    let out = t.helix(["run", "plan", "--dry-run"]);
    out.success();
    let mut all = t.shown("run plan --dry-run", &out);
    assert!(intact(&t) && t.path("a.txt").exists());
    // Without --dry-run the protected tree is refused as protected, not merely unconfirmed.
    let t = t.recipe("vms", "//! V.\ncmd::run([\"rm\", \"-rf\", \"vms\"]);\n");
    let out = t.helix(["run", "vms"]);
    out.code(1);
    all.push_str(&t.shown("run vms", &out));
    insta::assert_snapshot!("dry_run_classification", all);
    assert!(t.path("vms/Linux.utm.backup").exists());
}

// ---- the trash ----------------------------------------------------------------------------

fn trash_items(t: &Test) -> Vec<serde_json::Value> {
    let out = t.helix(["trash", "list", "--json"]);
    out.success();
    serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn inode(p: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    p.symlink_metadata().unwrap().ino()
}

#[test]
fn trash_is_a_rename_restores_byte_identical_and_keeps_links_as_links() {
    let t = Test::new().recipe("rm", "//! R.\n//! @param p What (required)\nfs::remove(args.p);\n");
    // A large sparse disk image: removing it is a rename, however big.
    let big = t.path("disk.qcow2");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200 << 30).unwrap();
    drop(f);
    let ino = inode(&big);
    let started = Instant::now();
    t.helix(["run", "rm", "--p", "disk.qcow2"]).success();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!big.exists());
    let items = trash_items(&t);
    let item =
        items.iter().find(|i| i["original"].as_str().unwrap().ends_with("/disk.qcow2")).unwrap();
    let stored = Path::new(item["stored"].as_str().unwrap()).to_path_buf();
    assert_eq!(inode(&stored), ino, "moved, not copied");
    assert_eq!(item["size"].as_u64(), Some(200 << 30));
    assert!(item["run"].as_str().is_some(), "linked to the run");
    t.helix(["trash", "restore", "disk.qcow2"]).success();
    assert_eq!(inode(&big), ino);
    assert_eq!(big.metadata().unwrap().len(), 200 << 30);

    // Byte-identical round trip of real content.
    let content: Vec<u8> =
        (0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    std::fs::write(t.path("data.bin"), &content).unwrap();
    t.helix(["run", "rm", "--p", "data.bin"]).success();
    assert!(!t.path("data.bin").exists());
    let id = trash_items(&t)
        .iter()
        .find(|i| i["original"].as_str().unwrap().ends_with("/data.bin"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Restoring refuses to overwrite what now stands there.
    std::fs::write(t.path("data.bin"), "newer").unwrap();
    let out = t.helix(["trash", "restore", &id]);
    out.code(1);
    let mut refusals = t.shown("trash restore ID", &out).replace(&id, "<id>");
    assert_eq!(std::fs::read_to_string(t.path("data.bin")).unwrap(), "newer");
    std::fs::remove_file(t.path("data.bin")).unwrap();
    t.helix(["trash", "restore", &id]).success();
    assert_eq!(std::fs::read(t.path("data.bin")).unwrap(), content);

    // A symlink goes to the trash as a link; what it points at is untouched.
    std::fs::create_dir_all(t.path("real")).unwrap();
    std::fs::write(t.path("real/keep.txt"), "keep").unwrap();
    std::os::unix::fs::symlink(t.path("real"), t.path("link")).unwrap();
    t.helix(["run", "rm", "--p", "link"]).success();
    assert!(t.path("link").symlink_metadata().is_err());
    assert_eq!(std::fs::read_to_string(t.path("real/keep.txt")).unwrap(), "keep");
    let items = trash_items(&t);
    let link = items.iter().find(|i| i["original"].as_str().unwrap().ends_with("/link")).unwrap();
    assert_eq!(link["kind"], "link");
    assert!(
        Path::new(link["stored"].as_str().unwrap())
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // Protected targets refuse, also through a trailing-slash link.
    std::fs::create_dir_all(t.path("Linux.utm.backup")).unwrap();
    let out = t.helix(["run", "rm", "--p", "Linux.utm.backup"]);
    out.code(1);
    refusals.push_str(&t.shown("run rm --p Linux.utm.backup", &out));
    assert!(t.path("Linux.utm.backup").exists());

    // Emptying is permanent: without a terminal it is refused and the items stay.
    let before = trash_items(&t).len();
    let out = t.helix(["trash", "empty"]);
    out.code(1);
    refusals.push_str(&t.shown("trash empty", &out));
    // A link's size is the length of the path it holds: this test's temp dir, so it varies.
    let link = format!("{}B", t.path("real").as_os_str().len());
    let refusals = refusals.replace(&format!(" {link}"), " <link size>");
    insta::assert_snapshot!("trash_refusals", refusals);
    assert_eq!(trash_items(&t).len(), before);
}

// ---- undo ---------------------------------------------------------------------------------

#[test]
fn undo_restores_an_edited_plist_and_removes_what_the_run_created() {
    let v1 = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Name</key><string>old</string></dict></plist>\n";
    let t = Test::new()
        .file("vm/config.plist", v1)
        .recipe("edit", "//! E.\nfs::write(\"vm/config.plist\", \"<plist version=\\\"1.0\\\"><dict><key>Name</key><string>new</string></dict></plist>\\n\");\nfs::mkdir(\"vm/Data\");\nfs::write(\"vm/Data/efi_vars.fd\", \"vars\");\n");
    t.helix(["run", "edit"]).success();
    assert!(std::fs::read_to_string(t.path("vm/config.plist")).unwrap().contains("new"));
    // The plan first: nothing changes.
    let out = t.helix(["undo", "last", "--dry-run"]);
    out.success();
    let mut all = t.shown("undo last --dry-run", &out);
    assert!(std::fs::read_to_string(t.path("vm/config.plist")).unwrap().contains("new"));
    let out = t.helix(["undo", "last"]);
    out.success();
    all.push_str(&t.shown("undo last", &out));
    assert_eq!(std::fs::read_to_string(t.path("vm/config.plist")).unwrap(), v1);
    assert!(!t.path("vm/Data").exists(), "created paths go (to the trash)");
    // Undoing twice changes nothing more.
    let runs = t.helix(["log", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&runs.stdout).unwrap();
    let edit_run = v.as_array().unwrap().iter().find(|r| r["recipe"] == "edit").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = t.helix(["undo", &edit_run]);
    out.success();
    all.push_str(&t.shown("undo RUN", &out));
    insta::assert_snapshot!("undo_restores_and_removes", all);
    assert_eq!(std::fs::read_to_string(t.path("vm/config.plist")).unwrap(), v1);
}

#[test]
fn undo_stops_at_what_changed_since() {
    let t = Test::new()
        .file("a.plist", "one")
        .recipe("w", "//! W.\nfs::write(\"a.plist\", \"two\");\n");
    t.helix(["run", "w"]).success();
    std::fs::write(t.path("a.plist"), "three (edited by hand)").unwrap();
    let out = t.helix(["undo", "last"]);
    out.code(1);
    insta::assert_snapshot!("undo_stops", t.shown("undo last", &out));
    assert_eq!(std::fs::read_to_string(t.path("a.plist")).unwrap(), "three (edited by hand)");
}

#[test]
fn at_a_terminal_typing_the_name_confirms_and_anything_else_cancels() {
    let t = Test::new()
        .recipe("nuke", "//! N.\ncmd::run([\"rm\", \"-rf\", \"victim\"]);\nprint(\"done\");\n");
    victim(&t);
    let (out, tty) = with_pty(&t, &["run", "nuke"], "to go ahead", "victim-no\n");
    assert_ne!(out.code, 0, "{tty}");
    assert!(intact(&t), "cancelled, so nothing may change");
    // The prompt shows what it destroys and the word to type; the refusal says it was declined.
    let mut prompts = format!("=== terminal of helix run nuke\n{}", screen(&t, &tty));
    prompts.push_str(&t.shown("run nuke", &out));

    let (out, tty) = with_pty(&t, &["run", "nuke"], "to go ahead", "victim\n");
    assert_eq!(out.code, 0, "{tty}\n{}", out.stderr);
    assert!(!t.path("victim").exists(), "confirmed, so it is gone");
    out.stdout_has("done");

    // A small permanent delete is a y/N question defaulting to No.
    std::fs::write(t.path("note.txt"), "n").unwrap();
    let t = t.recipe("perm", "//! P.\nfs::remove_permanently(\"note.txt\");\n");
    let (out, _) = with_pty(&t, &["run", "perm"], "[y/N]", "\n");
    assert_ne!(out.code, 0);
    assert!(t.path("note.txt").exists());
    let (out, tty) = with_pty(&t, &["run", "perm"], "[y/N]", "y\n");
    assert_eq!(out.code, 0, "{tty}\n{}", out.stderr);
    assert!(!t.path("note.txt").exists());

    // Emptying the trash is permanent: it asks for the word `empty`.
    std::fs::write(t.path("old.txt"), "o").unwrap();
    let t = t.recipe("trash-it", "//! T.\nfs::remove(\"old.txt\");\n");
    t.helix(["run", "trash-it"]).success();
    assert_eq!(trash_items(&t).len(), 1);
    let (out, _) = with_pty(&t, &["trash", "empty"], "to go ahead", "yes\n");
    assert_ne!(out.code, 0);
    assert_eq!(trash_items(&t).len(), 1);
    let (out, tty) = with_pty(&t, &["trash", "empty"], "to go ahead", "empty\n");
    assert_eq!(out.code, 0, "{tty}\n{}", out.stderr);
    prompts.push_str(&format!("=== terminal of helix trash empty\n{}", screen(&t, &tty)));
    insta::assert_snapshot!("terminal_prompts", prompts);
    assert!(trash_items(&t).is_empty());
}
