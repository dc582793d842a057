//! Fixing a QEMU-sized dylib (~40 MB, 15 UTM sysroot dependencies): the legacy way (one
//! `llvm-install-name-tool -change` process per dependency, then `-id`; the legacy scripts ran
//! Apple's `install_name_tool` the same way) against helix's one call (`macho::rewrite_prefix`:
//! all changes, the id, the ad-hoc re-sign of every page, atomic replace with fsync, backup),
//! and against `sha256sum` reading and hashing the file once: the floor for any tool that
//! re-signs. `cargo bench --bench macho`; results go to BENCHMARKS.md (## Mach-O).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

include!("../tests/data/macho/fixtures.rs");
use fixtures::{NAME, SYSROOT_LIBS, sysroot, tool};

const RUNS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn fresh(src: &Path, work: &Path) -> PathBuf {
    let p = work.join(NAME);
    let _ = std::fs::remove_file(&p);
    std::fs::copy(src, &p).unwrap();
    // Warm the page cache the same way for every contender.
    let _ = std::fs::read(&p).unwrap();
    p
}

fn main() {
    if !fixtures::have_tools() {
        println!("macho bench skipped: clang/ld64.lld/llvm-14 tools are not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/macho-bench");
    let big = fixtures::path(&root, "big");
    if !big.exists() {
        let _ = std::fs::remove_dir_all(&root);
        fixtures::build(&root, 40);
    }
    let size = std::fs::metadata(&big).unwrap().len();
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let state = root.join("state");
    // SAFETY: single-threaded at this point; helix reads it for the backup dir.
    unsafe { std::env::set_var("HELIX_STATE_DIR", &state) };
    let fw = root.join("Frameworks");
    for lib in SYSROOT_LIBS {
        let d = fw.join(format!("{lib}.framework/Versions/A"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(lib), "x").unwrap();
    }
    let id = "@rpath/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu";

    // Legacy: one process per dependency, then -id.
    let mut legacy = vec![];
    for _ in 0..RUNS {
        let p = fresh(&big, &work);
        let start = Instant::now();
        for lib in SYSROOT_LIBS {
            let old = format!("{}/lib{lib}.dylib", sysroot());
            let new = format!("@rpath/{lib}.framework/Versions/A/{lib}");
            let st = Command::new(tool("llvm-install-name-tool"))
                .args(["-change", &old, &new])
                .arg(&p)
                .status()
                .unwrap();
            assert!(st.success());
        }
        let st = Command::new(tool("llvm-install-name-tool"))
            .args(["-id", id])
            .arg(&p)
            .status()
            .unwrap();
        assert!(st.success());
        legacy.push(start.elapsed());
    }
    let legacy_result = std::fs::read(work.join(NAME)).unwrap();

    // helix: one call, in process.
    let mut ours = vec![];
    for _ in 0..RUNS {
        let p = fresh(&big, &work);
        let start = Instant::now();
        let r = helix::macho::rewrite_prefix(&p, &sysroot(), &fw, Some(id), None).unwrap();
        ours.push(start.elapsed());
        assert_eq!(r.mapped.len(), 15);
        assert!(r.unresolved.is_empty());
        let _ = std::fs::remove_dir_all(&state);
    }
    let p = work.join(NAME);
    assert!(helix::macho::verify(&p).unwrap().valid);
    let ours_l = Command::new(tool("llvm-otool")).arg("-L").arg(&p).output().unwrap().stdout;
    std::fs::write(work.join("legacy.dylib"), &legacy_result).unwrap();
    let theirs_l = Command::new(tool("llvm-otool"))
        .arg("-L")
        .arg(work.join("legacy.dylib"))
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        String::from_utf8_lossy(&ours_l).lines().skip(1).collect::<Vec<_>>(),
        String::from_utf8_lossy(&theirs_l).lines().skip(1).collect::<Vec<_>>(),
        "same dependencies either way"
    );

    // helix: the CLI, a process of its own (journal and all).
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/helix");
    let mut cli = vec![];
    if exe.exists() {
        for _ in 0..RUNS {
            let p = fresh(&big, &work);
            let start = Instant::now();
            let st = Command::new(&exe)
                .args(["macho", "rewrite-prefix"])
                .arg(&p)
                .args(["--prefix", &sysroot(), "--frameworks"])
                .arg(&fw)
                .args(["--id", id])
                .env("HELIX_STATE_DIR", &state)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            cli.push(start.elapsed());
            assert!(st.success());
            let _ = std::fs::remove_dir_all(&state);
        }
    }

    // The floor: read and hash the file once.
    let mut sha = vec![];
    for _ in 0..RUNS {
        let p = fresh(&big, &work);
        let start = Instant::now();
        let st =
            Command::new("sha256sum").arg(&p).stdout(std::process::Stdio::null()).status().unwrap();
        sha.push(start.elapsed());
        assert!(st.success());
    }

    let (l, o, s) = (median(legacy), median(ours), median(sha));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "Mach-O fix of a {:.1} MB arm64 dylib with 15 sysroot deps (median of {RUNS}):",
        size as f64 / 1e6
    );
    println!("  legacy (16 llvm-install-name-tool runs): {:8.1} ms", ms(l));
    println!("  helix macho::rewrite_prefix (one call):  {:8.1} ms", ms(o));
    if !cli.is_empty() {
        println!("  helix macho rewrite-prefix (CLI process):{:8.1} ms", ms(median(cli.clone())));
    }
    println!("  sha256sum of the file:                   {:8.1} ms", ms(s));
    println!("  legacy / helix = {:.1}x (target >= 30x)", ms(l) / ms(o));
    println!("  helix / sha256sum = {:.2}x (target <= 2x)", ms(o) / ms(s));
    if !cli.is_empty() {
        println!(
            "  legacy / helix CLI = {:.1}x; helix CLI / sha256sum = {:.2}x",
            ms(l) / ms(median(cli.clone())),
            ms(median(cli)) / ms(s)
        );
    }
}
