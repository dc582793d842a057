//! Dynamic shell completion through clap_complete's env protocol (`HELIX_COMPLETE=$SHELL
//! helix`): the shell asks helix itself, so recipe names come from the recipe dirs of the
//! directory you are in and a recipe's parameters (with their descriptions) from its header —
//! including recipes written after the completions were installed. `helix completions SHELL`
//! prints the registration.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, ArgValueCompleter, CompletionCandidate};
use clap_complete::env::Shells;

use crate::recipe;

/// The environment variable the shell scripts set to ask for completions (helix's own name,
/// so a `COMPLETE` meant for another program never turns a helix run into a completion).
const VAR: &str = "HELIX_COMPLETE";

/// Answer a completion request and exit, if this process is one; otherwise return.
pub(crate) fn handle() {
    clap_complete::CompleteEnv::with_factory(command).var(VAR).complete();
}

/// The registration script for `shell`, calling back into this binary.
pub(crate) fn registration(shell: clap_complete::Shell) -> Result<String, String> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer = shells.completer(&name).ok_or_else(|| format!("no completer for {name}"))?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "helix".to_string());
    let mut buf = Vec::new();
    completer
        .write_registration(VAR, "helix", "helix", &exe, &mut buf)
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The CLI with completers attached: recipe names wherever a recipe is named, and after
/// `helix run NAME` that recipe's parameters and helix's own run flags.
fn command() -> clap::Command {
    let words: Vec<OsString> = std::env::args_os().collect();
    let dirs = recipe::recipe_dirs(recipes_flag(&words).as_deref());
    let recipe_name = recipe_word(&words);
    let names = {
        let dirs = dirs.clone();
        ArgValueCandidates::new(move || recipe_candidates(&dirs))
    };
    let params = ArgValueCompleter::new(move |current: &OsStr| {
        let Some(name) = &recipe_name else { return vec![] };
        param_candidates(&dirs, name, &current.to_string_lossy())
    });
    crate::cli::Cli::command()
        .mut_subcommand("run", |c| {
            c.mut_arg("recipe", |a| a.add(names.clone())).mut_arg("params", |a| a.add(params))
        })
        .mut_subcommand("show", |c| c.mut_arg("name", |a| a.add(names.clone())))
        .mut_subcommand("check", |c| c.mut_arg("recipe", |a| a.add(names.clone())))
        .mut_subcommand("new", |c| c.mut_arg("from", |a| a.add(names.clone())))
        .mut_subcommand("api", |c| c.mut_arg("module", |a| a.add(ArgValueCandidates::new(modules))))
}

/// The modules `helix api MODULE` knows.
fn modules() -> Vec<CompletionCandidate> {
    let mut names: Vec<&str> =
        crate::engine::primitive_modules().into_iter().map(|(name, _)| name).collect();
    names.push("global");
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// The recipe named after `run` on the line being completed (`helix -- helix run --dry-run
/// NAME …`): the first word after `run` that is not a flag or a flag's value.
fn recipe_word(words: &[OsString]) -> Option<String> {
    let line = words.iter().skip_while(|w| *w != "--").skip(1);
    let mut after_run = line.skip_while(|w| *w != "run").skip(1);
    while let Some(w) = after_run.next() {
        let w = w.to_string_lossy();
        match w.as_ref() {
            "--recipes" | "--config" => {
                after_run.next();
            }
            _ if w.starts_with('-') => {}
            _ => return Some(w.into_owned()),
        }
    }
    None
}

/// `--recipes DIR` given on the line being completed.
fn recipes_flag(words: &[OsString]) -> Option<PathBuf> {
    let i = words.iter().position(|w| w == "--recipes")?;
    words.get(i + 1).map(PathBuf::from)
}

fn recipe_candidates(dirs: &[PathBuf]) -> Vec<CompletionCandidate> {
    recipe::discover(dirs)
        .unwrap_or_default()
        .into_iter()
        .map(|r| CompletionCandidate::new(r.name).help(Some(r.header.summary.into())))
        .collect()
}

/// `--name` for each parameter of recipe `name` (and `--no-flag` for its flags), then helix's
/// own run flags, filtered by what is typed so far.
pub(crate) fn param_candidates(
    dirs: &[PathBuf],
    name: &str,
    current: &str,
) -> Vec<CompletionCandidate> {
    let Ok(r) = recipe::find(dirs, name) else { return vec![] };
    let mut out: Vec<(String, String)> = vec![];
    for p in &r.header.params {
        out.push((format!("--{}", p.name), p.description.clone()));
        if p.flag {
            out.push((format!("--no-{}", p.name), format!("not: {}", p.description)));
        }
    }
    for (flag, help) in [
        ("--dry-run", "print the plan; change nothing"),
        ("--resume", "skip the steps a previous run completed"),
        ("--yes", "answer ordinary questions with yes"),
        ("--help", "this recipe's parameters"),
    ] {
        if !out.iter().any(|(f, _)| f == flag) {
            out.push((flag.to_string(), help.to_string()));
        }
    }
    out.into_iter()
        .filter(|(f, _)| f.starts_with(current))
        .map(|(f, h)| CompletionCandidate::new(f).help(Some(h.into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    fn words(line: &str) -> Vec<OsString> {
        line.split(' ').map(OsString::from).collect()
    }

    #[test]
    fn the_recipe_is_the_first_plain_word_after_run() {
        let w = |l| super::recipe_word(&words(l));
        assert_eq!(w("helix -- helix run hello --w").as_deref(), Some("hello"));
        assert_eq!(w("helix -- helix run --dry-run -y hello --").as_deref(), Some("hello"));
        assert_eq!(w("helix -- helix run --config c.toml hello").as_deref(), Some("hello"));
        assert_eq!(w("helix -- helix run --dry-run").as_deref(), None);
        assert_eq!(w("helix -- helix show hello").as_deref(), None);
    }
}
