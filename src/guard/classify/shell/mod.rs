//! Shell scripts, classified as they will run. The script is parsed with `brush-parser` (a
//! maintained POSIX/bash parser) and walked in order: every simple command — in pipelines,
//! `&&`/`||`/`;` lists, subshells, brace groups, `$(…)`, `if`/`for`/`while`/`case` bodies,
//! function bodies, heredocs and here-strings fed to a shell, `trap` handlers — is classified in
//! the state the earlier commands left: the directory after `cd`, the variables assigned, the
//! links made (`ln -s /vm lnk; rm -rf lnk/` reaches `/vm`), the files created (a swapfile
//! `fallocate`d earlier may be `mkswap`ed), the paths known absent (`test -f P || …`). Globs are
//! expanded against the real filesystem. A script that cannot be parsed is destructive, and so
//! are `alias` (it changes what later words mean) and input redirected into a shell from a file.

//!
//! This file parses and walks; [`expand`] turns words into arguments as the shell will, and
//! [`track`] applies what each command leaves behind to the script's state.

mod expand;
mod track;

use brush_parser::ast;
use track::existence_test;

use super::finding::{Finding, Severity};
use super::state::{Scope, Val};
use super::words::{Arg, basename};
use super::{analyze, environment, is_shell, too_deep};

fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions { enable_extended_globbing: false, ..Default::default() }
}

/// Classify a script that runs in `scope` (its effects on the filesystem view are shared).
pub(super) fn script(text: &str, scope: &Scope) -> Option<Finding> {
    let mut parser =
        brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &parser_options());
    let program = match parser.parse_program() {
        Ok(p) => p,
        Err(e) => {
            return Some(Finding::new(
                format!("a shell script that cannot be parsed ({e}) is treated as destructive"),
                Severity::YesNo,
            ));
        }
    };
    let mut w = Walker { scope: scope.clone(), found: None };
    for cc in &program.complete_commands {
        w.list(cc);
    }
    w.found
}

/// A script given as one word (`sh -c WORD`, `env -S WORD`, `eval`, `trap WORD`).
pub(super) fn sub_script(word: &Arg, scope: &Scope) -> Option<Finding> {
    if word.dynamic {
        return Some(Finding::new("a shell script only known at run time", Severity::YesNo));
    }
    let Some(inner) = scope.deeper() else { return Some(too_deep()) };
    // A nested shell starts in the same directory with the exported environment; it does not
    // see the caller's unexported variables (they are unknown to it, not empty).
    let mut inner = inner;
    inner.vars.clear();
    inner.stdin = scope.stdin.clone();
    let mut w = Walker { scope: inner, found: None };
    script_in(&word.text, &mut w)
}

fn script_in(text: &str, w: &mut Walker) -> Option<Finding> {
    let mut parser =
        brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &parser_options());
    match parser.parse_program() {
        Ok(p) => {
            for cc in &p.complete_commands {
                w.list(cc);
            }
            w.found.take()
        }
        Err(e) => Some(Finding::new(
            format!("a shell script that cannot be parsed ({e}) is treated as destructive"),
            Severity::YesNo,
        )),
    }
}

struct Walker {
    scope: Scope,
    found: Option<Finding>,
}

impl Walker {
    fn add(&mut self, f: Option<Finding>) {
        if let Some(f) = f {
            self.found = Some(match self.found.take() {
                Some(g) => g.merge(f),
                None => f,
            });
        }
    }

    fn list(&mut self, list: &ast::CompoundList) {
        for item in &list.0 {
            self.and_or(&item.0);
        }
    }

    fn and_or(&mut self, l: &ast::AndOrList) {
        let mut last_test = self.pipeline(&l.first);
        for a in &l.additional {
            match a {
                ast::AndOr::And(p) => last_test = self.pipeline(p),
                ast::AndOr::Or(p) => {
                    // `test -f P || …`: on the right, P does not exist.
                    let absent = last_test.take().filter(|p| self.scope.exists(p) != Some(true));
                    if let Some(p) = &absent {
                        self.scope.note_absent(p);
                    }
                    last_test = self.pipeline(p);
                    if let Some(p) = &absent {
                        self.scope.forget_absent(p);
                    }
                }
            }
        }
    }

    /// Returns the path a lone existence test asks about.
    fn pipeline(&mut self, p: &ast::Pipeline) -> Option<String> {
        let outer = self.scope.piped;
        let mut test = None;
        for (i, c) in p.seq.iter().enumerate() {
            self.scope.piped = outer || i > 0;
            test = self.command(c);
        }
        self.scope.piped = outer;
        if p.seq.len() == 1 && !p.bang { test } else { None }
    }

    fn command(&mut self, c: &ast::Command) -> Option<String> {
        match c {
            ast::Command::Simple(s) => return self.simple(s),
            ast::Command::Compound(cc, redirects) => {
                let subshell = matches!(cc, ast::CompoundCommand::Subshell(_));
                let saved = subshell.then(|| (self.scope.cwd.clone(), self.scope.vars.clone()));
                self.compound(cc);
                if let Some((cwd, vars)) = saved {
                    self.scope.cwd = cwd;
                    self.scope.vars = vars;
                }
                if let Some(r) = redirects {
                    for io in &r.0 {
                        self.redirect(io, None);
                    }
                }
            }
            ast::Command::Function(f) => {
                let saved = (self.scope.cwd.clone(), self.scope.vars.clone());
                self.compound(&f.body.0);
                (self.scope.cwd, self.scope.vars) = saved;
            }
            ast::Command::ExtendedTest(..) => {}
        }
        None
    }

    fn compound(&mut self, c: &ast::CompoundCommand) {
        match c {
            ast::CompoundCommand::BraceGroup(b) => self.list(&b.list),
            ast::CompoundCommand::Subshell(s) => self.list(&s.list),
            ast::CompoundCommand::ForClause(f) => {
                let mut values = vec![];
                let mut known = true;
                match &f.values {
                    Some(ws) => {
                        for w in ws {
                            for a in self.expand(&w.value, true) {
                                known &= !a.dynamic;
                                values.push(a.text);
                            }
                        }
                    }
                    None => known = false,
                }
                let v = if known { Val::Words(values) } else { Val::Unknown };
                self.scope.vars.insert(f.variable_name.clone(), v);
                self.list(&f.body.list);
            }
            ast::CompoundCommand::ArithmeticForClause(f) => self.list(&f.body.list),
            ast::CompoundCommand::CaseClause(c) => {
                self.expand(&c.value.value, false);
                for item in &c.cases {
                    if let Some(l) = &item.cmd {
                        self.list(l);
                    }
                }
            }
            ast::CompoundCommand::IfClause(i) => {
                self.list(&i.condition);
                self.list(&i.then);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c);
                    }
                    self.list(&e.body);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.list(&w.0);
                self.list(&w.1.list);
            }
            ast::CompoundCommand::Coprocess(c) => {
                self.command(&c.body);
            }
            ast::CompoundCommand::Arithmetic(_) => {}
        }
    }

    /// One simple command: expand, classify in the current state, then apply its effects.
    fn simple(&mut self, s: &ast::SimpleCommand) -> Option<String> {
        let mut words: Vec<Arg> = vec![];
        let mut assignments: Vec<&ast::Assignment> = vec![];
        let mut heredoc_scripts: Vec<String> = vec![];
        let mut redirects: Vec<&ast::IoRedirect> = vec![];
        let mut items: Vec<&ast::CommandPrefixOrSuffixItem> = vec![];
        if let Some(p) = &s.prefix {
            items.extend(p.0.iter());
        }
        let name_pos = items.len();
        if let Some(suffix) = &s.suffix {
            items.extend(suffix.0.iter());
        }
        let mut name_inserted = false;
        for (i, item) in items.iter().enumerate() {
            if i == name_pos && !name_inserted {
                if let Some(w) = &s.word_or_name {
                    let a = self.expand(&w.value, true);
                    words.extend(a);
                }
                name_inserted = true;
            }
            match item {
                ast::CommandPrefixOrSuffixItem::Word(w) => {
                    let a = self.expand(&w.value, true);
                    words.extend(a);
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) if i >= name_pos => {
                    // After the command name `if=/dev/zero` or `X=1` (for export) is a word.
                    let a = self.word(&w.value);
                    words.push(a);
                }
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => assignments.push(a),
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => {
                    if let ast::IoRedirect::HereDocument(_, doc) = r {
                        heredoc_scripts.push(doc.doc.value.clone());
                    }
                    if let ast::IoRedirect::HereString(_, w) = r {
                        heredoc_scripts.push(self.word(&w.value).text);
                    }
                    redirects.push(r);
                }
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => self.list(&sub.list),
            }
        }
        if !name_inserted && let Some(w) = &s.word_or_name {
            let a = self.expand(&w.value, true);
            words.extend(a);
        }
        // Assignments alone set variables; before a command they are its environment.
        let alone = words.is_empty();
        let mut scope = self.scope.clone();
        for a in &assignments {
            if let Some((k, v)) = self.assign(a, alone)
                && !alone
            {
                self.add(environment::check(&k));
                scope.env.insert(k, v);
            }
        }
        let prog = words.first().filter(|a| !a.dynamic).map(|a| basename(&a.text).to_string());
        let feeds_shell = prog.as_deref().is_some_and(is_shell)
            || words.iter().take(4).any(|a| is_shell(basename(&a.text)));
        for r in &redirects {
            if let ast::IoRedirect::File(
                _,
                ast::IoFileRedirectKind::Read,
                ast::IoFileRedirectTarget::Filename(f),
            ) = r
                && feeds_shell
            {
                self.add(Some(Finding::new(
                    format!("a shell reading its script from the file `{}` (helix cannot see what it runs)", f.value),
                    Severity::YesNo,
                )));
            }
        }
        if feeds_shell {
            for h in &heredoc_scripts {
                let f = match self.scope.deeper() {
                    Some(e) => script(h, &e),
                    None => Some(too_deep()),
                };
                self.add(f);
            }
        }
        let test = existence_test(&words);
        if !words.is_empty() {
            let f = self.builtin(&words).unwrap_or_else(|| analyze(&words, &scope));
            self.add(f);
        }
        for r in redirects {
            self.redirect(r, Some(&scope));
        }
        if !words.is_empty() {
            self.effects(&words);
        }
        test
    }

    /// `> file` truncates an existing file (through links); `> /dev/disk2` overwrites a disk;
    /// a new file becomes the script's own.
    fn redirect(&mut self, r: &ast::IoRedirect, scope: Option<&Scope>) {
        let target = match r {
            ast::IoRedirect::File(
                _,
                ast::IoFileRedirectKind::Write | ast::IoFileRedirectKind::Clobber,
                ast::IoFileRedirectTarget::Filename(w),
            ) => Some(self.word(&w.value)),
            ast::IoRedirect::File(_, _, ast::IoFileRedirectTarget::ProcessSubstitution(_, sub)) => {
                self.list(&sub.list);
                None
            }
            ast::IoRedirect::OutputAndError(w, false) => Some(self.word(&w.value)),
            _ => None,
        };
        let Some(t) = target else { return };
        if is_harmless_device(&t.text) {
            return;
        }
        let scope = scope.cloned().unwrap_or_else(|| self.scope.clone());
        let f = if is_disk_device(&t.text) {
            Some(
                Finding::new("a redirect onto a disk device overwrites it", Severity::TypeName)
                    .with_targets(std::slice::from_ref(&t)),
            )
        } else if t.dynamic || t.own {
            Some(
                Finding::new(
                    "a `>` redirect onto a path only known at run time may truncate a file",
                    Severity::YesNo,
                )
                .with_targets(std::slice::from_ref(&t)),
            )
        } else if scope.exists(&t.text) == Some(true) && scope.is_dir(&t.text) != Some(true) {
            Some(
                Finding::new("a `>` redirect truncates an existing file", Severity::YesNo)
                    .with_targets(std::slice::from_ref(&t)),
            )
        } else {
            None
        };
        let f = f.and_then(|f| f.resolve(&scope).without_own());
        self.add(f);
        if !t.dynamic {
            self.scope.note_created_if_new(&t.text);
        }
    }
}

pub(super) fn is_harmless_device(p: &str) -> bool {
    matches!(p, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty")
        || p.starts_with("/dev/fd/")
}

pub(super) fn is_disk_device(p: &str) -> bool {
    [
        "/dev/disk",
        "/dev/rdisk",
        "/dev/sd",
        "/dev/hd",
        "/dev/vd",
        "/dev/xvd",
        "/dev/nvme",
        "/dev/mmcblk",
        "/dev/loop",
        "/dev/md",
        "/dev/dm-",
        "/dev/mapper/",
        "/dev/zd",
    ]
    .iter()
    .any(|d| p.starts_with(d))
}
