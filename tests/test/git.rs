//! `git::` against real repositories: bare remotes made with the git CLI in the test, with
//! branches, tags and a pinned commit; helix itself never runs `git`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::builder::Test;
use crate::support::redact::shown;

/// Run the git CLI (test side only) and return its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare remote `NAME.git` under `dir`: `main` with three commits (tag `v1` on the second),
/// a branch `feature` one commit off `v1`. Returns (url, [c0, c1, c2]).
pub fn remote(dir: &Path, name: &str) -> (String, Vec<String>) {
    let bare = dir.join(format!("{name}.git"));
    let work = dir.join(format!("{name}-seed"));
    std::fs::create_dir_all(&work).unwrap();
    git(dir, &["init", "-q", "--bare", bare.to_str().unwrap()]);
    git(&work, &["init", "-q"]);
    let mut commits = vec![];
    for i in 0..3 {
        std::fs::write(work.join("file.txt"), format!("{name} v{i}\n")).unwrap();
        git(&work, &["add", "file.txt"]);
        git(&work, &["commit", "-q", "-m", &format!("commit {i}")]);
        commits.push(git(&work, &["rev-parse", "HEAD"]));
        if i == 1 {
            git(&work, &["tag", "v1"]);
        }
    }
    git(&work, &["checkout", "-q", "-b", "feature", "v1"]);
    std::fs::write(work.join("feature.txt"), "feature\n").unwrap();
    git(&work, &["add", "feature.txt"]);
    git(&work, &["commit", "-q", "-m", "feature"]);
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main", "feature", "--tags"]);
    (bare.display().to_string(), commits)
}

fn push_commit(dir: &Path, name: &str, msg: &str) -> String {
    let work = dir.join(format!("{name}-seed"));
    git(&work, &["checkout", "-q", "main"]);
    std::fs::write(work.join("file.txt"), format!("{msg}\n")).unwrap();
    git(&work, &["commit", "-q", "-am", msg]);
    git(&work, &["push", "-q", dir.join(format!("{name}.git")).to_str().unwrap(), "main"]);
    git(&work, &["rev-parse", "HEAD"])
}

/// `text` with the commits of a [`remote`] (random: their time stamps differ) named
/// `<commit N>`, whole or abbreviated (12, 8 or 7 hex digits); any other commit helix names
/// (12 or 40 hex digits on their own) is `<commit>`.
fn commits_named(text: &str, commits: &[String]) -> String {
    let mut text = text.to_string();
    for (i, c) in commits.iter().enumerate() {
        for n in [40, 12, 8, 7] {
            text = text.replace(&c[..n], &format!("<commit {i}>"));
        }
    }
    let hex =
        |w: &str| (w.len() == 12 || w.len() == 40) && w.chars().all(|c| c.is_ascii_hexdigit());
    let mut out = String::new();
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        out.push_str(if hex(&word) { "<commit>" } else { &word });
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// The kinds of the actions the last run journaled.
pub fn journal_kinds(t: &Test) -> Vec<String> {
    let out = t.helix(["log", "last", "--json"]);
    out.success();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "action")
        .map(|r| r["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn ensure_recipe(path: &Path, opts: &str) -> String {
    format!(
        "//! Ensure.\nlet r = git::ensure(\"{}\", {opts});\nprint(`action=${{r.action}} fetched=${{r.fetched}} moved=${{r.moved}} head=${{r.head}}`);\n",
        path.display()
    )
}

#[test]
fn ensure_pins_detached_and_a_second_run_does_nothing() {
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "utm");
    let co = t.path("pm/UTM");
    let t = t.recipe(
        "e",
        &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"{}\" }}", &commits[1][..8])),
    );
    t.helix(["run", "e"]).success().stdout_has("action=cloned");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[1]);
    // Detached: HEAD is not a symbolic ref.
    let detached =
        Command::new("git").args(["symbolic-ref", "-q", "HEAD"]).current_dir(&co).status().unwrap();
    assert!(!detached.success(), "a pin is checked out detached");

    let out = t.helix(["run", "e"]);
    out.success().stdout_has("action=unchanged fetched=false moved=false");
    let kinds = journal_kinds(&t);
    assert!(
        !kinds.iter().any(|k| k.starts_with("git.")),
        "the second run must not clone, fetch or check out: {kinds:?}"
    );
}

#[test]
fn ensure_fetches_and_moves_when_the_pin_is_ahead() {
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "qemu");
    let co = t.path("pm/qemu");
    let t = t.recipe(
        "e",
        &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"{}\" }}", commits[0])),
    );
    t.helix(["run", "e"]).success().stdout_has("action=cloned");
    let new = push_commit(t.dir.path(), "qemu", "upstream moved");
    let t = t.recipe("e", &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"{new}\" }}")));
    t.helix(["run", "e"]).success().stdout_has("action=updated fetched=true moved=true");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), new);
    let kinds = journal_kinds(&t);
    assert!(
        kinds.contains(&"git.fetch".to_string()) && kinds.contains(&"git.checkout".to_string()),
        "{kinds:?}"
    );
}

#[test]
fn ensure_refuses_to_move_a_dirty_worktree_without_a_terminal() {
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "dirty");
    let co = t.path("pm/dirty");
    let t = t.recipe("e", &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"v1\" }}")));
    t.helix(["run", "e"]).success();
    std::fs::write(co.join("file.txt"), "my precious edit\n").unwrap();
    let t = t.recipe(
        "e",
        &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"{}\" }}", commits[2])),
    );
    let out = t.helix(["run", "e"]);
    out.code(1);
    // Refused without a terminal: the uncommitted change (file.txt) that a checkout would move.
    insta::assert_snapshot!(
        "dirty_worktree_refused",
        commits_named(&shown("run e", &out, t.dir.path()), &commits)
    );
    assert_eq!(std::fs::read_to_string(co.join("file.txt")).unwrap(), "my precious edit\n");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[1], "HEAD did not move");
    assert_eq!(git(&co, &["stash", "list"]), "", "nothing was stashed");
}

#[test]
fn ensure_refuses_a_directory_that_is_not_a_repository() {
    let t = Test::new();
    let (url, _) = remote(t.dir.path(), "plain");
    let co = t.path("pm/plain");
    std::fs::create_dir_all(&co).unwrap();
    std::fs::write(co.join("notes.txt"), "mine").unwrap();
    let t = t.recipe("e", &ensure_recipe(&co, &format!("#{{ url: \"{url}\" }}")));
    let out = t.helix(["run", "e"]);
    out.code(1);
    insta::assert_snapshot!("not_a_repository", shown("run e", &out, t.dir.path()));
    assert_eq!(std::fs::read_dir(&co).unwrap().count(), 1);
}

#[test]
fn ensure_adds_the_second_remote_and_stays_on_the_branch() {
    let t = Test::new();
    let (fork, _) = remote(t.dir.path(), "qemu-utm");
    let (upstream, _) = remote(t.dir.path(), "utmapp-qemu");
    let co = t.path("pm/qemu-utm");
    let opts = format!(
        "#{{ url: \"{fork}\", branch: \"feature\", remotes: #{{ origin: \"{upstream}\", helixml: \"{fork}\" }} }}"
    );
    let t = t.recipe("e", &ensure_recipe(&co, &opts));
    t.helix(["run", "e"]).success().stdout_has("action=cloned");
    assert_eq!(git(&co, &["remote", "get-url", "origin"]), upstream);
    assert_eq!(git(&co, &["remote", "get-url", "helixml"]), fork);
    assert_eq!(git(&co, &["rev-parse", "--abbrev-ref", "HEAD"]), "feature");
    t.helix(["run", "e"]).success().stdout_has("action=unchanged");

    // An existing checkout with only origin: the second remote is added, nothing else moves.
    let co2 = t.path("pm/qemu-utm-2");
    git(t.dir.path(), &["clone", "-q", "-b", "feature", &fork, co2.to_str().unwrap()]);
    let opts = format!(
        "#{{ url: \"{fork}\", branch: \"feature\", remotes: #{{ upstream: \"{upstream}\" }} }}"
    );
    let t = t.recipe("e2", &ensure_recipe(&co2, &opts));
    t.helix(["run", "e2"]).success().stdout_has("action=updated fetched=false moved=false");
    assert_eq!(git(&co2, &["remote", "get-url", "upstream"]), upstream);
    assert!(journal_kinds(&t).contains(&"git.remote_add".to_string()));
}

#[test]
fn ensure_all_clones_five_repositories_concurrently() {
    let t = Test::new();
    let mut entries = vec![];
    let mut expected = vec![];
    for i in 0..5 {
        let name = format!("repo{i}");
        let (url, commits) = remote(t.dir.path(), &name);
        let path: PathBuf = t.path(&format!("pm/{name}"));
        entries.push(format!(
            "#{{ path: \"{}\", url: \"{url}\", rev: \"{}\" }}",
            path.display(),
            commits[i % 3]
        ));
        expected.push((path, commits[i % 3].clone()));
    }
    let recipe = format!(
        "//! All.\nlet rs = git::ensure_all([{}]);\nfor r in rs {{ print(`${{r.action}} ${{r.head}}`); }}\n",
        entries.join(", ")
    );
    let t = t.recipe("all", &recipe);
    let out = t.helix(["run", "all"]);
    out.success();
    assert_eq!(out.stdout.matches("cloned").count(), 5, "{}", out.stdout);
    for (path, commit) in &expected {
        assert_eq!(&git(path, &["rev-parse", "HEAD"]), commit);
    }
    let out = t.helix(["run", "all"]);
    assert_eq!(out.stdout.matches("unchanged").count(), 5, "{}", out.stdout);
}

#[test]
fn ensure_all_reports_every_failure() {
    let t = Test::new();
    let (url, _) = remote(t.dir.path(), "good");
    let bad = t.path("nowhere.git");
    let recipe = format!(
        "//! All.\ngit::ensure_all([#{{ path: \"{}\", url: \"{url}\" }}, #{{ path: \"{}\", url: \"{}\" }}]);\n",
        t.path("pm/good").display(),
        t.path("pm/bad").display(),
        bad.display()
    );
    let good = t.path("pm/good/.git");
    let t = t.recipe("all", &recipe);
    let out = t.helix(["run", "all"]);
    out.code(1);
    // 1 of 2 failed: pm/bad, with no repository at the URL's path.
    insta::assert_snapshot!("ensure_all_failure", shown("run all", &out, t.dir.path()));
    assert!(good.exists(), "the good one was still cloned\n{}", out.stderr);
}

#[test]
fn dry_run_plans_the_clone_and_changes_nothing() {
    let t = Test::new();
    let (url, _) = remote(t.dir.path(), "dry");
    let co = t.path("pm/dry");
    let t = t.recipe(
        "e",
        &ensure_recipe(
            &co,
            &format!("#{{ url: \"{url}\", rev: \"v1\", remotes: #{{ up: \"{url}\" }} }}"),
        ),
    );
    let out = t.helix(["run", "e", "--dry-run"]);
    out.success();
    // The plan: clone, add the second remote, check out `v1`.
    insta::assert_snapshot!("dry_run_clone", shown("run e --dry-run", &out, t.dir.path()));
    assert!(!co.exists());
}

#[test]
fn head_remotes_and_dirty_from_a_recipe() {
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "h");
    let co = t.path("h");
    git(t.dir.path(), &["clone", "-q", &url, co.to_str().unwrap()]);
    std::fs::write(co.join("file.txt"), "edit").unwrap();
    let recipe = format!(
        "//! H.\nlet p = \"{}\";\nlet h = git::head(p);\nprint(`${{h.commit}} ${{h.branch}} ${{h.detached}}`);\nprint(`dirty=${{git::is_dirty(p)}} ${{git::dirty_files(p)}}`);\nprint(git::remotes(p).origin);\ngit::checkout(p, \"feature\");\n",
        co.display()
    );
    let t = t.recipe("h", &recipe);
    let out = t.helix(["run", "h"]);
    // HEAD (the third commit on main, attached), dirty=true with file.txt, origin's URL; then
    // the checkout, which would move a dirty tree, refused without a terminal.
    out.code(1);
    insta::assert_snapshot!(
        "head_remotes_dirty",
        commits_named(&shown("run h", &out, t.dir.path()), &commits)
    );
}

#[test]
fn clones_over_ssh_with_the_users_key_file() {
    let t = Test::new();
    let (bare, commits) = remote(t.dir.path(), "overssh");
    let ssh_dir = t.path("home/.ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    // The server's authorized key is the user's key file.
    let sshd = crate::support::sshd::Sshd::start();
    std::fs::copy(&sshd.key, ssh_dir.join("id_ed25519")).unwrap();
    std::fs::copy(sshd.key.with_extension("pub"), ssh_dir.join("id_ed25519.pub")).unwrap();
    // libgit2 checks the host key against ~/.ssh/known_hosts.
    let host_pub = std::fs::read_to_string(sshd.dir.path().join("host_key.pub")).unwrap();
    let host_pub: Vec<&str> = host_pub.split_whitespace().take(2).collect();
    std::fs::write(
        ssh_dir.join("known_hosts"),
        format!("[127.0.0.1]:{} {}\n", sshd.port, host_pub.join(" ")),
    )
    .unwrap();
    let url = format!("ssh://{}@127.0.0.1:{}{}", sshd.user, sshd.port, bare);
    let co = t.path("pm/overssh");
    let t = t
        .env("SSH_AUTH_SOCK", "")
        .recipe("e", &ensure_recipe(&co, &format!("#{{ url: \"{url}\", rev: \"v1\" }}")));
    let out = t.helix(["run", "e"]);
    out.success().stdout_has("action=cloned");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[1]);

    // A key the server does not accept: a clear error, not a retry loop.
    crate::support::sshd::keygen(&ssh_dir.join("other"));
    std::fs::rename(ssh_dir.join("other"), ssh_dir.join("id_ed25519")).unwrap();
    std::fs::rename(ssh_dir.join("other.pub"), ssh_dir.join("id_ed25519.pub")).unwrap();
    let co2 = t.path("pm/overssh2");
    let t = t.recipe("e2", &ensure_recipe(&co2, &format!("#{{ url: \"{url}\" }}")));
    let out = t.helix(["run", "e2"]);
    out.code(1);
    // No key accepted, and what to do about it (ssh-add); the server's port and user vary.
    let text = shown("run e2", &out, t.dir.path())
        .replace(&format!("{}@127.0.0.1:{}", sshd.user, sshd.port), "<user>@127.0.0.1:<port>");
    insta::assert_snapshot!("ssh_key_refused", text);
    assert!(!co2.exists());
}

#[test]
fn a_branch_is_only_fetched_and_fast_forwarded_when_update_asks() {
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "helix");
    let co = t.path("pm/helix");
    let t = t.recipe("e", &ensure_recipe(&co, &format!("#{{ url: \"{url}\", branch: \"main\" }}")));
    t.helix(["run", "e"]).success().stdout_has("action=cloned");
    let new = push_commit(t.dir.path(), "helix", "new on main");
    t.helix(["run", "e"]).success().stdout_has("action=unchanged fetched=false moved=false");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[2]);
    let t = t.recipe(
        "u",
        &ensure_recipe(&co, &format!("#{{ url: \"{url}\", branch: \"main\", update: true }}")),
    );
    t.helix(["run", "u"]).success().stdout_has("action=updated fetched=true moved=true");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), new);
    assert_eq!(git(&co, &["rev-parse", "--abbrev-ref", "HEAD"]), "main");
    // A local commit on top: update never throws it away (fast-forward only).
    std::fs::write(co.join("local.txt"), "mine\n").unwrap();
    git(&co, &["add", "local.txt"]);
    git(&co, &["commit", "-q", "-m", "local work"]);
    let local = git(&co, &["rev-parse", "HEAD"]);
    t.helix(["run", "u"]).success().stdout_has("moved=false");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), local);
}

/// `helix ARGS` on a real pseudo-terminal (the guard's harness), answering its y/N question:
/// the exit code, and what the person saw — the terminal (the question and the answer typed),
/// then stdout and stderr — redacted for a snapshot.
fn helix_on_a_pty(t: &Test, args: &str, keys: &str) -> (i32, String) {
    let argv: Vec<&str> = args.split_whitespace().collect();
    let (out, tty) = crate::support::pty::with_pty(t, &argv, "Go ahead?", &format!("{keys}\n"));
    let tty = crate::support::redact::redact(&tty.replace("\r\n", "\n"), t.dir.path());
    (out.code, format!("--- terminal\n{tty}{}", shown(args, &out, t.dir.path())))
}

#[test]
fn a_person_at_the_terminal_can_let_a_dirty_worktree_move_and_the_changes_are_stashed() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let t = Test::new();
    let (url, commits) = remote(t.dir.path(), "pty");
    let co = t.path("pm/pty");
    let recipe = |rev: &str| {
        format!(
            "//! E.\nlet r = git::ensure(\"{}\", #{{ url: \"{url}\", rev: \"{rev}\" }});\nprint(`action=${{r.action}} stashed=${{r.stashed}}`);\n",
            co.display()
        )
    };
    let t = t.recipe("e", &recipe("v1"));
    t.helix(["run", "e"]).success();
    std::fs::write(co.join("file.txt"), "work in progress\n").unwrap();
    let t = t.recipe("e", &recipe(&commits[2]));
    // Declined: nothing moves.
    let (code, declined) = helix_on_a_pty(&t, "run e", "n");
    assert_eq!(code, 1, "{declined}");
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[1]);
    // Confirmed: the change is stashed, then HEAD moves.
    let (code, confirmed) = helix_on_a_pty(&t, "run e", "y");
    assert_eq!(code, 0, "{confirmed}");
    // The question (the uncommitted change it would move), declined; then confirmed, and the
    // recipe's `action=updated stashed=…`.
    insta::assert_snapshot!(
        "dirty_worktree_at_a_terminal",
        commits_named(&format!("{declined}{confirmed}"), &commits)
    );
    assert_eq!(git(&co, &["rev-parse", "HEAD"]), commits[2]);
    assert!(git(&co, &["stash", "list"]).contains("helix: before checking out"));
    git(&co, &["checkout", "-q", &commits[1]]);
    git(&co, &["stash", "pop", "-q"]);
    assert_eq!(
        std::fs::read_to_string(co.join("file.txt")).unwrap(),
        "work in progress\n",
        "the change is recoverable"
    );
}
