//! The words of one command after expansion, and the option-parsing helpers every rule uses
//! (clusters like `-rf`, long options and their unique prefixes, operands after `--`).

/// One word of a command: its text after expansion, and whether it is only known at run time
/// (a variable with no known value, a substitution, a brace expansion).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arg {
    pub text: String,
    pub dynamic: bool,
    /// A path the same script created whose name is only known at run time (`$(mktemp)`).
    pub own: bool,
}

impl Arg {
    pub(crate) fn lit(s: &str) -> Arg {
        Arg { text: s.to_string(), dynamic: false, own: false }
    }
    pub(crate) fn unknown(s: &str) -> Arg {
        Arg { text: s.to_string(), dynamic: true, own: false }
    }
    /// The same text with another known value.
    pub(crate) fn with_text(&self, text: String) -> Arg {
        Arg { text, ..self.clone() }
    }
}

pub(super) fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

pub(super) fn is_assignment(s: &str) -> bool {
    match s.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Skip leading options; `with_arg` lists options that take a value in the next word.
/// With `stop_at_operand`, the first word not starting with `-` ends the options.
pub(super) fn skip_opts<'a>(
    args: &'a [Arg],
    with_arg: &[&str],
    stop_at_operand: bool,
) -> &'a [Arg] {
    let mut i = 0;
    while i < args.len() {
        let a = &args[i].text;
        if a == "--" {
            return &args[i + 1..];
        }
        if !a.starts_with('-') || a == "-" {
            if stop_at_operand {
                break;
            }
            i += 1;
            continue;
        }
        // `-u root` / `--user root` take the next word; `-uroot`, `--user=root` do not.
        let takes = with_arg.iter().any(|o| a == o);
        i += if takes { 2 } else { 1 };
    }
    &args[i.min(args.len())..]
}

/// The operands of a command: words that are not options (and not option values).
pub(super) fn operands(args: &[Arg], with_arg: &[&str]) -> Vec<Arg> {
    let mut out = vec![];
    let mut i = 0;
    let mut opts_done = false;
    while i < args.len() {
        let a = &args[i];
        if !opts_done && a.text == "--" {
            opts_done = true;
        } else if !opts_done && a.text.starts_with('-') && a.text != "-" {
            if with_arg.iter().any(|o| a.text == *o) {
                i += 1;
            }
        } else {
            out.push(a.clone());
        }
        i += 1;
    }
    out
}

/// A short flag in an option cluster (`-rf` has `r`), or one of the long options — also
/// spelled as a unique prefix (`--for` for `--force`), as GNU getopt and git accept.
pub(super) fn has_flag(args: &[Arg], short: char, long: &[&str]) -> bool {
    args.iter().take_while(|a| a.text != "--").any(|a| {
        let t = a.text.as_str();
        if let Some(l) = t.strip_prefix("--") {
            let name = l.split('=').next().unwrap_or(l);
            long.iter().any(|x| long_matches(name, x))
        } else {
            t.starts_with('-')
                && t.len() > 1
                && t[1..].chars().all(|c| c.is_ascii_alphanumeric())
                && t[1..].contains(short)
        }
    })
}

/// `--name` written in full or as a prefix (`--har`, even `--ha`, for `--hard`): GNU getopt and
/// git accept any unambiguous prefix, and an ambiguous one is taken as the dangerous reading.
pub(super) fn long_matches(written: &str, full: &str) -> bool {
    written == full || (!written.is_empty() && full.starts_with(written))
}

/// Whether some word is the long option `full` (or a prefix of it), with or without `=value`.
pub(super) fn has_long(args: &[Arg], full: &str) -> bool {
    has_flag(args, '\u{0}', &[full])
}

/// The value of option `short`/`long` (`-o X`, `-oX`, `--out X`, `--out=X`), the last one wins.
pub(super) fn opt_value(args: &[Arg], short: &[&str], long: &[&str]) -> Option<Arg> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "--" {
            break;
        }
        if short.contains(&t) || long.iter().any(|l| t.strip_prefix("--") == Some(l)) {
            if let Some(v) = args.get(i + 1) {
                found = Some(v.clone());
            }
            i += 2;
            continue;
        }
        for l in long {
            if let Some(v) = t
                .strip_prefix("--")
                .and_then(|x| x.strip_prefix(l))
                .and_then(|x| x.strip_prefix('='))
            {
                found = Some(Arg { text: v.to_string(), dynamic: args[i].dynamic, own: false });
            }
        }
        for s in short {
            if s.len() == 2 && t.len() > 2 && t.starts_with(s) && !t.starts_with("--") {
                found =
                    Some(Arg { text: t[2..].to_string(), dynamic: args[i].dynamic, own: false });
            }
        }
        i += 1;
    }
    found
}
