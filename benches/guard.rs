//! The guard's costs against what a person would otherwise run:
//! - classifying a shell string with the parser vs asking `bash -n` to merely syntax-check it;
//! - `fs::remove` of a large sparse disk image (a rename into the trash) vs `cp --sparse` to a
//!   backup location (keeping a copy before deleting, done without helix).
//!
//! - the OS layer's cost per command: spawning `true` confined (plan + namespace + mounts, as
//!   `process.rs` does) vs spawning it plainly.
//!
//! `cargo bench --bench guard` (also runs, quickly, under `cargo test --all-targets`).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::process::Command;
use std::time::{Duration, Instant};

const SCRIPTS: &[&str] = &[
    "cd /tmp && sudo rm -rf /tmp/* /var/tmp/*",
    "sudo netplan generate && sudo netplan apply",
    "for d in a b c; do if [ -d \"$d\" ]; then echo $d; fi; done | sort",
    "sudo sh -c 'growpart /dev/vda 1 && resize2fs /dev/vda1'",
    "X=$(git rev-parse HEAD); echo \"$X\" > /tmp/helix-rev",
    "bash <<'EOF'\nset -e\nmake -j4\nrm -rf build\nEOF\n",
];

fn per_iter(n: u32, mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick { 20 } else { 2000 };
    let ours = per_iter(n, || {
        for s in SCRIPTS {
            std::hint::black_box(helix::guard::classify::classify_shell(s));
        }
    }) / SCRIPTS.len() as u32;
    let m = if quick { 2 } else { 50 };
    let bash = per_iter(m, || {
        for s in SCRIPTS {
            let _ = Command::new("bash").args(["-n", "-c", s]).status();
        }
    }) / SCRIPTS.len() as u32;
    println!(
        "classify one shell string (parse + walk): {ours:?}   `bash -n -c` syntax check only: {bash:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    // SAFETY: set before any thread is started.
    unsafe { std::env::set_var("HELIX_STATE_DIR", dir.path().join("state")) };
    let size: u64 = if quick { 1 << 30 } else { 100 << 30 };
    let img = dir.path().join("disk.qcow2");
    // Mostly holes, with some real data (as a VM disk has): 2 × 128 MiB (2 × 4 MiB quick).
    let mut f = std::fs::File::create(&img).unwrap();
    f.set_len(size).unwrap();
    let chunk = vec![0x5au8; if quick { 4 << 20 } else { 128 << 20 }];
    use std::io::{Seek, SeekFrom, Write};
    for at in [0, size / 2] {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
    drop(f);
    let t = Instant::now();
    let out = Command::new("cp")
        .args(["--sparse=always"])
        .arg(&img)
        .arg(dir.path().join("backup.qcow2"))
        .status();
    let cp = t.elapsed();
    let t = Instant::now();
    helix::trash::remove(&img).unwrap();
    let trash = t.elapsed();
    println!(
        "remove a {} GiB sparse image: helix trash (rename) {trash:?}   cp --sparse=always to a backup {cp:?} ({})",
        size >> 30,
        if out.is_ok_and(|s| s.success()) { "ok" } else { "failed" }
    );

    let k = if quick { 5 } else { 300 };
    let plain = per_iter(k, || {
        let _ = Command::new("true").status();
    });
    let confined = per_iter(k, || {
        let c = helix::guard::sandbox::confine(vec!["true".into()], None, |_| false);
        let mut cmd = Command::new(&c.argv[0]);
        cmd.args(&c.argv[1..]);
        if let Some(hook) = c.hook {
            // SAFETY: the hook makes async-signal-safe system calls only.
            unsafe { std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || hook.apply()) };
        }
        let _ = cmd.status();
    });
    let plan = per_iter(k, || {
        std::hint::black_box(helix::guard::sandbox::Plan::for_command(
            &helix::run::current().config,
            None,
            &["true".into()],
        ));
    });
    println!(
        "spawn `true` confined by the OS layer ({}): {confined:?} (of which the plan {plan:?})   plainly: {plain:?}",
        helix::guard::sandbox::state(|_| false).describe()
    );
}
