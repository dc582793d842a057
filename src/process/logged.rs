//! Commands whose output goes to a log file kept for later, followed live: one follower reads
//! the new lines as the child writes them (a spinner's newest line, ninja's progress), stops
//! the child on Ctrl-C or its timeout, and reports the exit status. A failure is a
//! [`Error::CommandFailed`] carrying the exit code and the last lines of the log.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::Cmd;
use super::stderr::TAIL_LINES;
use crate::error::{Error, Result};

/// How a followed command ended.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Followed {
    pub status: ExitStatus,
    pub seconds: f64,
}

impl Cmd {
    /// Start the command (through the guard) with stdout and stderr appended to `log`, and hand
    /// `on_line` every complete line it writes, as it writes them (lossily decoded, newline
    /// kept). Ctrl-C stops it (`Error::Cancelled`), as does its timeout
    /// (`Error::LoggedTimeout`). A non-zero exit is returned, not an error: the caller words it.
    pub(crate) fn follow_log(&self, log: &Path, mut on_line: impl FnMut(&str)) -> Result<Followed> {
        let started = Instant::now();
        let offset = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
        let mut child = self.spawn_background(Some(log))?;
        let mut file = std::fs::File::open(log).map_err(|e| Error::read(log, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| Error::read(log, e))?;
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut read_new = |pending: &mut Vec<u8>, on_line: &mut dyn FnMut(&str)| -> Result<()> {
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::read(log, e))?;
                if n == 0 {
                    return Ok(());
                }
                pending.extend_from_slice(&buf[..n]);
                let mut start = 0;
                while let Some(i) = pending[start..].iter().position(|b| *b == b'\n') {
                    on_line(&String::from_utf8_lossy(&pending[start..=start + i]));
                    start += i + 1;
                }
                pending.drain(..start);
            }
        };
        // Fast first (a quick command is done in a millisecond), then every 20 ms.
        let mut poll = Duration::from_millis(1);
        let status = loop {
            read_new(&mut pending, &mut on_line)?;
            if let Some(status) = child.wait_exit(Duration::ZERO) {
                break status;
            }
            if crate::run::current().is_cancelled() {
                child.kill();
                return Err(Error::Cancelled(format!("`{}` was interrupted", self.display())));
            }
            if let Some(t) = self.timeout
                && started.elapsed() > t
            {
                child.kill();
                return Err(Error::LoggedTimeout {
                    command: self.display(),
                    seconds: t.as_secs(),
                    log: log.to_path_buf(),
                });
            }
            std::thread::sleep(poll);
            poll = (poll * 2).min(Duration::from_millis(20));
        };
        read_new(&mut pending, &mut on_line)?;
        if !pending.is_empty() {
            on_line(&String::from_utf8_lossy(&pending));
        }
        Ok(Followed { status, seconds: started.elapsed().as_secs_f64() })
    }

    /// The error for a followed command that exited non-zero: its status and exit code, `detail`
    /// (the lines worth reading) and where the whole log is.
    pub(crate) fn log_failure(&self, f: &Followed, detail: &str, log: &Path) -> Error {
        Error::CommandFailed {
            command: self.display(),
            status: super::describe_status(f.status),
            code: f.status.code(),
            stderr_tail: format!(
                "{detail}\n(after {}; the full log is `{}`)",
                crate::duration::format_secs(f.seconds),
                log.display()
            ),
        }
    }

    /// Run with stdout and stderr appended to `log` (kept for later), a spinner showing the
    /// newest line, and the timeout honoured. A non-zero exit is an error that carries the exit
    /// code and shows the last lines of the log and where it is. Returns the seconds it took.
    pub(crate) fn run_logged(&self, log: &Path) -> Result<f64> {
        if crate::run::current().dry_run {
            // Prints the plan; nothing is started.
            let _ = self.spawn_background(Some(log));
            return Ok(0.0);
        }
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        }
        let bar = crate::ui::spinner(&self.display());
        let mut tail: VecDeque<String> = VecDeque::new();
        let followed = self.follow_log(log, |line| {
            // Shown on the spinner and in the error: never a secret of the run.
            let line = crate::run::current().redact(console::strip_ansi_codes(line).trim_end());
            if line.is_empty() {
                return;
            }
            bar.set_message(line.chars().take(100).collect::<String>());
            tail.push_back(line);
            if tail.len() > TAIL_LINES {
                tail.pop_front();
            }
        });
        bar.finish_and_clear();
        let followed = followed?;
        if followed.status.success() {
            return Ok(followed.seconds);
        }
        let tail: Vec<String> = tail.into_iter().collect();
        Err(self.log_failure(&followed, &tail.join("\n"), log))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logged_failure_carries_its_exit_code_and_the_log_tail() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/run.log");
        let err = Cmd::new(&["sh", "-c", "echo compiling; echo broken >&2; exit 3"])
            .run_logged(&log)
            .unwrap_err();
        assert_eq!(err.exit_code(), Some(3), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("exit code 3") && msg.contains("broken"), "{msg}");
        assert!(msg.contains(&log.display().to_string()), "{msg}");
        assert!(std::fs::read_to_string(&log).unwrap().contains("compiling\nbroken\n"));
    }

    #[test]
    fn the_follower_sees_every_line_and_the_last_one_without_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("run.log");
        std::fs::write(&log, "from before\n").unwrap();
        let mut lines = Vec::new();
        let f = Cmd::new(&["sh", "-c", "seq 1 5000; printf last"])
            .follow_log(&log, |l| lines.push(l.to_string()))
            .unwrap();
        assert!(f.status.success());
        assert_eq!(lines.len(), 5001);
        assert_eq!((lines[0].as_str(), lines[4999].as_str()), ("1\n", "5000\n"));
        assert_eq!(lines[5000], "last");
    }

    #[test]
    fn a_logged_timeout_stops_it_and_names_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("run.log");
        let t = Instant::now();
        let err = Cmd::new(&["sleep", "30"])
            .timeout(Duration::from_secs(1))
            .run_logged(&log)
            .unwrap_err();
        assert!(matches!(err, Error::LoggedTimeout { .. }), "{err}");
        assert!(err.to_string().contains("did not finish within 1s"), "{err}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
