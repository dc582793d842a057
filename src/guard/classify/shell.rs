//! Shell scripts, classified as they will run. The script is parsed with `brush-parser` (a
//! maintained POSIX/bash parser) and walked in order: every simple command — in pipelines,
//! `&&`/`||`/`;` lists, subshells, brace groups, `$(…)`, `if`/`for`/`while`/`case` bodies,
//! function bodies, heredocs and here-strings fed to a shell, `trap` handlers — is classified in
//! the state the earlier commands left: the directory after `cd`, the variables assigned, the
//! links made (`ln -s /vm lnk; rm -rf lnk/` reaches `/vm`), the files created (a swapfile
//! `fallocate`d earlier may be `mkswap`ed), the paths known absent (`test -f P || …`). Globs are
//! expanded against the real filesystem. A script that cannot be parsed is destructive, and so
//! are `alias` (it changes what later words mean) and input redirected into a shell from a file.

use brush_parser::ast;
use brush_parser::word::{Parameter, ParameterExpr, WordPiece};

use super::finding::{Finding, Severity};
use super::state::{Scope, Val};
use super::words::{Arg, basename, has_flag, is_assignment, operands, opt_value, skip_opts};
use super::{analyze, environment, is_shell, programs, too_deep};

fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions { enable_extended_globbing: false, ..Default::default() }
}

/// Classify a script that runs in `scope` (its effects on the filesystem view are shared).
pub fn script(text: &str, scope: &Scope) -> Option<Finding> {
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
pub fn sub_script(word: &Arg, scope: &Scope) -> Option<Finding> {
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

/// `test -e P`, `[ -f P ]`, `test -d P`: the path it asks about.
fn existence_test(words: &[Arg]) -> Option<String> {
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

    /// Expand a word as the shell will: variables from the script's state, `~`, globs against
    /// the real filesystem (when `split`), nested `$(…)` classified on the way. A variable with
    /// several values (a `for` variable) gives several words.
    fn expand(&mut self, raw: &str, split: bool) -> Vec<Arg> {
        let Ok(pieces) = brush_parser::word::parse(raw, &parser_options()) else {
            return vec![Arg::unknown(raw)];
        };
        let mut out = vec![Partial::default()];
        for p in &pieces {
            self.piece(&p.piece, &mut out, false);
        }
        let mut words = vec![];
        for p in out {
            if p.glob && !p.dynamic && !p.own && split {
                words.extend(self.glob(&p.text));
            } else {
                words.push(Arg {
                    text: p.text,
                    dynamic: p.dynamic || (p.glob && !split),
                    own: p.own,
                });
            }
        }
        words
    }

    fn word(&mut self, raw: &str) -> Arg {
        let mut w = self.expand(raw, false);
        if w.len() == 1 { w.remove(0) } else { Arg::unknown(raw) }
    }

    fn glob(&self, pattern: &str) -> Vec<Arg> {
        let Some(abs) = (if self.scope.is_remote() { None } else { self.scope.absolute(pattern) })
        else {
            return vec![Arg::unknown(pattern)];
        };
        let opts = glob::MatchOptions {
            case_sensitive: !cfg!(target_os = "macos"),
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let Ok(paths) = glob::glob_with(&abs.to_string_lossy(), opts) else {
            return vec![Arg::unknown(pattern)];
        };
        let found: Vec<Arg> =
            paths.flatten().map(|p| Arg::lit(&p.to_string_lossy())).take(10_000).collect();
        if found.is_empty() {
            // No match: the shell passes the pattern on as it is.
            return vec![Arg::lit(pattern)];
        }
        found
    }

    fn piece(&mut self, p: &WordPiece, out: &mut Vec<Partial>, quoted: bool) {
        let push =
            |out: &mut Vec<Partial>, s: &str| out.iter_mut().for_each(|o| o.text.push_str(s));
        match p {
            WordPiece::Text(t) => {
                let bracket = t.find('[').is_some_and(|i| t[i + 1..].contains(']'));
                if !quoted {
                    if t.contains(['*', '?']) || bracket {
                        out.iter_mut().for_each(|o| o.glob = true);
                    }
                    if t.contains('{') && (t.contains(',') || t.contains("..")) {
                        out.iter_mut().for_each(|o| o.dynamic = true);
                    }
                }
                push(out, t);
            }
            WordPiece::SingleQuotedText(t) | WordPiece::AnsiCQuotedText(t) => push(out, t),
            WordPiece::DoubleQuotedSequence(seq) | WordPiece::GettextDoubleQuotedSequence(seq) => {
                for s in seq {
                    self.piece(&s.piece, out, true);
                }
            }
            WordPiece::TildeExpansion(t) => match t {
                brush_parser::word::TildeExpr::Home => push(out, "~"),
                _ => {
                    out.iter_mut().for_each(|o| o.dynamic = true);
                    push(out, "~");
                }
            },
            WordPiece::ParameterExpansion(e) => {
                let name = match e {
                    ParameterExpr::Parameter {
                        parameter: Parameter::Named(n),
                        indirect: false,
                    } => Some(n.clone()),
                    _ => None,
                };
                let val = name.as_deref().map(|n| self.scope.var(n)).unwrap_or(Val::Unknown);
                let shown = format!("${}", name.as_deref().unwrap_or("{…}"));
                match val {
                    Val::Words(ws) if ws.len() == 1 => push(out, &ws[0]),
                    Val::Words(ws) if !ws.is_empty() && out.len() * ws.len() <= 256 => {
                        let mut next = vec![];
                        for o in out.iter() {
                            for w in &ws {
                                let mut n = o.clone();
                                n.text.push_str(w);
                                next.push(n);
                            }
                        }
                        *out = next;
                    }
                    Val::Created => out.iter_mut().for_each(|o| {
                        o.own = true;
                        o.text.push_str(&shown);
                    }),
                    _ => out.iter_mut().for_each(|o| {
                        o.dynamic = true;
                        o.text.push_str(&shown);
                    }),
                }
            }
            WordPiece::CommandSubstitution(s) | WordPiece::BackquotedCommandSubstitution(s) => {
                let f = match self.scope.deeper() {
                    Some(e) => script(s, &e),
                    None => Some(too_deep()),
                };
                self.add(f);
                let temp = s.trim_start().starts_with("mktemp");
                out.iter_mut().for_each(|o| {
                    if temp {
                        o.own = true;
                    } else {
                        o.dynamic = true;
                    }
                    o.text.push_str("$(…)");
                });
            }
            WordPiece::EscapeSequence(s) => push(out, s.strip_prefix('\\').unwrap_or(s)),
            WordPiece::ArithmeticExpression(_) => out.iter_mut().for_each(|o| {
                o.dynamic = true;
                o.text.push_str("$((…))");
            }),
        }
    }

    fn assign(&mut self, a: &ast::Assignment, global: bool) -> Option<(String, String)> {
        let ast::AssignmentName::VariableName(name) = &a.name else { return None };
        let val = match &a.value {
            ast::AssignmentValue::Scalar(w) => {
                let v = self.word(&w.value);
                if v.own {
                    Val::Created
                } else if v.dynamic || a.append {
                    Val::Unknown
                } else {
                    Val::Words(vec![v.text])
                }
            }
            ast::AssignmentValue::Array(ws) => {
                for (k, v) in ws {
                    if let Some(k) = k {
                        self.word(&k.value);
                    }
                    self.word(&v.value);
                }
                Val::Unknown
            }
        };
        let text = match &val {
            Val::Words(w) => w[0].clone(),
            _ => String::new(),
        };
        if global {
            self.scope.vars.insert(name.clone(), val);
        }
        Some((name.clone(), text))
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

    /// Shell builtins that change what later commands mean.
    fn builtin(&mut self, words: &[Arg]) -> Option<Option<Finding>> {
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
    fn effects(&mut self, words: &[Arg]) {
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

#[derive(Debug, Clone, Default)]
struct Partial {
    text: String,
    dynamic: bool,
    glob: bool,
    own: bool,
}

pub fn is_harmless_device(p: &str) -> bool {
    matches!(p, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty")
        || p.starts_with("/dev/fd/")
}

pub fn is_disk_device(p: &str) -> bool {
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
