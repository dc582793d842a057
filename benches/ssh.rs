//! 20 commands to a real sshd on 127.0.0.1: through `ssh::run` (one multiplexed master
//! connection, helix's way) against 20 plain `ssh` invocations with the legacy provisioner's
//! options (a full connection, key exchange and login each time). Rounds are interleaved so
//! both sides see the same machine load; the medians are reported.
//!
//! `cargo bench --bench ssh`
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

#[path = "../tests/test/support/ports.rs"]
mod ports;
#[path = "../tests/test/support/sshd.rs"]
mod sshd;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const N: usize = 20;
const ROUNDS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let state = tempfile::tempdir().unwrap();
    // SAFETY: single-threaded at this point; helix reads the state dir for its known_hosts.
    unsafe { std::env::set_var("HELIX_STATE_DIR", state.path()) };
    let server = sshd::Sshd::start();
    let target = helix::ssh::Target {
        user: server.user.clone(),
        host: "127.0.0.1".into(),
        port: server.port,
        key: Some(server.key.clone()),
    };
    let key = server.key.display().to_string();
    let port = server.port.to_string();
    let login = format!("{}@127.0.0.1", server.user);
    let (mut mux, mut plain) = (vec![], vec![]);
    for round in 0..ROUNDS {
        // helix: the first command opens the master, the other 19 reuse it.
        let t = Instant::now();
        for i in 0..N {
            helix::ssh::run(&target, &format!("test {i} -ge 0")).expect("ssh::run");
        }
        mux.push(t.elapsed());
        helix::ssh::close_all();
        // legacy: `ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p PORT user@host CMD`
        let t = Instant::now();
        for i in 0..N {
            let ok = Command::new("ssh")
                .args(["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"])
                .args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i", &key, "-p", &port])
                .arg(&login)
                .arg(format!("test {i} -ge 0"))
                .stdin(Stdio::null())
                .status()
                .expect("ssh runs")
                .success();
            assert!(ok, "plain ssh failed");
        }
        plain.push(t.elapsed());
        eprintln!("round {round}: multiplexed {:?}, plain {:?}", mux[round], plain[round]);
    }
    let (m, p) = (median(mux), median(plain));
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("ssh: {N} commands, median of {ROUNDS} rounds");
    println!(
        "  helix ssh::run (one multiplexed master): {:8.1} ms  ({:.1} ms/command)",
        ms(m),
        ms(m) / N as f64
    );
    println!(
        "  plain ssh per command (legacy)          : {:8.1} ms  ({:.1} ms/command)",
        ms(p),
        ms(p) / N as f64
    );
    println!("  speed-up: {:.1}x", p.as_secs_f64() / m.as_secs_f64());
}
