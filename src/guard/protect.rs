//! Protected paths: what helix never deletes, trashes, moves away or overwrites, confirmation
//! or not.
//!
//! Built-in rules: `/`, the home directory (and its ancestors), the system roots
//! (`/Applications`, `/System`, `/Library`, `/Users`, `/usr`, …), every mount point (the roots
//! under `/Volumes` on macOS), anything whose path has a component matching `*.backup*` or
//! `*.safe`. Added to those: the config key `guard.protected` (paths or glob patterns; each
//! protects itself, everything in it and its ancestors) and paths registered at run time with
//! [`register`] (every disk of a registered VM).
//!
//! Under a simulated Mac (`HELIX_MAC_ROOT`, see `paths`), its root and system roots are
//! protected as well — in addition to the real ones, never instead.
//!
//! Matching is done on resolved paths — `~` expanded, `..` and symlinks of the parent resolved
//! physically, trailing slashes meaning "the directory the link points to" — and
//! case-insensitively on macOS, whose filesystems usually are.

use std::path::{Component, Path, PathBuf};

use crate::config::Config;
use crate::error::Error;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    /// Which rule: "the rule `*.backup*`", "`/Volumes/Big/vm` in guard.protected", …
    pub name: String,
    /// Where it is configured: "a built-in rule", "configured in ~/.config/helix/config.toml".
    pub origin: String,
}

impl Rule {
    pub(crate) fn error(&self, path: &Path) -> Error {
        Error::Protected {
            path: path.to_path_buf(),
            rule: self.name.clone(),
            hint: format!(
                "{} — helix never deletes, trashes, moves or overwrites it, confirmation or not",
                self.origin
            ),
        }
    }
    fn builtin(name: impl Into<String>) -> Rule {
        Rule {
            name: name.into(),
            origin: "a built-in rule (see `guard.protected` in `helix config` to add more)".into(),
        }
    }
}

/// The paths registered with [`register`] in the current run, and why.
pub(crate) fn registered() -> Vec<(PathBuf, String)> {
    crate::run::current().protected()
}

#[cfg(test)]
/// Protect `path` for the rest of the current run (e.g. every disk of a registered VM, fed by
/// the `utm`/`qemu` domains). `why` names the source: "a disk of the VM `new-dev-vm`".
pub(crate) fn register(path: &Path, why: &str) {
    crate::run::current().protect(physical(path), why)
}

/// The system roots: never removed or renamed themselves (their contents are not protected).
pub(crate) const SYSTEM_ROOTS: &[&str] = &[
    "/Applications",
    "/System",
    "/Library",
    "/Users",
    "/Volumes",
    "/usr",
    "/bin",
    "/sbin",
    "/etc",
    "/var",
    "/private",
    "/opt",
    "/dev",
    "/home",
    "/root",
    "/boot",
    "/lib",
    "/lib64",
    "/srv",
    "/tmp",
    "/cores",
    "/nix",
];

/// The operating system's own files, all the way down (not only the roots): helix's
/// primitives and the commands it classifies never delete, move or overwrite them. A recipe
/// that writes `/etc/passwd` is refused, not journaled for an undo that may come too late
/// (a broken `/etc/passwd` or `/usr/lib` can stop `sudo` and logins before anyone undoes it).
/// `/usr/local` is the user's (Homebrew on Intel, hand-installed tools) and is not included.
pub(crate) const SYSTEM_TREES: &[&str] =
    &["/etc", "/private/etc", "/System", "/bin", "/sbin", "/usr", "/lib", "/lib64", "/boot"];
const SYSTEM_TREE_EXCEPTIONS: &[&str] = &["/usr/local"];

/// The system tree `p` (physical) lies in, if any.
fn system_tree(p: &Path) -> Option<&'static str> {
    let inside = |root: &str| {
        let r = canonical_prefix(Path::new(root));
        within(p, &r) || within(p, Path::new(root))
    };
    if SYSTEM_TREE_EXCEPTIONS.iter().any(|e| inside(e)) {
        return None;
    }
    SYSTEM_TREES.iter().copied().find(|r| inside(r))
}

/// The resolved location of `path` itself (a final symlink is not followed unless the path
/// ends in `/`): `~` expanded, made absolute, the parent canonicalised as far as it exists.
pub(crate) fn physical(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    let expanded = crate::paths::expand(&s);
    let abs = if expanded.is_absolute() {
        expanded
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")).join(expanded)
    };
    let follow_last =
        s.ends_with('/') || s.ends_with("/.") || s.ends_with("/..") || s == "." || s == "..";
    if follow_last {
        return canonical_prefix(&abs);
    }
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => canonical_prefix(parent).join(name),
        _ => canonical_prefix(&abs),
    }
}

/// Canonicalise the longest existing prefix (physically: `..` after a symlink goes to the
/// link target's parent) and fold the rest lexically.
fn canonical_prefix(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let comps: Vec<Component> = p.components().collect();
    for cut in (1..comps.len()).rev() {
        let head: PathBuf = comps[..cut].iter().collect();
        if let Ok(mut c) = head.canonicalize() {
            for comp in &comps[cut..] {
                match comp {
                    Component::ParentDir => {
                        c.pop();
                    }
                    Component::CurDir => {}
                    other => c.push(other),
                }
            }
            return c;
        }
    }
    crate::paths::absolute(p)
}

fn key(p: &Path) -> String {
    let s = p.to_string_lossy().into_owned();
    if cfg!(target_os = "macos") { s.to_lowercase() } else { s }
}

fn same(a: &Path, b: &Path) -> bool {
    key(a) == key(b)
}

/// `a` is `b` or inside it.
fn within(a: &Path, b: &Path) -> bool {
    let (a, b) = (key(a), key(b));
    a == b || (a.starts_with(&b) && (b.ends_with('/') || a[b.len()..].starts_with('/')))
}

/// Name rules: a component matching `*.backup*` or `*.safe`.
pub(crate) fn name_rule(name: &str) -> Option<Rule> {
    let n = if cfg!(target_os = "macos") { name.to_lowercase() } else { name.to_string() };
    if n.contains(".backup") {
        return Some(Rule::builtin("the rule `*.backup*`"));
    }
    if n.ends_with(".safe") {
        return Some(Rule::builtin("the rule `*.safe`"));
    }
    None
}

/// The rule that protects `path` itself, if any.
pub(crate) fn rule_for(path: &Path, config: &Config) -> Option<Rule> {
    let p = physical(path);
    let home = canonical_prefix(&crate::paths::home());
    // A simulated Mac (`HELIX_MAC_ROOT`, for tests) adds its roots; the real ones stay.
    let sim = crate::paths::mac_root().map(|r| canonical_prefix(&r));
    let roots: Vec<PathBuf> = std::iter::once(PathBuf::from("/")).chain(sim.clone()).collect();
    if roots.iter().any(|r| same(&p, r)) {
        return Some(Rule::builtin("the rule `/`"));
    }
    if within(&home, &p) {
        let what = if same(&home, &p) {
            "the rule `home directory`".to_string()
        } else {
            format!("the rule `home directory` (`{}` contains it)", home.display())
        };
        return Some(Rule::builtin(what));
    }
    for base in &roots {
        for root in SYSTEM_ROOTS {
            let r = base.join(root.trim_start_matches('/'));
            if same(&p, &r) || canonical_prefix(&r) == p {
                return Some(Rule::builtin(format!("the rule `{root}`")));
            }
        }
        if p.parent().is_some_and(|d| same(d, &base.join("Volumes"))) {
            return Some(Rule::builtin("the rule `/Volumes/*`"));
        }
    }
    if let Some(root) = system_tree(&p) {
        return Some(Rule::builtin(format!(
            "the rule `{root}/**` (the operating system's own files)"
        )));
    }
    if is_mount_point(&p) {
        return Some(Rule::builtin("the rule `mount points` (a whole volume is mounted there)"));
    }
    for c in p.components() {
        if let Component::Normal(n) = c
            && let Some(r) = name_rule(&n.to_string_lossy())
        {
            return Some(r);
        }
    }
    let origin =
        config.origins.get("guard.protected").cloned().unwrap_or_else(|| "the config".into());
    for entry in config.protected() {
        if let Some(r) = entry_rule(&p, &entry, &origin) {
            return Some(r);
        }
    }
    for (q, why) in registered().iter() {
        if within(q, &p) || within(&p, q) {
            return Some(Rule {
                name: format!("`{}` ({why})", q.display()),
                origin: "registered at run time".into(),
            });
        }
    }
    hard_link_rule(&p, config)
}

/// A protected file's inode is protected under any name: for a file with other hard links
/// (`st_nlink > 1`), look for a protected file with the same (device, inode) among the
/// protected trees the OS layer knows (see `sandbox::Plan`).
fn hard_link_rule(p: &Path, config: &Config) -> Option<Rule> {
    use std::os::unix::fs::MetadataExt;
    let m = p.symlink_metadata().ok()?;
    if m.is_dir() || m.nlink() < 2 {
        return None;
    }
    let id = (m.dev(), m.ino());
    let plan = super::sandbox::Plan::for_command(config, p.parent(), &[]);
    let mut roots = plan.read_only;
    roots.extend(registered().into_iter().map(|(q, _)| q));
    let mut seen = 0usize;
    let mut stack = roots;
    while let Some(f) = stack.pop() {
        seen += 1;
        if seen > 200_000 {
            return None;
        }
        let Ok(fm) = f.symlink_metadata() else { continue };
        if fm.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&f) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if (fm.dev(), fm.ino()) == id && f != p {
            return Some(Rule::builtin(format!(
                "a hard link of the protected `{}` (the same data under another name)",
                f.display()
            )));
        }
    }
    None
}

/// A `guard.protected` entry: a path (protects itself, its contents, its ancestors) or a glob.
fn entry_rule(p: &Path, entry: &str, origin: &str) -> Option<Rule> {
    let rule = || Rule {
        name: format!("`{entry}` in guard.protected"),
        origin: format!("configured in {origin}"),
    };
    if entry.contains(['*', '?', '[']) {
        let pat = crate::paths::expand(entry);
        let opts = glob::MatchOptions {
            case_sensitive: !cfg!(target_os = "macos"),
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        let pattern = glob::Pattern::new(&pat.to_string_lossy()).ok()?;
        // The path or one of its ancestors matches.
        return p.ancestors().any(|a| pattern.matches_path_with(a, opts)).then(rule);
    }
    let q = canonical_prefix(&crate::paths::expand(entry));
    (within(p, &q) || within(&q, p)).then(rule)
}

/// The rule that protects `path` or anything inside it (for recursive deletes and moves):
/// explicit paths beneath it, and names matching the name rules anywhere in the tree.
/// Stops looking after `limit` entries.
pub(crate) fn rule_for_tree(path: &Path, config: &Config) -> Option<(PathBuf, Rule)> {
    if let Some(r) = rule_for(path, config) {
        return Some((path.to_path_buf(), r));
    }
    let p = physical(path);
    if !p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return None;
    }
    let mut seen = 0usize;
    let mut stack = vec![p.clone()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            seen += 1;
            if seen > 500_000 {
                return None;
            }
            let child = e.path();
            if let Some(r) = name_rule(&e.file_name().to_string_lossy()) {
                return Some((child, r));
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if is_mount_point(&child) {
                    return Some((
                        child,
                        Rule::builtin("the rule `mount points` (a whole volume is mounted there)"),
                    ));
                }
                stack.push(child);
            }
        }
    }
    None
}

fn is_mount_point(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(m), Some(parent)) = (p.symlink_metadata(), p.parent()) else { return false };
    if !m.is_dir() {
        return false;
    }
    parent.metadata().is_ok_and(|pm| pm.dev() != m.dev())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg_with(entries: &[&str]) -> Config {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("helix.toml");
        let list: Vec<String> = entries.iter().map(|e| format!("{e:?}")).collect();
        std::fs::write(&f, format!("[guard]\nprotected = [{}]\n", list.join(", "))).unwrap();
        let mut c = Config::default();
        c.merge_file(&f).unwrap();
        c
    }

    #[test]
    fn builtin_rules() {
        let c = Config::default();
        assert!(rule_for(Path::new("/"), &c).is_some());
        assert!(rule_for(Path::new("/usr/"), &c).is_some());
        assert!(rule_for(Path::new("/usr/../usr"), &c).is_some());
        assert!(rule_for(&crate::paths::home(), &c).is_some());
        assert!(rule_for(Path::new("~"), &c).is_some());
        assert!(rule_for(Path::new("/Volumes/Big"), &c).unwrap().name.contains("/Volumes/*"));
        let d = tempfile::tempdir().unwrap();
        let b = d.path().join("Linux.utm.backup");
        assert!(rule_for(&b, &c).unwrap().name.contains("*.backup*"));
        assert!(rule_for(&b.join("Data/disk.qcow2"), &c).is_some());
        assert!(rule_for(&d.path().join("Linux.utm.backup.safe"), &c).is_some());
        assert!(rule_for(&d.path().join("scratch"), &c).is_none());
    }

    #[test]
    fn resolves_links_dots_and_trailing_slashes() {
        let c = Config::default();
        let d = tempfile::tempdir().unwrap();
        let backup = d.path().join("vm.backup");
        std::fs::create_dir(&backup).unwrap();
        std::os::unix::fs::symlink(&backup, d.path().join("innocent")).unwrap();
        // The link itself is not protected (removing a link leaves the backup)…
        assert!(rule_for(&d.path().join("innocent"), &c).is_none());
        // …but through it, with a trailing slash or inside, it is.
        assert!(rule_for(Path::new(&format!("{}/innocent/", d.path().display())), &c).is_some());
        assert!(rule_for(&d.path().join("innocent/file"), &c).is_some());
        std::fs::create_dir(d.path().join("x")).unwrap();
        assert!(rule_for(&d.path().join("x/../vm.backup"), &c).is_some());
    }

    #[test]
    fn config_entries_protect_contents_and_ancestors() {
        let d = tempfile::tempdir().unwrap();
        let vm = d.path().join("vms/helix-desktop-vm");
        std::fs::create_dir_all(&vm).unwrap();
        let c = cfg_with(&[&vm.display().to_string(), &format!("{}/*.qcow2", d.path().display())]);
        let r = rule_for(&vm.join("disk.img"), &c).unwrap();
        assert!(r.name.contains("guard.protected") && r.origin.contains("helix.toml"), "{r:?}");
        assert!(rule_for(&d.path().join("vms"), &c).is_some(), "an ancestor of a protected path");
        assert!(rule_for(&d.path().join("root.qcow2"), &c).is_some());
        assert!(rule_for(&d.path().join("other"), &c).is_none());
    }

    #[test]
    fn a_hard_link_to_a_protected_file_is_protected() {
        let c = Config::default();
        let d = tempfile::tempdir().unwrap();
        let b = d.path().join("vm.backup");
        std::fs::create_dir(&b).unwrap();
        std::fs::write(b.join("disk.img"), "data").unwrap();
        let other = d.path().join("innocent.img");
        std::fs::hard_link(b.join("disk.img"), &other).unwrap();
        let r = rule_for(&other, &c).expect("the same inode as a protected file");
        assert!(r.name.contains("hard link") && r.name.contains("disk.img"), "{r:?}");
        let plain = d.path().join("plain.img");
        std::fs::write(&plain, "x").unwrap();
        std::fs::hard_link(&plain, d.path().join("plain2.img")).unwrap();
        assert!(rule_for(&plain, &c).is_none(), "a hard link between unprotected names");
    }

    #[test]
    fn registered_paths_and_trees() {
        let c = Config::default();
        let d = tempfile::tempdir().unwrap();
        let disk = d.path().join("vm/Data/disk.qcow2");
        std::fs::create_dir_all(disk.parent().unwrap()).unwrap();
        std::fs::write(&disk, "x").unwrap();
        register(&disk, "a disk of the VM `t`");
        assert!(rule_for(&disk, &c).unwrap().name.contains("VM `t`"));
        assert!(rule_for(&d.path().join("vm"), &c).is_some());
        let t = d.path().join("tree/a/b");
        std::fs::create_dir_all(&t).unwrap();
        assert!(rule_for_tree(&d.path().join("tree"), &c).is_none());
        std::fs::create_dir(t.join("old.safe")).unwrap();
        let (at, r) = rule_for_tree(&d.path().join("tree"), &c).unwrap();
        assert!(at.ends_with("old.safe") && r.name.contains("*.safe"));
    }

    #[test]
    fn the_operating_systems_files_are_protected_all_the_way_down() {
        let c = Config::default();
        for p in ["/etc/passwd", "/etc/ssh/sshd_config", "/usr/lib/x", "/bin/sh", "/boot/x"] {
            let r = rule_for(Path::new(p), &c).unwrap_or_else(|| panic!("{p} unprotected"));
            assert!(r.name.contains("operating system"), "{p}: {r:?}");
        }
        // Other spellings reach the same rule.
        assert!(rule_for(Path::new("/etc/../etc/./passwd"), &c).is_some());
        assert!(rule_for(Path::new("/tmp/../etc/hosts"), &c).is_some());
        // The user's own part of /usr is not the system's.
        assert!(rule_for(Path::new("/usr/local/bin/tool"), &c).is_none());
        assert!(rule_for(Path::new("/usr/localx"), &c).is_some());
        assert!(rule_for(Path::new("/etcetera/x"), &c).is_none());
    }
}
