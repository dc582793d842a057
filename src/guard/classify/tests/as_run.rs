//! Scripts classified as they run: links, `cd`, variables, files made earlier in the script,
//! targets only known at run time, and the remote shell's own paths and stdin.

use super::*;

/// `(script, expected)`: `Some(path)` — destructive and resolved to `path` (relative to the
/// fixture); `None` — ordinary, because the script itself made what it destroys.
#[test]
fn scripts_are_classified_as_they_run() {
    let d = fixture();
    let root = d.path();
    std::fs::create_dir_all(root.join("vms/vm")).unwrap();
    std::fs::write(root.join("vms/vm/disk.qcow2"), "disk").unwrap();
    let vm = root.join("vms/vm").canonicalize().unwrap();
    let cases: &[(&str, Option<&Path>)] = &[
        ("ln -s VM lnk; rm -rf lnk/", Some(&vm)),
        ("cd VMS && rm -rf vm", Some(&vm)),
        ("D=VM; rm -rf $D", Some(&vm)),
        ("D=VM; rm -rf \"$D\"", Some(&vm)),
        ("rm -rf VMS/v*", Some(&vm)),
        ("for d in VM; do rm -rf \"$d\"; done", Some(&vm)),
        ("cd VM && echo x > disk.qcow2", Some(&vm.join("disk.qcow2"))),
        ("ln -s VM/disk.qcow2 l; truncate -s0 l", Some(&vm.join("disk.qcow2"))),
        ("ln -s VM/disk.qcow2 l; echo x > l", Some(&vm.join("disk.qcow2"))),
        ("mkdir -p d; mv VM d/x; rm -rf d", Some(&vm)),
        ("mkdir t && touch t/a && rm -rf t", None),
        ("t=$(mktemp); echo x > \"$t\"; rm -f \"$t\"", None),
        ("test -f new.swap || (fallocate -l 1M new.swap && mkswap new.swap)", None),
        ("ln -s VM lnk; rm lnk", None),
    ];
    let vm_s = vm.display().to_string();
    let vms_s = root.join("vms").display().to_string();
    for (script, want) in cases {
        let s = script.replace("VMS", &vms_s).replace("VM", &vm_s);
        let f = analyze_shell(&s, &Scope::local(Some(root)));
        match want {
            None => assert!(
                f.as_ref().is_none_or(|f| f.hits.iter().all(|h| h.local() != Some(&vm))),
                "{script}: {f:#?}"
            ),
            Some(p) => {
                let f = f.unwrap_or_else(|| panic!("{script}: not destructive"));
                assert!(
                    f.local_paths()
                        .iter()
                        .any(|q| q == p || q.starts_with(&vm) || vm.starts_with(q) && *p == vm),
                    "{script}: {:#?}",
                    f.hits
                );
            }
        }
    }
    // Removing a link the script made removes only the link (and it was the script's).
    assert!(
        analyze_shell(&format!("ln -s {vm_s} lnk2; rm lnk2"), &Scope::local(Some(root))).is_none()
    );
}

#[test]
fn unresolvable_targets_stay_unresolved() {
    let d = fixture();
    for s in [
        "rm -rf \"$NO_SUCH_VAR_Y\"",
        "cd \"$NO_SUCH_VAR_Y\" && rm -rf vm",
        "rm -rf $(cat list)",
        "rm -rf {a,b}",
    ] {
        let f = analyze_shell(s, &Scope::local(Some(d.path()))).unwrap();
        assert!(f.unresolved(), "{s}: {f:?}");
    }
}

#[test]
fn remote_rules_use_remote_paths_and_stdin() {
    // The local filesystem has no say over remote paths.
    let f = analyze_shell("rm -rf /etc/hosts", &Scope::remote("vm")).unwrap();
    assert_eq!(f.hits[0].place, Place::Remote("/etc/hosts".into()));
    assert!(f.local_paths().is_empty());
    // `ssh host sh` with the script on stdin is classified like its local twin.
    let argv: Vec<String> =
        ["ssh", "-p", "2222", "vm", "sh"].iter().map(|s| s.to_string()).collect();
    let f = command(&argv, None, Some(b"rm -rf ~/helix\n"), &Default::default()).unwrap();
    assert_eq!(f.host.as_deref(), Some("vm"));
    assert!(command(&argv, None, Some(b"uname -a\n"), &Default::default()).is_none());
    // The remote shell's own state is tracked the same way.
    assert!(
        analyze_shell("cd /data && rm -rf vm", &Scope::remote("vm"))
            .is_some_and(|f| f.hits.iter().any(|h| h.place == Place::Remote("/data/vm".into())))
    );
}
