//! The command line: parses, dispatches, and maps every failure to a message and an exit code
//! (see [`exit_code`]: 0 ok, 1 failed, 2 usage, 3–127 a failed command's own status, 130
//! Ctrl-C, 141 output closed).

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Config;
use crate::recipe::{self, Recipe};
use crate::run::Run;

#[derive(Parser, Debug)]
#[command(
    name = "helix",
    version,
    about = "Run editable Rhai recipes that set up and repair the Helix macOS ARM64 dev environment — nothing destructive without a person's confirmation.",
    propagate_version = true
)]
pub struct Cli {
    /// Look for recipes in DIR first (before $HELIX_RECIPES, the project's recipes/, the config dir,
    /// the built-ins).
    #[arg(long, global = true, value_name = "DIR")]
    pub recipes: Option<PathBuf>,
    /// Merge this config file over the user's and the project's.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a recipe: `helix run build-qemu --no-install`. `helix run NAME --help` lists its parameters.
    #[command(
        disable_help_flag = true,
        after_help = "Without NAME: a picker at a terminal, else the list of recipes.\n\
                      `helix run NAME --help` lists NAME's own parameters; `helix run --help` \
                      (or -h) prints this."
    )]
    Run {
        /// The recipe's name (or a path to a .rhai file); without it, choose one.
        #[arg(allow_hyphen_values = true)]
        recipe: Option<String>,
        /// Print the plan: every change is shown instead of made; reads still happen.
        #[arg(long)]
        dry_run: bool,
        /// Skip the steps a previous run of this recipe completed.
        #[arg(long)]
        resume: bool,
        /// Answer ordinary questions with yes. Never answers the guard's confirmations.
        #[arg(long, short = 'y')]
        yes: bool,
        /// The recipe's own parameters: `--name value`, `--flag`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "PARAMS")]
        params: Vec<String>,
    },
    /// List every recipe with its description and where it comes from.
    List {
        /// Print JSON (name, description, parameters, origin) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Find recipe mistakes without running anything: unknown calls, wrong arguments, `args`
    /// the header lacks, header errors, in-place methods used as values (`helix run` checks first).
    Check {
        /// One recipe (and the stdlib modules it imports); without it, every recipe and module.
        recipe: Option<String>,
    },
    /// Write a documented skeleton recipe to start from, or a copy of a built-in to change it.
    New {
        /// The new recipe's name (the file is NAME.rhai).
        name: String,
        /// Start from a copy of this recipe (the built-in of that name first): the new file
        /// shadows it.
        #[arg(long, value_name = "RECIPE")]
        from: Option<String>,
        /// Where to put it (default: the project's recipes/, else ./recipes).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print a recipe's source (built-in or not) and say where it comes from.
    Show {
        /// The recipe's name (or a path to a .rhai file).
        name: String,
    },
    /// Every primitive recipes can call, with signature, documentation and an example.
    Api {
        /// Only this module (`fs`, `ssh`, … or `global`).
        module: Option<String>,
        /// Write Rhai definition files (for editor completion) into DIR: every primitive, the
        /// stdlib modules, `args` and `config`.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
        /// With --definitions: document this recipe's parameters on `args`.
        #[arg(long, value_name = "NAME", requires = "definitions")]
        recipe: Option<String>,
        /// Print Rhai's function metadata as JSON instead of the reference.
        #[arg(long)]
        json: bool,
    },
    /// Recent runs from the journal, or the actions of one run.
    Log {
        /// A run id (or a unique prefix, or `last`).
        run: Option<String>,
        /// How many runs to list.
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: usize,
        /// Print JSON (the run's records, or one object per run) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the merged configuration and where each value comes from; `helix config init`
    /// finds your VM in UTM and writes it to your config.
    Config {
        /// Print the merged configuration as JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<ConfigCommand>,
    },
    /// Print shell code completing commands, recipe names and their parameters:
    /// `source <(helix completions bash)`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Read and fix Mach-O binaries: info, change, set-id, rpaths, rewrite-prefix, sign, verify.
    #[command(subcommand)]
    Macho(crate::macho::cli::MachoCmd),
    /// What `fs::remove` and overwrites put in the helix trash: list, restore, empty.
    Trash {
        #[command(subcommand)]
        action: crate::trash::cli::TrashCommand,
    },
    /// Reverse what a run changed, newest first (`helix log` shows run ids; `last` is the newest
    /// run that changed something).
    Undo {
        /// The run to reverse: an id from `helix log`, a unique prefix, or `last`.
        run: String,
        /// Print what would be undone; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Find the VMs UTM knows (its registry, `utmctl list`), ask which is the Helix VM, and
    /// write its name, UUID and bundle to your config file (~/.config/helix/config.toml).
    Init {
        /// The VM's name or UUID, instead of asking.
        #[arg(long, value_name = "NAME_OR_UUID")]
        vm: Option<String>,
    },
}

/// Parse, dispatch, and return the process exit code.
pub fn main() -> i32 {
    crate::closed_pipe::install_hook();
    crate::complete::handle();
    match std::panic::catch_unwind(main_inner) {
        Ok(code) => code,
        Err(p) if crate::closed_pipe::is_closed_pipe(p.as_ref()) => crate::closed_pipe::EXIT,
        Err(p) => std::panic::resume_unwind(p),
    }
}

fn main_inner() -> i32 {
    crate::ui::init_colours();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(Failure { message, code }) => {
            if !message.is_empty() {
                eprint!("{message}");
                if !message.ends_with('\n') {
                    eprintln!();
                }
            }
            code
        }
    }
}

/// A failure already rendered for the person, with the exit code to end with.
pub struct Failure {
    pub message: String,
    pub code: i32,
}

impl Failure {
    pub fn usage(e: impl std::fmt::Display) -> Self {
        Failure { message: format!("{} {e}\n", console::style("error:").red().bold()), code: 2 }
    }
    pub fn error(e: impl std::fmt::Display) -> Self {
        Failure { message: format!("{} {e}\n", console::style("error:").red().bold()), code: 1 }
    }
}

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        let code = exit_code(e.exit_code());
        Failure { message: format!("{} {e}\n", console::style("error:").red().bold()), code }
    }
}

/// helix's exit status, given the status a failure asks for (a failed command's own, 130 for a
/// cancel): 0 and 2 (usage) and 141 (output closed) belong to helix, so a command that failed
/// with 1, 2, a signal or a status above 127 ends helix with 1; 3–127 pass through, so a script
/// can still tell a failed `make` (2 → 1) from bad usage of helix (2).
pub fn exit_code(wanted: Option<i32>) -> i32 {
    match wanted {
        Some(c @ 3..=127) | Some(c @ 130) => c,
        _ => 1,
    }
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    let dirs = recipe::recipe_dirs(cli.recipes.as_deref());
    match cli.command {
        Command::Run { recipe, dry_run, resume, yes, params } => {
            install_interrupt_handler();
            let recipe = match recipe.as_deref() {
                Some("--help" | "-h") => {
                    let mut cmd = Cli::command();
                    cmd.build();
                    let run = cmd.find_subcommand_mut("run").expect("run is a subcommand");
                    print!("{}", run.render_help());
                    return Ok(0);
                }
                Some(name) if name.starts_with('-') => {
                    return Err(Failure::usage(format!(
                        "`{name}` comes before the recipe's name: `helix run NAME {name}` (see \
                         `helix run --help`)"
                    )));
                }
                Some(name) => recipe::find(&dirs, name).map_err(Failure::usage)?,
                None => match crate::picker::pick(&dirs).map_err(Failure::from)? {
                    crate::picker::Picked::Listed => return Ok(0),
                    crate::picker::Picked::Run(r, words) => {
                        let mut all = words;
                        all.extend(params);
                        let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
                        return run(&dirs, *r, all, dry_run, resume, yes, config);
                    }
                },
            };
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            run(&dirs, recipe, params, dry_run, resume, yes, config)
        }
        Command::Show { name } => {
            crate::recipe_files::show(&dirs, &name).map_err(Failure::usage)?;
            Ok(0)
        }
        Command::List { json } => list(&dirs, json),
        Command::Check { recipe } => {
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            let _ = Run::new(false, false, false, config).install();
            crate::check::command::run(&dirs, recipe.as_deref())
        }
        Command::New { name, from, dir } => {
            let msg = crate::recipe_files::new(
                cli.recipes.as_deref(),
                &name,
                from.as_deref(),
                dir.as_deref(),
            )
            .map_err(|e| match e {
                crate::error::Error::Invalid { .. } => Failure::usage(e),
                other => Failure::from(other),
            })?;
            print!("{msg}");
            Ok(0)
        }
        Command::Api { definitions: Some(dir), recipe, .. } => {
            crate::definitions::command(&dir, recipe.as_deref(), &dirs)
        }
        Command::Api { module, json, .. } => api(module.as_deref(), json),
        Command::Log { run, limit, json } => {
            crate::runlog::cli(run.as_deref(), limit, json).map_err(Failure::from)
        }
        Command::Config { action: Some(ConfigCommand::Init { vm }), .. } => {
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            let _ = Run::new(false, false, false, config.clone()).install();
            crate::config_init::run(&config, vm.as_deref()).map_err(Failure::from)?;
            Ok(0)
        }
        Command::Config { json, action: None } => {
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&config.to_json()).unwrap_or_default());
            } else {
                print!("{}", config.render());
            }
            Ok(0)
        }
        Command::Macho(cmd) => crate::macho::cli::run(cmd, cli.config.as_deref()),
        Command::Trash { action } => crate::trash::cli::trash(
            action,
            Config::load(cli.config.as_deref()).map_err(Failure::usage)?,
        )
        .map_err(Failure::from),
        Command::Undo { run, dry_run } => crate::undo::cli(
            &run,
            dry_run,
            Config::load(cli.config.as_deref()).map_err(Failure::usage)?,
        )
        .map_err(Failure::from),
        Command::Completions { shell } => {
            print!("{}", crate::complete::registration(shell).map_err(Failure::error)?);
            Ok(0)
        }
    }
}

fn run(
    dirs: &[PathBuf],
    recipe: Recipe,
    params: Vec<String>,
    dry_run: bool,
    resume: bool,
    yes: bool,
    config: Config,
) -> Result<i32, Failure> {
    if params.iter().any(|p| p == "--help" || p == "-h") {
        print!("{}", recipe::help(&recipe));
        return Ok(0);
    }
    let opts = crate::run::lifecycle::Options { dry_run, resume, yes };
    let journal_dir = crate::config::state_dir().join("runs");
    let outcome = crate::run::lifecycle::run(dirs, &recipe, params, opts, config, &journal_dir);
    report(outcome)
}

/// A run's outcome in words (on stderr) and as an exit status.
fn report(outcome: crate::run::Outcome) -> Result<i32, Failure> {
    use crate::run::End;
    let run_id = outcome.run_id.unwrap_or_default();
    match outcome.end {
        End::Done { code } => {
            if outcome.dry_run {
                eprintln!("{}", crate::dry_run::summary(outcome.planned, outcome.refused, true));
            }
            if code == 0 && !outcome.dry_run && outcome.undoable {
                eprintln!("to undo this run: helix undo {run_id}");
            }
            Ok(code)
        }
        End::Usage(message) => Err(Failure::usage(message)),
        End::Refused { message, code } => Err(Failure { message, code }),
        End::Error(e) => Err(Failure::from(e)),
        End::OutputClosed => {
            Err(Failure { message: String::new(), code: crate::closed_pipe::EXIT })
        }
        End::Failed { report, wanted, cancelled, resume } => {
            let mut message = report;
            message
                .push_str(&format!("  = run `{run_id}`: `helix log {run_id}` shows what it did\n"));
            if outcome.dry_run {
                message.push_str(&format!(
                    "{}\n",
                    crate::dry_run::summary(outcome.planned, outcome.refused, false)
                ));
            } else if outcome.undoable {
                message.push_str(&format!(
                    "  = what it changed before it stopped: `helix undo {run_id}` reverses it\n"
                ));
            }
            if let Some(r) = resume {
                let names: Vec<String> = r.finished.iter().map(|s| format!("`{s}`")).collect();
                message.push_str(&format!(
                    "  = once it is fixed, `{}` carries on: it skips the {} that finished ({})\n",
                    r.command,
                    crate::count::count(r.finished.len() as u64, "step"),
                    names.join(", ")
                ));
            }
            let code = if cancelled { 130 } else { exit_code(wanted) };
            Err(Failure { message, code })
        }
    }
}

/// Ctrl-C: the first stops every live run (each stops at its next operation), a second ends
/// helix at once; with no run started yet (the picker, a question) it ends helix.
fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        let runs: Vec<_> =
            crate::run::live().into_iter().filter(|r| r.run_id().is_some()).collect();
        if runs.is_empty() {
            // No run has started (the recipe picker, a question for a parameter): nothing to
            // stop or clean up. A prompt reads Ctrl-C as a key: `console` raises this SIGINT
            // and returns `Interrupted` to the prompt, whose caller erases it, says it was
            // cancelled and ends helix with 130. Exiting here at once raced that (the picker
            // was left on screen and the message came one time in eight), so give it a
            // moment; end here only if nothing did (a SIGINT from elsewhere).
            std::thread::sleep(std::time::Duration::from_millis(500));
            let _ = console::Term::stderr().show_cursor();
            std::process::exit(130);
        }
        if runs.iter().any(|r| r.is_cancelled()) {
            // A second Ctrl-C: the person means it.
            runs.iter().for_each(|r| r.stop_children());
            std::process::exit(130);
        }
        eprintln!(
            "\n{} stopping (Ctrl-C again to force)",
            console::style("interrupted:").yellow().bold()
        );
        for r in &runs {
            r.cancel();
            r.stop_children();
        }
    });
}

fn list(dirs: &[PathBuf], json: bool) -> Result<i32, Failure> {
    let recipes = recipe::discover(dirs).map_err(Failure::error)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&recipes).unwrap_or_default());
        return Ok(0);
    }
    let mut rows = vec![vec!["RECIPE".to_string(), "DESCRIPTION".to_string(), "FROM".to_string()]];
    for r in &recipes {
        let from = match &r.origin {
            recipe::Origin::BuiltIn => "built-in".to_string(),
            recipe::Origin::Dir(_) if !r.shadows.is_empty() => {
                format!("{} (shadows built-in)", r.source_name)
            }
            recipe::Origin::Dir(_) => r.source_name.clone(),
        };
        rows.push(vec![r.name.clone(), r.header.summary.clone(), from]);
    }
    print!("{}", crate::ui::table_fitted_keeping(&rows, crate::ui::output_width(), 1));
    Ok(0)
}

fn api(module: Option<&str>, json: bool) -> Result<i32, Failure> {
    let engine = crate::engine::build(vec![]);
    if json {
        println!("{}", crate::apidoc::json(&engine, module).map_err(Failure::usage)?);
    } else {
        print!("{}", crate::apidoc::markdown(&engine, module).map_err(Failure::usage)?);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every argument of every command and subcommand, with its command path.
    fn all_args(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String, bool)>) {
        for a in cmd.get_arguments() {
            let id = a.get_id().as_str().to_string();
            if id == "help" || id == "version" {
                continue;
            }
            out.push((path.to_string(), id, a.get_help().is_some()));
        }
        for s in cmd.get_subcommands() {
            all_args(s, &format!("{path} {}", s.get_name()), out);
        }
    }

    #[test]
    fn every_flag_and_argument_has_help_text() {
        let mut args = vec![];
        all_args(&super::Cli::command(), "helix", &mut args);
        assert!(
            args.iter().any(|(p, id, _)| p == "helix list" && id == "json"),
            "walks subcommands"
        );
        let missing: Vec<String> =
            args.iter().filter(|(_, _, h)| !h).map(|(p, id, _)| format!("{p} <{id}>")).collect();
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn a_failed_commands_status_never_reads_as_usage_or_success() {
        use super::exit_code;
        assert_eq!(exit_code(Some(2)), 1, "make's 2 is not helix's usage 2");
        assert_eq!(exit_code(Some(1)), 1);
        assert_eq!(exit_code(Some(0)), 1, "a failure never ends with 0");
        assert_eq!(exit_code(Some(7)), 7);
        assert_eq!(exit_code(Some(127)), 127);
        assert_eq!(exit_code(Some(130)), 130, "Ctrl-C");
        assert_eq!(exit_code(Some(141)), 1, "141 means helix's output closed");
        assert_eq!(exit_code(Some(255)), 1);
        assert_eq!(exit_code(None), 1, "killed by a signal");
    }
}
