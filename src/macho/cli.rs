//! `helix macho …`: the Mach-O primitives for a person at a shell, no recipe needed. Edits go
//! through the guard like a recipe's (journaled as run `macho`, undoable, `--dry-run` aware).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use crate::cli::Failure;
use crate::macho::{self, Edit};

#[derive(Subcommand, Debug)]
pub enum MachoCmd {
    /// Dependencies, id, rpaths, signature and header room (like `otool -L`).
    Info {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Change a dependency's install name (`install_name_tool -change OLD NEW`).
    Change {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// The dependency's install name now.
        old: String,
        /// The install name it gets.
        new: String,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Set a dylib's install name (`-id`).
    SetId {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// The install name to set.
        id: String,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Add an rpath (`-add_rpath`); an error if it is already there.
    AddRpath {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// The rpath to add.
        rpath: String,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Delete an rpath (`-delete_rpath`); an error if it is not there.
    DeleteRpath {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// The rpath to delete.
        rpath: String,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Rename an rpath (`-rpath OLD NEW`).
    RenameRpath {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// The rpath now.
        old: String,
        /// The rpath it becomes.
        new: String,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Rewrite every dependency under PREFIX to UTM's frameworks in one pass (the legacy fixer);
    /// exit 3 when some have no framework or dylib to point at.
    RewritePrefix {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// e.g. /Users/you/pm/UTM/sysroot-macOS-arm64/lib
        #[arg(long)]
        prefix: String,
        /// e.g. /Applications/UTM.app/Contents/Frameworks
        #[arg(long)]
        frameworks: PathBuf,
        /// Also set the install name.
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Sign ad-hoc (adds or replaces the signature).
    Sign {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        #[command(flatten)]
        opts: EditOpts,
    },
    /// Check every code-signature hash against the file (exit 1 when one does not match).
    Verify {
        /// The Mach-O file (binary or dylib).
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct EditOpts {
    /// Print the exact changes; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Re-sign an identity-signed binary with this identity via `codesign` (macOS).
    #[arg(long)]
    identity: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// Run one `helix macho` subcommand.
pub(crate) fn run(cmd: MachoCmd, config: Option<&Path>) -> Result<i32, Failure> {
    match cmd {
        MachoCmd::Info { file, json } => {
            let info = macho::info(&file).map_err(Failure::from)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info).unwrap_or_default());
            } else {
                print!("{}", macho::render_libraries(&info));
            }
            Ok(0)
        }
        MachoCmd::Verify { file, json } => {
            let v = macho::verify(&file).map_err(Failure::from)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                for s in &v.slices {
                    let what = match (&s.signature, s.valid) {
                        (Some(g), true) => format!(
                            "valid {} signature ({} pages, identifier `{}`)",
                            g.kind, s.pages, g.identifier
                        ),
                        _ => format!("INVALID: {}", s.problem.clone().unwrap_or_default()),
                    };
                    println!("{}: {}: {what}", file.display(), s.arch);
                }
            }
            Ok(if v.valid { 0 } else { 1 })
        }
        MachoCmd::Change { file, old, new, opts } => {
            edit(&file, vec![Edit::Change { old, new }], opts, config)
        }
        MachoCmd::SetId { file, id, opts } => {
            edit(&file, vec![Edit::Id { name: id }], opts, config)
        }
        MachoCmd::AddRpath { file, rpath, opts } => {
            edit(&file, vec![Edit::AddRpath { path: rpath }], opts, config)
        }
        MachoCmd::DeleteRpath { file, rpath, opts } => {
            edit(&file, vec![Edit::DeleteRpath { path: rpath }], opts, config)
        }
        MachoCmd::RenameRpath { file, old, new, opts } => {
            edit(&file, vec![Edit::RenameRpath { old, new }], opts, config)
        }
        MachoCmd::RewritePrefix { file, prefix, frameworks, id, opts } => {
            with_run(&opts, config, "macho rewrite-prefix", &file, || {
                let r = macho::rewrite_prefix(
                    &file,
                    &prefix,
                    &frameworks,
                    id.as_deref(),
                    opts.identity.as_deref(),
                )?;
                if opts.json {
                    println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
                } else {
                    // `r.mapped` is in `r.report.changes`, slice by slice: printed once, there.
                    for u in &r.unresolved {
                        println!("unresolved: {u}");
                    }
                    print_report(&r.report);
                }
                Ok(if r.unresolved.is_empty() { 0 } else { 3 })
            })
        }
        MachoCmd::Sign { file, opts } => with_run(&opts, config, "macho sign", &file, || {
            let r = macho::sign_adhoc(&file)?;
            if opts.json {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            } else if !crate::run::current().dry_run {
                println!(
                    "signed ad-hoc ({}), identifier `{}`, replaced: {}",
                    r.archs.join(", "),
                    r.identifier,
                    r.replaced
                );
            }
            Ok(0)
        }),
    }
}

/// The changes (a dry run's plan already listed them, under its `would edit` line), what was
/// not found or already so, and the signature.
fn print_report(r: &macho::EditReport) {
    let dry_run = crate::run::current().dry_run;
    if !dry_run {
        for c in &r.changes {
            println!("{c}");
        }
    }
    for n in &r.not_found {
        println!("not found: {n}");
    }
    for a in &r.already {
        println!("already: {a}");
    }
    if r.modified && !dry_run {
        println!("signature: {}", r.signature);
    } else if !r.modified {
        println!("nothing to change");
    }
}

fn edit(
    file: &Path,
    edits: Vec<Edit>,
    opts: EditOpts,
    config: Option<&Path>,
) -> Result<i32, Failure> {
    with_run(&opts, config, "macho edit", file, || {
        let r = macho::edit(file, &edits, opts.identity.as_deref())?;
        if opts.json {
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
        } else {
            print_report(&r);
        }
        Ok(0)
    })
}

/// Set up the run context and a journal (so `helix log` and `helix undo` see the change).
fn with_run(
    opts: &EditOpts,
    config: Option<&Path>,
    what: &str,
    file: &Path,
    f: impl FnOnce() -> crate::error::Result<i32>,
) -> Result<i32, Failure> {
    let config = crate::config::Config::load(config).map_err(Failure::usage)?;
    let ctx = crate::run::Run::new(opts.dry_run, false, false, config)
        .install()
        .ok_or_else(|| Failure::error("a run is already in progress in this process"))?;
    let journal = crate::journal::Journal::start(
        &crate::config::state_dir().join("runs"),
        what,
        serde_json::json!({ "file": file }),
        opts.dry_run,
    )
    .map_err(Failure::from)?;
    ctx.set_journal(journal);
    let result = f();
    let error = result.as_ref().err().map(|e| format!("error: {e}"));
    ctx.with_journal(|j| {
        j.end_with(if result.is_ok() { "ok" } else { "failed" }, error.as_deref(), None)
    });
    if opts.dry_run {
        eprintln!("{}", crate::dry_run::summary(ctx.planned(), ctx.refused(), result.is_ok()));
    }
    result.map_err(Failure::from)
}
