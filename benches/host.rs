//! Host benchmarks: start-up of `helix list`/`helix check` on 20 recipes against `just --list`
//! on an equivalent justfile, and the cost of streaming a noisy command through `process`.
//!
//! Run: `cargo bench --bench host` (builds release). Needs `just` on PATH for the comparison
//! (`pip install rust-just`; `JUST=/path/to/just` picks the real binary over a pyenv shim);
//! without it that row is skipped.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

#[allow(dead_code)]
#[path = "../tests/test/support/builder.rs"]
mod builder;
#[allow(dead_code)]
#[path = "../tests/test/support/tree.rs"]
mod tree;

use std::path::Path;
use std::process::{Command, Stdio};

use builder::Test;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_cmd(cmd: impl Fn() -> Command, runs: usize) -> Duration {
    time_to(cmd, runs, None)
}

/// `argv` (not helix: helix runs through the test kit's builder) in `cwd`.
fn tool(argv: &[&str], cwd: &Path) -> impl Fn() -> Command {
    let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
    let cwd = cwd.to_path_buf();
    move || {
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..]).current_dir(&cwd);
        c
    }
}

fn main() {
    // helix in the test kit's world: its own recipes, config, state and home dirs.
    let t = Test::new();
    let dir = &t.dir;
    let helix = |args: &'static [&'static str]| {
        let t = &t;
        move || t.command(args)
    };
    let mut justfile = String::new();
    for i in 0..20 {
        let text = format!(
            "//! Recipe number {i}: does a thing.\n//!\n//! @param size:size  New size (default: 1G)\n//! @flag  fast  Go fast\n\nstep(\"one\", || {{ ui::info(\"{i}\"); }});\nstep(\"two\", || {{ fs::write(\"/tmp/x{i}\", \"y\"); }});\n"
        );
        std::fs::write(dir.path().join(format!("recipes/r{i:02}.rhai")), text).unwrap();
        justfile.push_str(&format!("# Recipe number {i}: does a thing.\nr{i:02} size='1G' fast='false':\n    echo {{{{size}}}} {{{{fast}}}}\n\n"));
    }
    std::fs::write(dir.path().join("justfile"), justfile).unwrap();
    let runs = 30;
    println!("## host (median of {runs} runs, 20 recipes)\n");
    println!("| command | median |\n|---|---|");
    let list = time_cmd(helix(&["list"]), runs);
    println!("| `helix list` | {:.1} ms |", list.as_secs_f64() * 1e3);
    let check = time_cmd(helix(&["check"]), runs);
    println!("| `helix check` (compiles all 20 + stdlib) | {:.1} ms |", check.as_secs_f64() * 1e3);
    if let Some(just) = which("just") {
        let j = time_cmd(tool(&[just.to_str().unwrap(), "--list"], dir.path()), runs);
        println!("| `just --list` | {:.1} ms |", j.as_secs_f64() * 1e3);
        println!("\n`helix list` / `just --list` = {:.2}", list.as_secs_f64() / j.as_secs_f64());
    }

    // Streaming: N lines on stderr through `cmd::run`, against the same `sh -c` run directly,
    // with helix's stderr on a log file (the child writes into it directly) and on /dev/null
    // (the worst case: writing there is free, helix relays with tee/splice). The fixed cost of
    // one command (guard, journal, spawn) is measured with a 10-line command and subtracted, so
    // what remains is the per-line cost of streaming.
    for (name, text) in [
        ("empty", "//! Empty.\n".to_string()),
        ("small", "//! Small.\ncmd::run([\"sh\", \"-c\", \"seq 1 10 >&2\"]);\n".to_string()),
    ] {
        std::fs::write(dir.path().join(format!("recipes/{name}.rhai")), text).unwrap();
    }
    let log = dir.path().join("stderr.log");
    println!("\n## process streaming (median of 21)\n");
    println!(
        "| stderr to | lines | `sh -c` directly | `helix run noisy` | helix start-up + one command | streaming overhead |\n|---|---|---|---|---|---|"
    );
    for dest in [Some(log.as_path()), None] {
        let shown = if dest.is_some() { "a log file" } else { "/dev/null" };
        let fixed = time_to(helix(&["run", "small"]), 21, dest).saturating_sub(time_to(
            tool(&["sh", "-c", "seq 1 10 >&2"], dir.path()),
            21,
            dest,
        ));
        for lines in [100_000u64, 1_000_000] {
            let script = format!("seq 1 {lines} >&2");
            let direct = time_to(tool(&["sh", "-c", &script], dir.path()), 21, dest);
            std::fs::write(
                dir.path().join("recipes/noisy.rhai"),
                format!("//! Noisy.\ncmd::run([\"sh\", \"-c\", \"{script}\"]);\n"),
            )
            .unwrap();
            let via = time_to(helix(&["run", "noisy"]), 21, dest);
            let overhead = via.as_secs_f64() - fixed.as_secs_f64() - direct.as_secs_f64();
            println!(
                "| {shown} | {lines} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms ({:.1}%) |",
                direct.as_secs_f64() * 1e3,
                via.as_secs_f64() * 1e3,
                fixed.as_secs_f64() * 1e3,
                overhead * 1e3,
                100.0 * overhead / direct.as_secs_f64()
            );
        }
    }
}

/// Median wall time of the command `cmd` makes, with stdout and stderr on `dest` (truncated
/// before each run) or on /dev/null.
fn time_to(cmd: impl Fn() -> Command, runs: usize, dest: Option<&Path>) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let (o, e) = match dest {
            Some(p) => {
                let f = std::fs::File::create(p).unwrap();
                (Stdio::from(f.try_clone().unwrap()), Stdio::from(f))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        let t = Instant::now();
        let mut c = cmd();
        let st = c.stdout(o).stderr(e).status().expect("runs");
        assert!(st.success(), "{c:?} failed");
        times.push(t.elapsed());
    }
    median(times)
}

/// A program on PATH, skipping pyenv's shims (a Python launcher that adds ~60 ms to `just`).
fn which(p: &str) -> Option<std::path::PathBuf> {
    if let Some(j) = std::env::var_os("JUST") {
        return Some(j.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .filter(|d| !d.ends_with("shims"))
        .map(|d| d.join(p))
        .find(|c| c.is_file())
}
