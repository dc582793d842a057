//! The guard's OS layer (rule 1, "whatever runs"): a child process cannot destroy a protected
//! path even when the classifier lets its command through — an interpreter's inline code, a
//! script file, a Makefile target, a move or delete of the protected path's parent, `sudo`,
//! unmounting first, a hard link out. Every test runs in the throwaway overlay namespace.
//!
//! Two levels: [`confined`] spawns exactly as `process/` does (the argv and `pre_exec` hook
//! `guard::sandbox::confine` returns) so the layer is tested whatever the classifier decides;
//! the `helix_*` tests run the real binary, where the classifier stands in front of it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::builder::Test;

/// A protected VM backup with a real qcow2, its parent, and an unprotected sibling.
struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// `root/vms/vm.backup` (protected by the `*.backup*` rule).
    p: PathBuf,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let p = root.join("vms/vm.backup");
        std::fs::create_dir_all(p.join("sub")).unwrap();
        let out = Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(p.join("disk.qcow2"))
            .arg("16M")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        std::fs::write(p.join("notes.txt"), "the only copy\n").unwrap();
        std::fs::write(p.join("sub/deep"), vec![7u8; 4096]).unwrap();
        std::fs::write(root.join("vms/scratch.txt"), "not protected\n").unwrap();
        std::fs::write(
            root.join("wipe.sh"),
            format!("#!/bin/sh\nrm -rf '{0}'\necho gone > '{0}/notes.txt'\n", p.display()),
        )
        .unwrap();
        std::fs::write(
            root.join("Makefile"),
            format!("wipe:\n\trm -rf '{}'\n\nparent:\n\trm -rf vms\n", p.display()),
        )
        .unwrap();
        World { _dir: dir, root, p }
    }

    fn hash(&self) -> String {
        stat_hash(&self.p)
    }
}

/// Names, kinds, sizes and bytes of everything under `p`, in order.
fn stat_hash(p: &Path) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut stack = vec![p.to_path_buf()];
    let mut all = vec![];
    while let Some(d) = stack.pop() {
        all.push(d.clone());
        if d.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                stack.push(e.path());
            }
        }
    }
    all.sort();
    for f in all {
        let m = f.symlink_metadata().unwrap();
        use std::os::unix::fs::MetadataExt;
        h.update(format!(
            "{}|{}|{}|{:o}|{}\n",
            f.display(),
            m.is_dir(),
            m.len(),
            m.mode(),
            m.mtime()
        ));
        if m.is_file() {
            h.update(std::fs::read(&f).unwrap());
        }
    }
    format!("{:x}", h.finalize())
}

fn listing(p: &Path) -> String {
    let o = Command::new("ls").arg("-laR").arg(p).output().unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Spawn `argv` in `cwd` exactly as helix's process module does: the argv and hook the OS
/// layer gives for it.
fn confined(argv: &[&str], cwd: &Path) -> Output {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let c = helix::guard::sandbox::confine(argv, Some(cwd), |_| false);
    let mut cmd = Command::new(&c.argv[0]);
    cmd.args(&c.argv[1..]).current_dir(cwd);
    if let Some(hook) = c.hook {
        // SAFETY: the hook makes async-signal-safe system calls only.
        unsafe { cmd.pre_exec(move || hook.apply()) };
    }
    cmd.output().unwrap()
}

fn confined_sh(script: &str, cwd: &Path) -> Output {
    confined(&["sh", "-c", script], cwd)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn os_layer_is_active_here() {
    // CI runs as root on Debian 12: the mount namespace is available, so every test below
    // exercises the real layer, not the fallback.
    let s = helix::guard::sandbox::state(|_| false);
    assert!(matches!(s, helix::guard::sandbox::State::Active(_)), "{}", s.describe());
}

#[test]
fn interpreters_scripts_and_makefiles_cannot_destroy_a_protected_tree() {
    crate::in_overlay!(interpreters_scripts_and_makefiles_cannot_destroy_a_protected_tree);
    let w = World::new();
    let before = w.hash();
    let p = w.p.display().to_string();
    let forms: Vec<Vec<String>> = vec![
        vec!["python3".into(), "-c".into(), format!("import shutil; shutil.rmtree('{p}')")],
        vec!["python3".into(), "-c".into(), format!("import os; os.rename('{p}', '/tmp/x')")],
        vec!["python3".into(), "-c".into(), format!("open('{p}/disk.qcow2', 'wb').close()")],
        vec!["perl".into(), "-e".into(), format!("unlink '{p}/notes.txt' or die $!")],
        vec!["sh".into(), w.root.join("wipe.sh").display().to_string()],
        vec!["make".into(), "wipe".into()],
        vec!["rm".into(), "-rf".into(), p.clone()],
        vec!["truncate".into(), "-s0".into(), format!("{p}/disk.qcow2")],
        vec!["dd".into(), "if=/dev/zero".into(), format!("of={p}/disk.qcow2"), "count=1".into()],
        vec!["mv".into(), p.clone(), w.root.join("moved").display().to_string()],
        vec!["sh".into(), "-c".into(), format!("echo x > '{p}/notes.txt'")],
        vec!["sh".into(), "-c".into(), format!("cd '{p}' && rm -f notes.txt sub/deep")],
        // Out of the namespace's mounts: unmount first (root loses CAP_SYS_ADMIN), remount
        // read-write, or link the inode out (EXDEV) and write through the link.
        vec!["sh".into(), "-c".into(), format!("umount -l '{p}'; rm -rf '{p}'")],
        vec!["sh".into(), "-c".into(), format!("mount -o remount,rw '{p}'; rm -rf '{p}'")],
        vec!["sh".into(), "-c".into(), format!("ln '{p}/notes.txt' ./h && echo x > ./h")],
        vec!["sudo".into(), "-n".into(), "rm".into(), "-rf".into(), p.clone()],
        // Metadata, hiding, other tools, a namespace of its own, the host's namespace.
        vec!["chmod".into(), "-R".into(), "000".into(), p.clone()],
        vec!["touch".into(), "-d".into(), "2001-01-01".into(), format!("{p}/notes.txt")],
        vec!["find".into(), p.clone(), "-type".into(), "f".into(), "-delete".into()],
        vec!["sh".into(), "-c".into(), format!("mount -t tmpfs none '{p}' && rm -rf '{p}'")],
        vec![
            "unshare".into(),
            "-m".into(),
            "sh".into(),
            "-c".into(),
            format!("umount -l '{p}'; rm -rf '{p}'"),
        ],
        vec![
            "nsenter".into(),
            "-t".into(),
            "1".into(),
            "-m".into(),
            "rm".into(),
            "-rf".into(),
            p.clone(),
        ],
        vec!["python3".into(), "-c".into(), format!("import os; os.truncate('{p}/disk.qcow2', 0)")],
    ];
    for argv in &forms {
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = confined(&argv, &w.root);
        assert_eq!(w.hash(), before, "`{argv:?}` changed the protected tree: {}", stderr(&out));
        assert!(!out.status.success(), "`{argv:?}` claims success");
    }
}

#[test]
fn the_parent_of_a_protected_tree_cannot_be_moved_or_removed() {
    crate::in_overlay!(the_parent_of_a_protected_tree_cannot_be_moved_or_removed);
    let w = World::new();
    let before = w.hash();
    let vms = w.root.join("vms");
    for script in [
        format!("mv '{}' '{}/elsewhere'", vms.display(), w.root.display()),
        format!("mv '{}' /tmp/elsewhere-$$", vms.display()),
        format!(
            "python3 -c \"import os; os.rename('{}', '{}/x')\"",
            vms.display(),
            w.root.display()
        ),
        format!("mv '{}' '{}/gone'", w.root.display(), w.root.parent().unwrap().display()),
    ] {
        let out = confined_sh(&script, &w.root);
        assert!(!out.status.success(), "`{script}` succeeded");
        let e = stderr(&out);
        assert!(e.contains("busy") || e.contains("Read-only"), "`{script}`: {e}");
        assert_eq!(w.hash(), before, "`{script}`");
    }
    // `rm -rf` of the parent (and of a grandparent, and through make) removes what is not
    // protected and stops at what is.
    let out = confined(&["make", "parent"], &w.root);
    assert!(!out.status.success());
    assert_eq!(w.hash(), before, "{}\n{}", stderr(&out), listing(&w.p));
    assert!(!vms.join("scratch.txt").exists(), "the unprotected sibling went");
    let out = confined_sh(&format!("rm -rf '{}'", w.root.display()), "/".as_ref());
    assert!(!out.status.success());
    assert_eq!(w.hash(), before);
}

#[test]
fn the_layer_is_not_a_blanket() {
    crate::in_overlay!(the_layer_is_not_a_blanket);
    let w = World::new();
    let before = w.hash();
    // Beside the protected tree, ordinary work goes on: create, write, rename, delete.
    // (Relative paths from the command's directory go through the mounts too: the child
    // enters its directory again once they are made.)
    let script = "set -e; mkdir -p vms/build && echo a > vms/build/a && mv vms/build/a vms/build/b \
                  && rm vms/scratch.txt && rm -rf vms/build && echo ok";
    let out = confined_sh(script, &w.root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!w.root.join("vms/scratch.txt").exists() && !w.root.join("vms/build").exists());
    // Reading the protected tree is fine; so is copying out of it.
    let out =
        confined_sh(&format!("cat '{0}/notes.txt' && cp -r '{0}' copy", w.p.display()), &w.root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(w.root.join("copy/notes.txt")).unwrap(), "the only copy\n");
    // sudo still works inside.
    let out = confined(&["sudo", "-n", "sh", "-c", "id -u > sudo-ran"], &w.root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(w.root.join("sudo-ran")).unwrap(), "0\n");
    assert_eq!(w.hash(), before);
}

#[test]
fn configured_paths_and_globs_are_read_only_for_helix_commands() {
    crate::in_overlay!(configured_paths_and_globs_are_read_only_for_helix_commands);
    // Through the real binary: a config-protected VM dir and a glob, commands a recipe runs
    // whose code the classifier cannot see (a script file, inline Python). Without a
    // terminal the classifier may refuse them first; either way the tree is intact, and when a
    // command did run (it leaves `ran-N`), its destructive part failed.
    let t = Test::new();
    let vm = t.path("vms/helix-vm");
    std::fs::create_dir_all(&vm).unwrap();
    std::fs::write(vm.join("disk.img"), vec![1u8; 8192]).unwrap();
    std::fs::write(t.path("vms/other.qcow2"), "qcow").unwrap();
    let before = (stat_hash(&vm), stat_hash(&t.path("vms/other.qcow2")));
    std::fs::write(
        t.path("config/config.toml"),
        format!(
            "[guard]\nprotected = [\"{}\", \"{}/*.qcow2\"]\n",
            vm.display(),
            t.path("vms").display()
        ),
    )
    .unwrap();
    std::fs::write(
        t.path("wipe.sh"),
        format!(
            "touch ran-1\nrm -rf '{0}' || echo blocked-1 > blocked-1\ncat /dev/null > '{1}' || echo blocked-2 > blocked-2\n",
            vm.display(),
            t.path("vms/other.qcow2").display()
        ),
    )
    .unwrap();
    let vms = t.path("vms");
    let t = t.recipe(
        "g",
        &format!(
            r#"//! g
try {{ cmd::run(["sh", "wipe.sh"]); }} catch (e) {{ print(`refused: ${{e}}`); }}
try {{ cmd::run(["python3", "-c", "open('ran-2','w'); import shutil; shutil.rmtree('{0}')"]); }} catch (e) {{ print(`refused: ${{e}}`); }}
try {{ cmd::run(["sh", "-c", "cd {1} && touch ../ran-3 && rm -rf *"]); }} catch (e) {{ print(`refused: ${{e}}`); }}
"#,
            vm.display(),
            vms.display()
        ),
    );
    let out = t.helix(["run", "g"]);
    assert_eq!((stat_hash(&vm), stat_hash(&t.path("vms/other.qcow2"))), before, "{out:?}");
    if t.path("ran-1").exists() {
        assert!(t.path("blocked-1").exists() && t.path("blocked-2").exists(), "{out:?}");
    }
}

/// Re-run this one test as `nobody` (`setpriv`), outside the overlay: the overlay harness
/// chroots, and a chrooted process may not create a user namespace. As `nobody` the body can
/// only touch what `nobody` owns: the fixtures it makes itself in a fresh temp dir.
fn as_nobody(test: &str) -> bool {
    if std::env::var_os("HELIX_TEST_AS_NOBODY").is_some() {
        // SAFETY: getuid has no preconditions.
        assert_eq!(unsafe { libc::getuid() }, 65534, "the body runs only as nobody");
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["--exact", test, "--test-threads=1"])
        .env("HELIX_TEST_AS_NOBODY", "1")
        .env("HOME", "/nonexistent")
        .current_dir("/tmp")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "`{test}` as nobody: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

#[test]
fn without_root_the_layer_works_through_a_user_namespace() {
    if !as_nobody("oslayer::without_root_the_layer_works_through_a_user_namespace") {
        return;
    }
    let w = World::new();
    let before = w.hash();
    let s = helix::guard::sandbox::state(|_| false);
    assert_eq!(
        s,
        &helix::guard::sandbox::State::Active(helix::guard::sandbox::Layer::UserNamespace),
        "{}",
        s.describe()
    );
    let p = w.p.display().to_string();
    for script in [
        format!("python3 -c \"import shutil; shutil.rmtree('{p}')\""),
        format!("rm -rf '{p}'"),
        "mv vms elsewhere".to_string(),
        format!("umount -l '{p}'; rm -rf '{p}'"),
    ] {
        let out = confined_sh(&script, &w.root);
        assert!(!out.status.success(), "`{script}` succeeded as nobody");
        assert_eq!(w.hash(), before, "`{script}`: {}", stderr(&out));
    }
    // Ordinary work as nobody still goes on beside it, and files keep their owner.
    let out = confined_sh("echo x > vms/new && rm vms/scratch.txt && stat -c %u vms/new", &w.root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "65534\n");
    // A sudo child cannot run in a user namespace: it is left unconfined (helix warned once).
    let c = helix::guard::sandbox::confine(vec!["sudo".into(), "true".into()], None, |_| false);
    assert!(c.hook.is_none() && c.argv == ["sudo", "true"]);
    // Through the binary: said once per run, however many such commands run.
    let t = Test::new().recipe(
        "s",
        "//! S.\ntry { cmd::sudo([\"true\"]); } catch {}\ntry { cmd::sudo([\"true\"]); } catch {}\ncmd::run([\"true\"]);\n",
    );
    let out = t.helix(["run", "s"]);
    assert_eq!(out.stderr.matches("not in force").count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("cannot run sudo"), "{}", out.stderr);
}
