//! A child's stderr on its way to ours: relayed (or spliced on Linux) as it comes, with the
//! newest lines kept for the error message, or read back from helix's own log file when a
//! streamed child writes there directly.
// Spawning, redirecting and signalling child processes happen only in `process` (see clippy.toml).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::io::{Read, Write};
use std::path::PathBuf;

/// How many lines of stderr an error shows.
pub(crate) const TAIL_LINES: usize = 20;

/// The stderr tail kept for error messages: the newest bytes, trimmed to whole lines at the end.
pub(super) const WINDOW: usize = 16 * 1024;

/// Append `chunk` to the tail `window`, keeping at most about `2 * WINDOW` bytes with
/// memcpy-sized operations only.
pub(super) fn keep_tail(window: &mut Vec<u8>, chunk: &[u8]) {
    if chunk.len() >= WINDOW {
        window.clear();
        window.extend_from_slice(&chunk[chunk.len() - WINDOW..]);
    } else {
        window.extend_from_slice(chunk);
        if window.len() > 2 * WINDOW {
            window.drain(..window.len() - WINDOW);
        }
    }
}

/// helix's stderr when it is a regular file (a CI log, `2> log`): a streamed child gets the
/// same open file, so its output lands there with no relay at all, and the lines an error
/// shows are read back from the part of the file the child wrote.
pub(super) struct StderrLog {
    reader: std::fs::File,
    start: u64,
}

impl StderrLog {
    pub(super) fn open() -> Option<StderrLog> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: borrow fd 2 without closing it (ManuallyDrop).
        let ours = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
        let a = ours.metadata().ok()?;
        if !a.file_type().is_file() {
            return None;
        }
        let reader = std::fs::File::open(Self::path()?).ok()?;
        // Same inode: not a file that was replaced since.
        use std::os::unix::fs::MetadataExt;
        let b = reader.metadata().ok()?;
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return None;
        }
        // SAFETY: lseek on our own fd 2 to read its offset.
        let start = unsafe { libc::lseek(ours.as_raw_fd(), 0, libc::SEEK_CUR) };
        (start >= 0).then_some(StderrLog { reader, start: start as u64 })
    }

    #[cfg(target_os = "linux")]
    fn path() -> Option<PathBuf> {
        std::fs::read_link("/proc/self/fd/2").ok()
    }

    #[cfg(target_os = "macos")]
    fn path() -> Option<PathBuf> {
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        // SAFETY: F_GETPATH writes at most PATH_MAX bytes into buf.
        if unsafe { libc::fcntl(2, libc::F_GETPATH, buf.as_mut_ptr()) } != 0 {
            return None;
        }
        let end = buf.iter().position(|b| *b == 0)?;
        Some(PathBuf::from(String::from_utf8_lossy(&buf[..end]).into_owned()))
    }

    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    fn path() -> Option<PathBuf> {
        None
    }

    /// Our stderr for the child (the same open file, so writes share its offset).
    pub(super) fn for_child(&self) -> Option<std::os::fd::OwnedFd> {
        use std::os::fd::{AsFd, BorrowedFd};
        // SAFETY: fd 2 is open for the whole life of helix.
        unsafe { BorrowedFd::borrow_raw(2) }.as_fd().try_clone_to_owned().ok()
    }

    /// The last lines of what was written since `open`.
    pub(super) fn tail(&self) -> String {
        use std::os::unix::fs::FileExt;
        // SAFETY: lseek on fd 2 only reads its offset.
        let end = unsafe { libc::lseek(2, 0, libc::SEEK_CUR) };
        let end = if end < 0 { return String::new() } else { end as u64 };
        let from = self.start.max(end.saturating_sub(WINDOW as u64));
        let mut buf = vec![0u8; (end - from.min(end)) as usize];
        let n = self.reader.read_at(&mut buf, from).unwrap_or(0);
        last_lines(&buf[..n])
    }
}

/// The last `TAIL_LINES` lines of some output.
pub(super) fn last_lines(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Copy a child's stderr to ours, keeping everything when capturing and the last
/// `TAIL_LINES` lines for the error message.
pub(super) fn tee_stderr(
    mut err: std::process::ChildStderr,
    stream: bool,
    capture: bool,
) -> (Vec<u8>, String) {
    let mut all = Vec::new();
    let mut tail: Vec<u8> = Vec::with_capacity(2 * WINDOW);
    #[cfg(target_os = "linux")]
    let relayed = stream && !capture && splice::relay(&err, &mut tail);
    #[cfg(not(target_os = "linux"))]
    let relayed = false;
    if !relayed {
        // One write per read, not per line: a noisy compiler costs next to nothing.
        let mut buf = vec![0u8; 64 * 1024];
        let stderr = std::io::stderr();
        loop {
            let n = match err.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if stream {
                let _ = stderr.lock().write_all(chunk);
            }
            if capture {
                all.extend_from_slice(chunk);
            }
            keep_tail(&mut tail, chunk);
        }
    }
    (all, last_lines(&tail))
}

/// Linux: stream a child's stderr into ours without copying it through helix. `tee(2)`
/// duplicates what is in the child's pipe into a second pipe (page references, no copy),
/// `splice(2)` moves the original to our stderr, and of the duplicate only the last `WINDOW`
/// bytes are read (the rest is spliced to `/dev/null`). A relay through `read`/`write` costs
/// about as much as the noisy command itself writing to a file; this costs next to nothing.
#[cfg(target_os = "linux")]
mod splice {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

    use super::{WINDOW, keep_tail};

    const CHUNK: usize = 1 << 20;
    /// How long output gathers before it is moved (the latency a person could see: none).
    const BATCH: std::time::Duration = std::time::Duration::from_micros(200);

    /// Relay `src` to fd 2 until EOF, keeping the tail. `false` when our stderr cannot take
    /// a splice (a terminal, an `O_APPEND` file) and nothing was consumed yet: the caller
    /// then copies the ordinary way.
    pub(super) fn relay(src: &impl AsRawFd, tail: &mut Vec<u8>) -> bool {
        let src = src.as_raw_fd();
        let Some((dup_r, dup_w)) = pipe() else { return false };
        let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") else {
            return false;
        };
        // SAFETY: plain fcntl on pipe fds we own or were given; failure only keeps 64 KiB pipes.
        unsafe {
            libc::fcntl(src, libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
            libc::fcntl(dup_w.as_raw_fd(), libc::F_SETPIPE_SZ, CHUNK as libc::c_int);
        }
        let mut buf = vec![0u8; WINDOW];
        let mut first = true;
        loop {
            // Wait until the child wrote (or closed its end), then let a moment's output gather
            // in the 1 MiB pipe: a noisy child writes 4 KiB at a time, and waking for each write
            // costs more than moving the bytes.
            let mut pfd = libc::pollfd { fd: src, events: libc::POLLIN, revents: 0 };
            // SAFETY: poll on one valid pollfd.
            if unsafe { libc::poll(&mut pfd, 1, -1) } < 0 {
                if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return !first;
            }
            std::thread::sleep(BATCH);
            // 0 once the child closed its end and everything was read.
            // SAFETY: tee between two valid pipe fds.
            let n = unsafe { libc::tee(src, dup_w.as_raw_fd(), CHUNK, libc::SPLICE_F_NONBLOCK) };
            if n == 0 {
                return true;
            }
            if n < 0 {
                let kind = std::io::Error::last_os_error().kind();
                if kind == std::io::ErrorKind::Interrupted || kind == std::io::ErrorKind::WouldBlock
                {
                    continue;
                }
                return !first;
            }
            let n = n as usize;
            if !move_all(src, 2, n) {
                if first {
                    // Nothing left the child's pipe: the caller reads it the ordinary way.
                    return false;
                }
                // Our stderr went away mid-stream: drain so the child is not blocked.
                let _ = move_all(src, null.as_raw_fd(), n);
            }
            first = false;
            let keep = n.min(WINDOW);
            let _ = move_all(dup_r.as_raw_fd(), null.as_raw_fd(), n - keep);
            let mut got = 0;
            while got < keep {
                // SAFETY: reading into a buffer of at least `keep` bytes.
                let r = unsafe {
                    libc::read(dup_r.as_raw_fd(), buf[got..].as_mut_ptr().cast(), keep - got)
                };
                if r <= 0 {
                    break;
                }
                got += r as usize;
            }
            keep_tail(tail, &buf[..got]);
        }
    }

    /// Splice exactly `n` bytes from pipe `from` to `to`; `false` if that failed.
    fn move_all(from: RawFd, to: RawFd, mut n: usize) -> bool {
        while n > 0 {
            // SAFETY: splice between valid fds; null offsets (pipes and stream fds).
            let m =
                unsafe { libc::splice(from, std::ptr::null_mut(), to, std::ptr::null_mut(), n, 0) };
            if m < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if m <= 0 {
                return false;
            }
            n -= m as usize;
        }
        true
    }

    fn pipe() -> Option<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds, owned from here on.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return None;
        }
        // SAFETY: both were just opened.
        Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }
}
