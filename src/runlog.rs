//! `helix log`: the journal as a person reads it — which runs happened, with what arguments,
//! how long they took, whether they were only dry runs, and for one run every action and, when
//! it failed, the error and the step it failed in. Tables fit the terminal.

use std::time::Duration;

use serde_json::Value;

use crate::error::Result;
use crate::journal::{Record, Run};

/// The list of recent runs, newest first.
pub(crate) fn list(runs: &[Run], width: Option<usize>) -> String {
    let mut rows = vec![vec![
        "RUN".to_string(),
        "STARTED".into(),
        "RECIPE".into(),
        "STATUS".into(),
        "TOOK".into(),
        "ACTIONS".into(),
        "ARGS".into(),
    ]];
    for r in runs {
        rows.push(vec![
            r.id.clone(),
            r.started().replacen('T', " ", 1).chars().take(19).collect(),
            r.recipe().to_string(),
            status(r),
            took(r),
            r.actions().count().to_string(),
            args_line(r.args()),
        ]);
    }
    crate::ui::table_fitted_keeping(&rows, width, 1)
}

/// One run: a summary, its actions, and how it failed.
pub(crate) fn show(run: &Run, width: Option<usize>) -> String {
    let mut out = format!(
        "run {} — {} — started {} — {} — took {}\n",
        run.id,
        run.recipe(),
        run.started(),
        status(run),
        took(run)
    );
    let args = args_line(run.args());
    if !args.is_empty() {
        out.push_str(&format!("args: {args}\n"));
    }
    if run.dry_run() {
        out.push_str("dry run: the actions below were planned, none was carried out\n");
    }
    let mut rows = vec![vec!["ACTION".into(), "TIME".into(), "RESULT".into(), "DETAIL".into()]];
    for r in run.actions() {
        if let Record::Action { kind, detail, result, ms, .. } = r {
            rows.push(vec![
                kind.clone(),
                format!("{ms}ms"),
                short(first_line(result), 60),
                first_line(detail).to_string(),
            ]);
        }
    }
    if rows.len() > 1 {
        out.push('\n');
        out.push_str(&crate::ui::table_fitted(&rows, width));
    } else {
        out.push_str("no actions recorded\n");
    }
    if let Some((error, step)) = run.failure() {
        out.push('\n');
        match step {
            Some(s) => out.push_str(&format!("failed in step `{s}`:\n")),
            None => out.push_str("failed:\n"),
        }
        for l in error.lines() {
            out.push_str(&format!("  {l}\n"));
        }
    } else if run.status() == "unfinished" {
        out.push_str("\nthe run has no end record: it is still going, or helix was killed\n");
    }
    out
}

/// `ok`, `failed`, `interrupted`, `unfinished` — and for a dry run, `dry run` first.
pub(crate) fn status(run: &Run) -> String {
    match (run.dry_run(), run.status()) {
        (false, s) => s.to_string(),
        (true, "ok") => "dry run".into(),
        (true, s) => format!("dry run, {s}"),
    }
}

fn took(run: &Run) -> String {
    run.duration().map(duration).unwrap_or_else(|| "-".into())
}

/// `850ms`, `12.3s`, `4m05s`, `1h02m`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    match () {
        _ if ms < 1000 => format!("{ms}ms"),
        _ if s < 60 => format!("{:.1}s", d.as_secs_f64()),
        _ if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The arguments as they would be typed: `--who you --loud`; false flags are left out.
pub(crate) fn args_line(args: &Value) -> String {
    let Some(map) = args.as_object() else { return String::new() };
    let mut words = vec![];
    for (k, v) in map {
        match v {
            Value::Bool(true) => words.push(format!("--{k}")),
            Value::Bool(false) | Value::Null => {}
            Value::String(s) => words.push(format!("--{k} {}", quote(s))),
            Value::Array(a) => {
                let items: Vec<String> = a
                    .iter()
                    .map(|i| i.as_str().map(String::from).unwrap_or(i.to_string()))
                    .collect();
                words.push(format!("--{k} {}", quote(&items.join(","))));
            }
            other => words.push(format!("--{k} {other}")),
        }
    }
    words.join(" ")
}

/// `s` as one shell word: as it is when it is plain, else in single quotes.
pub(crate) fn quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:,=@+%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// At most `max` characters, the cut marked with `…`.
fn short(s: &str, max: usize) -> String {
    console::truncate_str(s, max, "…").into_owned()
}

/// `helix log [RUN]`.
pub(crate) fn cli(run: Option<&str>, limit: usize, json: bool) -> Result<i32> {
    let dir = crate::config::state_dir().join("runs");
    let width = crate::ui::output_width();
    if let Some(id) = run {
        let run = crate::journal::find_run(&dir, id)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&run.records).unwrap_or_default());
        } else {
            print!("{}", show(&run, width));
        }
        return Ok(0);
    }
    let runs = crate::journal::list_runs(&dir)?;
    let runs = &runs[..runs.len().min(limit)];
    if json {
        let v: Vec<_> = runs
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "recipe": r.recipe(),
                    "started": r.started(),
                    "status": r.status(),
                    "dry_run": r.dry_run(),
                    "args": r.args(),
                    "ms": r.duration().map(|d| d.as_millis() as u64),
                    "actions": r.actions().count(),
                    "error": r.failure().map(|(e, _)| e),
                    "step": r.failure().and_then(|(_, s)| s),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if runs.is_empty() {
        println!("no runs recorded yet (journal: {})", dir.display());
    } else {
        print!("{}", list(runs, width));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_read_like_a_command_line() {
        let v = serde_json::json!({"who": "you all", "loud": true, "quiet": false, "n": 3, "only": ["a", "b"]});
        assert_eq!(args_line(&v), "--who 'you all' --loud --n 3 --only a,b");
        assert_eq!(args_line(&serde_json::json!({"p": "it's"})), "--p 'it'\\''s'");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(Duration::from_millis(850)), "850ms");
        assert_eq!(duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
    }
}
