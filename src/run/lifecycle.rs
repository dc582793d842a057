//! A run from start to end: the check gate, helix's own flags among the recipe's parameters,
//! the arguments, the journal's start, compiling, executing on a thread the run is entered
//! on, teardown, the end record, and what the person is told (the [`Outcome`], which the CLI
//! turns into text and an exit status). Also the scope a recipe sees (`args`, `config`) and
//! strict compilation for `helix check`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{AST, Dynamic, Engine, Scope};

use super::Run;
use crate::config::Config;
use crate::recipe::{Recipe, Value};

/// helix's own options for a run (`--dry-run`, `--resume`, `--yes`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    pub dry_run: bool,
    pub resume: bool,
    pub yes: bool,
}

/// How a run ended, for the CLI to put into words.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub end: End,
    pub run_id: Option<String>,
    pub dry_run: bool,
    /// Changes a dry run planned.
    pub planned: usize,
    /// Acts a dry run found the guard would refuse.
    pub refused: usize,
    /// Whether `helix undo` can reverse something the run changed.
    pub undoable: bool,
}

#[derive(Debug)]
pub(crate) enum End {
    /// The recipe ran to its end, or `exit(code)`.
    Done { code: i32 },
    /// The run never started: bad parameters (usage).
    Usage(String),
    /// The run never started: `helix check` found problems (the rendered findings).
    Refused { message: String, code: i32 },
    /// It failed or was interrupted: the rendered, redacted report, the status the failure
    /// asks for (a failed command's own; `None` for no particular one), and how to carry on.
    Failed { report: String, wanted: Option<i32>, cancelled: bool, resume: Option<Resume> },
    /// The run could not start (its journal could not be written).
    Error(crate::error::Error),
    /// Its output was closed (`helix run x | head -1`): stopped quietly.
    OutputClosed,
}

/// A failed run whose finished steps `--resume` would skip: the command that carries on, and
/// those steps.
#[derive(Debug)]
pub(crate) struct Resume {
    pub command: String,
    pub finished: Vec<String>,
}

impl Outcome {
    fn before_start(end: End, dry_run: bool) -> Self {
        Outcome { end, run_id: None, dry_run, planned: 0, refused: 0, undoable: false }
    }
}

/// Run `recipe` with the words after its name (`params`): the whole lifecycle. The journal
/// goes into `journal_dir`. A panic inside the recipe (other than a closed output) is
/// recorded in the journal and resumed after the run is torn down.
pub(crate) fn run(
    dirs: &[PathBuf],
    recipe: &Recipe,
    params: Vec<String>,
    opts: Options,
    config: Config,
    journal_dir: &Path,
) -> Outcome {
    if let Err(f) = crate::check::command::gate(dirs, recipe) {
        return Outcome::before_start(
            End::Refused { message: f.message, code: f.code },
            opts.dry_run,
        );
    }
    let (params, opts) = own_flags(recipe, params, opts);
    let args = match crate::recipe::parse_args(recipe, &params) {
        Ok(a) => a,
        Err(e) => return Outcome::before_start(End::Usage(e.to_string()), opts.dry_run),
    };
    let run = Arc::new(
        Run::new(opts.dry_run, opts.resume, opts.yes, config).with_recipe(&recipe.name, args),
    );
    let outcome = {
        let _entered = run.enter();
        run_entered(&run, dirs, recipe, &params, journal_dir)
    };
    // The last handle: dropping it tears the run down (already done on the way; idempotent).
    drop(run);
    match outcome {
        Ok(o) => o,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// helix's own run flags may also follow the recipe's parameters
/// (`helix run provision-vm --cpus 8 --resume`), unless the recipe declares one itself.
fn own_flags(
    recipe: &Recipe,
    mut params: Vec<String>,
    mut opts: Options,
) -> (Vec<String>, Options) {
    params.retain(|p| {
        let own = |flag: &str| {
            p == flag && !recipe.header.params.iter().any(|q| format!("--{}", q.name) == flag)
        };
        match () {
            _ if own("--dry-run") => opts.dry_run = true,
            _ if own("--resume") => opts.resume = true,
            _ if own("--yes") || (p == "-y") => opts.yes = true,
            _ => return true,
        }
        false
    });
    (params, opts)
}

type Panic = Box<dyn std::any::Any + Send>;

/// The run proper, with `run` entered on this thread.
fn run_entered(
    run: &Arc<Run>,
    dirs: &[PathBuf],
    recipe: &Recipe,
    params: &[String],
    journal_dir: &Path,
) -> Result<Outcome, Panic> {
    let dry_run = run.dry_run;
    let mut engine = crate::engine::build(crate::recipe::stdlib_dirs(dirs));
    engine.set_default_tag(Dynamic::from(run.clone()));
    let mut scope = scope(run.args(), &run.config);
    let ast = match compile(&engine, recipe, &scope) {
        Ok(a) => a,
        Err(message) => {
            return Ok(Outcome::before_start(End::Refused { message, code: 1 }, dry_run));
        }
    };
    let journal = match crate::journal::Journal::start(
        journal_dir,
        &recipe.name,
        serde_json::to_value(run.args()).unwrap_or_default(),
        dry_run,
    ) {
        Ok(j) => j,
        Err(e) => return Ok(Outcome::before_start(End::Error(e), dry_run)),
    };
    let run_id = journal.run_id().to_string();
    run.set_journal(journal);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        execute(&engine, &ast, &mut scope)
    }));
    drop(engine);
    // A run leaves nothing behind: VMs it started (unless detached), children, SSH masters.
    run.teardown();
    let step = run.failed_step();
    let outcome = |end| Outcome {
        end,
        run_id: Some(run_id.clone()),
        dry_run,
        planned: run.planned(),
        refused: run.refused(),
        undoable: run.with_journal(|j| j.undoable()).unwrap_or(false),
    };
    let result = match result {
        Ok(r) => r,
        Err(p) => {
            let closed = crate::closed_pipe::is_closed_pipe(p.as_ref());
            let (status, why) = if closed {
                ("interrupted", "the output was closed (its reader went away)".to_string())
            } else {
                (
                    "failed",
                    format!("helix crashed: {}", p.downcast_ref::<String>().map_or("?", |s| s)),
                )
            };
            run.with_journal(|j| j.end_with(status, Some(&why), step.as_deref()));
            return if closed { Ok(outcome(End::OutputClosed)) } else { Err(p) };
        }
    };
    match result {
        Ok(()) => {
            // `exit(code, message)` ends the recipe with its code; the message is already out.
            let code = run.take_exit().unwrap_or(0);
            run.with_journal(|j| j.end(if code == 0 { "ok" } else { "failed" }));
            Ok(outcome(End::Done { code }))
        }
        Err(e) => {
            let carried = crate::error::carried(&e);
            let cancelled = run.is_cancelled()
                || carried.cancelled
                || matches!(*e, rhai::EvalAltResult::ErrorTerminated(..));
            let report = run.redact(&crate::report::runtime(&e, &recipe.source_name));
            run.with_journal(|j| {
                j.end_with(
                    if cancelled { "interrupted" } else { "failed" },
                    Some(report.trim_end()),
                    step.as_deref(),
                )
            });
            let finished = run.completed_steps();
            let resume = (!finished.is_empty()).then(|| {
                // The words the person typed (not every default), quoted for a shell.
                let words = params.iter().map(|w| crate::runlog::quote(w));
                let command = ["helix".to_string(), "run".into(), recipe.name.clone()]
                    .into_iter()
                    .chain(words)
                    .chain(["--resume".to_string()])
                    .collect::<Vec<_>>()
                    .join(" ");
                Resume { command: run.redact(&command), finished }
            });
            Ok(outcome(End::Failed { report, wanted: carried.code, cancelled, resume }))
        }
    }
}

/// The scope a recipe is compiled and run in: its `args` and the merged `config`.
pub(crate) fn scope(args: &BTreeMap<String, Value>, config: &Config) -> Scope<'static> {
    let mut scope = Scope::new();
    let args = rhai::serde::to_dynamic(args).unwrap_or(Dynamic::UNIT);
    scope.push_constant("args", args);
    scope.push_constant("config", crate::api::convert::from_json(&config.to_json()));
    scope
}

/// Compile a recipe with strict variables; errors are rendered with file:line:col.
pub(crate) fn compile(engine: &Engine, recipe: &Recipe, scope: &Scope) -> Result<AST, String> {
    crate::sources::remember(&recipe.source_name, &recipe.text);
    let mut ast = engine
        .compile_with_scope(scope, &recipe.text)
        .map_err(|e| crate::report::parse(&e, &recipe.source_name))?;
    ast.set_source(recipe.source_name.as_str());
    Ok(ast)
}

/// Run an already-compiled recipe.
pub(crate) fn execute(
    engine: &Engine,
    ast: &AST,
    scope: &mut Scope,
) -> Result<(), Box<rhai::EvalAltResult>> {
    engine.run_ast_with_scope(scope, ast)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A recipe ending with a code that tells what it saw: 10 + n in a dry run, 20 + n in a
    /// real one, after spinning long enough (`spin` ms) for a concurrent run to overlap.
    fn recipe(dir: &Path) -> Recipe {
        let text = "//! Says what it sees.\n//!\n//! @param n      A number\n//! @param spin   How long to spin (ms)\n\
            let t = timestamp();\n\
            while t.elapsed * 1000.0 < parse_int(args.spin).to_float() {}\n\
            exit((if dry_run() { 10 } else { 20 }) + parse_int(args.n));\n";
        let path = dir.join("sees.rhai");
        // Concurrent runs write the same recipe: beside it, then renamed into place, so a
        // reader never sees it half-written.
        let tmp = dir.join(format!(".sees-{:?}.tmp", std::thread::current().id()));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        crate::recipe::find(&[dir.to_path_buf()], path.to_str().unwrap()).unwrap()
    }

    fn go(dir: &Path, dry_run: bool, n: u8, spin: u32) -> Outcome {
        let r = recipe(dir);
        let words = ["--n", &n.to_string(), "--spin", &spin.to_string()].map(String::from);
        let opts = Options { dry_run, ..Options::default() };
        run(&[dir.to_path_buf()], &r, words.to_vec(), opts, Config::default(), &dir.join("runs"))
    }

    fn code(o: &Outcome) -> i32 {
        match o.end {
            End::Done { code } => code,
            ref other => panic!("the run did not end by exit(): {other:?}"),
        }
    }

    #[test]
    fn two_runs_in_one_process_each_see_their_own_options_and_args() {
        let d = tempfile::tempdir().unwrap();
        // One after the other.
        let (a, b) = (go(d.path(), true, 1, 0), go(d.path(), false, 2, 0));
        assert_eq!((code(&a), code(&b)), (11, 22));
        assert!(a.dry_run && !b.dry_run);
        assert_ne!(a.run_id, b.run_id, "each its own journal");
        // At once, on two threads, overlapping.
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| go(d.path(), false, 3, 300));
            let b = s.spawn(|| go(d.path(), true, 4, 300));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!((code(&a), code(&b)), (23, 14));
        // Outside them, this thread is in no run.
        assert!(!crate::run::current().dry_run && crate::run::current().run_id().is_none());
    }

    /// Whether process `pid` is still running (not gone, not a zombie).
    #[cfg(target_os = "linux")]
    fn running(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z'))
        })
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn dropping_a_run_ends_the_children_it_left_running_and_only_its() {
        let start = |run: &Arc<Run>| {
            let _in = run.enter();
            let bg = crate::process::Cmd::new(&["sleep", "30"]).spawn_background(None).unwrap();
            let pid = bg.pid();
            // A handle the run lost track of: only the run's own teardown can end it.
            std::mem::forget(bg);
            pid
        };
        let a = Arc::new(Run::new(false, false, false, Config::default()));
        let b = Arc::new(Run::new(false, false, false, Config::default()));
        let (pa, pb) = (start(&a), start(&b));
        assert!(running(pa) && running(pb));
        drop(a);
        let gone = |pid| {
            let t = std::time::Instant::now();
            while running(pid) && t.elapsed() < std::time::Duration::from_secs(5) {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            !running(pid)
        };
        assert!(gone(pa), "the dropped run's child is gone");
        assert!(running(pb), "the other run's child lives on");
        drop(b);
        assert!(gone(pb));
    }
}
