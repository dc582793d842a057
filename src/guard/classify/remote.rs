//! `ssh` and its relatives: the remote command (and a script fed on stdin to a remote shell) is
//! classified with remote-side rules — paths are the remote shell's, nothing is checked against
//! the local filesystem, and "onto an existing path" rules only fire where the script itself
//! shows the path exists. Options that run a local command (`ProxyCommand`, `LocalCommand`,
//! `KnownHostsCommand`, a config file `-F` helix does not read) count as destructive here.

use super::finding::{Finding, Severity};
use super::state::Scope;
use super::words::{Arg, skip_opts};
use super::{shell, too_deep};

/// ssh options that take a value in the next word.
const WITH_ARG: &[&str] = &[
    "-p", "-i", "-l", "-o", "-F", "-J", "-L", "-R", "-D", "-b", "-c", "-E", "-e", "-m", "-O", "-Q",
    "-S", "-W", "-w", "-B", "-I", "-P",
];

/// `-o` options whose value is a command run on this machine.
const LOCAL_COMMANDS: &[&str] =
    &["proxycommand", "localcommand", "permitlocalcommand", "knownhostscommand", "remotecommand"];

/// The `-o` settings of an ssh/scp/sftp argv: `(key lowercased, value)`.
fn options(rest: &[Arg]) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut i = 0;
    while i < rest.len() {
        let t = rest[i].text.as_str();
        if !t.starts_with('-') || t == "--" {
            break;
        }
        let value = if t == "-o" {
            i += 1;
            rest.get(i).map(|a| a.text.clone())
        } else {
            t.strip_prefix("-o").filter(|v| !v.is_empty()).map(str::to_string)
        };
        if let Some(v) = value {
            let (k, v) = match v.split_once(['=', ' ', '\t']) {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
                None => (v.to_ascii_lowercase(), String::new()),
            };
            out.push((k, v));
        } else if WITH_ARG.contains(&t) {
            i += 1;
        }
        i += 1;
    }
    out
}

/// Local-command options (`ProxyCommand=…`) and config files: destructive.
fn local_code(prog: &str, rest: &[Arg]) -> Option<Finding> {
    for (k, v) in options(rest) {
        if LOCAL_COMMANDS.contains(&k.as_str()) && !(k == "permitlocalcommand" && v == "no") {
            return Some(Finding::new(
                format!(
                    "`{prog} -o {k}` runs a command on this machine (helix cannot see what it does)"
                ),
                Severity::YesNo,
            ));
        }
    }
    let config =
        rest.windows(2).find(|w| w[0].text == "-F").map(|w| w[1].text.clone()).or_else(|| {
            rest.iter().find_map(|a| {
                a.text.strip_prefix("-F").filter(|v| !v.is_empty()).map(str::to_string)
            })
        });
    if let Some(f) = config
        && f != "/dev/null"
        && f != "none"
    {
        return Some(Finding::new(
            format!("`{prog} -F {f}` reads a config file that may run local commands"),
            Severity::YesNo,
        ));
    }
    None
}

pub(super) fn ssh(rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if let Some(f) = local_code("ssh", rest) {
        return Some(f);
    }
    let r = skip_opts(rest, WITH_ARG, true);
    let (host, cmd) = r.split_first()?;
    let Some(inner) = scope.deeper() else { return Some(too_deep()) };
    let mut remote = Scope::remote(&host.text);
    remote.depth = inner.depth;
    remote.stdin = scope.stdin.clone();
    remote.piped = scope.piped;
    let script = if cmd.is_empty() {
        // No command: the remote login shell runs whatever comes on stdin.
        if scope.piped {
            return Some(Finding::new(
                format!("a remote shell on `{}` reading commands from a pipe", host.text),
                Severity::YesNo,
            ));
        }
        let s = scope.stdin.clone()?;
        remote.stdin = None;
        Arg::lit(&s)
    } else if cmd.iter().any(|a| a.dynamic) {
        return Some(Finding::new(
            format!("a command on `{}` only known at run time", host.text),
            Severity::YesNo,
        ));
    } else {
        // ssh joins its arguments with spaces into one remote shell line.
        Arg::lit(&cmd.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join(" "))
    };
    let mut f = shell::script(&script.text, &remote)?;
    f.why = format!("{} on `{}`", f.why, host.text);
    f.host = Some(host.text.clone());
    Some(f)
}

/// `scp`/`sftp`: local-command options; `sftp -b` batch files and stdin are commands.
pub(super) fn scp(prog: &str, rest: &[Arg], scope: &Scope) -> Option<Finding> {
    if let Some(f) = local_code(prog, rest) {
        return Some(f);
    }
    if rest.iter().any(|a| a.text == "-S") {
        return Some(Finding::new(
            format!("`{prog} -S` runs another program as ssh"),
            Severity::YesNo,
        ));
    }
    if prog == "sftp" && (rest.iter().any(|a| a.text.starts_with("-b")) || scope.stdin.is_some()) {
        return Some(Finding::new("`sftp` runs a batch of remote file commands", Severity::YesNo));
    }
    // scp onto an existing local file replaces it.
    let ops = super::words::operands(rest, WITH_ARG);
    let dest = ops.last()?;
    if ops.len() >= 2
        && !dest.text.contains(':')
        && scope.exists(&dest.text) == Some(true)
        && scope.is_dir(&dest.text) != Some(true)
    {
        return Some(
            Finding::new("`scp` onto an existing file replaces it", Severity::YesNo)
                .with_targets(std::slice::from_ref(dest)),
        );
    }
    None
}
