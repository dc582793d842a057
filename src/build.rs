//! Building C projects: a configure step (QEMU's `./configure` or `meson setup`) that is
//! skipped when the build dir was configured with the same command and environment, `ninja`
//! with a progress bar driven by its `[n/m]` status lines and the full log kept in the build
//! dir, gates on the configure log ("spice protocol support … YES"), and a guarded clean.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::process::Cmd;

/// The stamp a configure step leaves in the build dir: a hash of what it was run with.
pub(crate) const STAMP: &str = ".helix-configure-stamp";
/// The log `ninja` writes to, in the build dir (appended to, one header per run).
pub const NINJA_LOG: &str = "helix-ninja.log";

/// A configure step.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Configure {
    /// The command, e.g. `["./configure", "--prefix=/x", "--target-list=aarch64-softmmu"]`.
    pub argv: Vec<String>,
    /// Where it runs (the source dir for QEMU's `./configure`).
    pub cwd: Option<PathBuf>,
    /// The build dir it produces; the stamp is written there.
    pub build_dir: PathBuf,
    /// Extra environment (`PKG_CONFIG`, `PKG_CONFIG_PATH`, `MACOSX_DEPLOYMENT_TARGET`, …).
    pub env: BTreeMap<String, String>,
    /// Directories put in front of `PATH`.
    pub path: Vec<PathBuf>,
    /// Run it even when the stamp matches.
    pub force: bool,
}

/// The environment a step runs with: `env`, plus `PATH` with `path` in front.
fn command_env(env: &BTreeMap<String, String>, path: &[PathBuf]) -> BTreeMap<String, String> {
    let mut out = env.clone();
    if !path.is_empty() {
        let base =
            env.get("PATH").cloned().or_else(|| std::env::var("PATH").ok()).unwrap_or_default();
        let mut parts: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
        if !base.is_empty() {
            parts.push(base);
        }
        out.insert("PATH".into(), parts.join(":"));
    }
    out
}

impl Configure {
    /// What the stamp records: the command, where it ran, the extra environment and PATH
    /// additions (the inherited environment does not count).
    pub(crate) fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        // `meson setup --reconfigure` is how it runs again, not a different configuration.
        for a in self.argv.iter().filter(|a| *a != "--reconfigure") {
            h.update(b"arg\0");
            h.update(a.as_bytes());
            h.update(b"\0");
        }
        if let Some(c) = &self.cwd {
            h.update(b"cwd\0");
            h.update(crate::paths::absolute(c).display().to_string().as_bytes());
            h.update(b"\0");
        }
        for (k, v) in &self.env {
            h.update(format!("env\0{k}={v}\0").as_bytes());
        }
        for p in &self.path {
            h.update(format!("path\0{}\0", p.display()).as_bytes());
        }
        crate::fs::hex(&h.finalize())
    }

    fn stamp_path(&self) -> PathBuf {
        self.build_dir.join(STAMP)
    }

    /// Whether the build dir is configured with exactly this step (stamp matches and the
    /// build dir still has its `build.ninja`).
    pub(crate) fn is_current(&self) -> bool {
        let stamp = std::fs::read_to_string(self.stamp_path()).unwrap_or_default();
        stamp.lines().next() == Some(self.fingerprint().as_str())
            && self.build_dir.join("build.ninja").is_file()
    }
}

/// Run a configure step unless the build dir is already configured with it. Returns whether it ran.
pub(crate) fn configure(step: &Configure) -> Result<bool> {
    if step.argv.is_empty() {
        return Err(Error::invalid("configure command", "[]", "it needs at least the program"));
    }
    if !step.force && step.is_current() {
        crate::ui::info(&format!(
            "`{}` is already configured with these flags; skipping configure",
            step.build_dir.display()
        ));
        return Ok(false);
    }
    let mut cmd = Cmd::new(&step.argv);
    cmd.cwd = step.cwd.clone();
    cmd.env = command_env(&step.env, &step.path);
    cmd.run()?;
    if crate::run::current().dry_run {
        return Ok(true);
    }
    if !step.build_dir.join("build.ninja").is_file() {
        return Err(Error::Configure {
            command: crate::process::display_argv(&step.argv),
            build_dir: step.build_dir.clone(),
        });
    }
    let stamp = format!("{}\n{}\n", step.fingerprint(), crate::process::display_argv(&step.argv));
    let action = Action::new(
        "build.stamp",
        format!("record the configuration of `{}`", step.build_dir.display()),
    )
    .args(json!({ "path": step.stamp_path() }));
    guard::act(action, || crate::fs::atomic_write_raw(&step.stamp_path(), stamp.as_bytes(), None))?;
    Ok(true)
}

/// `meson setup BUILD SRC OPTIONS…` as a configure step (`--reconfigure` when BUILD is set up).
pub(crate) fn meson_setup(
    src: &Path,
    build_dir: &Path,
    options: &[String],
    env: BTreeMap<String, String>,
    path: Vec<PathBuf>,
) -> Configure {
    let mut argv = vec!["meson".to_string(), "setup".into()];
    if build_dir.join("meson-private").is_dir() {
        argv.push("--reconfigure".into());
    }
    argv.push(build_dir.display().to_string());
    argv.push(src.display().to_string());
    argv.extend(options.iter().cloned());
    Configure { argv, cwd: None, build_dir: build_dir.to_path_buf(), env, path, force: false }
}

/// How `ninja` runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ninja {
    pub targets: Vec<String>,
    pub jobs: Option<u32>,
    pub env: BTreeMap<String, String>,
    pub path: Vec<PathBuf>,
}

/// What a `ninja` run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Built {
    /// Edges ninja ran (0 when everything was up to date).
    pub edges: u64,
    pub log: PathBuf,
    pub seconds: f64,
}

/// A `[finished/total]` status line (NINJA_STATUS is set to `[%f/%t] `).
pub(crate) fn parse_status(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix('[')?;
    let (inside, _) = rest.split_once(']')?;
    let (f, t) = inside.split_once('/')?;
    Some((f.trim().parse().ok()?, t.trim().parse().ok()?))
}

/// The failing edges in a ninja log: each `FAILED: target` line with the command and the
/// compiler output after it, up to the next status line or ninja's own summary.
pub(crate) fn failed_edges(log: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur: Option<Vec<&str>> = None;
    for line in log.lines() {
        if line.starts_with("FAILED: ") {
            if let Some(c) = cur.take() {
                out.push(c.join("\n"));
            }
            cur = Some(vec![line]);
        } else if let Some(c) = cur.as_mut() {
            if parse_status(line).is_some() || line.starts_with("ninja: ") {
                out.push(cur.take().unwrap().join("\n"));
            } else if c.len() < 80 {
                c.push(line);
            }
        }
    }
    if let Some(c) = cur {
        out.push(c.join("\n"));
    }
    out
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// The progress bar `ninja` drives.
pub fn ninja_bar(target: ProgressDrawTarget) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner:.cyan} ninja [{bar:30.cyan/blue}] {pos}/{len} {wide_msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Run `ninja -C DIR [targets]` with a progress bar; the output goes to `DIR/helix-ninja.log`.
/// On failure the error shows each failing edge (`FAILED: …`, its command and the compiler's
/// output) and where the full log is.
pub(crate) fn ninja(dir: &Path, opts: &Ninja) -> Result<Built> {
    ninja_with_bar(dir, opts, ninja_bar(draw_target()))
}

pub fn ninja_with_bar(dir: &Path, opts: &Ninja, bar: ProgressBar) -> Result<Built> {
    // Under --dry-run the configure step only printed its plan, so there may be nothing yet.
    if !dir.join("build.ninja").is_file() && !crate::run::current().dry_run {
        bar.finish_and_clear();
        return Err(Error::invalid(
            "build dir",
            dir.display().to_string(),
            "it has no build.ninja; run the configure step first (build::configure or build::meson_setup)",
        ));
    }
    let mut argv = vec!["ninja".to_string(), "-C".into(), dir.display().to_string()];
    if let Some(j) = opts.jobs {
        argv.push(format!("-j{j}"));
    }
    argv.extend(opts.targets.iter().cloned());
    let mut cmd = Cmd::new(&argv);
    cmd.env = command_env(&opts.env, &opts.path);
    cmd.env.insert("NINJA_STATUS".into(), "[%f/%t] ".into());
    let log = dir.join(NINJA_LOG);
    let shown = cmd.display();
    let action = Action::new("build.ninja", format!("build `{}` with `{shown}`", dir.display()))
        .args(json!({ "dir": dir, "targets": opts.targets, "jobs": opts.jobs, "log": log }));
    let result = guard::act(action, || run_ninja(&cmd, &log, &bar));
    bar.finish_and_clear();
    result
}

fn run_ninja(cmd: &Cmd, log: &Path, bar: &ProgressBar) -> Result<Built> {
    let mut text = String::new();
    let mut edges = 0u64;
    let followed = cmd.follow_log(log, |line| {
        if let Some((f, t)) = parse_status(line) {
            edges = f;
            bar.set_length(t);
            bar.set_position(f);
            bar.set_message(line.trim_end()[line.find(']').unwrap_or(0) + 1..].trim().to_string());
        }
        text.push_str(line);
    })?;
    if followed.status.success() {
        return Ok(Built { edges, log: log.to_path_buf(), seconds: followed.seconds });
    }
    // Compilers colour their diagnostics (meson passes -fdiagnostics-color=always).
    let text = console::strip_ansi_codes(&text).into_owned();
    let failed = failed_edges(&text);
    let detail = if failed.is_empty() {
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    } else {
        failed.join("\n")
    };
    Err(cmd.log_failure(&followed, &detail, log))
}

/// The log a gate reads: the file itself, or `meson-logs/meson-log.txt` in a build dir.
pub(crate) fn log_file(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if path.is_dir() {
        let meson = path.join("meson-logs").join("meson-log.txt");
        if meson.is_file() {
            return Ok(meson);
        }
        let config = path.join("config.log");
        if config.is_file() {
            return Ok(config);
        }
        return Err(Error::invalid(
            "configure log",
            path.display().to_string(),
            "the directory has no meson-logs/meson-log.txt or config.log; has it been configured?",
        ));
    }
    Err(Error::invalid(
        "configure log",
        path.display().to_string(),
        "there is no such file or directory",
    ))
}

fn pattern_parts(pattern: &str) -> Vec<String> {
    pattern
        .replace(".*", "\u{0}")
        .replace(['…', '*'], "\u{0}")
        .split('\u{0}')
        .map(|s| s.to_string())
        .collect()
}

/// Whether one line of `text` matches `pattern`: literal text where `*`, `.*` and `…` match
/// anything within the line (`spice protocol support*YES`).
pub(crate) fn line_matches(line: &str, pattern: &str) -> bool {
    let mut at = 0;
    for p in pattern_parts(pattern).iter().filter(|p| !p.is_empty()) {
        match line[at..].find(p.as_str()) {
            Some(pos) => at += pos + p.len(),
            None => return false,
        }
    }
    true
}

/// Whether the log (a file, or a build dir's meson log) has a line matching `pattern`.
pub(crate) fn log_has(path: &Path, pattern: &str) -> Result<bool> {
    let file = log_file(path)?;
    let text = crate::fs::read_bytes(&file)?;
    Ok(String::from_utf8_lossy(&text).lines().any(|l| line_matches(l, pattern)))
}

/// A gate: error unless the log has a line matching `pattern`. The error says what is missing
/// (`what`), shows the log's lines about it, and where to look.
pub(crate) fn require_log(path: &Path, pattern: &str, what: &str) -> Result<()> {
    let file = log_file(path)?;
    let text = String::from_utf8_lossy(&crate::fs::read_bytes(&file)?).into_owned();
    if text.lines().any(|l| line_matches(l, pattern)) {
        return Ok(());
    }
    let first = pattern_parts(pattern)
        .into_iter()
        .find(|p| !p.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let related: Vec<String> = text
        .lines()
        .filter(|l| !first.is_empty() && l.to_lowercase().contains(&first))
        .take(5)
        .map(|l| format!("  | {}", l.trim()))
        .collect();
    let said = if related.is_empty() {
        format!("it has no line mentioning `{first}`")
    } else {
        format!("it says:\n{}", related.join("\n"))
    };
    Err(Error::LogCheck { what: what.to_string(), log: file, pattern: pattern.to_string(), said })
}

/// A clean rebuild: move the build dir aside (guarded: a person confirms unless this run
/// created it, and is told it is moved, not deleted: `helix undo` puts it back). Returns
/// where it went; nothing is deleted.
#[allow(clippy::disallowed_methods)] // moving the build dir aside inside guard::act (undoable)
pub(crate) fn clean(dir: &Path) -> Result<Option<PathBuf>> {
    if !dir.exists() {
        return Ok(None);
    }
    if !dir.join("build.ninja").is_file()
        && !dir.join(STAMP).is_file()
        && !dir.join("meson-private").is_dir()
    {
        return Err(Error::invalid(
            "build dir",
            dir.display().to_string(),
            "it does not look like a build dir (no build.ninja); helix only cleans build dirs",
        ));
    }
    let name =
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "build".into());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let aside = dir.with_file_name(format!(".{name}.helix-old-{stamp}"));
    let action = Action::new(
        "build.clean",
        format!("move the build dir `{}` aside to `{}`", dir.display(), aside.display()),
    )
    .args(json!({ "dir": dir, "to": aside }))
    .undo(crate::undo::Undo::MoveBack { from: aside.clone(), to: dir.to_path_buf() })
    .destroys(Target::MovedAside { path: dir.to_path_buf(), to: aside.clone() });
    guard::act(action, || {
        std::fs::rename(dir, &aside).map_err(|e| Error::fs("move aside", dir, e))?;
        Ok(Some(aside.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status("[12/345] Compiling C object a.o"), Some((12, 345)));
        assert_eq!(parse_status("[ 1/ 2] x"), Some((1, 2)));
        assert_eq!(parse_status("FAILED: a.o"), None);
        assert_eq!(parse_status("[x/2]"), None);
    }

    #[test]
    fn failed_edges_are_cut_out() {
        let log = "[1/3] Compiling C object a.o\nFAILED: b.o\ncc -c b.c -o b.o\nb.c:1:1: error: expected ';'\n1 error generated.\n[2/3] Compiling C object c.o\nninja: build stopped: subcommand failed.\n";
        let f = failed_edges(log);
        assert_eq!(
            f,
            vec![
                "FAILED: b.o\ncc -c b.c -o b.o\nb.c:1:1: error: expected ';'\n1 error generated."
                    .to_string()
            ]
        );
    }

    #[test]
    fn patterns() {
        assert!(line_matches(
            "    spice protocol support       : YES 0.14.4",
            "spice protocol support.*YES"
        ));
        assert!(line_matches(
            "    spice protocol support       : YES",
            "spice protocol support*YES"
        ));
        assert!(!line_matches(
            "    spice protocol support       : NO",
            "spice protocol support.*YES"
        ));
        assert!(!line_matches("YES spice protocol support", "spice protocol support.*YES"));
        assert!(line_matches("abc", "b"));
    }

    #[test]
    fn a_failed_log_gate_names_the_log_once_and_indents_what_it_says() {
        let d = tempfile::tempdir().unwrap();
        let logs = d.path().join("meson-logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("meson-log.txt"), "a\n  Spice protocol support: NO\nb\n").unwrap();
        let log = logs.join("meson-log.txt").display().to_string();
        let e = require_log(d.path(), "spice protocol support*YES", "no SPICE").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "no SPICE: `{log}` has no line matching `spice protocol support*YES`; it says:\n  \
                 | Spice protocol support: NO"
            )
        );
        let e = require_log(d.path(), "gtk*YES", "no GTK").unwrap_err().to_string();
        assert_eq!(e.matches(&log).count(), 1, "{e}");
        assert!(e.ends_with("; it has no line mentioning `gtk`"), "{e}");
    }

    #[test]
    fn fingerprint_depends_on_flags_and_env() {
        let a = Configure {
            argv: vec!["./configure".into(), "-Dx=1".into()],
            build_dir: "b".into(),
            ..Default::default()
        };
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.env.insert("MACOSX_DEPLOYMENT_TARGET".into(), "14.0".into());
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.argv.push("-Dy=2".into());
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
