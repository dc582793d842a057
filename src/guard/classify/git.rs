//! `git`: subcommands that discard uncommitted work or history (`reset --hard`, `clean -f`,
//! `checkout <path>`, `switch -f`, `restore`, `read-tree -u`, `stash drop`, `push --force`, …),
//! long options also as the unique prefixes git accepts (`reset --har`, `clean --for`), and
//! configuration that makes git run a command (`-c alias.x='!…'`, `core.fsmonitor`,
//! `core.sshCommand`, `core.hooksPath`, filters, `ext::` URLs, `--upload-pack`).

use super::finding::{Effect, Finding, Severity};
use super::state::Scope;
use super::words::{Arg, has_flag, has_long, long_matches, operands};

/// Whether setting `key` to `value` makes git run a command.
fn runs_code(key: &str, value: &str) -> bool {
    let k = key.to_ascii_lowercase();
    if k.starts_with("alias.") {
        return value.trim_start().starts_with('!');
    }
    const EXACT: &[&str] = &[
        "core.fsmonitor",
        "core.sshcommand",
        "core.hookspath",
        "core.pager",
        "core.editor",
        "core.askpass",
        "core.gitproxy",
        "core.worktree",
        "sequence.editor",
        "diff.external",
        "credential.helper",
        "gpg.program",
        "uploadpack.packobjectshook",
        "protocol.allow",
        "protocol.ext.allow",
        "include.path",
        "interactive.difffilter",
        "web.browser",
        "ssh.variant",
    ];
    const SUFFIX: &[&str] = &[
        ".command",
        ".textconv",
        ".driver",
        ".clean",
        ".smudge",
        ".process",
        ".cmd",
        ".program",
        ".helper",
        ".uploadpack",
        ".receivepack",
        ".path",
        ".proxy",
    ];
    EXACT.contains(&k.as_str())
        || SUFFIX.iter().any(|s| k.ends_with(s))
        || k.starts_with("includeif.")
        || k.starts_with("pager.")
}

fn code(what: String) -> Option<Finding> {
    Some(Finding::new(what, Severity::YesNo))
}

pub(super) fn git(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    // Global options before the subcommand.
    let mut i = 0;
    let mut dir: Option<Arg> = None;
    let mut scope = scope.clone();
    while i < rest.len() {
        let t = rest[i].text.as_str();
        if t == "-c" || t == "--config-env" {
            let kv = rest.get(i + 1).map(|a| a.text.clone()).unwrap_or_default();
            let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
            if t == "--config-env" || runs_code(k, v) {
                return code(format!("`git -c {k}` makes git run a command helix cannot see"));
            }
            i += 2;
        } else if let Some(kv) = t.strip_prefix("--config-env=") {
            return code(format!("`git --config-env={kv}` makes git run what a variable says"));
        } else if matches!(
            t,
            "-C" | "--git-dir" | "--work-tree" | "--namespace" | "--exec-path" | "--super-prefix"
        ) {
            if t == "-C" {
                if let Some(d) = rest.get(i + 1) {
                    scope.cwd = if d.dynamic { None } else { scope.absolute(&d.text) };
                    dir = Some(d.clone());
                }
            } else if t == "--exec-path" {
                return code("`git --exec-path` runs git commands from another directory".into());
            }
            i += 2;
        } else if t.starts_with("--exec-path=") {
            return code("`git --exec-path` runs git commands from another directory".into());
        } else if t.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let sub = rest.get(i)?.text.as_str();
    let args = &rest[i + 1..];
    let worktree: Vec<Arg> = vec![dir.unwrap_or_else(|| Arg::lit("."))];
    let has = |s: &str| args.iter().any(|a| a.text == s);
    let discard = |why: &str| {
        Some(Finding::new(why.to_string(), Severity::YesNo).with(&worktree, Effect::Write))
    };
    // Options that name a program to run, in any subcommand.
    for a in args {
        let t = a.text.as_str();
        let name = t.strip_prefix("--").map(|l| l.split('=').next().unwrap_or(l));
        if let Some(n) = name
            && ["upload-pack", "receive-pack", "exec", "ext-diff"]
                .iter()
                .any(|o| long_matches(n, o))
        {
            return code(format!("`git {sub} {t}` runs a program helix cannot see"));
        }
        if a.text.starts_with("ext::") || a.text.contains("::ext::") {
            return code(format!("`git {sub}` with an `ext::` URL runs a command"));
        }
    }
    match sub {
        "clean" => {
            let force = has_flag(args, 'f', &["force"]);
            let dry = has_flag(args, 'n', &["dry-run"]);
            (force && !dry).then(|| {
                Finding::new(
                    "`git clean -f` deletes untracked files",
                    if has_flag(args, 'd', &[]) || has_flag(args, 'x', &[]) {
                        Severity::TypeName
                    } else {
                        Severity::YesNo
                    },
                )
                .with(&worktree, Effect::Write)
            })
        }
        "reset" if has_long(args, "hard") => {
            discard("`git reset --hard` discards uncommitted changes")
        }
        "checkout" | "co" => {
            let forced = has("--")
                || has(".")
                || has_flag(args, 'f', &["force"])
                || has_long(args, "ours")
                || has_long(args, "theirs")
                || has_flag(args, 'p', &["patch"])
                || has_long(args, "pathspec-from-file");
            // `git checkout <path>` (a file or directory that exists) overwrites it.
            let ops = operands(args, &["-b", "-B", "--orphan", "--conflict"]);
            let paths: Vec<Arg> = ops
                .iter()
                .filter(|a| {
                    a.dynamic || a.text.starts_with(':') || scope.exists(&a.text) == Some(true)
                })
                .cloned()
                .collect();
            (forced || !paths.is_empty()).then(|| {
                Finding::new(
                    "`git checkout` over files discards their uncommitted changes",
                    Severity::YesNo,
                )
                .with(&worktree, Effect::Write)
            })
        }
        "switch" if has_flag(args, 'f', &["force", "discard-changes"]) => {
            discard("`git switch -f` discards uncommitted changes")
        }
        "read-tree" if has_flag(args, 'u', &[]) || has_long(args, "reset") => {
            discard("`git read-tree -u` overwrites the worktree")
        }
        "checkout-index" if has_flag(args, 'f', &["force"]) => {
            discard("`git checkout-index -f` overwrites files in the worktree")
        }
        "restore" => {
            let staged_only = has_flag(args, 'S', &["staged"]);
            let worktree_too = has_flag(args, 'W', &["worktree"]);
            (!staged_only || worktree_too)
                .then(|| discard("`git restore` discards uncommitted changes"))
                .flatten()
        }
        "stash" => matches!(args.first().map(|a| a.text.as_str()), Some("drop" | "clear"))
            .then(|| discard("`git stash drop/clear` deletes stashed changes"))
            .flatten(),
        "branch" => (has_flag(args, 'D', &[])
            || (has_flag(args, 'd', &["delete"]) && has_flag(args, 'f', &["force"])))
        .then(|| discard("`git branch -D` deletes an unmerged branch"))
        .flatten(),
        "push" => {
            (has_flag(args, 'f', &["force", "force-with-lease", "mirror", "delete", "prune"])
                || args.iter().any(|a| a.text.starts_with('+') || a.text.starts_with(':')))
            .then(|| discard("`git push --force` overwrites remote history"))
            .flatten()
        }
        "worktree" => matches!(args.first().map(|a| a.text.as_str()), Some("remove" | "prune"))
            .then(|| {
                Finding::new("`git worktree remove` deletes a worktree", Severity::TypeName)
                    .with(&operands(&args[1..], &[]), Effect::Unlink { tree: true })
            }),
        "rm" if has_flag(args, 'f', &["force"]) => Some(
            Finding::new(
                "`git rm -f` deletes files with their uncommitted changes",
                Severity::YesNo,
            )
            .with(&operands(args, &[]), Effect::Unlink { tree: has_flag(args, 'r', &[]) }),
        ),
        "reflog" if args.first().is_some_and(|a| a.text == "expire" || a.text == "delete") => {
            discard("`git reflog expire/delete` drops the history that recovers lost commits")
        }
        "gc" | "prune"
            if args.iter().any(|a| a.text.starts_with("--prune") || a.text == "now")
                || sub == "prune" =>
        {
            discard("`git prune` deletes unreachable commits for good")
        }
        "update-ref" if has_flag(args, 'd', &[]) => discard("`git update-ref -d` deletes a ref"),
        "filter-branch" | "filter-repo" => {
            code(format!("`git {sub}` rewrites history with commands"))
        }
        "config" => {
            let ops = operands(args, &["--file", "-f", "--blob", "--type", "--default"]);
            match ops.as_slice() {
                [k, v, ..] if runs_code(&k.text, &v.text) || v.dynamic => {
                    code(format!("`git config {}` makes later git commands run a command", k.text))
                }
                _ => None,
            }
        }
        "submodule" if args.iter().any(|a| a.text == "foreach") => {
            let pos = args.iter().position(|a| a.text == "foreach").unwrap_or(0);
            let script: Vec<&str> = args[pos + 1..]
                .iter()
                .filter(|a| a.text != "--recursive" && a.text != "-q" && a.text != "--quiet")
                .map(|a| a.text.as_str())
                .collect();
            super::shell::sub_script(&Arg::lit(&script.join(" ")), &scope)
        }
        "rebase" if args.iter().any(|a| a.text == "-x" || a.text.starts_with("--exec")) => {
            code("`git rebase --exec` runs a command at every commit".into())
        }
        "bisect" if args.first().is_some_and(|a| a.text == "run") => {
            code("`git bisect run` runs a command".into())
        }
        "difftool" | "mergetool" => code(format!("`git {sub}` runs an external tool")),
        _ => None,
    }
}
