use super::macos::SANDBOX_EXEC;
use super::*;

#[test]
fn ancestors_are_pinned_and_order_is_shallowest_first() {
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("vms/a.backup");
    std::fs::create_dir_all(b.join("inner")).unwrap();
    let plan = Plan::new(vec![b.clone(), b.join("inner"), d.path().join("missing")], vec![]);
    let b = b.canonicalize().unwrap();
    assert_eq!(plan.read_only, vec![b.clone()], "nested and missing entries are dropped");
    let vms = b.parent().unwrap().to_path_buf();
    assert!(plan.pinned.contains(&vms) && plan.pinned.contains(&vms.parent().unwrap().into()));
    assert!(!plan.pinned.contains(&PathBuf::from("/")));
    let order: Vec<usize> = plan.mounts().iter().map(|(p, _)| p.components().count()).collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
    assert_eq!(plan.mounts().last().unwrap(), &(b.as_path(), true));
}

#[test]
fn nothing_is_pinned_inside_a_read_only_tree() {
    let d = tempfile::tempdir().unwrap();
    let b = d.path().join("x.safe");
    std::fs::create_dir_all(b.join("y")).unwrap();
    let plan = Plan::new(vec![b.clone()], vec![b.join("y")]);
    assert!(plan.pinned.iter().all(|p| !p.starts_with(b.canonicalize().unwrap())));
}

#[test]
fn the_plan_finds_name_rules_near_the_command_and_config_globs() {
    let d = tempfile::tempdir().unwrap();
    let work = d.path().join("work");
    std::fs::create_dir_all(work.join("sub/old.backup.2")).unwrap();
    std::fs::create_dir_all(d.path().join("far/a/b/c/deep.safe")).unwrap();
    std::fs::write(d.path().join("disk1.qcow2"), "x").unwrap();
    let f = d.path().join("helix.toml");
    std::fs::write(&f, format!("[guard]\nprotected = [\"{}/*.qcow2\"]\n", d.path().display()))
        .unwrap();
    let mut c = Config::default();
    c.merge_file(&f).unwrap();
    let argv = vec!["sh".to_string(), "-c".into(), format!("rm -rf {}/x", work.display())];
    let plan = Plan::for_command(&c, Some(&work), &argv);
    let real = |p: PathBuf| p.canonicalize().unwrap();
    assert!(plan.read_only.contains(&real(work.join("sub/old.backup.2"))), "{plan:?}");
    assert!(plan.read_only.contains(&real(d.path().join("disk1.qcow2"))), "{plan:?}");
    assert!(
        !plan.read_only.iter().any(|p| p.ends_with("deep.safe")),
        "beyond the scan depth of every place"
    );
    // Named in the argv: found however deep.
    let deep = d.path().join("far/a/b/c/deep.safe");
    let argv = vec!["rm".to_string(), "-rf".into(), deep.join("file").display().to_string()];
    let plan = Plan::for_command(&c, Some(&work), &argv);
    assert!(plan.read_only.contains(&real(deep)), "{plan:?}");
}

#[test]
fn a_huge_place_does_not_hide_a_later_one() {
    let d = tempfile::tempdir().unwrap();
    for i in 0..SCAN_LIMIT + 100 {
        std::fs::write(d.path().join(format!("f{i:05}")), "").unwrap();
    }
    let w = tempfile::tempdir().unwrap();
    let work = w.path().join("work");
    std::fs::create_dir_all(work.join("vm.backup")).unwrap();
    // The first place uses up its budget; the second is still looked through.
    let found = name_matches(&[d.path().to_path_buf(), work.clone()]);
    assert_eq!(found, vec![work.join("vm.backup")]);
}

#[test]
fn seatbelt_profile_denies_writes_and_unlinks_through_parameters() {
    let plan = Plan {
        read_only: vec![PathBuf::from("/Volumes/Big/vm \"x\".backup")],
        pinned: vec![PathBuf::from("/Volumes/Big"), PathBuf::from("/Users/me")],
    };
    let (profile, params) = plan.seatbelt();
    assert!(profile.starts_with("(version 1)\n(allow default)\n"), "{profile}");
    assert!(profile.contains("(deny file-write* (subpath (param \"RO0\")))"), "{profile}");
    assert!(profile.contains("(deny file-write-unlink (literal (param \"PIN1\")))"));
    assert!(!profile.contains("Volumes"), "paths are parameters, never profile text");
    assert_eq!(
        params,
        vec!["RO0=/Volumes/Big/vm \"x\".backup", "PIN0=/Volumes/Big", "PIN1=/Users/me"]
    );
    // Balanced parentheses: the profile is one well-formed expression per line.
    for line in profile.lines().filter(|l| !l.starts_with(';')) {
        let open = line.matches('(').count();
        assert_eq!(open, line.matches(')').count(), "{line}");
    }
}

#[test]
fn seatbelt_goes_after_sudo() {
    let plan = Plan { read_only: vec![PathBuf::from("/p")], pinned: vec![] };
    let argv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let out = seatbelt_argv(&plan, argv(&["sudo", "-n", "rm", "-rf", "/x"]));
    assert_eq!(&out[..3], &argv(&["sudo", "-n", SANDBOX_EXEC])[..]);
    assert_eq!(&out[3..5], &argv(&["-D", "RO0=/p"])[..]);
    assert_eq!(out[5], "-p");
    assert_eq!(&out[7..], &argv(&["rm", "-rf", "/x"])[..]);
    let out = seatbelt_argv(&plan, argv(&["python3", "-c", "x"]));
    assert_eq!(out[0], SANDBOX_EXEC);
    assert_eq!(&out[out.len() - 3..], &argv(&["python3", "-c", "x"])[..]);
}

#[cfg(target_os = "linux")]
#[test]
fn this_machine_has_the_layer() {
    // CI runs as root on Debian: the mount namespace must be there.
    let s = state(|_| false);
    assert!(matches!(s, State::Active(_)), "{}", s.describe());
}

/// The real thing on macOS: a protected tree survives `rm -rf`, writes and a move of its
/// parent under `sandbox-exec` with the generated profile; a sibling does not.
#[cfg(target_os = "macos")]
#[test]
fn seatbelt_profile_holds_under_sandbox_exec() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().canonicalize().unwrap();
    let p = base.join("vms/vm.backup");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("disk"), "keep").unwrap();
    std::fs::write(base.join("vms/sibling"), "x").unwrap();
    let plan = Plan::new(vec![p.clone()], vec![]);
    let sh = |script: &str| {
        let argv = seatbelt_argv(&plan, vec!["sh".into(), "-c".into(), script.into()]);
        std::process::Command::new(&argv[0]).args(&argv[1..]).output().unwrap()
    };
    let q = p.display();
    let vms = base.join("vms");
    sh(&format!(
        "rm -rf '{q}'; echo x > '{q}/disk'; mv '{}' '{}/moved'",
        vms.display(),
        base.display()
    ));
    sh(&format!("python3 -c \"import shutil; shutil.rmtree('{q}')\""));
    assert_eq!(std::fs::read_to_string(p.join("disk")).unwrap(), "keep");
    sh(&format!("rm '{}/vms/sibling'", base.display()));
    assert!(!base.join("vms/sibling").exists(), "the layer is not a blanket");
}
