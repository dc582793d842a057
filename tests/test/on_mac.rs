//! Every built-in recipe on a Mac user's *default* configuration, in the simulated Mac of
//! [`crate::mac_world`]: each `--dry-run` passes and its plan is snapshotted (a change to what
//! a recipe would do shows up in review), and each real run goes as far as the doubles reach.

use crate::builder::Output;
use crate::mac_world::{MacWorld, USER, VM_UUID};

/// A run's output for a snapshot: both streams, this world's root written as `<mac>`, run
/// ids as `<run>`.
fn shown(w: &MacWorld, out: &Output) -> String {
    let text = w.filter(&format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.code, out.stdout, out.stderr
    ));
    let text = free_space(&run_ids(&text));
    // A headless VM's scratch dir (`/tmp/helix-vm-Ab12Cd`) and the commits of the fixture's
    // repositories (made now, so their hashes change) are not part of the plan.
    let text = replace_after(&text, "/helix-vm-", 6, "<tmp>");
    text.lines().map(commits).collect::<Vec<_>>().join("\n") + "\n"
}

/// Every `marker` followed by `n` alphanumerics: those replaced by `with`.
fn replace_after(text: &str, marker: &str, n: usize, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(marker) {
        let after = &rest[i + marker.len()..];
        out.push_str(&rest[..i + marker.len()]);
        if after.len() >= n && after[..n].chars().all(|c| c.is_ascii_alphanumeric()) {
            out.push_str(with);
            rest = &after[n..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Commit ids (40 or 12 hex digits) of the fixture's repositories → `<commit>`; the pinned
/// ones (`stdlib/pins.rhai`) stay, they are part of the plan.
fn commits(line: &str) -> String {
    const PINS: &str = include_str!("../../stdlib/pins.rhai");
    line.split(' ')
        .map(|w| {
            let core = w.trim_end_matches([',', ')', ';', ':']);
            let hex = (core.len() == 40 || core.len() == 12)
                && core.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
            if hex && !PINS.contains(core) {
                format!("<commit>{}", &w[core.len()..])
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `66.1G free` (this machine's free space) → `<size> free`; recover-vm's `free on DIR  66.1G`
/// row likewise.
fn free_space(text: &str) -> String {
    text.lines()
        .map(|l| match l.find(" free") {
            _ if l.starts_with("free on ") || l.starts_with("free space ") => match l.rfind(' ') {
                Some(i) => format!("{} <size>", &l[..i]),
                None => l.to_string(),
            },
            Some(end) => {
                let start =
                    l[..end].rfind(|c: char| c.is_whitespace() || c == '(').map_or(0, |i| i + 1);
                let size = &l[start..end];
                if size.starts_with(|c: char| c.is_ascii_digit()) {
                    format!("{}<size>{}", &l[..start], &l[end..])
                } else {
                    l.to_string()
                }
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// `20261127-142129032-0d7` (a run id: date, time with milliseconds, 3 hex digits) → `<run>`.
fn run_ids(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let shape = |s: &[u8]| {
        s.len() >= 22
            && s[..8].iter().all(u8::is_ascii_digit)
            && s[8] == b'-'
            && s[9..18].iter().all(u8::is_ascii_digit)
            && s[18] == b'-'
            && s[19..22].iter().all(u8::is_ascii_hexdigit)
    };
    while i < b.len() {
        if shape(&b[i..]) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            out.push_str("<run>");
            i += 22;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
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
        let text = shown(w, &out);
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
        let changed: Vec<_> = after
            .iter()
            .filter(|e| !before.contains(e))
            .chain(before.iter().filter(|e| !after.contains(e)))
            .collect();
        assert!(changed.is_empty(), "`helix {}` changed files: {changed:?}", argv.join(" "));
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
            ("doctor", "check(s) failed: see the table for the fixes"),
            ("expand-disk", "disk.qcow2` does not exist: check the path"),
            ("netplan-fix", "UTM knows no VM with that UUID or full name"),
            ("register-vm", "no bundle at"),
            ("verify-qemu", "1 check(s) failed"),
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
        &[("doctor", "2 check(s) failed: see the table"), ("verify-qemu", "1 check(s) failed")],
    );
}

/// Files under `dir` with their sizes, except helix's own state (journal, trash records).
fn tree(dir: &std::path::Path) -> Vec<(String, u64)> {
    // helix's own state dir (`~/.local/state/helix`: journal, trash records).
    let state = dir.join("Users").join(USER).join(".local");
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.starts_with(&state) || p.file_name().is_some_and(|n| n == "calls.log") {
                continue;
            }
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            out.push((p.display().to_string(), if m.is_file() { m.len() } else { 0 }));
        }
    }
    out.sort();
    out
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
