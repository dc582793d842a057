//! `git::ensure_all` (concurrent) against `git::ensure` one repository after another, cloning
//! five repositories, over `git://` from a local `git daemon` (the protocol round trips of a
//! real remote, without the internet) and from local paths.
//!
//! `cargo bench --bench git` measures (rounds alternate; medians reported); under `cargo test`
//! it runs one small round as a smoke test.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use helix::git::{Spec, ensure, ensure_all_with};
use indicatif::{MultiProgress, ProgressDrawTarget};

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

/// A repository of `files` text files over `commits` commits, then five bare copies of it
/// (each with one extra commit of its own so they differ).
fn make_remotes(root: &Path, files: usize, commits: usize) -> Vec<PathBuf> {
    let seed = root.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q"]);
    for c in 0..commits {
        for f in (0..files).filter(|f| c == 0 || f % commits == c) {
            let dir = seed.join(format!("d{}", f % 20));
            std::fs::create_dir_all(&dir).unwrap();
            let body: String = (0..60)
                .map(|l| {
                    format!("file {f} commit {c} line {l} {}\n", (f * 7919 + l * 31 + c) % 100_003)
                })
                .collect();
            std::fs::write(dir.join(format!("f{f}.txt")), body).unwrap();
        }
        git(&seed, &["add", "-A"]);
        git(&seed, &["commit", "-q", "-m", &format!("commit {c}")]);
    }
    (0..5)
        .map(|i| {
            let bare = root.join(format!("r{i}.git"));
            git(
                root,
                &[
                    "clone",
                    "-q",
                    "--bare",
                    "--no-local",
                    seed.to_str().unwrap(),
                    bare.to_str().unwrap(),
                ],
            );
            // Packed like a hosted repository, so the server sends it without recompressing.
            git(&bare, &["repack", "-a", "-d", "-q"]);
            bare
        })
        .collect()
}

struct Daemon(Child);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_daemon(base: &Path) -> Option<(Daemon, u16)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", base.display()),
            base.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let d = Daemon(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((d, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A TCP proxy in front of `target` that behaves like a slow link: every chunk read is held
/// for `delay` before it is passed on (64 KiB chunks, so at most ~2.5 MiB/s per connection at
/// 25 ms). Clones from GitHub spend most of their time waiting like this, not computing.
fn start_wan_proxy(target: u16, delay: Duration) -> u16 {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(Shutdown::Write);
                    return;
                }
                Ok(n) => {
                    std::thread::sleep(delay);
                    if to.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    }
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { continue };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || pipe(client, server, delay));
            std::thread::spawn(move || pipe(s2, c2, delay));
        }
    });
    port
}

fn specs(urls: &[String], into: &Path) -> Vec<Spec> {
    urls.iter()
        .enumerate()
        .map(|(i, u)| Spec {
            path: into.join(format!("r{i}")),
            url: u.clone(),
            ..Default::default()
        })
        .collect()
}

fn sequential(urls: &[String], into: &Path) -> Duration {
    let _ = std::fs::remove_dir_all(into);
    let t = Instant::now();
    for s in specs(urls, into) {
        assert_eq!(ensure(&s, None).unwrap().action, "cloned");
    }
    t.elapsed()
}

fn concurrent(urls: &[String], into: &Path) -> Duration {
    let _ = std::fs::remove_dir_all(into);
    let t = Instant::now();
    let r = ensure_all_with(
        &specs(urls, into),
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden()),
    )
    .unwrap();
    assert!(r.iter().all(|e| e.action == "cloned"));
    t.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(v: &[Duration]) -> Vec<String> {
    v.iter().map(|d| format!("{:.3}", d.as_secs_f64())).collect()
}

fn compare(label: &str, urls: &[String], work: &Path, rounds: usize) {
    let (mut a, mut b) = (vec![], vec![]);
    for i in 0..rounds {
        // Alternate which goes first, so a load change on this shared machine hits both.
        if i % 2 == 0 {
            a.push(sequential(urls, &work.join("seq")));
            b.push(concurrent(urls, &work.join("par")));
        } else {
            b.push(concurrent(urls, &work.join("par")));
            a.push(sequential(urls, &work.join("seq")));
        }
    }
    let (ma, mb) = (median(a.clone()), median(b.clone()));
    println!("  {label}: sequential median {:.3}s {:?}", ma.as_secs_f64(), secs(&a));
    println!(
        "  {label}: ensure_all median {:.3}s {:?}  -> {:.2}x",
        mb.as_secs_f64(),
        secs(&b),
        ma.as_secs_f64() / mb.as_secs_f64()
    );
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (files, commits, rounds) = if bench { (400, 5, 7) } else { (20, 2, 1) };
    let tmp = tempfile::tempdir().unwrap();
    let remotes = make_remotes(tmp.path(), files, commits);
    let size: u64 = remotes.iter().map(|r| helix::fs::size(r).unwrap_or(0)).sum::<u64>() / 5;
    println!(
        "git bench: 5 repositories of {files} files / {commits} commits ({} KiB packed each), {rounds} alternating rounds, {} cores",
        size / 1024,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    if let Some((_daemon, port)) = start_daemon(tmp.path()) {
        let urls: Vec<String> =
            (0..5).map(|i| format!("git://127.0.0.1:{port}/r{i}.git")).collect();
        compare("git:// loopback", &urls, &tmp.path().join("work-daemon"), rounds);
        let wan = start_wan_proxy(port, Duration::from_millis(25));
        let urls: Vec<String> = (0..5).map(|i| format!("git://127.0.0.1:{wan}/r{i}.git")).collect();
        compare("git:// slow link (25 ms/chunk)", &urls, &tmp.path().join("work-wan"), rounds);
    } else {
        println!("  git:// skipped: `git daemon` did not start");
    }
    let urls: Vec<String> = remotes.iter().map(|r| r.display().to_string()).collect();
    compare("local path", &urls, &tmp.path().join("work-local"), rounds);
}
