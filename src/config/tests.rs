use std::path::PathBuf;

use super::*;

#[test]
fn defaults_expand_home_and_record_origin() {
    let c = Config::default();
    let pm = c.get_str("paths.pm").unwrap();
    assert!(pm.ends_with("/pm") && !pm.starts_with('~'), "{pm}");
    assert_eq!(c.origins["paths.pm"], "built-in");
    assert_eq!(c.get("vm.ssh_port").and_then(|v| v.as_integer()), Some(2222));
}

#[test]
fn later_files_override_key_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("helix.toml");
    std::fs::write(&f, "[vm]\nssh_port = 2223\n").unwrap();
    let mut c = Config::default();
    c.merge_file(&f).unwrap();
    assert_eq!(c.get("vm.ssh_port").and_then(|v| v.as_integer()), Some(2223));
    assert_eq!(c.get_str("vm.ssh_host"), Some("127.0.0.1"));
    assert_eq!(c.origins["vm.ssh_port"], f.display().to_string());
    assert_eq!(c.origins["vm.ssh_host"], "built-in");
}

fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn protection_only_grows_from_other_files() {
    let d = tempfile::tempdir().unwrap();
    let own = file(d.path(), "own.toml", "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n");
    let mut c = Config::default();
    c.merge_own_file(&own).unwrap();
    // Every spelling of "empty the list" in a project file leaves the user's entries.
    for text in [
        "[guard]\nprotected = []\n",
        "guard.protected = []\n",
        "guard = { protected = [] }\n",
        "[guard]\nprotected = [\"/other\"]\n",
        "[guard]\n",
        "guard = {}\n",
    ] {
        let mut c = c.clone();
        c.merge_file(&file(d.path(), "helix.toml", text)).unwrap();
        let p = c.protected();
        assert!(p.contains(&"/vms/a".into()) && p.contains(&"/vms/b".into()), "{text}: {p:?}");
    }
    let mut grown = c.clone();
    grown.merge_file(&file(d.path(), "helix.toml", "guard.protected = [\"/other\"]")).unwrap();
    assert_eq!(grown.protected(), vec!["/vms/a", "/vms/b", "/other"]);
    // Replacing the table or the list by something else is an error, not a removal.
    for text in [
        "guard = 1\n",
        "guard = \"\"\n",
        "[guard]\nprotected = \"\"\n",
        "[guard]\nprotected = [1]\n",
    ] {
        let mut c = c.clone();
        let err = c.merge_file(&file(d.path(), "helix.toml", text)).unwrap_err().to_string();
        assert!(err.contains("helix.toml") && err.contains("guard"), "{text}: {err}");
        assert_eq!(c.protected(), vec!["/vms/a", "/vms/b"]);
    }
}

#[test]
fn only_the_own_file_can_unprotect() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Config::default();
    c.merge_file(&file(d.path(), "a.toml", "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n"))
        .unwrap();
    let un = file(d.path(), "b.toml", "[guard]\nunprotect = [\"/vms/a\"]\n");
    let err = c.clone().merge_file(&un).unwrap_err().to_string();
    assert!(err.contains("only honoured in your own config file"), "{err}");
    let mut own = Config::default();
    own.merge_own_file(&un).unwrap();
    // Whichever file adds it later: the user's own word takes it out.
    own.merge_file(&file(d.path(), "a.toml", "[guard]\nprotected = [\"/vms/a\", \"/vms/b\"]\n"))
        .unwrap();
    assert_eq!(own.protected(), vec!["/vms/b"]);
}

#[test]
fn the_builtin_file_names_no_one() {
    // No user, VM UUID, volume or person's VM name: those come from the machine.
    let text: String = DEFAULTS
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase();
    for bad in ["luke", "/volumes", "17dc4f96", "d999e038", "linux-broken", "new-dev-vm"] {
        assert!(!text.contains(bad), "the built-in config names `{bad}`");
    }
    let c = Config::default();
    for key in ["vm.uuid", "vm.backend", "vm.ssh_user", "vm.bundle", "vm.disk", "vm.zfs_disk"] {
        assert_eq!(c.get_str(key), Some(""), "{key} is left to the machine");
    }
}

#[test]
fn the_machine_fills_what_the_builtin_file_leaves_empty() {
    let mut c = Config::default();
    c.fill_from_machine();
    let backend = if cfg!(target_os = "macos") { "utm" } else { "qemu" };
    if crate::paths::mac_root().is_none() {
        assert_eq!(c.get_str("vm.backend"), Some(backend));
    }
    let dir = c.get_str("vm.dir").unwrap().to_string();
    assert_eq!(c.get_str("vm.disk"), Some(format!("{dir}/disk.qcow2").as_str()));
    assert!(c.origins["vm.disk"].contains("vm.dir"), "{}", c.origins["vm.disk"]);
    // A set value is kept.
    let dir2 = tempfile::tempdir().unwrap();
    let f = dir2.path().join("helix.toml");
    std::fs::write(&f, "[vm]\nbackend = \"utm\"\ndisk = \"/d.qcow2\"\nssh_user = \"me\"\n")
        .unwrap();
    let mut c = Config::default();
    c.merge_file(&f).unwrap();
    c.fill_from_machine();
    assert_eq!(c.get_str("vm.backend"), Some("utm"));
    assert_eq!(c.get_str("vm.disk"), Some("/d.qcow2"));
    assert_eq!(c.get_str("vm.ssh_user"), Some("me"));
    // An empty value a file sets means "none" and stays empty.
    std::fs::write(&f, "[vm]\nzfs_disk = \"\"\n").unwrap();
    let mut c = Config::default();
    c.merge_file(&f).unwrap();
    c.fill_from_machine();
    assert_eq!(c.get_str("vm.zfs_disk"), Some(""));
}

#[test]
fn unknown_and_misplaced_keys_are_errors_with_the_closest_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("helix.toml");
    let err = |text: &str| {
        std::fs::write(&f, text).unwrap();
        Config::default().merge_file(&f).unwrap_err().to_string()
    };
    let e = err("[vm]\nssh_usr = \"me\"\n");
    assert!(e.contains("unknown key `vm.ssh_usr`") && e.contains("`vm.ssh_user`"), "{e}");
    assert!(e.contains("helix.toml"), "{e}");
    let e = err("[paths]\nutm-app = \"/x\"\n");
    assert!(e.contains("did you mean `paths.utm_app`"), "{e}");
    let e = err("[vm.qmeu]\nsmp = 2\n");
    assert!(e.contains("unknown key `vm.qmeu`") && e.contains("`vm.qemu"), "{e}");
    let e = err("ssh_user = \"me\"\n");
    assert!(e.contains("unknown key `ssh_user`") && e.contains("`vm.ssh_user`"), "{e}");
    let e = err("vm = 1\n");
    assert!(e.contains("`vm` is a table"), "{e}");
    let e = err("[vm.name]\nx = 1\n");
    assert!(e.contains("`vm.name` is a value"), "{e}");
    let e = err("[pins]\nutm_comit = \"abc\"\n");
    assert!(e.contains("`pins.utm_commit`"), "{e}");
    let e = err("\"vm.ssh_user\" = \"me\"\n");
    assert!(e.contains("unknown key `\"vm.ssh_user\"`"), "{e}");
    let e = err("vm = { ssh_usr = \"me\" }\n");
    assert!(e.contains("unknown key `vm.ssh_usr`"), "{e}");
    let e = err("[VM]\nssh_user = \"me\"\n");
    assert!(e.contains("unknown key `VM`: did you mean `vm`"), "{e}");
    let e = err("[wat]\nzzzzzzzz = 1\n");
    assert!(e.contains("unknown key `wat`") && e.contains("helix config"), "{e}");
    // Known keys, the optional pins and the guard's list pass.
    std::fs::write(
        &f,
        "[vm]\nssh_port = 2\n[pins]\nutm_commit = \"a\"\n[guard]\nprotected = [\"/x\"]\n",
    )
    .unwrap();
    Config::default().merge_file(&f).unwrap();
}

#[test]
fn a_broken_file_names_itself() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("helix.toml");
    std::fs::write(&f, "[vm\n").unwrap();
    let err = Config::default().merge_file(&f).unwrap_err().to_string();
    assert!(err.contains("helix.toml"), "{err}");
}
