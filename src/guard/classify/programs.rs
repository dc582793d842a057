//! Rules for the programs that delete, overwrite, format or move data: `rm`, `dd`, `mkfs`,
//! `truncate`, `shred`, `find -delete`, `mv`/`cp`/`install` onto (or `mv` away from) an existing
//! path, `tar -x` into a non-empty directory, `curl -o`/`wget -O`/`sort -o` onto a file,
//! `qemu-img`, `qemu-io -c write`, `debugfs -w`, disk and pool tools, `rsync --delete`,
//! `killall`, … A program with no rule here is ordinary.

use super::finding::{Effect, Finding, Severity};
use super::shell::is_harmless_device;
use super::state::Scope;
use super::words::{Arg, basename, has_flag, operands, opt_value};
use super::{analyze, too_deep};

fn exists(scope: &Scope, p: &str) -> bool {
    scope.exists(p) == Some(true)
}

fn is_dir(scope: &Scope, p: &str) -> bool {
    scope.is_dir(p) == Some(true)
}

pub fn classify(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    match prog {
        "rm" | "grm" => rm(rest, scope),
        "srm" => Some(
            Finding::new("`srm` securely deletes files", Severity::TypeName)
                .with(&operands(rest, &[]), Effect::Unlink { tree: true }),
        ),
        "rmdir" => Some(
            Finding::new("`rmdir` deletes directories", Severity::YesNo)
                .with(&operands(rest, &[]), Effect::Unlink { tree: false }),
        ),
        "unlink" => Some(
            Finding::new("`unlink` deletes a file", Severity::YesNo)
                .with(&operands(rest, &[]), Effect::Unlink { tree: false }),
        ),
        "shred" => Some(
            Finding::new("`shred` overwrites and destroys files", Severity::TypeName).with_targets(
                &operands(rest, &["-n", "-s", "--iterations", "--size", "--random-source"]),
            ),
        ),
        // A new file is only created; an existing one (through links) is cut.
        "truncate" => onto_existing(
            "`truncate` cuts an existing file to a size",
            &operands(rest, &["-s", "-r", "--size", "--reference"]),
            scope,
        ),
        "find" | "gfind" => find(rest, scope),
        "wipefs" => {
            let ops = operands(rest, &["-o", "-t", "--offset", "--types", "-b", "--backup"]);
            let erase = has_flag(rest, 'a', &["all"]) || has_flag(rest, 'o', &["offset"]);
            let no_act = has_flag(rest, 'n', &["no-act"]);
            (erase && !no_act).then(|| {
                Finding::new("`wipefs` erases filesystem signatures", Severity::TypeName)
                    .with_targets(&ops)
            })
        }
        p if p.starts_with("mkfs")
            || p.starts_with("newfs")
            || p == "mke2fs"
            || p == "mkswap"
            || p == "mkdosfs" =>
        {
            Some(
                Finding::new(
                    format!("`{p}` formats a filesystem (everything on it is lost)"),
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
        "dd" | "gdd" => {
            let of: Vec<&Arg> = rest.iter().filter(|a| a.text.starts_with("of=")).collect();
            let of = of.last()?;
            let target = of.with_text(of.text["of=".len()..].to_string());
            let device = target.text.starts_with("/dev/")
                && !matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr");
            if matches!(target.text.as_str(), "/dev/null" | "/dev/stdout" | "/dev/stderr") {
                return None;
            }
            // A file that does not exist yet is only created.
            if !device
                && !target.dynamic
                && !target.own
                && scope.exists(&target.text) == Some(false)
            {
                return None;
            }
            let unknown = target.dynamic;
            let f = Finding::new("`dd of=` overwrites its target", Severity::YesNo)
                .with_targets(&[target]);
            Some(if device || unknown { f.type_name() } else { f })
        }
        "blkdiscard" => Some(
            Finding::new("`blkdiscard` discards every block of a device", Severity::TypeName)
                .with_targets(&operands(rest, &["-o", "-l", "-p"])),
        ),
        "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "parted" | "cfdisk" => {
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
        "fallocate" => {
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
        "zpool" => zpool(rest),
        "zfs" => {
            let sub = operands(rest, &[]);
            match sub.first().map(|a| a.text.as_str()) {
                Some("destroy") => Some(
                    Finding::new("`zfs destroy` destroys a dataset", Severity::TypeName)
                        .with(&sub[1..], Effect::Name),
                ),
                Some("rollback") => Some(
                    Finding::new(
                        "`zfs rollback` discards everything after a snapshot",
                        Severity::TypeName,
                    )
                    .with(&sub[1..], Effect::Name),
                ),
                _ => None,
            }
        }
        "diskutil" => diskutil(rest),
        "qemu-img" => qemu_img(rest, scope),
        "mv" | "gmv" => mv_cp(prog, rest, scope),
        "cp" | "gcp" | "install" | "ginstall" => mv_cp(prog, rest, scope),
        "ln" | "gln" => ln(rest, scope),
        "tee" => {
            if rest.iter().any(|a| a.text == "-a" || a.text == "--append") {
                return None;
            }
            let ops = operands(rest, &[]);
            let over: Vec<Arg> = ops
                .into_iter()
                .filter(|a| a.dynamic || (exists(scope, &a.text) && !is_harmless_device(&a.text)))
                .collect();
            (!over.is_empty()).then(|| {
                Finding::new("`tee` overwrites an existing file", Severity::YesNo)
                    .with_targets(&over)
            })
        }
        "tar" | "gtar" | "bsdtar" => tar(rest, scope),
        "rsync" => {
            if let Some(e) = opt_value(rest, &["-e"], &["rsh"]) {
                let lower = e.text.to_ascii_lowercase();
                let prog = lower.split_whitespace().next().map(basename).unwrap_or("");
                if e.dynamic
                    || prog != "ssh"
                    || lower.contains("proxycommand")
                    || lower.contains("localcommand")
                    || lower.contains(" -f")
                {
                    return Some(Finding::new(
                        "`rsync -e` runs a command helix cannot see",
                        Severity::YesNo,
                    ));
                }
            }
            let deletes = rest.iter().any(|a| {
                a.text.starts_with("--delete")
                    || a.text == "--del"
                    || a.text == "--remove-source-files"
            });
            deletes.then(|| {
                let ops = operands(
                    rest,
                    &[
                        "-e",
                        "--rsh",
                        "--exclude",
                        "--include",
                        "--filter",
                        "-f",
                        "--backup-dir",
                        "--suffix",
                        "--rsync-path",
                        "--password-file",
                        "--port",
                        "--log-file",
                        "--files-from",
                        "--exclude-from",
                        "--include-from",
                        "--chmod",
                        "--chown",
                        "--timeout",
                        "--bwlimit",
                        "--partial-dir",
                        "--temp-dir",
                        "-T",
                        "--compare-dest",
                        "--copy-dest",
                        "--link-dest",
                        "--max-size",
                        "--min-size",
                        "--max-delete",
                        "--info",
                        "--debug",
                    ],
                );
                let dest: Vec<Arg> = ops.last().cloned().into_iter().collect();
                Finding::new(
                    "`rsync --delete` deletes files in the destination",
                    Severity::TypeName,
                )
                .with_targets(&dest)
            })
        }
        "docker" | "podman" | "nerdctl" => docker(rest),
        "curl" => {
            let out = opt_value(rest, &["-o"], &["output"]);
            let remote_name = has_flag(rest, 'O', &["remote-name", "remote-name-all"]);
            match out {
                Some(o) if o.text != "-" && o.text != "/dev/null" => {
                    onto_existing("`curl -o` onto an existing file replaces it", &[o], scope)
                }
                _ if remote_name => Some(Finding::new(
                    "`curl -O` writes a file named by the server (it may replace one)",
                    Severity::YesNo,
                )),
                _ => None,
            }
        }
        "wget" => {
            let out = opt_value(rest, &["-O"], &["output-document"]);
            let log = opt_value(rest, &["-o"], &["output-file"]);
            let mut files: Vec<Arg> =
                out.into_iter().chain(log).filter(|o| o.text != "-").collect();
            if has_flag(rest, 'N', &["timestamping"]) {
                files.extend(operands(rest, &[]).iter().map(|u| Arg::lit(basename(&u.text))));
            }
            onto_existing("`wget -O` onto an existing file replaces it", &files, scope)
        }
        "sort" | "gsort" => {
            let out = opt_value(rest, &["-o"], &["output"]);
            onto_existing(
                "`sort -o` onto an existing file replaces it",
                &out.into_iter().collect::<Vec<_>>(),
                scope,
            )
        }
        "uniq" => {
            let ops = operands(
                rest,
                &["-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"],
            );
            onto_existing(
                "`uniq IN OUT` replaces OUT",
                &ops.get(1).cloned().into_iter().collect::<Vec<_>>(),
                scope,
            )
        }
        "sed" | "gsed" => {
            let in_place = rest.iter().take_while(|a| a.text != "--").any(|a| {
                a.text.starts_with("--in-place")
                    || (a.text.starts_with('-')
                        && !a.text.starts_with("--")
                        && a.text[1..].starts_with(|c: char| c.is_ascii_alphabetic())
                        && a.text[1..].contains('i'))
            });
            let ops = operands(rest, &["-f", "--file", "-l"]);
            let scripts: Vec<&str> = match opt_value(rest, &["-e"], &["expression"]) {
                Some(_) => rest
                    .windows(2)
                    .filter(|w| w[0].text == "-e" || w[0].text == "--expression")
                    .map(|w| w[1].text.as_str())
                    .collect(),
                None => ops.first().map(|a| a.text.as_str()).into_iter().collect(),
            };
            let script_runs = rest.iter().any(|a| a.text == "-f" || a.text.starts_with("--file"))
                || scripts.iter().any(|s| sed_runs_or_writes(s));
            if script_runs {
                return Some(Finding::new(
                    "the `sed` script runs commands or writes files",
                    Severity::YesNo,
                ));
            }
            in_place.then(|| {
                let files: Vec<Arg> = operands(rest, &["-e", "-f", "--expression", "--file", "-l"])
                    .into_iter()
                    .skip(usize::from(
                        !rest.iter().any(|a| a.text == "-e" || a.text.starts_with("--expression")),
                    ))
                    .collect();
                Finding::new("`sed -i` rewrites files in place", Severity::YesNo)
                    .with_targets(&files)
            })
        }
        "qemu-io" => {
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
                Finding::new("`qemu-io` writes into a disk image", Severity::TypeName)
                    .with_targets(&image),
            )
        }
        "debugfs" => has_flag(rest, 'w', &[]).then(|| {
            let dev = operands(rest, &["-R", "-f", "-b", "-s", "-d", "-z"]);
            Finding::new("`debugfs -w` edits a filesystem in place", Severity::TypeName)
                .with_targets(&dev)
        }),
        "unzip" => has_flag(rest, 'o', &[]).then(|| {
            Finding::new("`unzip -o` replaces existing files without asking", Severity::YesNo)
        }),
        "patch" | "gpatch" => {
            let dry = has_flag(rest, '\u{0}', &["dry-run"]);
            (!dry).then(|| Finding::new("`patch` rewrites files in place", Severity::YesNo))
        }
        "wipe" => Some(
            Finding::new("`wipe` overwrites and deletes files", Severity::TypeName)
                .with(&operands(rest, &[]), Effect::Unlink { tree: true }),
        ),
        "killall" | "pkill" => Some(
            Finding::new(
                format!("`{prog}` kills processes by name (a VM's unsaved state is lost)"),
                Severity::YesNo,
            )
            .with(
                &operands(rest, &["-s", "-u", "-g", "-t", "-U", "-G", "-P", "--signal", "--user"]),
                Effect::Name,
            ),
        ),
        "utmctl" => {
            let sub = operands(rest, &[]);
            (sub.first().map(|a| a.text.as_str()) == Some("delete")).then(|| {
                Finding::new("`utmctl delete` deletes a VM and its disks", Severity::TypeName)
                    .with(&sub[1..], Effect::Name)
            })
        }
        _ => None,
    }
}

fn rm(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let recursive = has_flag(rest, 'r', &["recursive"]) || has_flag(rest, 'R', &[]);
    let force = has_flag(rest, 'f', &["force", "no-preserve-root"]);
    // `-i`/`-I` make rm ask for itself on its stdin — which helix leaves empty; stdin fed to
    // it (or a pipe) answers for it. The last of `-i`/`-f` wins, as in rm.
    if last_is_interactive(rest)
        && !rest.iter().any(|a| a.text == "--no-preserve-root")
        && scope.stdin.is_none()
        && !scope.piped
    {
        return None;
    }
    let targets = operands(rest, &[]);
    let f = if recursive {
        Finding::new("recursive delete (`rm -r`)", Severity::TypeName)
    } else if force {
        Finding::new("forced delete (`rm -f`)", Severity::YesNo)
    } else {
        Finding::new("delete (`rm`)", Severity::YesNo)
    };
    Some(f.with(&targets, Effect::Unlink { tree: recursive }))
}

fn last_is_interactive(rest: &[Arg]) -> bool {
    let mut last = None;
    for a in rest.iter().take_while(|a| a.text != "--") {
        let t = a.text.as_str();
        if t == "--force" {
            last = Some(false);
        } else if t == "--interactive" || t.starts_with("--interactive=") && !t.ends_with("=never")
        {
            last = Some(true);
        } else if t.starts_with('-') && !t.starts_with("--") {
            for c in t[1..].chars() {
                match c {
                    'i' | 'I' => last = Some(true),
                    'f' => last = Some(false),
                    _ => {}
                }
            }
        }
    }
    last == Some(true)
}

fn find(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    // Start points: the operands before the first expression word.
    let starts: Vec<Arg> = rest
        .iter()
        .skip_while(|a| {
            matches!(a.text.as_str(), "-H" | "-L" | "-P")
                || a.text.starts_with("-O")
                || a.text.starts_with("-D")
        })
        .take_while(|a| !a.text.starts_with('-') && a.text != "(" && a.text != "!")
        .cloned()
        .collect();
    let starts = if starts.is_empty() { vec![Arg::lit(".")] } else { starts };
    let mut found: Option<Finding> = None;
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i].text.as_str();
        if t == "-delete" {
            let f = Finding::new(
                "`find -delete` deletes every match (recursively)",
                Severity::TypeName,
            )
            .with(&starts, Effect::Unlink { tree: true });
            found = Some(match found {
                Some(g) => g.merge(f),
                None => f,
            });
        } else if matches!(t, "-exec" | "-execdir" | "-ok" | "-okdir") {
            let end = rest[i + 1..]
                .iter()
                .position(|a| a.text == ";" || a.text == "+")
                .map(|p| i + 1 + p)
                .unwrap_or(rest.len());
            let cmd: Vec<Arg> = rest[i + 1..end]
                .iter()
                .map(|a| if a.text.contains("{}") { Arg::unknown(&a.text) } else { a.clone() })
                .collect();
            if let Some(mut f) = scope.deeper().map_or(Some(too_deep()), |e| analyze(&cmd, &e)) {
                // What `{}` stands for: every match under the start points.
                f.hits.retain(|h| !h.written.contains("{}"));
                let mut f = f.with(&starts, Effect::Unlink { tree: true });
                f.why = format!("{} for every match of `find`", f.why);
                f.severity = Severity::TypeName;
                found = Some(match found {
                    Some(g) => g.merge(f),
                    None => f,
                });
            }
            i = end;
        } else if matches!(t, "-fprint" | "-fprint0" | "-fprintf" | "-fls")
            && let Some(f) = rest.get(i + 1).and_then(|o| {
                onto_existing(
                    "`find -fprint` onto an existing file replaces it",
                    std::slice::from_ref(o),
                    scope,
                )
            })
        {
            {
                found = Some(match found {
                    Some(g) => g.merge(f),
                    None => f,
                });
            }
        }
        i += 1;
    }
    found
}

fn zpool(rest: &[Arg]) -> Option<Finding> {
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

fn diskutil(rest: &[Arg]) -> Option<Finding> {
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

fn qemu_img(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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

/// The sources and destination of `mv`/`cp`/`install` (`-t DIR` or the last operand), and
/// whether the destination is taken as the target itself (`-T`).
pub fn sources_and_dest(rest: &[Arg]) -> Option<(Vec<Arg>, Arg, bool)> {
    let with_arg = [
        "-t",
        "--target-directory",
        "-S",
        "--suffix",
        "--backup",
        "-m",
        "--mode",
        "-o",
        "--owner",
        "-g",
        "--group",
    ];
    let ops = operands(rest, &with_arg);
    let no_target_dir = has_flag(rest, 'T', &["no-target-directory"]);
    match opt_value(rest, &["-t"], &["target-directory"]) {
        Some(d) => Some((ops, d, false)),
        None => {
            let (last, srcs) = ops.split_last()?;
            (!srcs.is_empty()).then(|| (srcs.to_vec(), last.clone(), no_target_dir))
        }
    }
}

/// `mv`/`cp`/`install`: onto an existing path replaces it; `mv` also takes its sources away,
/// which helix cannot undo for a command (`fs::move` can).
fn mv_cp(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let cmd = if prog.ends_with("mv") {
        "mv"
    } else if prog == "install" || prog == "ginstall" {
        "install"
    } else {
        "cp"
    };
    if cmd == "install" && has_flag(rest, 'd', &["directory"]) {
        return None;
    }
    // `-n` never replaces; `-i` asks on stdin, which helix leaves empty (so it answers no).
    let asks = has_flag(rest, 'i', &["interactive"])
        && !has_flag(rest, 'f', &["force"])
        && scope.stdin.is_none()
        && !scope.piped;
    let no_clobber =
        has_flag(rest, 'n', &["no-clobber"]) || rest.iter().any(|a| a.text == "--update=none");
    let (sources, dest, as_target) = sources_and_dest(rest)?;
    let mut found: Option<Finding> = None;
    if cmd == "mv" {
        let away: Vec<Arg> =
            sources.iter().filter(|s| s.dynamic || exists(scope, &s.text)).cloned().collect();
        if !away.is_empty() {
            found = Some(
                Finding::new("`mv` moves an existing path away", Severity::YesNo)
                    .with(&away, Effect::MoveAway),
            );
        }
    }
    if asks || no_clobber {
        return found;
    }
    let mut over = vec![];
    if dest.dynamic {
        over.push(dest.clone());
    } else if !as_target && is_dir(scope, &dest.text) {
        for s in &sources {
            let name = basename(s.text.trim_end_matches('/'));
            let inside = format!("{}/{}", dest.text.trim_end_matches('/'), name);
            if s.dynamic {
                over.push(Arg::unknown(&inside));
            } else if exists(scope, &inside) {
                over.push(Arg::lit(&inside));
            }
        }
    } else if exists(scope, &dest.text) && !(cmd != "mv" && is_harmless_device(&dest.text)) {
        over.push(dest.clone());
    }
    if !over.is_empty() {
        let f = Finding::new(format!("`{cmd}` onto an existing path replaces it"), Severity::YesNo)
            .with(&over, if cmd == "mv" { Effect::Unlink { tree: true } } else { Effect::Write });
        found = Some(match found {
            Some(g) => g.merge(f),
            None => f,
        });
    }
    found
}

fn ln(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if !has_flag(rest, 'f', &["force"]) {
        return None;
    }
    let ops = operands(rest, &["-t", "--target-directory", "-S", "--suffix"]);
    let dest =
        if ops.len() >= 2 { ops.last()?.clone() } else { Arg::lit(basename(&ops.first()?.text)) };
    let replaces = dest.dynamic
        || (exists(scope, &dest.text) && !is_dir(scope, &dest.text))
        || scope.is_remote();
    replaces.then(|| {
        Finding::new("`ln -f` replaces an existing path", Severity::YesNo).with_targets(&[dest])
    })
}

fn docker(rest: &[Arg]) -> Option<Finding> {
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

/// A `sed` script with an `e` command, a `w FILE` command, or an `s` command with the `e`/`w`
/// flag (GNU sed runs the pattern space as a command, or writes a file).
fn sed_runs_or_writes(script: &str) -> bool {
    script.split([';', '\n']).any(|cmd| {
        let t = cmd
            .trim()
            .trim_start_matches(|c: char| c.is_ascii_digit() || matches!(c, '$' | ',' | '!' | ' '));
        let mut chars = t.chars();
        match chars.next() {
            Some('e') | Some('w') | Some('W') => matches!(chars.next(), None | Some(' ')),
            Some('s') => {
                let Some(delim) = chars.next() else { return false };
                let parts: Vec<&str> = t[1 + delim.len_utf8()..].split(delim).collect();
                parts.len() >= 3 && parts[2].contains(['e', 'w'])
            }
            _ => false,
        }
    })
}

/// A rule that fires on those of `files` that exist now (or may: only known at run time).
fn onto_existing(why: &str, files: &[Arg], scope: &Scope) -> Option<Finding> {
    let over: Vec<Arg> = files
        .iter()
        .filter(|f| f.dynamic || (exists(scope, &f.text) && !is_harmless_device(&f.text)))
        .cloned()
        .collect();
    (!over.is_empty()).then(|| Finding::new(why, Severity::YesNo).with_targets(&over))
}

/// `tar --remove-files` deletes what it archives; `tar -x` into a directory that has files may
/// replace them (unless `-k`/`--skip-old-files`); `--overwrite`/`--unlink-first` say so.
fn tar(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if rest.iter().any(|a| a.text == "--remove-files") {
        return Some(
            Finding::new("`tar --remove-files` deletes what it archives", Severity::YesNo).with(
                &operands(rest, &["-f", "-C", "--file", "--directory", "-T", "-X"]),
                Effect::Unlink { tree: true },
            ),
        );
    }
    let first = rest.first().map(|a| a.text.as_str()).unwrap_or("");
    let bundled = !first.starts_with('-') && first.contains('x');
    let extract = bundled || has_flag(rest, 'x', &["extract", "get"]);
    if !extract {
        return None;
    }
    if has_flag(rest, 'k', &["keep-old-files", "skip-old-files", "keep-newer-files"])
        || rest.iter().any(|a| a.text == "--to-stdout" || a.text == "-O")
    {
        return None;
    }
    let forced = rest.iter().any(|a| {
        matches!(
            a.text.as_str(),
            "--overwrite" | "--unlink-first" | "-U" | "--recursive-unlink" | "--overwrite-dir"
        )
    });
    if let Some(cmd) = rest.iter().find(|a| {
        a.text.starts_with("--to-command")
            || a.text.starts_with("--use-compress-program")
            || a.text == "-I"
            || a.text.starts_with("--checkpoint-action")
    }) {
        return Some(Finding::new(format!("`tar {}` runs a command", cmd.text), Severity::YesNo));
    }
    let dir = opt_value(rest, &["-C"], &["directory"]).unwrap_or_else(|| Arg::lit("."));
    let occupied = dir.dynamic || scope.non_empty_dir(&dir.text);
    (forced || occupied).then(|| {
        Finding::new("`tar -x` into a directory with files in it may replace them", Severity::YesNo)
            .with_targets(&[dir])
    })
}
