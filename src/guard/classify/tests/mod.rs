//! The classifier's tests: the helpers and fixture they share, the entry points, severity
//! and targets; by topic, [`forms`] (the destructive and ordinary tables), [`default_deny`]
//! (what the classifier cannot see) and [`as_run`] (scripts walked as they will run).

mod as_run;
mod default_deny;
mod forms;

use std::path::Path;

use super::*;

fn classify_argv(argv: &[String]) -> Option<String> {
    command(argv, None, None, &Default::default()).map(|f| f.why)
}

fn classify_remote(script: &str) -> Option<String> {
    analyze_shell(script, &Scope::remote("vm")).map(|f| f.why)
}

fn argv(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

/// Split a test line into an argv (whitespace, with '…' quoting for one word).
pub(crate) fn words(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Files some rules need to exist ("onto an existing path").
fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for f in [
        "disk.qcow2",
        "existing.txt",
        "dir/existing.txt",
        "base.img",
        "build/build.ninja",
        "script.sh",
    ] {
        let p = d.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }
    d
}

fn classify(form: &str, kind: &str, cwd: &Path) -> Option<Finding> {
    match kind {
        "a" => analyze_argv(&words(form), &Scope::local(Some(cwd))),
        "s" => analyze_shell(form, &Scope::local(Some(cwd))),
        _ => analyze_shell(form, &Scope::remote("vm")),
    }
}

#[test]
fn argv_shell_and_remote_entry_points() {
    assert!(classify_argv(&argv(&["sh", "-c", "cd x && rm -rf y"])).is_some());
    assert!(classify_argv(&argv(&["git", "status"])).is_none());
    assert!(classify_shell("sudo sh -c 'rm -rf /tmp/x'").is_some());
    assert!(classify_shell("ls -la").is_none());
    assert!(classify_remote("rm -rf ~/helix").is_some());
}

#[test]
fn severity_and_targets() {
    let d = fixture();
    let f =
        analyze_argv(&argv(&["rm", "-rf", "build/qemu/"]), &Scope::local(Some(d.path()))).unwrap();
    assert_eq!(f.severity, Severity::TypeName);
    assert_eq!(f.name_to_type(), "qemu");
    assert_eq!(f.local_paths(), vec![d.path().join("build/qemu")]);
    let f = analyze_argv(&argv(&["rm", "-f", "a.log"]), &Scope::local(None)).unwrap();
    assert_eq!(f.severity, Severity::YesNo);
    let f = analyze_argv(&argv(&["dd", "if=x", "of=/dev/disk4"]), &Scope::local(None)).unwrap();
    assert_eq!((f.severity, f.name_to_type().as_str()), (Severity::TypeName, "disk4"));
    let f = analyze_shell("rm -rf \"$NO_SUCH_VAR_X\"", &Scope::local(None)).unwrap();
    assert!(f.unresolved(), "{f:?}");
    let f = analyze_argv(&argv(&["ssh", "vm", "rm", "-rf", "/x"]), &Scope::local(None)).unwrap();
    assert!(f.host.as_deref() == Some("vm") && f.local_paths().is_empty(), "{f:?}");
}

#[test]
fn deep_nesting_is_bounded() {
    let mut s = "rm -rf x".to_string();
    for _ in 0..24 {
        s = format!("echo $({s})");
    }
    assert!(classify_shell(&s).is_some());
    let mut s = "rm -rf x".to_string();
    for _ in 0..24 {
        s = format!(
            "sh -c {}",
            crate::guard::quote::display_argv(&[s]).replace("'\\''", "'\"'\"'")
        );
        if s.len() > 4000 {
            break;
        }
    }
    // Beyond the depth limit a script is not looked into, but never overflows the stack.
    let _ = classify_shell(&s);
}

/// The finding travels in the action: the same argv in two directories gives two actions that
/// each know their own resolved target (no lookup by argv afterwards).
#[test]
fn the_action_carries_its_own_finding() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let argv: Vec<String> = ["rm", "-rf", "x"].iter().map(|s| s.to_string()).collect();
    let none = Default::default();
    let in_a = crate::guard::Action::command(&argv, Some(a.path()), None, &none);
    let in_b = crate::guard::Action::command(&argv, Some(b.path()), None, &none);
    let target = |act: &crate::guard::Action| act.findings().next().unwrap().local_paths();
    assert_eq!(target(&in_a), vec![a.path().join("x")]);
    assert_eq!(target(&in_b), vec![b.path().join("x")]);
    // Secrets are redacted from what is shown, not from what is judged.
    let argv: Vec<String> = ["rm", "-rf", "/tmp/s3cret"].iter().map(|s| s.to_string()).collect();
    let act = crate::guard::Action::command(&argv, None, None, &none).redact(&["s3cret".into()]);
    assert!(!act.detail.contains("s3cret") && act.findings().count() == 1, "{act:?}");
    assert!(act.findings().all(|f| f.hits.iter().all(|h| !h.written.contains("s3cret"))));
}
