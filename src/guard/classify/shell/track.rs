//! What a command that ran leaves behind for the rest of the script: `cd`, variables the
//! builtins set or unset, links made, files created or removed, paths a `test` found absent;
//! and the builtins that change what later words mean (`alias`, `eval`, `source`, `trap`, …).

use super::{Walker, script};
use crate::guard::classify::finding::{Finding, Severity};
use crate::guard::classify::state::{Scope, Val};
use crate::guard::classify::words::{
    Arg, basename, has_flag, is_assignment, operands, opt_value, skip_opts,
};
use crate::guard::classify::{environment, programs, too_deep};

/// `test -e P`, `[ -f P ]`, `test -d P`: the path it asks about.
pub(super) fn existence_test(words: &[Arg]) -> Option<String> {
    let w: Vec<&str> = words.iter().map(|a| a.text.as_str()).collect();
    match w.as_slice() {
        ["test", op, p] | ["[", op, p, "]"] | ["[[", op, p, "]]"]
            if matches!(*op, "-e" | "-f" | "-d" | "-s" | "-L" | "-h") =>
        {
            Some(p.to_string())
        }
        _ => None,
    }
}

impl Walker {
    /// Shell builtins that change what later commands mean.
    pub(super) fn builtin(&mut self, words: &[Arg]) -> Option<Option<Finding>> {
        let name = words[0].text.as_str();
        let rest = &words[1..];
        Some(match name {
            "alias" if !rest.is_empty() && rest.iter().any(|a| a.text.contains('=')) => {
                Some(Finding::new("`alias` changes what later command names run", Severity::YesNo))
            }
            "trap" => {
                let ops = operands(rest, &[]);
                match ops.first() {
                    // The handler runs in this shell, with its variables, when the signal comes.
                    Some(h) if h.dynamic => Some(Finding::new(
                        "a `trap` handler only known at run time",
                        Severity::YesNo,
                    )),
                    Some(h) if h.text != "-" && !h.text.is_empty() && ops.len() >= 2 => {
                        match self.scope.deeper() {
                            Some(inner) => {
                                script(&h.text, &Scope { vars: self.scope.vars.clone(), ..inner })
                            }
                            None => Some(too_deep()),
                        }
                    }
                    _ => None,
                }
            }
            "export" | "local" | "declare" | "typeset" | "readonly" => {
                for a in rest.iter().filter(|a| is_assignment(&a.text)) {
                    let (k, v) = a.text.split_once('=').unwrap_or_default();
                    let val = if a.own {
                        Val::Created
                    } else if a.dynamic {
                        Val::Unknown
                    } else {
                        Val::Words(vec![v.to_string()])
                    };
                    if let Some(f) = environment::check(k) {
                        self.add(Some(f));
                    }
                    if name == "export" {
                        self.scope.env.insert(k.to_string(), v.to_string());
                    }
                    self.scope.vars.insert(k.to_string(), val);
                }
                None
            }
            "unset" => {
                for a in operands(rest, &[]) {
                    self.scope.vars.insert(a.text.clone(), Val::Words(vec![String::new()]));
                    self.scope.env.remove(&a.text);
                }
                None
            }
            "read" | "mapfile" | "readarray" | "getopts" => {
                for a in operands(rest, &["-d", "-n", "-N", "-p", "-t", "-u", "-a"]) {
                    self.scope.vars.insert(a.text.clone(), Val::Unknown);
                }
                None
            }
            "cd" | "pushd" | "popd" | "set" | "shift" | "exit" | "return" | "true" | ":" => None,
            _ => return None,
        })
    }

    /// What a command that ran leaves behind for the rest of the script.
    pub(super) fn effects(&mut self, words: &[Arg]) {
        // Look through the wrappers that do not change the meaning of paths.
        let mut w = words;
        loop {
            let Some(first) = w.first() else { return };
            match basename(&first.text) {
                "sudo" | "doas" => {
                    w = skip_opts(&w[1..], &["-u", "-g", "-C", "-D", "-p", "-h"], true)
                }
                "nice" | "nohup" | "time" | "command" | "exec" | "stdbuf" => {
                    w = skip_opts(&w[1..], &["-n"], true)
                }
                "env" => {
                    w = skip_opts(&w[1..], &["-u", "-C"], true);
                    while w.first().is_some_and(|a| is_assignment(&a.text)) {
                        w = &w[1..];
                    }
                }
                _ => break,
            }
        }
        let Some(first) = w.first() else { return };
        let prog = basename(&first.text);
        let rest = &w[1..];
        let ops = || {
            operands(rest, &["-m", "--mode", "-l", "--length", "-s", "--size", "-o", "-t", "-S"])
        };
        match prog {
            "cd" | "pushd" => {
                let dir = operands(rest, &[]).into_iter().next();
                match dir {
                    Some(d) if d.dynamic || d.own => self.scope.cwd = None,
                    Some(d) => self.scope.cd(Some(&d.text)),
                    None => self.scope.cd(None),
                }
            }
            "popd" => self.scope.cwd = None,
            "ln" | "gln" => {
                let symbolic = has_flag(rest, 's', &["symbolic"]);
                let ops = operands(rest, &["-t", "--target-directory", "-S", "--suffix"]);
                let (targets, dest) = match opt_value(rest, &["-t"], &["target-directory"]) {
                    Some(d) => (ops.clone(), Some(d)),
                    None if ops.len() >= 2 => (ops[..ops.len() - 1].to_vec(), ops.last().cloned()),
                    None => (ops.clone(), None),
                };
                for t in targets {
                    let link = match &dest {
                        Some(d) if self.scope.is_dir(&d.text) == Some(true) || ops.len() > 2 => {
                            format!("{}/{}", d.text.trim_end_matches('/'), basename(&t.text))
                        }
                        Some(d) => d.text.clone(),
                        None => basename(&t.text).to_string(),
                    };
                    if t.dynamic {
                        // A link to somewhere unknown: whatever goes through it is unknown too.
                        self.scope.note_link("/\u{0}unknown", &link, false);
                    } else {
                        self.scope.note_link(&t.text, &link, !symbolic);
                    }
                }
            }
            "mkdir" | "touch" | "fallocate" | "truncate" | "mkfifo" => {
                if prog == "fallocate" && has_flag(rest, 'p', &["punch-hole", "dig-holes"]) {
                    return;
                }
                for o in ops() {
                    self.scope.note_created_if_new(&o.text);
                }
            }
            "tee" if !has_flag(rest, 'a', &["append"]) => {
                for o in operands(rest, &[]) {
                    self.scope.note_created_if_new(&o.text);
                }
            }
            "dd" => {
                if let Some(of) = rest.iter().find_map(|a| a.text.strip_prefix("of=")) {
                    self.scope.note_created_if_new(of);
                }
            }
            "curl" | "wget" => {
                if let Some(o) = opt_value(rest, &["-o", "-O"], &["output", "output-document"]) {
                    self.scope.note_created_if_new(&o.text);
                }
            }
            "qemu-img" if rest.first().is_some_and(|a| a.text == "create") => {
                if let Some(f) = operands(&rest[1..], &["-f", "-o", "-b", "-F"]).first() {
                    self.scope.note_created_if_new(&f.text);
                }
            }
            "mv" | "cp" | "install" | "gmv" | "gcp" => {
                let Some((sources, dest, as_target)) = programs::sources_and_dest(rest) else {
                    return;
                };
                for s in &sources {
                    let into = if !as_target && self.scope.is_dir(&dest.text) == Some(true) {
                        format!(
                            "{}/{}",
                            dest.text.trim_end_matches('/'),
                            basename(s.text.trim_end_matches('/'))
                        )
                    } else {
                        dest.text.clone()
                    };
                    let own =
                        s.own || self.scope.resolve(&s.text, false).is_some_and(|r| r.by_script);
                    if own && self.scope.exists(&into) == Some(false) {
                        self.scope.note_created_if_new(&into);
                    } else {
                        self.scope.note_foreign(&into);
                    }
                    if prog.ends_with("mv") {
                        self.scope.note_absent(&s.text);
                    }
                }
            }
            "rm" | "rmdir" | "unlink" => {
                for o in operands(rest, &[]) {
                    self.scope.note_absent(&o.text);
                }
            }
            _ => {}
        }
    }
}
