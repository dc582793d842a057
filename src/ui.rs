//! What a person sees: step headers, messages, plan lines, prompts and progress bars.
//! Colour only on a terminal, `NO_COLOR` honoured; prompts through dialoguer.

use std::io::IsTerminal;
use std::time::Duration;

use console::style;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};

/// Decide colour once at start-up: only when the stream is a terminal and `NO_COLOR` is unset.
pub(crate) fn init_colours() {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    console::set_colors_enabled(!no_color && std::io::stdout().is_terminal());
    console::set_colors_enabled_stderr(!no_color && std::io::stderr().is_terminal());
}

/// Whether a person can be asked: a controlling terminal exists.
pub(crate) fn has_tty() -> bool {
    std::fs::File::open("/dev/tty").is_ok()
}

/// Whether prompts can be shown (stdin and stderr are a terminal).
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

pub(crate) fn header(text: &str) {
    let text = &crate::run::current().redact(text);
    eprintln!("{} {}", style("==>").cyan().bold(), style(text).bold());
}

pub(crate) fn info(text: &str) {
    let text = crate::run::current().redact(text);
    match planned_marker() {
        Some(m) => eprintln!("{m} {text}"),
        None => eprintln!("{} {text}", style("•").cyan()),
    }
}

pub(crate) fn warn(text: &str) {
    let text = crate::run::current().redact(text);
    eprintln!("{} {text}", style("warning:").yellow().bold());
}

/// A result line. Under `--dry-run`, once a change has been planned instead of made, it is
/// marked `[dry-run] planned:` — the recipe author need not remember to say "would".
pub(crate) fn success(text: &str) {
    let text = crate::run::current().redact(text);
    match planned_marker() {
        Some(m) => eprintln!("{m} {text}"),
        None => eprintln!("{} {text}", style("✓").green().bold()),
    }
}

/// The mark for a recipe's result and information lines in a dry run that has planned a
/// change: what they report did not happen. `None` in a real run, or before any plan (a dry
/// run's reads are real, so what it says about them is true).
fn planned_marker() -> Option<String> {
    let ctx = crate::run::current();
    (ctx.dry_run && ctx.planned() + ctx.refused() > 0)
        .then(|| format!("{} planned:", style("[dry-run]").magenta()))
}

pub(crate) fn error(text: &str) {
    let text = crate::run::current().redact(text);
    eprintln!("{} {text}", style("error:").red().bold());
}

/// A dry-run plan line, on stdout: under `--dry-run` the plan is the output.
pub(crate) fn plan(text: &str) {
    crate::run::current().note_planned();
    dry_run_line("", text);
}

/// A dry-run line for an act the guard would refuse: on stdout with the plan, but not a change
/// (a real run stops there), so it is counted apart.
pub(crate) fn plan_refused(text: &str) {
    crate::run::current().note_refused();
    dry_run_line("", text);
}

/// A line under a plan line (`[dry-run]     ~ QEMU.DebugLog: false → true`): a detail of the
/// change just planned, not another change, so the dry run's count does not grow.
pub(crate) fn plan_detail(text: &str) {
    dry_run_line("    ", text);
}

/// `[dry-run] TEXT` on stdout, redacted, `indent` after the mark.
fn dry_run_line(indent: &str, text: &str) {
    let text = crate::run::current().redact(text);
    println!("{} {indent}{text}", style("[dry-run]").magenta());
}

/// An ordinary yes/no question. `--yes` answers it; with no terminal, `default` stands if given.
pub(crate) fn confirm(prompt: &str, default: Option<bool>) -> Result<bool> {
    if crate::run::current().assume_yes {
        return Ok(true);
    }
    if !interactive() {
        return default.ok_or_else(|| no_terminal(prompt));
    }
    dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(default.unwrap_or(false))
        .interact()
        .map_err(|e| prompt_failed(prompt, e))
}

/// Pick one of `items`; returns its index.
pub(crate) fn select(prompt: &str, items: &[String], default: Option<usize>) -> Result<usize> {
    if items.is_empty() {
        return Err(Error::invalid("choice list", prompt, "there is nothing to choose from"));
    }
    if !interactive() {
        return default.ok_or_else(|| no_terminal(prompt));
    }
    dialoguer::Select::new()
        .with_prompt(prompt)
        .items(items)
        .default(default.unwrap_or(0))
        .interact()
        .map_err(|e| prompt_failed(prompt, e))
}

/// Ask for a line of text.
pub(crate) fn input(prompt: &str, default: Option<String>) -> Result<String> {
    if !interactive() {
        return default.ok_or_else(|| no_terminal(prompt));
    }
    let mut i = dialoguer::Input::<String>::new().with_prompt(prompt);
    if let Some(d) = default {
        i = i.default(d);
    }
    i.interact_text().map_err(|e| prompt_failed(prompt, e))
}

fn no_terminal(prompt: &str) -> Error {
    Error::NoTerminal {
        question: prompt.to_string(),
        hint: "run helix interactively, or pass --yes to accept ordinary prompts".into(),
    }
}

fn prompt_failed(prompt: &str, e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = &e;
    if io.kind() == std::io::ErrorKind::Interrupted {
        // Ctrl-C at the question: the person stops the run.
        crate::run::current().cancel();
        return Error::Cancelled(format!("the question \"{prompt}\" was interrupted"));
    }
    Error::Terminal { op: format!("ask \"{prompt}\""), message: e.to_string() }
}

/// A progress bar on stderr; hidden when stderr is not a terminal (logs stay clean).
pub(crate) fn progress(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner:.cyan} {msg} [{bar:30.cyan/blue}] {pos}/{len} ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A progress bar for bytes (downloads, conversions).
pub(crate) fn progress_bytes(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), draw_target());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner:.cyan} {msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A spinner with a message, for waits of unknown length.
pub(crate) fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, draw_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner:.cyan} {msg} ({elapsed})").expect("valid template"),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// Render rows as an aligned plain-text table (first row is the header).
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    table_fitted(rows, None)
}

/// The width output to stdout must fit: the terminal's, else `$COLUMNS`; `None` when neither
/// is known (a pipe gets whole lines).
pub(crate) fn output_width() -> Option<usize> {
    if let Some((_, cols)) = console::Term::stdout().size_checked() {
        return Some(cols as usize);
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).filter(|c| *c > 0)
}

/// Narrowest a column gives way to when fitting a table.
const MIN_COLUMN: usize = 8;

/// Like [`table`], with every line fitted into `width` columns: the widest column gives way
/// first, and a cell longer than its column ends in `…`.
pub(crate) fn table_fitted(rows: &[Vec<String>], width: Option<usize>) -> String {
    table_fitted_keeping(rows, width, 0)
}

/// [`table_fitted`], keeping the first `whole` columns uncut.
pub(crate) fn table_fitted_keeping(
    rows: &[Vec<String>],
    width: Option<usize>,
    whole: usize,
) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(console::measure_text_width(c));
        }
    }
    if let Some(width) = width {
        let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        while total(&widths) > width {
            let Some((i, &w)) = widths.iter().enumerate().skip(whole).max_by_key(|(_, w)| **w)
            else {
                break;
            };
            if w <= MIN_COLUMN {
                break;
            }
            widths[i] = w - 1;
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let c = console::truncate_str(c, widths[i], "…");
            if i + 1 == r.len() {
                line.push_str(&c);
            } else {
                line.push_str(&console::pad_str(&c, widths[i], console::Alignment::Left, None));
                line.push_str("  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns_columns() {
        let t = super::table(&[
            vec!["NAME".into(), "FROM".into()],
            vec!["build-qemu".into(), "built-in".into()],
        ]);
        assert_eq!(t, "NAME        FROM\nbuild-qemu  built-in\n");
    }

    #[test]
    fn a_fitted_table_shrinks_the_widest_column_and_marks_the_cut() {
        let long = format!("refused: {}", "x".repeat(600));
        let rows = vec![
            vec!["ACTION".into(), "RESULT".into(), "DETAIL".into()],
            vec!["fs.write".into(), long, "write `/etc/passwd`".into()],
        ];
        let t = super::table_fitted(&rows, Some(60));
        for line in t.lines() {
            assert!(console::measure_text_width(line) <= 60, "{line:?}");
        }
        assert!(t.contains("refused: xxx") && t.contains('…'), "{t}");
        assert!(t.contains("write `/etc/passwd`"), "the short column is kept whole: {t}");
        // A kept column is never cut, however narrow the width.
        let kept = super::table_fitted_keeping(&rows, Some(20), 1);
        assert!(kept.lines().nth(1).unwrap().starts_with("fs.write  "), "{kept}");
        // Without a width nothing is cut.
        assert!(super::table_fitted(&rows, None).contains(&"x".repeat(600)));
    }
}
