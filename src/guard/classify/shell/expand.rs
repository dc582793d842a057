//! Word expansion as the shell will do it: variables from the script's tracked state, `~`,
//! globs against the real filesystem, nested `$(…)` classified on the way, and assignments
//! (`X=…`, `export`, `local`, `readonly`) recorded for the words after them.

use brush_parser::ast;
use brush_parser::word::{Parameter, ParameterExpr, WordPiece};

use super::{Walker, parser_options, script};
use crate::guard::classify::state::Val;
use crate::guard::classify::too_deep;
use crate::guard::classify::words::Arg;

impl Walker {
    /// Expand a word as the shell will: variables from the script's state, `~`, globs against
    /// the real filesystem (when `split`), nested `$(…)` classified on the way. A variable with
    /// several values (a `for` variable) gives several words.
    pub(super) fn expand(&mut self, raw: &str, split: bool) -> Vec<Arg> {
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

    pub(super) fn word(&mut self, raw: &str) -> Arg {
        let mut w = self.expand(raw, false);
        if w.len() == 1 { w.remove(0) } else { Arg::unknown(raw) }
    }

    pub(super) fn glob(&self, pattern: &str) -> Vec<Arg> {
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

    pub(super) fn piece(&mut self, p: &WordPiece, out: &mut Vec<Partial>, quoted: bool) {
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

    pub(super) fn assign(&mut self, a: &ast::Assignment, global: bool) -> Option<(String, String)> {
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
}

#[derive(Debug, Clone, Default)]
pub(super) struct Partial {
    text: String,
    dynamic: bool,
    glob: bool,
    own: bool,
}
