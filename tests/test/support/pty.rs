//! A real pseudo-terminal for helix: a person's answers typed at `/dev/tty` ([`with_pty`]), or a
//! whole terminal session with scripted keys ([`pty_session`]) for pickers and prompts. Both run
//! [`Test::bare_command`], so cwd and environment are the builder's.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::builder::{Output, Test};

/// `helix ARGS` with a fresh pseudo-terminal as its controlling terminal (stdin is null, so
/// only `/dev/tty` can answer). `answer` is typed once `wait_for` appears on the terminal.
pub fn with_pty(t: &Test, args: &[&str], wait_for: &str, answer: &str) -> (Output, String) {
    let (mut master, slave) = openpty();
    let mut cmd = helix_on_pty(t, args, &slave);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let (seen, reader) = screen_reader(&master);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !seen.lock().unwrap().contains(wait_for) {
        assert!(
            Instant::now() < deadline,
            "no prompt on the terminal; saw: {}",
            seen.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    master.write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    // Only now: with no slave open, reading the master ends.
    drop(slave);
    drop(master);
    let _ = reader.join();
    let tty = seen.lock().unwrap().clone();
    (
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        tty,
    )
}

/// `helix ARGS` in a whole terminal session, as when a person runs it: stdin, stdout and stderr
/// are a fresh pseudo-terminal (80x200). For each `(wait_for, keys)` of `script`, once
/// `wait_for` appears on the terminal after the previous step's match, `keys` are typed
/// (`\r` is Enter, `k` moves a menu up). Returns the exit code and everything the terminal
/// showed; panics with the screen if a step or the exit does not come within `timeout`.
pub fn pty_session(
    t: &Test,
    args: &[&str],
    env: &[(&str, &str)],
    script: &[(&str, &str)],
    timeout: Duration,
) -> (i32, String) {
    let (mut master, slave) = openpty();
    let winsize = libc::winsize { ws_row: 80, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer.
    unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &winsize) };
    let io = || Stdio::from(slave.try_clone().unwrap());
    let mut cmd = helix_on_pty(t, args, &slave);
    cmd.env("TERM", "xterm").stdin(io()).stdout(io()).stderr(io());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let (seen, reader) = screen_reader(&master);
    let deadline = Instant::now() + timeout;
    let mut from = 0;
    for (wait_for, keys) in script {
        loop {
            let screen = seen.lock().unwrap().clone();
            if let Some(at) = screen[from.min(screen.len())..].find(wait_for) {
                from += at + wait_for.len();
                break;
            }
            if Instant::now() >= deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                panic!("`{wait_for}` never came on the terminal; it showed:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Let the prompt finish drawing and switch the terminal to raw mode.
        std::thread::sleep(Duration::from_millis(300));
        master.write_all(keys.as_bytes()).unwrap();
    }
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("helix did not finish in time; the terminal showed:\n{}", seen.lock().unwrap());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(slave);
    // Not joined: a VM helix left running may still hold the terminal; what helix wrote before
    // it exited is read within moments.
    std::thread::sleep(Duration::from_millis(300));
    drop(reader);
    let screen = seen.lock().unwrap().clone();
    (status.code().unwrap_or(-1), screen)
}

/// `helix ARGS` in the test's project, in a new session whose controlling terminal is `slave`.
fn helix_on_pty(t: &Test, args: &[&str], slave: &OwnedFd) -> Command {
    let slave_fd = slave.as_raw_fd();
    let mut cmd = t.bare_command(args);
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid and ioctl are async-signal-safe; the slave fd stays open in the child.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            if libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Everything the terminal shows, collected by a thread reading the master side.
fn screen_reader(master: &std::fs::File) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let seen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let seen = seen.clone();
        let mut m = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = m.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    (seen, reader)
}

fn openpty() -> (std::fs::File, OwnedFd) {
    let (mut m, mut s) = (0, 0);
    // SAFETY: openpty writes two fds; null name/termios/winsize are allowed.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both fds were just opened and are owned here. Close-on-exec, so no other child
    // spawned by a parallel test keeps the terminal open.
    unsafe {
        libc::fcntl(m, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(s, libc::F_SETFD, libc::FD_CLOEXEC);
        (std::fs::File::from_raw_fd(m), OwnedFd::from_raw_fd(s))
    }
}
