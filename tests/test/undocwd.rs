//! Journaled paths are absolute: a run that names everything by relative paths is undone by
//! `helix undo` from another directory — every primitive that journals an undo record, and
//! nothing is written in the directory undo runs in.

use crate::support::builder::Test;

const RECIPE: &str = r#"//! Touch everything by relative paths.
//! @param url Download URL (required)
fs::write("w.txt", "new");
fs::write("n.txt", "created");
fs::mkdir("newdir/sub");
fs::copy("w.txt", "copy.txt");
fs::move("m.txt", "moved.txt");
fs::symlink("w.txt", "link.txt");
fs::remove("r.txt");
plist::edit("rel.plist", |d| { d.Flag = true; });
plist::edit("plink.plist", |d| { d.Flag = true; });
plist::write("new.plist", #{ a: 1 });
utm::create_bundle("vms/new.utm", #{ disks: [#{ image: "disk.qcow2", how: "copy" }] });
utm::configure("vm.utm", #{ debug_log: true });
utm::add_arguments("vm.utm", ["-S"]);
utm::add_disk("vm.utm", #{ image: "extra.qcow2", how: "copy" });
qemu_img::create("img.qcow2", "1M");
qemu_img::checkpoint("snap.qcow2", "s1");
git::clone("src-repo", "clone");
if !dry_run() { git::add_remote("clone", "up", "src-repo"); } // "clone" is only planned in a dry run
git::checkout("src-repo", "HEAD~0");
macho::change("lib.so", "/usr/lib/libSystem.B.dylib", "/usr/lib/libSystem.C.dylib");
fs::mkdir("bdir");
fs::write("bdir/build.ninja", "");
build::clean("bdir");
qemu_img::convert("disk.qcow2", "conv.qcow2");
fs::clone_file("w.txt", "clone.txt");
net::download(args.url, "dl.bin");
"#;

/// Names made at run time: the UUIDs UTM's disks get (`35F3A213-2904-….qcow2`) → `<UUID>`, the
/// time in the name a build dir is moved aside under (`.bdir.helix-old-1795814838`) → `<time>`.
fn made_now(text: &str) -> String {
    use crate::support::redact::{after, shaped};
    let text = shaped(text, "HHHHHHHH-HHHH-HHHH-HHHH-HHHHHHHHHHHH", "<UUID>");
    after(&text, "helix-old-", |c| c.is_ascii_digit(), "<time>")
}

fn qemu_img(args: &[&str], dir: &std::path::Path) {
    let out = std::process::Command::new("qemu-img").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_run_with_relative_paths_is_undone_from_another_directory() {
    let t = Test::new().recipe("touch", RECIPE);
    let d = t.dir.path().to_path_buf();
    for (f, text) in [("w.txt", "old"), ("m.txt", "m"), ("r.txt", "r")] {
        std::fs::write(d.join(f), text).unwrap();
    }
    let plist = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\t<key>Flag</key>\n\t<false/>\n</dict>\n</plist>\n";
    std::fs::write(d.join("rel.plist"), plist).unwrap();
    std::fs::write(d.join("ptarget.plist"), plist).unwrap();
    std::os::unix::fs::symlink("ptarget.plist", d.join("plink.plist")).unwrap();
    // A UTM bundle to configure (created by an earlier run), disks to place.
    qemu_img(&["create", "-q", "-f", "qcow2", "disk.qcow2", "1M"], &d);
    qemu_img(&["create", "-q", "-f", "qcow2", "extra.qcow2", "1M"], &d);
    qemu_img(&["create", "-q", "-f", "qcow2", "snap.qcow2", "1M"], &d);
    let t = t.recipe("mk", "//! Make.\nutm::create_bundle(\"vm.utm\", #{});\n");
    t.helix(["run", "mk"]).success();
    let vm_before = std::fs::read(d.join("vm.utm/config.plist")).unwrap();
    let repo = git2::Repository::init(d.join("src-repo")).unwrap();
    std::fs::write(d.join("src-repo/a"), "a").unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(std::path::Path::new("a")).unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "a", &tree, &[]).unwrap();
    let lib = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/macho/real/_speedups.cpython-312-darwin.so");
    std::fs::copy(&lib, d.join("lib.so")).unwrap();
    let lib_before = std::fs::read(d.join("lib.so")).unwrap();

    let http = crate::support::httpd::Httpd::start();
    http.route("/f", crate::support::httpd::Route::Serve(b"downloaded".to_vec()));
    t.helix(["run", "touch", "--url", &http.url("/f")]).success();
    // Every journaled path is absolute.
    let runs: Vec<_> =
        std::fs::read_dir(d.join("state/runs")).unwrap().flatten().map(|e| e.path()).collect();
    let mut undo_paths = 0;
    for r in &runs {
        for line in std::fs::read_to_string(r).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let undo = v.get("undo").cloned().unwrap_or_default();
            for k in ["restore", "to", "remove_created", "move_back", "path", "dir"] {
                if let Some(p) = undo.get(k).and_then(|p| p.as_str()) {
                    assert!(p.starts_with('/'), "relative `{k}` in {line}");
                    undo_paths += 1;
                }
            }
        }
    }
    assert!(undo_paths >= 24, "only {undo_paths} undo paths journaled");
    // So are the paths in the actions' arguments (what `helix log` shows).
    let mut arg_paths = 0;
    for r in &runs {
        for line in std::fs::read_to_string(r).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("");
            let args = v.get("args").cloned().unwrap_or_default();
            for k in ["path", "from", "to", "src", "dest", "dir", "link"] {
                if let Some(p) = args.get(k).and_then(|p| p.as_str())
                    && !(kind == "git.checkout" && k == "to")
                    && !p.contains("://")
                {
                    assert!(p.starts_with('/'), "relative `{k}` in the args of {line}");
                    arg_paths += 1;
                }
            }
        }
    }
    assert!(arg_paths >= 24, "only {arg_paths} argument paths journaled");

    let elsewhere = tempfile::tempdir().unwrap();
    let t = t.cwd(elsewhere.path());
    let out = t.helix(["undo", "last"]);
    out.success();
    insta::assert_snapshot!("undo_from_elsewhere", made_now(&crate::recovery::shown(&t, &out)));
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0, "undo wrote into its cwd");
    let aside: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("helix-old"))
        .collect();
    assert!(aside.is_empty(), "the build dir moved aside is still there");
    assert_eq!(std::fs::read_to_string(d.join("w.txt")).unwrap(), "old");
    for gone in [
        "n.txt",
        "newdir",
        "copy.txt",
        "moved.txt",
        "link.txt",
        "new.plist",
        "vms/new.utm",
        "img.qcow2",
        "clone",
    ] {
        assert!(d.join(gone).symlink_metadata().is_err(), "{gone} is still there:\n{}", out.stdout);
    }
    assert_eq!(std::fs::read_to_string(d.join("m.txt")).unwrap(), "m");
    assert_eq!(std::fs::read_to_string(d.join("r.txt")).unwrap(), "r");
    assert_eq!(std::fs::read_to_string(d.join("rel.plist")).unwrap(), plist);
    assert_eq!(std::fs::read_to_string(d.join("ptarget.plist")).unwrap(), plist);
    assert!(d.join("plink.plist").symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(d.join("vm.utm/config.plist")).unwrap(), vm_before);
    assert_eq!(std::fs::read(d.join("lib.so")).unwrap(), lib_before);
    assert!(
        !git2::Repository::open(d.join("src-repo")).unwrap().head_detached().unwrap(),
        "the checkout was not undone"
    );
    let snaps = crate::support::disk::snapshot_list(&d.join("snap.qcow2"));
    // The checkpoint's undo reverted the image to it, keeping the state it had.
    assert!(snaps.contains("before-s1-"), "{}", out.stdout);
}

#[test]
fn a_relative_path_in_an_old_journal_is_refused_not_guessed() {
    use helix::undo::{Undo, apply, read};
    use serde_json::json;
    // A record as the guard journals it: every path made absolute.
    let absolute_paths = |v| Undo::to_json(&read(&v).unwrap().absolute());
    let mut refused = String::new();
    for rec in [
        json!({ "restore": "/tmp/x", "to": "rel.txt" }),
        json!({ "remove_created": "rel.txt" }),
        json!({ "move_back": "a", "to": "/tmp/b" }),
    ] {
        let e = apply(&read(&rec).unwrap()).unwrap_err().to_string();
        refused.push_str(&format!("{rec}\n  {e}\n"));
    }
    insta::assert_snapshot!("relative_paths_refused", refused);
    // What a primitive journals today is absolute, and names that are not paths stay as given.
    let here = std::env::current_dir().unwrap();
    let v = absolute_paths(json!({ "kind": "git.checkout", "path": "repo", "rev": "main" }));
    assert_eq!(v["path"], here.join("repo").display().to_string());
    assert_eq!(v["rev"], "main");
    let v = absolute_paths(json!({ "steps": [{ "restore": "k", "to": "./a/../b" }] }));
    assert_eq!(v["steps"][0]["to"], here.join("b").display().to_string());
}

/// A journal written by helix before undo records were typed (the lines as it wrote them, one
/// per kind) is still undone: files restored, moved back, removed, untrashed; steps and a
/// command run; a git checkout, remote and URL reversed; a qemu-img checkpoint reverted.
#[test]
fn a_journal_from_before_typed_records_is_undone() {
    use sha2::Digest;
    let t = Test::new().recipe("rm", "//! Remove.\nfs::remove(\"u.txt\");\n");
    let d = t.dir.path().to_path_buf();
    std::fs::write(d.join("u.txt"), "trashed").unwrap();
    t.helix(["run", "rm"]).success();
    assert!(!d.join("u.txt").exists());
    let trashed = t.helix(["trash", "list"]);
    let id = trashed
        .stdout
        .split_whitespace()
        .find(|w| w.contains("u.txt"))
        .unwrap_or_else(|| panic!("no trash item for u.txt:\n{}", trashed.stdout))
        .trim_matches('`')
        .to_string();
    // What the old run changed, as it stands after that run.
    std::fs::write(d.join("keep.bak"), "before").unwrap();
    std::fs::write(d.join("w.txt"), "written").unwrap();
    let sha: String = sha2::Sha256::digest(b"written").iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(d.join("p.bak"), "p before").unwrap();
    std::fs::write(d.join("p.txt"), "p after").unwrap();
    std::fs::write(d.join("new.txt"), "made").unwrap();
    std::fs::write(d.join("moved.txt"), "m").unwrap();
    std::fs::create_dir(d.join("s")).unwrap();
    qemu_img(&["create", "-q", "-f", "qcow2", "snap.qcow2", "1M"], &d);
    qemu_img(&["snapshot", "-c", "s1", "snap.qcow2"], &d);
    let repo = git2::Repository::init(d.join("repo")).unwrap();
    std::fs::write(d.join("repo/a"), "a").unwrap();
    let mut idx = repo.index().unwrap();
    idx.add_path(std::path::Path::new("a")).unwrap();
    idx.write().unwrap();
    let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    let head = repo.commit(Some("HEAD"), &sig, &sig, "a", &tree, &[]).unwrap();
    let branch = repo.head().unwrap().shorthand().unwrap().to_string();
    repo.set_head_detached(head).unwrap();
    repo.remote("up", "https://example.com/new.git").unwrap();
    repo.remote("added", "https://example.com/added.git").unwrap();

    let p = |f: &str| d.join(f).display().to_string();
    let undos = [
        format!(r#"{{"restore":"{}","to":"{}","sha256":"{sha}"}}"#, p("keep.bak"), p("w.txt")),
        format!(r#"{{"restore":"{}","to":"{}"}}"#, p("p.bak"), p("p.txt")),
        format!(r#"{{"remove_created":"{}"}}"#, p("new.txt")),
        r#"{"remove_created":null}"#.to_string(),
        format!(r#"{{"move_back":"{}","to":"{}"}}"#, p("moved.txt"), p("m.txt")),
        format!(r#"{{"untrash":"{id}","dir":"{}"}}"#, p("state/trash")),
        format!(
            r#"{{"steps":[{{"remove_created":"{}"}},{{"run":["true"],"why":"a command"}}]}}"#,
            p("s")
        ),
        format!(r#"{{"kind":"qemu_img.snapshot_kept","path":"{}","name":"s1"}}"#, p("snap.qcow2")),
        format!(r#"{{"kind":"qemu_img.checkpoint","path":"{}","name":"s1"}}"#, p("snap.qcow2")),
        format!(r#"{{"kind":"git.remote_remove","name":"added","path":"{}"}}"#, p("repo")),
        format!(
            r#"{{"kind":"git.remote_set_url","name":"up","path":"{}","url":"https://example.com/old.git"}}"#,
            p("repo")
        ),
        format!(r#"{{"kind":"git.checkout","path":"{}","rev":"{branch}"}}"#, p("repo")),
    ];
    let run = "20261127-080000000-old";
    let mut journal = format!(
        r#"{{"type":"start","run":"{run}","recipe":"old","args":{{}},"dry_run":false,"ts":"2026-11-27T08:00:00.000Z","cwd":"/p"}}"#
    );
    for (i, u) in undos.iter().enumerate() {
        journal.push_str(&format!(
            "\n{{\"type\":\"action\",\"kind\":\"old.{i}\",\"detail\":\"action {i}\",\"result\":\"ok\",\"ms\":1,\"undo\":{u}}}"
        ));
    }
    journal.push_str(
        "\n{\"type\":\"end\",\"status\":\"ok\",\"ms\":9,\"ts\":\"2026-11-27T08:00:01.000Z\"}\n",
    );
    std::fs::write(d.join(format!("state/runs/{run}.jsonl")), journal).unwrap();

    let out = t.helix(["undo", run]);
    out.success();
    // The branch a new repository starts on is the machine's git configuration's choice.
    let shown = crate::recovery::shown(&t, &out).replace(&format!("`{branch}`"), "`<branch>`");
    insta::assert_snapshot!("undo_an_old_journal", shown);
    assert_eq!(std::fs::read_to_string(d.join("w.txt")).unwrap(), "before", "{}", out.stdout);
    assert_eq!(std::fs::read_to_string(d.join("p.txt")).unwrap(), "p before");
    assert!(!d.join("new.txt").exists() && !d.join("s").exists() && !d.join("moved.txt").exists());
    assert_eq!(std::fs::read_to_string(d.join("m.txt")).unwrap(), "m");
    assert_eq!(std::fs::read_to_string(d.join("u.txt")).unwrap(), "trashed");
    let snaps = crate::support::disk::snapshot_list(&d.join("snap.qcow2"));
    assert!(snaps.contains("before-s1-"), "{}", out.stdout);
    let repo = git2::Repository::open(d.join("repo")).unwrap();
    assert!(repo.find_remote("added").is_err(), "{}", out.stdout);
    assert_eq!(repo.find_remote("up").unwrap().url().unwrap(), "https://example.com/old.git");
    assert!(!repo.head_detached().unwrap(), "the checkout was not undone");
}
