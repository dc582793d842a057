//! Safety from facts, through the real binary: "created by this run" is (device, inode), not
//! text, so nothing can be laundered through a directory, a link or a hard link the run made;
//! protection is checked on every path an `fs::` primitive touches; configuration from a
//! project, `--config` or an environment-chosen dir can only add protected paths.
//!
//! What each refusal says is snapshotted. These tests run inside the overlay (`in_overlay!`),
//! where a snapshot insta writes vanishes with the test: to create or update one, point insta
//! at a directory the overlay binds in and copy the result back —
//! `INSTA_WORKSPACE_ROOT=/dev/shm/ws INSTA_UPDATE=always cargo test --test test facts::`, then
//! `cp /dev/shm/ws/tests/test/snapshots/*.snap tests/test/snapshots/` (and set their `source:`
//! line back to `tests/test/facts.rs`: insta writes the path from that root there).

use std::path::Path;

use crate::recovery::shown;
use crate::support::builder::Test;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn moving_a_target_into_a_dir_the_run_made_does_not_make_it_the_runs() {
    crate::in_overlay!(moving_a_target_into_a_dir_the_run_made_does_not_make_it_the_runs);
    let t = Test::new().file("target.txt", "the user's work\n").recipe(
        "launder",
        "//! L.\nfs::mkdir(\"d\");\nfs::move(\"target.txt\", \"d/t\");\nfs::remove(\"d\");\n",
    );
    let out = t.helix(["run", "launder"]);
    out.success();
    // Not deleted for good: d held something that was not the run's, so it went to the trash.
    assert!(!t.path("d").exists() && !t.path("target.txt").exists());
    let items = t.helix(["trash", "list", "--json"]);
    assert!(items.stdout.contains("\"d\"") || items.stdout.contains("/d\""), "{items:?}");
    t.helix(["undo", "last"]).success();
    assert_eq!(read(&t.path("target.txt")), "the user's work\n");
}

#[test]
fn a_dir_the_run_made_and_filled_itself_is_deleted_outright() {
    crate::in_overlay!(a_dir_the_run_made_and_filled_itself_is_deleted_outright);
    let t = Test::new().recipe(
        "own",
        "//! O.\nfs::mkdir(\"d/sub\");\nfs::write(\"d/sub/f\", \"x\");\nfs::write(\"d/sub/f\", \"y\");\nfs::copy(\"d/sub/f\", \"d/g\");\nfs::symlink(\"/etc\", \"d/lnk\");\nfs::remove(\"d\");\n",
    );
    t.helix(["run", "own"]).success();
    assert!(!t.path("d").exists());
    let items = t.helix(["trash", "list", "--json"]);
    assert!(!items.stdout.contains("/d\""), "the run's own tree is not trashed: {items:?}");
}

#[test]
fn links_the_run_made_do_not_reach_their_targets() {
    crate::in_overlay!(links_the_run_made_do_not_reach_their_targets);
    let t = Test::new().file("precious/data.txt", "keep\n").file("file.txt", "mine\n");
    let precious = t.path("precious");
    let t = t.recipe(
        "links",
        &format!(
            "//! K.\nfs::symlink(\"{0}\", \"lnk\");\nfs::remove(\"lnk\");\nfs::symlink(\"{0}/data.txt\", \"flnk\");\nfs::write(\"flnk\", \"over\");\nfs::remove(\"flnk\");\ncmd::run([\"ln\", \"file.txt\", \"hard\"]);\nfs::mkdir(\"box\");\ncmd::run([\"ln\", \"file.txt\", \"box/h\"]);\nfs::remove(\"box\");\n",
            precious.display()
        ),
    );
    t.helix(["run", "links"]).success();
    assert_eq!(read(&precious.join("data.txt")), "keep\n");
    assert_eq!(read(&t.path("file.txt")), "mine\n");
    // The box held a hard link to older data: it went to the trash, not away for good.
    let items = t.helix(["trash", "list", "--json"]);
    assert!(items.stdout.contains("box"), "{items:?}");
}

#[test]
fn protected_paths_are_refused_on_every_path_an_fs_action_touches() {
    crate::in_overlay!(protected_paths_are_refused_on_every_path_an_fs_action_touches);
    let t = Test::new().file("vm.backup/disk.img", "disk\n").file("vms/helix-vm/disk.img", "vm\n");
    let backup = t.path("vm.backup");
    std::fs::hard_link(backup.join("disk.img"), t.path("innocent.img")).unwrap();
    std::os::unix::fs::symlink(&backup, t.path("via-link")).unwrap();
    let forms = [
        "fs::move(\"vm.backup\", \"elsewhere\")",
        "fs::move(\"vm.backup/disk.img\", \"d.img\")",
        "fs::remove(\"vm.backup\")",
        "fs::remove(\"via-link/\")",
        "fs::remove(\"via-link/disk.img\")",
        "fs::write(\"via-link/disk.img\", \"x\")",
        "fs::copy(\"file\", \"vm.backup/disk.img\")",
        // The same inode under another name.
        "fs::remove(\"innocent.img\")",
        "fs::write(\"innocent.img\", \"x\")",
        "fs::move(\"innocent.img\", \"moved.img\")",
    ];
    std::fs::write(t.path("file"), "f").unwrap();
    let mut refused = String::new();
    for (i, form) in forms.iter().enumerate() {
        let name = format!("f{i}");
        std::fs::write(t.path(&format!("recipes/{name}.rhai")), format!("//! F.\n{form};\n"))
            .unwrap();
        let out = t.helix(["run", &name]);
        assert_ne!(out.code, 0, "`{form}` was not refused: {out:?}");
        refused.push_str(&format!("=== {form}\n{}", shown(&t, &out)));
        assert_eq!(read(&backup.join("disk.img")), "disk\n", "`{form}`");
        assert!(t.path("innocent.img").exists(), "`{form}`");
    }
    insta::assert_snapshot!("protected_on_every_path", refused);
}

#[test]
fn write_state_does_not_follow_a_link_out_of_the_state_dir() {
    crate::in_overlay!(write_state_does_not_follow_a_link_out_of_the_state_dir);
    let t = Test::new().file("elsewhere/dev.json", "precious\n");
    std::fs::create_dir_all(t.path("state")).unwrap();
    std::os::unix::fs::symlink(t.path("elsewhere"), t.path("state/vms")).unwrap();
    let t = t.recipe("s", "//! S.\nsys::write_state(\"vms/dev.json\", \"{}\");\n");
    let out = t.helix(["run", "s"]);
    assert_ne!(out.code, 0, "{out:?}");
    // Refused at the recipe line, saying why.
    insta::assert_snapshot!("write_state_through_a_link", shown(&t, &out));
    assert_eq!(read(&t.path("elsewhere/dev.json")), "precious\n");
}

#[test]
fn clone_file_never_deletes_a_file_that_happens_to_have_its_temp_name() {
    crate::in_overlay!(clone_file_never_deletes_a_file_that_happens_to_have_its_temp_name);
    let t = Test::new()
        .file("a.img", "image bytes")
        .file(".b.img.helix-tmp", "someone's file")
        .recipe("c", "//! C.\nfs::clone_file(\"a.img\", \"b.img\");\n");
    t.helix(["run", "c"]).success();
    assert_eq!(read(&t.path("b.img")), "image bytes");
    assert_eq!(read(&t.path(".b.img.helix-tmp")), "someone's file");
    let left: Vec<String> = std::fs::read_dir(t.path(""))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("helix-tmp") && n != ".b.img.helix-tmp")
        .collect();
    assert!(left.is_empty(), "temp files left: {left:?}");
}

/// The user's own file protects `vms/helix-vm`; every other source of configuration tries to
/// take that away, in every spelling; `fs::remove` of it stays refused.
#[test]
fn configuration_can_only_grow_protection() {
    crate::in_overlay!(configuration_can_only_grow_protection);
    let t = Test::new().file("vms/helix-vm/disk.img", "vm\n");
    let vm = t.path("vms/helix-vm");
    let t = t.recipe("rm", &format!("//! R.\nfs::remove(\"{}\");\n", vm.display()));
    let own = format!("[guard]\nprotected = [\"{}\"]\n", vm.display());
    // The user's own file is found through the user database, not `$HOME` (which the test,
    // like any caller, sets): here, inside the overlay, root's real home.
    let own_file = helix::config::own_file();
    assert!(!own_file.starts_with(t.path("")), "{}", own_file.display());
    std::fs::create_dir_all(own_file.parent().unwrap()).unwrap();
    std::fs::write(&own_file, &own).unwrap();
    // An `unprotect` in the config dir the environment chose (`HELIX_CONFIG_DIR`, which the
    // test builder sets, like `$HOME`) is an error, and nothing runs.
    std::fs::write(
        t.path("config/config.toml"),
        format!("[guard]\nunprotect = [\"{}\"]\n", vm.display()),
    )
    .unwrap();
    let out = t.helix(["run", "rm"]);
    let own_path = |text: String| text.replace(&own_file.display().to_string(), "<own config>");
    insta::assert_snapshot!("unprotect_outside_the_own_file", own_path(shown(&t, &out)));
    assert_eq!(read(&vm.join("disk.img")), "vm\n");
    std::fs::remove_file(t.path("config/config.toml")).unwrap();
    let spellings = [
        "[guard]\nprotected = []\n",
        "guard.protected = []\n",
        "guard = { protected = [] }\n",
        "[guard]\nprotected = [\"/somewhere/else\"]\n",
    ];
    // Each refusal, as the person reads it.
    let mut said = String::new();
    let mut refused = |out: &crate::support::builder::Output, how: &str| {
        assert_ne!(out.code, 0, "{how}: {out:?}");
        said.push_str(&format!("=== {how}\n{}", own_path(shown(&t, out))));
        assert_eq!(read(&vm.join("disk.img")), "vm\n", "{how}");
    };
    // Unconfigured: the user's file alone protects it.
    refused(&t.helix(["run", "rm"]), "the user's file");
    for s in spellings {
        // A project file (here, and in a parent directory of where helix runs).
        std::fs::write(t.path("helix.toml"), s).unwrap();
        refused(&t.helix(["run", "rm"]), &format!("project helix.toml {s:?}"));
        std::fs::remove_file(t.path("helix.toml")).unwrap();
        // --config.
        std::fs::write(t.path("extra.toml"), s).unwrap();
        let extra = t.path("extra.toml").display().to_string();
        refused(&t.helix(["--config", &extra, "run", "rm"]), &format!("--config {s:?}"));
        // A config dir chosen by the environment.
        std::fs::create_dir_all(t.path("envdir/helix")).unwrap();
        std::fs::write(t.path("envdir/helix/config.toml"), s).unwrap();
        let envdir = t.path("envdir/helix").display().to_string();
        let out = run_with_env(&t, &[("HELIX_CONFIG_DIR", &envdir)]);
        refused(&out, &format!("HELIX_CONFIG_DIR {s:?}"));
        let xdg = t.path("envdir").display().to_string();
        let out = run_with_env(&t, &[("XDG_CONFIG_HOME", &xdg), ("HELIX_CONFIG_DIR", "")]);
        refused(&out, &format!("XDG_CONFIG_HOME {s:?}"));
    }
    insta::assert_snapshot!("configuration_cannot_take_protection_away", said);
    // Replacing the table, or `unprotect`, anywhere but the user's own file: an error that
    // names the file, and nothing runs.
    let mut errors = String::new();
    for s in ["guard = 1\n", "[guard]\nunprotect = [\"x\"]\n"] {
        std::fs::write(t.path("helix.toml"), s).unwrap();
        let out = t.helix(["run", "rm"]);
        assert_ne!(out.code, 0);
        errors.push_str(&format!("=== helix.toml: {s:?}\n{}", own_path(shown(&t, &out))));
        assert_eq!(read(&vm.join("disk.img")), "vm\n");
    }
    insta::assert_snapshot!("guard_replaced_outside_the_own_file", errors);
    std::fs::remove_file(t.path("helix.toml")).unwrap();
    // The user's own file can take its entry out again.
    std::fs::write(&own_file, format!("{own}unprotect = [\"{}\"]\n", vm.display())).unwrap();
    t.helix(["run", "rm"]).success();
    assert!(!vm.exists(), "unprotected by the user: moved to the trash");
}

/// `helix run rm` in the test's project with extra environment variables.
fn run_with_env(t: &Test, env: &[(&str, &str)]) -> crate::support::builder::Output {
    let mut cmd = t.command(["run", "rm"]);
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    crate::support::builder::Output::of(cmd.output().unwrap())
}

#[test]
fn laundering_a_protected_vm_dir_through_commands_leaves_it_intact() {
    crate::in_overlay!(laundering_a_protected_vm_dir_through_commands_leaves_it_intact);
    let t = Test::new().file("vms/helix-vm/disk.img", "vm disk\n");
    let vm = t.path("vms/helix-vm");
    std::fs::write(
        t.path("config/config.toml"),
        format!("[guard]\nprotected = [\"{}\"]\n", vm.display()),
    )
    .unwrap();
    // Whether the classifier refuses each command first or the OS layer stops it as it runs,
    // the VM dir is never moved into the run's own dir and deleted with it.
    let t = t.recipe(
        "l",
        &format!(
            "//! L.\nfs::mkdir(\"d\");\nfs::symlink(\"{0}\", \"lnk\");\n\
             try {{ cmd::run([\"mv\", \"{0}\", \"d/x\"]); }} catch {{}}\n\
             try {{ cmd::run([\"sh\", \"-c\", \"mv vms/helix-vm d/y\"]); }} catch {{}}\n\
             try {{ cmd::run([\"rm\", \"-rf\", \"d\"]); }} catch {{}}\n\
             try {{ cmd::run([\"rm\", \"-rf\", \"lnk/\"]); }} catch {{}}\n\
             try {{ cmd::run([\"truncate\", \"-s0\", \"lnk/disk.img\"]); }} catch {{}}\n",
            vm.display()
        ),
    );
    let out = t.helix(["run", "l"]);
    assert_eq!(read(&vm.join("disk.img")), "vm disk\n", "{out:?}");
}

#[test]
fn a_download_never_resumes_into_a_protected_part_file() {
    crate::in_overlay!(a_download_never_resumes_into_a_protected_part_file);
    let t = Test::new().file("old.backup/disk.img.part", "half of something precious").recipe(
        "d",
        "//! D.\nnet::download(\"http://127.0.0.1:9/disk.img\", \"old.backup/disk.img\");\n",
    );
    let out = t.helix(["run", "d"]);
    assert_ne!(out.code, 0);
    insta::assert_snapshot!("download_into_a_protected_part_file", shown(&t, &out));
    assert_eq!(read(&t.path("old.backup/disk.img.part")), "half of something precious");
}

#[test]
fn the_operating_systems_files_are_never_written_by_a_recipe() {
    crate::in_overlay!(the_operating_systems_files_are_never_written_by_a_recipe);
    let before = std::fs::read("/etc/passwd").unwrap();
    let mut refused = String::new();
    for (name, body) in [
        ("w", "fs::write(\"/etc/passwd\", \"x\");"),
        ("viaup", "fs::write(\"/tmp/../etc/passwd\", \"x\");"),
        ("rm", "fs::remove(\"/etc/passwd\");"),
        ("mv", "fs::move(\"/etc/passwd\", \"/tmp/p\");"),
        ("cmd", "cmd::run([\"truncate\", \"-s0\", \"/etc/passwd\"]);"),
    ] {
        let t = Test::new().recipe(name, &format!("//! S.\n{body}\n"));
        let out = t.helix(["run", name]);
        assert_ne!(out.code, 0, "{name}: {out:?}");
        refused.push_str(&format!("=== {body}\n{}", shown(&t, &out)));
        assert_eq!(std::fs::read("/etc/passwd").unwrap(), before, "{name} changed /etc/passwd");
    }
    insta::assert_snapshot!("the_os_files_refused", refused);
}
