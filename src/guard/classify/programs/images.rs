//! Rules for the VM and container tools: disk images (`qemu-img`, `qemu-io`), VMs (`utmctl
//! delete`, `killall`/`pkill` of a running one) and containers (`docker … prune`, volumes).

use super::exists;
use crate::guard::classify::finding::{Effect, Finding, Severity};
use crate::guard::classify::state::Scope;
use crate::guard::classify::words::{Arg, has_flag, operands};

pub(super) fn qemu_io(rest: &[Arg]) -> Option<Finding> {
    let read_only = has_flag(rest, 'r', &["read-only"]);
    let cmds: Vec<&str> = rest
        .windows(2)
        .filter(|w| w[0].text == "-c" || w[0].text == "--cmd")
        .map(|w| w[1].text.as_str())
        .collect();
    let reads = |c: &str| {
        let verb = c.split_whitespace().next().unwrap_or("");
        matches!(
            verb,
            "read"
                | "readv"
                | "aio_read"
                | "info"
                | "map"
                | "length"
                | "alloc"
                | "help"
                | "open"
                | "close"
                | "sleep"
                | "flush"
                | "aio_flush"
        )
    };
    if read_only || (!cmds.is_empty() && cmds.iter().all(|c| reads(c))) {
        return None;
    }
    let image = operands(
        rest,
        &[
            "-c",
            "--cmd",
            "-f",
            "--format",
            "-o",
            "-t",
            "--cache",
            "-d",
            "--discard",
            "-T",
            "--trace",
            "-i",
            "--aio",
        ],
    );
    Some(
        Finding::new("`qemu-io` writes into a disk image", Severity::TypeName).with_targets(&image),
    )
}

pub(super) fn killall(prog: &str, rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new(
            format!("`{prog}` kills processes by name (a VM's unsaved state is lost)"),
            Severity::YesNo,
        )
        .with(
            &operands(rest, &["-s", "-u", "-g", "-t", "-U", "-G", "-P", "--signal", "--user"]),
            Effect::Name,
        ),
    )
}

pub(super) fn utmctl(rest: &[Arg]) -> Option<Finding> {
    let sub = operands(rest, &[]);
    (sub.first().map(|a| a.text.as_str()) == Some("delete")).then(|| {
        Finding::new("`utmctl delete` deletes a VM and its disks", Severity::TypeName)
            .with(&sub[1..], Effect::Name)
    })
}

pub(super) fn qemu_img(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let sub = rest.iter().position(|a| !a.text.starts_with('-'))?;
    let verb = rest[sub].text.as_str();
    let args = &rest[sub + 1..];
    let with_arg = [
        "-f",
        "-o",
        "-b",
        "-F",
        "-B",
        "-O",
        "-l",
        "-s",
        "-S",
        "-t",
        "-T",
        "-r",
        "-a",
        "-c",
        "-d",
        "--object",
        "--image-opts",
        "--target-image-opts",
        "-m",
        "-W",
    ];
    let ops = operands(args, &with_arg);
    match verb {
        "create" => {
            let file = ops.first()?;
            (file.dynamic || exists(scope, &file.text)).then(|| {
                Finding::new(
                    "`qemu-img create` over an existing disk image destroys its contents",
                    Severity::TypeName,
                )
                .with_targets(std::slice::from_ref(file))
            })
        }
        "convert" | "dd" => {
            let out = if verb == "dd" {
                args.iter().find_map(|a| {
                    a.text.strip_prefix("of=").map(|t| Arg {
                        text: t.to_string(),
                        dynamic: a.dynamic,
                        own: false,
                    })
                })?
            } else {
                ops.last()?.clone()
            };
            (out.dynamic || exists(scope, &out.text)).then(|| {
                Finding::new(
                    format!("`qemu-img {verb}` over an existing image destroys its contents"),
                    Severity::TypeName,
                )
                .with_targets(&[out])
            })
        }
        "resize" => args
            .iter()
            .any(|a| a.text == "--shrink" || ops.last().is_some_and(|l| l.text.starts_with('-')))
            .then(|| {
                Finding::new(
                    "`qemu-img resize --shrink` cuts off the end of a disk",
                    Severity::TypeName,
                )
                .with_targets(&ops.iter().take(1).cloned().collect::<Vec<_>>())
            }),
        "snapshot" => {
            let deletes = args.iter().any(|a| a.text == "-d" || a.text == "-a");
            deletes.then(|| {
                Finding::new(
                    "`qemu-img snapshot -d/-a` deletes a snapshot or reverts the disk to one",
                    Severity::TypeName,
                )
                .with_targets(&ops.iter().rev().take(1).cloned().collect::<Vec<_>>())
            })
        }
        "commit" => Some(
            Finding::new(
                "`qemu-img commit` writes an overlay into its backing image",
                Severity::YesNo,
            )
            .with_targets(&ops),
        ),
        _ => None,
    }
}

pub(super) fn docker(rest: &[Arg]) -> Option<Finding> {
    let ops = operands(
        rest,
        &["-H", "--host", "--context", "-c", "--config", "-l", "--log-level", "-f", "--filter"],
    );
    let words: Vec<&str> = ops.iter().map(|a| a.text.as_str()).collect();
    let prune = words.contains(&"prune");
    let volume_rm =
        words.first() == Some(&"volume") && matches!(words.get(1), Some(&"rm" | &"remove"));
    let down_v = words.first() == Some(&"compose")
        && words.contains(&"down")
        && rest.iter().any(|a| a.text == "-v" || a.text == "--volumes");
    if prune || volume_rm || down_v {
        let what = if prune {
            "`docker … prune` deletes images, containers or volumes"
        } else {
            "`docker volume rm` deletes a volume's data"
        };
        return Some(Finding::new(what, Severity::YesNo));
    }
    None
}
