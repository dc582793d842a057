//! Host benchmarks: start-up of `helix list`/`helix check` on 20 recipes against `just --list`
//! on an equivalent justfile, and the cost of streaming a noisy command through `process`.
//!
//! Run: `cargo bench --bench host` (builds release). Needs `just` on PATH for the comparison
//! (`pip install rust-just`); without it that row is skipped.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time_cmd(argv: &[&str], cwd: &Path, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let st = Command::new(argv[0])
            .args(&argv[1..])
            .current_dir(cwd)
            .env("HELIX_STATE_DIR", cwd.join("state"))
            .env("HELIX_CONFIG_DIR", cwd.join("config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("runs");
        assert!(st.success(), "{argv:?} failed");
        times.push(t.elapsed());
    }
    median(times)
}

fn main() {
    let helix = env!("CARGO_BIN_EXE_helix");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("recipes")).unwrap();
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
    let list = time_cmd(&[helix, "list"], dir.path(), runs);
    println!("| `helix list` | {:.1} ms |", list.as_secs_f64() * 1e3);
    let check = time_cmd(&[helix, "check"], dir.path(), runs);
    println!("| `helix check` (compiles all 20 + stdlib) | {:.1} ms |", check.as_secs_f64() * 1e3);
    if let Some(just) = which("just") {
        let j = time_cmd(&[just.to_str().unwrap(), "--list"], dir.path(), runs);
        println!("| `just --list` | {:.1} ms |", j.as_secs_f64() * 1e3);
        println!("\n`helix list` / `just --list` = {:.2}", list.as_secs_f64() / j.as_secs_f64());
    }

    // Streaming: N lines on stdout (inherited) and N on stderr (tee'd with a tail kept).
    std::fs::write(dir.path().join("recipes/empty.rhai"), "//! Empty.\n").unwrap();
    let startup = time_cmd(&[helix, "run", "empty"], dir.path(), 15);
    println!("\n## process streaming (median of 15; `helix run empty` start-up: {:.1} ms)\n", startup.as_secs_f64() * 1e3);
    println!("| lines (stdout + stderr) | `sh -c` directly | `helix run noisy` | overhead beyond start-up |\n|---|---|---|---|");
    for lines in [100_000u64, 1_000_000] {
        let script = format!("seq 1 {lines}; seq 1 {lines} >&2");
        let direct = time_cmd(&["sh", "-c", &script], dir.path(), 15);
        std::fs::write(
            dir.path().join("recipes/noisy.rhai"),
            format!("//! Noisy.\ncmd::run([\"sh\", \"-c\", \"{script}\"]);\n"),
        )
        .unwrap();
        let via = time_cmd(&[helix, "run", "noisy"], dir.path(), 15);
        let overhead = via.as_secs_f64() - startup.as_secs_f64() - direct.as_secs_f64();
        println!(
            "| {lines} + {lines} | {:.1} ms | {:.1} ms | {:.1} ms ({:.1}%) |",
            direct.as_secs_f64() * 1e3,
            via.as_secs_f64() * 1e3,
            overhead * 1e3,
            100.0 * overhead / direct.as_secs_f64()
        );
    }
}

fn which(p: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(p)).find(|c| c.is_file())
}
