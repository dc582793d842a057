//! `build::ninja` (progress bar from `[n/m]`, log file, failure parsing) against running
//! `ninja` directly, on a generated build of 2,000 edges. The bar draws to a terminal-like
//! sink so its formatting and drawing are paid for, as on a real terminal.
//!
//! `cargo bench --bench ninja` measures (rounds alternate A/B; medians reported);
//! under `cargo test` it runs one small round as a smoke test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressDrawTarget, TermLike};

#[derive(Debug)]
struct Sink;

impl TermLike for Sink {
    fn width(&self) -> u16 {
        120
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        std::io::sink().write_all(s.as_bytes())
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::sink().write_all(s.as_bytes())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `edges` independent edges (each writes one small file) plus one that depends on all of them.
fn generate(dir: &Path, edges: usize) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut ninja = String::from(
        "rule gen\n  command = printf '%s\\n' $in > $out\n  description = GEN $out\nrule cat\n  command = cat $in > $out\n  description = CAT $out\n",
    );
    let mut outs = vec![];
    for i in 0..edges - 1 {
        let src = format!("src/f{i}.txt");
        std::fs::write(dir.join(&src), format!("{i}\n")).unwrap();
        ninja.push_str(&format!("build out/f{i}.o: gen {src}\n"));
        outs.push(format!("out/f{i}.o"));
    }
    ninja.push_str(&format!("build all.txt: cat {}\ndefault all.txt\n", outs.join(" ")));
    std::fs::write(dir.join("build.ninja"), ninja).unwrap();
}

fn clean(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir.join("out"));
    let _ = std::fs::remove_file(dir.join("all.txt"));
    let _ = std::fs::remove_file(dir.join(".ninja_log"));
    let _ = std::fs::remove_file(dir.join(helix::build::NINJA_LOG));
}

/// CPU time (user + system) of this process, or of its reaped children (and theirs).
fn cpu(who: i32) -> Duration {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

struct Run {
    wall: Duration,
    /// CPU of helix itself (the bar, the log tail, the parsing): zero for ninja run directly.
    own_cpu: Duration,
    /// CPU of ninja and the commands it ran.
    build_cpu: Duration,
}

fn direct(dir: &Path, jobs: u32) -> Run {
    clean(dir);
    let (own0, kids0) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_CHILDREN));
    let log = std::fs::File::create(dir.join("direct.log")).unwrap();
    let t = Instant::now();
    let st = std::process::Command::new("ninja")
        .args(["-C", dir.to_str().unwrap(), &format!("-j{jobs}")])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .status()
        .unwrap();
    let wall = t.elapsed();
    assert!(st.success());
    let _ = own0;
    Run { wall, own_cpu: Duration::ZERO, build_cpu: cpu(libc::RUSAGE_CHILDREN) - kids0 }
}

fn helix_ninja(dir: &Path, jobs: u32, edges: usize) -> Run {
    clean(dir);
    let (own0, kids0) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_CHILDREN));
    let bar = helix::build::ninja_bar(ProgressDrawTarget::term_like(Box::new(Sink)));
    let t = Instant::now();
    let built = helix::build::ninja_with_bar(
        dir,
        &helix::build::Ninja { jobs: Some(jobs), ..Default::default() },
        bar,
    )
    .unwrap();
    let wall = t.elapsed();
    assert_eq!(built.edges, edges as u64);
    Run {
        wall,
        own_cpu: cpu(libc::RUSAGE_SELF) - own0,
        build_cpu: cpu(libc::RUSAGE_CHILDREN) - kids0,
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (edges, rounds) = if bench { (2000, 15) } else { (50, 1) };
    let jobs = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2);
    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), edges);
    // Warm the page cache and ninja's own start-up once.
    direct(tmp.path(), jobs);
    let (mut a, mut b) = (vec![], vec![]);
    for i in 0..rounds {
        // Alternate which goes first, so a load change on this shared machine hits both.
        if i % 2 == 0 {
            a.push(direct(tmp.path(), jobs));
            b.push(helix_ninja(tmp.path(), jobs, edges));
        } else {
            b.push(helix_ninja(tmp.path(), jobs, edges));
            a.push(direct(tmp.path(), jobs));
        }
    }
    let mut ratios: Vec<f64> =
        a.iter().zip(&b).map(|(x, y)| y.wall.as_secs_f64() / x.wall.as_secs_f64()).collect();
    ratios.sort_by(|x, y| x.partial_cmp(y).unwrap());
    let walls = |v: &[Run]| v.iter().map(|r| r.wall).collect::<Vec<_>>();
    let (ma, mb) = (median(walls(&a)), median(walls(&b)));
    let (mina, minb) = (walls(&a).into_iter().min().unwrap(), walls(&b).into_iter().min().unwrap());
    let own: Duration = b.iter().map(|r| r.own_cpu).sum();
    let build_b: Duration = b.iter().map(|r| r.build_cpu).sum();
    let build_a: Duration = a.iter().map(|r| r.build_cpu).sum();
    let show =
        |v: &[Run]| v.iter().map(|r| format!("{:.3}", r.wall.as_secs_f64())).collect::<Vec<_>>();
    println!("ninja bench: {edges} edges, -j{jobs}, {rounds} alternating rounds");
    println!(
        "  ninja directly (output to a file): wall min {:.3}s median {:.3}s {:?}",
        mina.as_secs_f64(),
        ma.as_secs_f64(),
        show(&a)
    );
    println!(
        "  build::ninja (bar + log + parse):  wall min {:.3}s median {:.3}s {:?}",
        minb.as_secs_f64(),
        mb.as_secs_f64(),
        show(&b)
    );
    println!(
        "  wall overhead: min {:+.2}%, median {:+.2}%, median of paired rounds {:+.2}%",
        pct(minb, mina),
        pct(mb, ma),
        (ratios[ratios.len() / 2] - 1.0) * 100.0
    );
    println!(
        "  CPU: ninja + commands {:.3}s per build (direct) / {:.3}s (build::ninja); helix's own CPU {:.4}s per build = {:.2}% of the build's CPU",
        build_a.as_secs_f64() / rounds as f64,
        build_b.as_secs_f64() / rounds as f64,
        own.as_secs_f64() / rounds as f64,
        own.as_secs_f64() / build_b.as_secs_f64() * 100.0
    );
}

fn pct(x: Duration, base: Duration) -> f64 {
    (x.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
}
