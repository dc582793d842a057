//! The command line: parses, dispatches, and maps every failure to a message and an exit code
//! (the failed command's code where one failed, 2 for usage, 130 for Ctrl-C, else 1).

use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Config;
use crate::ctx::Ctx;
use crate::recipe::{self, Recipe};

#[derive(Parser, Debug)]
#[command(
    name = "helix",
    version,
    about = "Run editable Rhai recipes that set up and repair the Helix macOS ARM64 dev environment — nothing destructive without a person's confirmation.",
    propagate_version = true
)]
pub struct Cli {
    /// Look for recipes in DIR first (before $HELIX_RECIPES, ./recipes, the config dir, the built-ins).
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
    #[command(disable_help_flag = true)]
    Run {
        /// The recipe's name (or a path to a .rhai file).
        recipe: String,
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
        #[arg(long)]
        json: bool,
    },
    /// Compile every recipe and stdlib module (or one recipe) with strict variables; run nothing.
    Check { recipe: Option<String> },
    /// Write a documented skeleton recipe to start from.
    New {
        name: String,
        /// Where to put it (default: ./recipes).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Every primitive recipes can call, with signature, documentation and an example.
    Api {
        /// Also write Rhai definition files (for editor completion) into DIR.
        #[arg(long, value_name = "DIR")]
        definitions: Option<PathBuf>,
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
        #[arg(long)]
        json: bool,
    },
    /// Show the merged configuration and where each value comes from.
    Config {
        #[arg(long)]
        json: bool,
    },
    /// Print shell completions.
    Completions { shell: clap_complete::Shell },
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
        run: String,
        /// Print what would be undone; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Parse, dispatch, and return the process exit code.
pub fn main() -> i32 {
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
        let code = e.exit_code().unwrap_or(1);
        Failure { message: format!("{} {e}\n", console::style("error:").red().bold()), code }
    }
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    let dirs = recipe::recipe_dirs(cli.recipes.as_deref());
    match cli.command {
        Command::Run { recipe, dry_run, resume, yes, params } => {
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            run(&dirs, &recipe, params, dry_run, resume, yes, config)
        }
        Command::List { json } => list(&dirs, json),
        Command::Check { recipe } => {
            let config = Config::load(cli.config.as_deref()).map_err(Failure::usage)?;
            let _ = Ctx::new(false, false, false, config).install();
            check(&dirs, recipe.as_deref())
        }
        Command::New { name, dir } => new(&name, dir),
        Command::Api { definitions, json } => api(definitions.as_deref(), json),
        Command::Log { run, limit, json } => log(run.as_deref(), limit, json),
        Command::Config { json } => {
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
            clap_complete::generate(shell, &mut Cli::command(), "helix", &mut std::io::stdout());
            Ok(0)
        }
    }
}

fn run(
    dirs: &[PathBuf],
    name: &str,
    params: Vec<String>,
    dry_run: bool,
    resume: bool,
    yes: bool,
    config: Config,
) -> Result<i32, Failure> {
    let recipe = recipe::find(dirs, name).map_err(Failure::usage)?;
    if params.iter().any(|p| p == "--help" || p == "-h") {
        print!("{}", recipe::help(&recipe));
        return Ok(0);
    }
    // helix's own run flags may also follow the recipe's parameters
    // (`helix run provision-vm --cpus 8 --resume`), unless the recipe declares one itself.
    let mut params = params;
    let (mut dry_run, mut resume, mut yes) = (dry_run, resume, yes);
    params.retain(|p| {
        let own = |flag: &str| {
            p == flag && !recipe.header.params.iter().any(|q| format!("--{}", q.name) == flag)
        };
        match () {
            _ if own("--dry-run") => dry_run = true,
            _ if own("--resume") => resume = true,
            _ if own("--yes") || (p == "-y") => yes = true,
            _ => return true,
        }
        false
    });
    let args = recipe::parse_args(&recipe, &params).map_err(Failure::usage)?;
    let ctx = Ctx::new(dry_run, resume, yes, config)
        .install()
        .ok_or_else(|| Failure::error("a run is already in progress in this process"))?;
    *crate::api::global::RECIPE.lock().unwrap() = recipe.name.clone();
    *crate::api::global::ARGS.lock().unwrap() = args.clone();
    let engine = crate::engine::build(recipe::stdlib_dirs(dirs));
    let mut scope = crate::run::scope(&args);
    let ast = crate::run::compile(&engine, &recipe, &scope)
        .map_err(|m| Failure { message: m, code: 1 })?;
    let journal = crate::journal::Journal::start(
        &crate::config::state_dir().join("runs"),
        &recipe.name,
        serde_json::to_value(&args).unwrap_or_default(),
        dry_run,
    )
    .map_err(Failure::from)?;
    let run_id = journal.run_id().to_string();
    ctx.set_journal(journal);
    install_interrupt_handler();
    let result = crate::run::execute(&engine, &ast, &mut scope);
    // A run leaves nothing behind: VMs it started (unless detached), children, SSH masters.
    crate::qemu::kill_all();
    crate::process::terminate_all();
    crate::ssh::close_all();
    match result {
        Ok(()) => {
            ctx.with_journal(|j| j.end("ok"));
            Ok(0)
        }
        Err(e) => {
            let cancelled =
                ctx.is_cancelled() || matches!(*e, rhai::EvalAltResult::ErrorTerminated(..));
            ctx.with_journal(|j| j.end(if cancelled { "interrupted" } else { "failed" }));
            let mut message = ctx.redact(&crate::report::runtime(&e, &recipe.source_name));
            message
                .push_str(&format!("  = run `{run_id}`: `helix log {run_id}` shows what it did\n"));
            let code = if cancelled { 130 } else { ctx.take_exit_code().unwrap_or(1) };
            Err(Failure { message, code })
        }
    }
}

fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        let ctx = crate::ctx::get();
        if ctx.is_cancelled() {
            // A second Ctrl-C: the person means it.
            crate::process::terminate_all();
            std::process::exit(130);
        }
        eprintln!(
            "\n{} stopping (Ctrl-C again to force)",
            console::style("interrupted:").yellow().bold()
        );
        ctx.cancel();
        crate::process::terminate_all();
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
    print!("{}", crate::ui::table(&rows));
    Ok(0)
}

fn check(dirs: &[PathBuf], only: Option<&str>) -> Result<i32, Failure> {
    let engine = crate::engine::build(recipe::stdlib_dirs(dirs));
    let recipes: Vec<Recipe> = match only {
        Some(name) => vec![recipe::find(dirs, name).map_err(Failure::usage)?],
        None => recipe::discover(dirs).map_err(Failure::error)?,
    };
    let mut failed = 0;
    let mut checked = 0;
    for r in &recipes {
        checked += 1;
        let args = r
            .header
            .params
            .iter()
            .map(|p| (p.name.clone(), recipe::Value::Str(String::new())))
            .collect();
        let scope = crate::run::scope(&args);
        let result = crate::run::compile(&engine, r, &scope)
            .and_then(|ast| crate::run::check_imports(&engine, &ast, r));
        match result {
            Ok(()) => println!("{} {}", console::style("ok").green(), r.name),
            Err(m) => {
                failed += 1;
                println!("{} {}", console::style("FAILED").red().bold(), r.name);
                eprint!("{m}");
            }
        }
    }
    if only.is_none() {
        for (name, source, text) in stdlib_modules(&recipe::stdlib_dirs(dirs)) {
            checked += 1;
            crate::sources::remember(&source, &text);
            match engine.compile(&text) {
                Ok(_) => println!("{} stdlib/{name}", console::style("ok").green()),
                Err(e) => {
                    failed += 1;
                    println!("{} stdlib/{name}", console::style("FAILED").red().bold());
                    eprint!("{}", crate::report::parse(&e, &source));
                }
            }
        }
    }
    if failed > 0 {
        return Err(Failure {
            message: format!("{failed} of {checked} failed to compile\n"),
            code: 1,
        });
    }
    Ok(0)
}

/// Every stdlib module visible: `(name, source name, text)`, user dirs shadowing built-ins.
fn stdlib_modules(dirs: &[PathBuf]) -> Vec<(String, String, String)> {
    let mut names: Vec<String> = Vec::new();
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "rhai") {
                    names.push(p.file_stem().unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    for f in recipe::BUILTIN_STDLIB.files() {
        names.push(f.path().file_stem().unwrap_or_default().to_string_lossy().into_owned());
    }
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| crate::engine::StdlibResolver::locate(dirs, &n).map(|(s, t)| (n, s, t)))
        .collect()
}

fn new(name: &str, dir: Option<PathBuf>) -> Result<i32, Failure> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Failure::usage(format!(
            "`{name}` is not a recipe name: use letters, digits, `-` and `_`"
        )));
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from("recipes"));
    let path = dir.join(format!("{name}.rhai"));
    if path.exists() {
        return Err(Failure::usage(format!(
            "`{}` already exists; helix does not overwrite it",
            path.display()
        )));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::error(format!("could not create `{}`: {e}", dir.display())))?;
    crate::fs::atomic_write_raw(&path, skeleton(name).as_bytes(), Some(0o644))
        .map_err(Failure::from)?;
    println!("created {}\nrun it with: helix run {name} --who you", path.display());
    Ok(0)
}

fn skeleton(name: &str) -> String {
    format!(
        r#"//! One line that says what `{name}` does (shown by `helix list`).
//!
//! More about it: what it changes, what it needs. Shown by `helix run {name} --help`.
//!
//! @param who        Whom to greet (default: world)
//! @param times:int  How many times (default: 1)
//! @flag  loud       Shout

// `args` holds the parameters above, already checked; `config` the merged configuration.
// `helix api` lists every primitive (fs::, cmd::, ui::, ...). `helix check` compiles this file.

step("greet", || {{
    let text = `hello, ${{args.who}}`;
    if args.loud {{ text = text.to_upper(); }}
    for i in 0..args.times {{
        ui::info(text);
    }}
}});

// Changes go through primitives, so `--dry-run` shows them and the guard protects your data:
// fs::write("/tmp/{name}.txt", "done\n");
"#
    )
}

fn api(definitions: Option<&Path>, json: bool) -> Result<i32, Failure> {
    let engine = crate::engine::build(vec![]);
    if let Some(dir) = definitions {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::error(format!("could not create `{}`: {e}", dir.display())))?;
        engine.definitions().with_headers(true).write_to_dir(dir).map_err(|e| {
            Failure::error(format!("could not write definitions to `{}`: {e}", dir.display()))
        })?;
        eprintln!("wrote Rhai definition files to {}", dir.display());
        return Ok(0);
    }
    if json {
        println!("{}", engine.gen_fn_metadata_to_json(false).unwrap_or_default());
    } else {
        print!("{}", crate::apidoc::markdown(&engine));
    }
    Ok(0)
}

fn log(run: Option<&str>, limit: usize, json: bool) -> Result<i32, Failure> {
    let dir = crate::config::state_dir().join("runs");
    if let Some(id) = run {
        let run = crate::journal::find_run(&dir, id).map_err(Failure::usage)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&run.records).unwrap_or_default());
            return Ok(0);
        }
        println!(
            "run {} — {} — started {} — {}",
            run.id,
            run.recipe(),
            run.started(),
            run.status()
        );
        let mut rows = vec![vec!["ACTION".into(), "RESULT".into(), "TIME".into(), "DETAIL".into()]];
        for r in run.actions() {
            if let crate::journal::Record::Action { kind, detail, result, ms, .. } = r {
                rows.push(vec![
                    kind.clone(),
                    first_line(result),
                    format!("{ms}ms"),
                    detail.clone(),
                ]);
            }
        }
        print!("{}", crate::ui::table(&rows));
        return Ok(0);
    }
    let runs = crate::journal::list_runs(&dir).map_err(Failure::error)?;
    if json {
        let v: Vec<_> = runs.iter().take(limit).map(|r| serde_json::json!({"id": r.id, "recipe": r.recipe(), "started": r.started(), "status": r.status(), "actions": r.actions().count()})).collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Ok(0);
    }
    if runs.is_empty() {
        println!("no runs recorded yet (journal: {})", dir.display());
        return Ok(0);
    }
    let mut rows = vec![vec![
        "RUN".into(),
        "STARTED".into(),
        "RECIPE".into(),
        "STATUS".into(),
        "ACTIONS".into(),
    ]];
    for r in runs.iter().take(limit) {
        rows.push(vec![
            r.id.clone(),
            r.started().to_string(),
            r.recipe().to_string(),
            r.status().to_string(),
            r.actions().count().to_string(),
        ]);
    }
    print!("{}", crate::ui::table(&rows));
    Ok(0)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}
