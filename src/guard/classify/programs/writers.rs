//! Rules for the tools that write an output file or tree as a side job: downloads (`curl -o`,
//! `wget -O`), filters with an output option (`sort -o`, `uniq IN OUT`, `sed -i` and its `w`/`e`
//! commands), unpackers (`tar -x`, `unzip -o`, `patch`) and `rsync --delete`.

use super::onto_existing;
use crate::guard::classify::finding::{Effect, Finding, Severity};
use crate::guard::classify::state::Scope;
use crate::guard::classify::words::{Arg, basename, has_flag, operands, opt_value};

pub(super) fn rsync(rest: &[Arg]) -> Option<Finding> {
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
        a.text.starts_with("--delete") || a.text == "--del" || a.text == "--remove-source-files"
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
        Finding::new("`rsync --delete` deletes files in the destination", Severity::TypeName)
            .with_targets(&dest)
    })
}

pub(super) fn curl(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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

pub(super) fn wget(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let out = opt_value(rest, &["-O"], &["output-document"]);
    let log = opt_value(rest, &["-o"], &["output-file"]);
    let mut files: Vec<Arg> = out.into_iter().chain(log).filter(|o| o.text != "-").collect();
    if has_flag(rest, 'N', &["timestamping"]) {
        files.extend(operands(rest, &[]).iter().map(|u| Arg::lit(basename(&u.text))));
    }
    onto_existing("`wget -O` onto an existing file replaces it", &files, scope)
}

pub(super) fn sort(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let out = opt_value(rest, &["-o"], &["output"]);
    onto_existing(
        "`sort -o` onto an existing file replaces it",
        &out.into_iter().collect::<Vec<_>>(),
        scope,
    )
}

pub(super) fn uniq(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    let ops = operands(rest, &["-f", "-s", "-w", "--skip-fields", "--skip-chars", "--check-chars"]);
    onto_existing(
        "`uniq IN OUT` replaces OUT",
        &ops.get(1).cloned().into_iter().collect::<Vec<_>>(),
        scope,
    )
}

pub(super) fn sed(rest: &[Arg]) -> Option<Finding> {
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
        Finding::new("`sed -i` rewrites files in place", Severity::YesNo).with_targets(&files)
    })
}

pub(super) fn unzip(rest: &[Arg]) -> Option<Finding> {
    has_flag(rest, 'o', &[])
        .then(|| Finding::new("`unzip -o` replaces existing files without asking", Severity::YesNo))
}

pub(super) fn patch(rest: &[Arg]) -> Option<Finding> {
    let dry = has_flag(rest, '\u{0}', &["dry-run"]);
    (!dry).then(|| Finding::new("`patch` rewrites files in place", Severity::YesNo))
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

/// `tar --remove-files` deletes what it archives; `tar -x` into a directory that has files may
/// replace them (unless `-k`/`--skip-old-files`); `--overwrite`/`--unlink-first` say so.
pub(super) fn tar(rest: &[Arg], scope: &Scope) -> Option<Finding> {
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
