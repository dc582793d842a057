//! Rules for the disk and filesystem tools: formatting (`mkfs`, `wipefs`), raw writes (`dd`,
//! `blkdiscard`, `fallocate` holes, `debugfs -w`), partition tables, and pools and volumes
//! (`zpool`, `zfs`, `diskutil`).

use crate::guard::classify::finding::{Effect, Finding, Severity};
use crate::guard::classify::state::Scope;
use crate::guard::classify::words::{Arg, has_flag, operands};

pub(super) fn wipefs(rest: &[Arg]) -> Option<Finding> {
    let ops = operands(rest, &["-o", "-t", "--offset", "--types", "-b", "--backup"]);
    let erase = has_flag(rest, 'a', &["all"]) || has_flag(rest, 'o', &["offset"]);
    let no_act = has_flag(rest, 'n', &["no-act"]);
    (erase && !no_act).then(|| {
        Finding::new("`wipefs` erases filesystem signatures", Severity::TypeName).with_targets(&ops)
    })
}

pub(super) fn mkfs(prog: &str, rest: &[Arg]) -> Option<Finding> {
    {
        Some(
            Finding::new(
                format!("`{prog}` formats a filesystem (everything on it is lost)"),
                Severity::TypeName,
            )
            .with_targets(
                &operands(
                    rest,
                    &[
                        "-t", "-L", "-n", "-b", "-c", "-E", "-O", "-T", "-U", "-v", "-F", "-S",
                        "-s", "-i", "-I", "-m", "-N", "-g", "-G",
                    ],
                )
                .into_iter()
                .last()
                .into_iter()
                .collect::<Vec<_>>(),
            ),
        )
    }
}

pub(super) fn dd(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let of: Vec<&Arg> = rest.iter().filter(|a| a.text.starts_with("of=")).collect();
    let of = of.last()?;
    let target = of.with_text(of.text["of=".len()..].to_string());
    let device = target.text.starts_with("/dev/")
        && !matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr");
    if matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr") {
        return None;
    }
    // A file that does not exist yet is only created.
    if !device && !target.dynamic && !target.own && scope.exists(&target.text) == Some(false) {
        return None;
    }
    let unknown = target.dynamic;
    let f = Finding::new("`dd of=` overwrites its target", Severity::YesNo).with_targets(&[target]);
    Some(if device || unknown { f.type_name() } else { f })
}

pub(super) fn blkdiscard(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`blkdiscard` discards every block of a device", Severity::TypeName)
            .with_targets(&operands(rest, &["-o", "-l", "-p"])),
    )
}

pub(super) fn partition_table(prog: &str, rest: &[Arg]) -> Option<Finding> {
    let listing = rest.iter().any(|a| {
        matches!(
            a.text.as_str(),
            "-l" | "--list"
                | "-p"
                | "--print"
                | "print"
                | "-d"
                | "--dump"
                | "-V"
                | "--verify"
                | "--version"
                | "-h"
                | "--help"
        )
    });
    if listing {
        return None;
    }
    Some(
        Finding::new(format!("`{prog}` rewrites a partition table"), Severity::TypeName)
            .with_targets(&operands(rest, &[]).into_iter().take(1).collect::<Vec<_>>()),
    )
}

pub(super) fn fallocate(rest: &[Arg]) -> Option<Finding> {
    let holes = rest.iter().any(|a| {
        matches!(
            a.text.as_str(),
            "-p" | "--punch-hole"
                | "-c"
                | "--collapse-range"
                | "-d"
                | "--dig-holes"
                | "-z"
                | "--zero-range"
                | "-i"
                | "--insert-range"
        )
    });
    holes.then(|| {
        Finding::new("`fallocate` punches holes into (zeroes) a file", Severity::YesNo)
            .with_targets(&operands(rest, &["-o", "-l", "--offset", "--length"]))
    })
}

pub(super) fn zfs(rest: &[Arg]) -> Option<Finding> {
    let sub = operands(rest, &[]);
    match sub.first().map(|a| a.text.as_str()) {
        Some("destroy") => Some(
            Finding::new("`zfs destroy` destroys a dataset", Severity::TypeName)
                .with(&sub[1..], Effect::Name),
        ),
        Some("rollback") => Some(
            Finding::new("`zfs rollback` discards everything after a snapshot", Severity::TypeName)
                .with(&sub[1..], Effect::Name),
        ),
        _ => None,
    }
}

pub(super) fn debugfs(rest: &[Arg]) -> Option<Finding> {
    has_flag(rest, 'w', &[]).then(|| {
        let dev = operands(rest, &["-R", "-f", "-b", "-s", "-d", "-z"]);
        Finding::new("`debugfs -w` edits a filesystem in place", Severity::TypeName)
            .with_targets(&dev)
    })
}

pub(super) fn zpool(rest: &[Arg]) -> Option<Finding> {
    let sub = operands(rest, &["-o", "-O", "-m", "-R", "-t"]);
    match sub.first().map(|a| a.text.as_str()) {
        Some("create") if has_flag(rest, 'f', &["force"]) => Some(
            Finding::new("`zpool create -f` overwrites the disks it is given", Severity::TypeName)
                .with(&sub[1..], Effect::Name),
        ),
        Some("destroy") => Some(
            Finding::new("`zpool destroy` destroys a pool", Severity::TypeName)
                .with(&sub[1..], Effect::Name),
        ),
        Some("labelclear") => Some(
            Finding::new("`zpool labelclear` erases a device's pool label", Severity::TypeName)
                .with(&sub[1..], Effect::Name),
        ),
        _ => None,
    }
}

pub(super) fn diskutil(rest: &[Arg]) -> Option<Finding> {
    let ops = operands(rest, &[]);
    let verb = ops.first()?.text.to_ascii_lowercase();
    let (verb, args) =
        if matches!(verb.as_str(), "apfs" | "ap" | "cs" | "corestorage" | "ar" | "appleraid") {
            (
                ops.get(1).map(|a| a.text.to_ascii_lowercase()).unwrap_or_default(),
                ops.get(2..).unwrap_or(&[]),
            )
        } else {
            (verb, ops.get(1..).unwrap_or(&[]))
        };
    let destructive = verb.starts_with("erase")
        || verb.starts_with("delete")
        || matches!(
            verb.as_str(),
            "partitiondisk"
                | "reformat"
                | "zerodisk"
                | "randomdisk"
                | "secureerase"
                | "splitpartition"
                | "mergepartitions"
                | "resizevolume"
                | "deletevolume"
                | "deletecontainer"
        );
    destructive.then(|| {
        Finding::new(format!("`diskutil {verb}` erases or repartitions a disk"), Severity::TypeName)
            .with(&args.iter().rev().take(1).cloned().collect::<Vec<_>>(), Effect::Name)
    })
}
