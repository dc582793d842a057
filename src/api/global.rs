//! Functions every recipe and stdlib module can call without a namespace.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(global_api)
}

fn list_arg(run: &crate::run::Run, name: &str) -> Vec<String> {
    // `only`/`skip` come from the recipe's own parameters when it declares them.
    match run.args().get(name) {
        Some(crate::recipe::Value::List(l)) => l.clone(),
        Some(crate::recipe::Value::Str(s)) => {
            s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect()
        }
        _ => vec![],
    }
}

/// Whether `v` is data a step state file can keep and give back unchanged: text, numbers,
/// bools, and arrays and maps of those (not a closure, a progress bar or a VM handle).
fn plain_data(v: &Dynamic) -> bool {
    if v.is_array() {
        return v.read_lock::<rhai::Array>().is_some_and(|a| a.iter().all(plain_data));
    }
    if v.is_map() {
        return v.read_lock::<rhai::Map>().is_some_and(|m| m.values().all(plain_data));
    }
    v.is_string() || v.is_int() || v.is_float() || v.is_bool() || v.is_char() || v.is_unit()
}

fn exit_now(run: &crate::run::Run, code: i64, message: &str) -> Box<rhai::EvalAltResult> {
    let Ok(code) = u8::try_from(code).map(i32::from) else {
        return format!("`exit({code}, …)`: an exit code is a number from 0 to 255").into();
    };
    if !message.is_empty() {
        if code == 0 { crate::ui::info(message) } else { crate::ui::error(message) }
    }
    run.ask_exit(code);
    // Rhai's own `exit`: it passes through functions and closures and ends the script.
    rhai::EvalAltResult::Exit(Dynamic::UNIT, rhai::Position::NONE).into()
}

#[export_module]
mod global_api {
    use crate::error::{RhaiResult, rhai as r};
    use serde_json::Value::Null;

    /// Run a named step. Its completion is recorded only after it succeeds; with `--resume`,
    /// recorded steps are skipped. `--only`/`--skip` lists (when the recipe declares them)
    /// select steps by name. Returns the step's value; a step skipped by `--resume` returns the
    /// value it returned when it ran (recorded when it is text, a number, a bool, an array or a
    /// map), so later steps decide the same way; a step skipped by `--only`/`--skip` returns `()`.
    ///
    /// ```rhai
    /// step("download", || {
    ///     print("downloading");
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn step(ctx: NativeCallContext, name: &str, body: rhai::FnPtr) -> RhaiResult<Dynamic> {
        let run = crate::run::of(&ctx);
        let only = super::list_arg(&run, "only");
        let skip = super::list_arg(&run, "skip");
        match r(&ctx, run.begin_step(name, &only, &skip))? {
            crate::step::Decision::SkipDone(value) => {
                crate::ui::info(&format!("step `{name}`: already done (resumed)"));
                Ok(value.map(|v| crate::api::convert::from_json(&v)).unwrap_or(Dynamic::UNIT))
            }
            crate::step::Decision::SkipFiltered => {
                crate::ui::info(&format!("step `{name}`: skipped"));
                Ok(Dynamic::UNIT)
            }
            crate::step::Decision::Run { index } => {
                crate::ui::header(&format!("[{index}] {name}"));
                let started = std::time::Instant::now();
                let value: Dynamic = body.call_within_context(&ctx, ()).inspect_err(|_| {
                    run.note_failed_step(name);
                    run.with_journal(|j| {
                        let took = started.elapsed();
                        j.action("step", &format!("step `{name}`"), Null, "failed", took, Null)
                    });
                })?;
                let kept = (!value.is_unit() && super::plain_data(&value))
                    .then(|| serde_json::to_value(&value).ok())
                    .flatten();
                r(&ctx, run.step_done(name, kept))?;
                run.with_journal(|j| {
                    j.action(
                        "step",
                        &format!("step `{name}`"),
                        serde_json::Value::Null,
                        "ok",
                        started.elapsed(),
                        serde_json::Value::Null,
                    )
                });
                Ok(value)
            }
        }
    }

    /// End the recipe now with exit code `code`, printing `message` (as information for 0, as
    /// an error otherwise) — no caret, no call chain: for a recipe that has decided it is done
    /// or must stop with a status. Steps already done stay recorded.
    ///
    /// ```rhai
    /// if !fs::exists("/tmp/helix-vm") { exit(3, "no VM here: create it with helix run provision-vm"); }
    /// ```
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_with(ctx: NativeCallContext, code: i64, message: &str) -> RhaiResult<()> {
        Err(super::exit_now(&crate::run::of(&ctx), code, message))
    }

    /// End the recipe now with exit code `code` (Rhai's own `exit(value)` would end it with 0).
    ///
    /// ```rhai
    /// if dry_run() { exit(0); }
    /// ```
    #[rhai_fn(name = "exit", return_raw)]
    pub fn exit_code(ctx: NativeCallContext, code: i64) -> RhaiResult<()> {
        Err(super::exit_now(&crate::run::of(&ctx), code, ""))
    }

    /// Keep the step state of this run in `file` (e.g. in the VM dir) instead of helix's
    /// state dir, so `--resume` follows the work wherever it lives.
    ///
    /// ```rhai
    /// steps_file("/tmp/vm/.helix-steps.json");
    /// ```
    pub fn steps_file(ctx: NativeCallContext, file: &str) {
        crate::run::of(&ctx).set_steps_file(crate::paths::expand(file))
    }

    /// Whether this run is a `--dry-run`.
    ///
    /// ```rhai
    /// if dry_run() { print("planning only"); }
    /// ```
    pub fn dry_run(ctx: NativeCallContext) -> bool {
        crate::run::of(&ctx).dry_run
    }

    /// This run's id (for `helix undo`), or `()` outside a run.
    ///
    /// ```rhai
    /// print(`undo with: helix undo ${run_id()}`);
    /// ```
    pub fn run_id(ctx: NativeCallContext) -> Dynamic {
        crate::run::of(&ctx).run_id().map(Dynamic::from).unwrap_or(Dynamic::UNIT)
    }

    /// The merged configuration (the same map recipes see as `config`).
    ///
    /// ```rhai
    /// let pm = helix_config().paths.pm;
    /// ```
    pub fn helix_config(ctx: NativeCallContext) -> Dynamic {
        crate::api::convert::from_json(&crate::run::of(&ctx).config.to_json())
    }

    /// Join an array's items into one string with `sep` between them.
    ///
    /// ```rhai
    /// print(["bison", "meson"].join(", "));
    /// ```
    #[rhai_fn(name = "join", pure)]
    pub fn join(items: &mut rhai::Array, sep: &str) -> String {
        items.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(sep)
    }

    /// Parse JSON text into Rhai values (objects become maps).
    ///
    /// ```rhai
    /// let v = parse_json(`{"pid": 42}`);
    /// print(v.pid);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_json(ctx: NativeCallContext, text: &str) -> RhaiResult<Dynamic> {
        let v: serde_json::Value = crate::error::rhai(
            &ctx,
            serde_json::from_str(text).map_err(|e| {
                crate::error::Error::invalid(
                    "JSON",
                    text.chars().take(40).collect::<String>(),
                    e.to_string(),
                )
            }),
        )?;
        Ok(crate::api::convert::from_json(&v))
    }
}
