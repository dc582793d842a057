//! Rules for the file tools: deleting (`rm`, `rmdir`, `unlink`, `shred`, `wipe`, `find
//! -delete`/`-exec`), cutting (`truncate`) and replacing (`mv`/`cp`/`install` onto, or `mv` away
//! from, an existing path; `ln -f`; `tee`).

use super::{exists, is_dir, onto_existing};
use crate::guard::classify::finding::{Effect, Finding, Severity};
use crate::guard::classify::shell::is_harmless_device;
use crate::guard::classify::state::Scope;
use crate::guard::classify::words::{Arg, basename, has_flag, operands, opt_value};
use crate::guard::classify::{analyze, too_deep};

pub(super) fn srm(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`srm` securely deletes files", Severity::TypeName)
            .with(&operands(rest, &[]), Effect::Unlink { tree: true }),
    )
}

pub(super) fn rmdir(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`rmdir` deletes directories", Severity::YesNo)
            .with(&operands(rest, &[]), Effect::Unlink { tree: false }),
    )
}

pub(super) fn unlink(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`unlink` deletes a file", Severity::YesNo)
            .with(&operands(rest, &[]), Effect::Unlink { tree: false }),
    )
}

pub(super) fn shred(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`shred` overwrites and destroys files", Severity::TypeName).with_targets(
            &operands(rest, &["-n", "-s", "--iterations", "--size", "--random-source"]),
        ),
    )
}

/// `truncate`: a new file is only created; an existing one (through links) is cut.
pub(super) fn truncate(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    onto_existing(
        "`truncate` cuts an existing file to a size",
        &operands(rest, &["-s", "-r", "--size", "--reference"]),
        scope,
    )
}

pub(super) fn tee(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if rest.iter().any(|a| a.text == "-a" || a.text == "--append") {
        return None;
    }
    let ops = operands(rest, &[]);
    let over: Vec<Arg> = ops
        .into_iter()
        .filter(|a| a.dynamic || (exists(scope, &a.text) && !is_harmless_device(&a.text)))
        .collect();
    (!over.is_empty()).then(|| {
        Finding::new("`tee` overwrites an existing file", Severity::YesNo).with_targets(&over)
    })
}

pub(super) fn wipe(rest: &[Arg]) -> Option<Finding> {
    Some(
        Finding::new("`wipe` overwrites and deletes files", Severity::TypeName)
            .with(&operands(rest, &[]), Effect::Unlink { tree: true }),
    )
}

pub(super) fn rm(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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

pub(super) fn find(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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

/// The sources and destination of `mv`/`cp`/`install` (`-t DIR` or the last operand), and
/// whether the destination is taken as the target itself (`-T`).
pub(crate) fn sources_and_dest(rest: &[Arg]) -> Option<(Vec<Arg>, Arg, bool)> {
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
pub(super) fn mv_cp(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
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

pub(super) fn ln(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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
