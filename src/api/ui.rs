//! `ui::` — talk to the person running the recipe.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    let mut m = exported_module!(ui_api);
    m.set_custom_type::<Progress>("Progress");
    m
}

/// What a `ui::` line shows for any value: text as it is, anything else as Rhai prints it
/// (`ui::info(42)`, `ui::info(["a", "b"])`).
fn text_of(v: &Dynamic) -> String {
    match v.clone().into_string() {
        Ok(s) => s,
        Err(_) => v.to_string(),
    }
}

/// A progress bar handle for recipes.
#[derive(Clone)]
pub struct Progress(pub indicatif::ProgressBar);

#[export_module]
mod ui_api {
    use crate::error::{RhaiResult, rhai as r};

    use super::Progress;

    /// Print a step header.
    ///
    /// ```rhai
    /// ui::header("Building QEMU");
    /// ```
    pub fn header(text: Dynamic) {
        crate::ui::header(&super::text_of(&text))
    }

    /// Print an informational line (any value: text, a number, an array).
    ///
    /// ```rhai
    /// ui::info("using the sysroot in ~/pm/UTM");
    /// ```
    pub fn info(text: Dynamic) {
        crate::ui::info(&super::text_of(&text))
    }

    /// Print a plan line (`[dry-run] …`, on stdout) — for what a recipe skips under `--dry-run`
    /// because an earlier step only planned its work.
    ///
    /// ```rhai
    /// if dry_run() { ui::plan("would install the build into UTM.app"); }
    /// ```
    pub fn plan(text: Dynamic) {
        crate::ui::plan(&super::text_of(&text))
    }

    /// Print a warning.
    ///
    /// ```rhai
    /// ui::warn("UTM is running");
    /// ```
    pub fn warn(text: Dynamic) {
        crate::ui::warn(&super::text_of(&text))
    }

    /// Print a success line.
    ///
    /// ```rhai
    /// ui::success("QEMU installed");
    /// ```
    pub fn success(text: Dynamic) {
        crate::ui::success(&super::text_of(&text))
    }

    /// Print an error line (does not stop the recipe; `throw` does).
    ///
    /// ```rhai
    /// ui::error("SPICE support is missing");
    /// ```
    pub fn error(text: Dynamic) {
        crate::ui::error(&super::text_of(&text))
    }

    /// Ask a yes/no question (default No). `--yes` answers it; with no terminal it is an error.
    ///
    /// ```rhai
    /// if ui::confirm("Install missing formulae?") { print("installing"); }
    /// ```
    #[rhai_fn(return_raw, name = "confirm")]
    pub fn confirm(ctx: NativeCallContext, prompt: &str) -> RhaiResult<bool> {
        r(&ctx, crate::ui::confirm(prompt, None))
    }

    /// Ask a yes/no question; with no terminal the default stands.
    ///
    /// ```rhai
    /// let restart = ui::confirm("Restart UTM now?", false);
    /// ```
    #[rhai_fn(return_raw, name = "confirm")]
    pub fn confirm_default(
        ctx: NativeCallContext,
        prompt: &str,
        default: bool,
    ) -> RhaiResult<bool> {
        r(&ctx, crate::ui::confirm(prompt, Some(default)))
    }

    /// Pick one item; returns the chosen string.
    ///
    /// ```rhai
    /// let action = ui::select("What now?", ["repair", "cancel"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn select(ctx: NativeCallContext, prompt: &str, items: rhai::Array) -> RhaiResult<String> {
        let items: Vec<String> = items.iter().map(|i| i.to_string()).collect();
        r(&ctx, crate::ui::select(prompt, &items, None)).map(|i| items[i].clone())
    }

    /// Ask for a line of text.
    ///
    /// ```rhai
    /// let name = ui::input("VM name");
    /// ```
    #[rhai_fn(return_raw, name = "input")]
    pub fn input(ctx: NativeCallContext, prompt: &str) -> RhaiResult<String> {
        r(&ctx, crate::ui::input(prompt, None))
    }

    /// Ask for a line of text with a default.
    ///
    /// ```rhai
    /// let name = ui::input("VM name", "helix-dev");
    /// ```
    #[rhai_fn(return_raw, name = "input")]
    pub fn input_default(
        ctx: NativeCallContext,
        prompt: &str,
        default: &str,
    ) -> RhaiResult<String> {
        r(&ctx, crate::ui::input(prompt, Some(default.to_string())))
    }

    /// Print rows (arrays of values; the first is the header) as an aligned table.
    ///
    /// ```rhai
    /// ui::table([["REPO", "STATE"], ["helix", "ok"]]);
    /// ```
    pub fn table(rows: rhai::Array) {
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|r| match r.try_cast::<rhai::Array>() {
                Some(a) => a.iter().map(|c| c.to_string()).collect(),
                None => vec![],
            })
            .collect();
        print!("{}", crate::ui::table(&rows));
    }

    /// A number with its noun, singular for 1 and plural (English's regular rule) otherwise,
    /// for messages that count: not `1 check(s)`.
    ///
    /// ```rhai
    /// ui::count(1, "check");     // "1 check"
    /// ui::count(3, "page hash"); // "3 page hashes"
    /// ```
    pub fn count(n: i64, noun: &str) -> String {
        crate::count::count(n, noun)
    }

    /// A number with its noun, `one` for 1 and `many` otherwise, for a noun the regular rule
    /// gets wrong.
    ///
    /// ```rhai
    /// ui::count(2, "formula", "formulae"); // "2 formulae"
    /// ```
    #[rhai_fn(name = "count")]
    pub fn count_as(n: i64, one: &str, many: &str) -> String {
        crate::count::count_as(n, one, many)
    }

    /// A progress bar of `total` steps (hidden when not on a terminal).
    ///
    /// ```rhai
    /// let bar = ui::progress(3, "copying");
    /// ui::inc(bar, 1);
    /// ui::finish(bar);
    /// ```
    pub fn progress(total: i64, message: &str) -> Progress {
        Progress(crate::ui::progress(total.max(0) as u64, message))
    }

    /// Advance a progress bar.
    #[rhai_fn(name = "inc")]
    pub fn inc(bar: &mut Progress, n: i64) {
        bar.0.inc(n.max(0) as u64)
    }

    /// Set a progress bar's message.
    #[rhai_fn(name = "set_message")]
    pub fn set_message(bar: &mut Progress, message: &str) {
        bar.0.set_message(message.to_string())
    }

    /// Finish and clear a progress bar.
    #[rhai_fn(name = "finish")]
    pub fn finish(bar: &mut Progress) {
        bar.0.finish_and_clear()
    }
}
