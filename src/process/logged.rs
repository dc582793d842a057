//! Commands whose output goes to a log file kept for later, followed live: a spinner shows
//! the newest line and a failure shows the last lines of the log.

use std::collections::VecDeque;
use std::io::Read;
use std::time::{Duration, Instant};

use super::Cmd;
use super::stderr::TAIL_LINES;
use crate::error::{Error, Result};

impl Cmd {
    /// Run with stdout and stderr appended to `log` (kept for later), a spinner showing the
    /// newest line, and the timeout honoured. A non-zero exit is an error that shows the last
    /// lines of the log and where it is. Returns the seconds it took.
    pub fn run_logged(&self, log: &std::path::Path) -> Result<f64> {
        if crate::ctx::get().dry_run {
            // Prints the plan; nothing is started.
            let _ = self.spawn_background(Some(log));
            return Ok(0.0);
        }
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
        }
        let shown = self.display();
        let started = Instant::now();
        let offset = std::fs::metadata(log).map(|m| m.len()).unwrap_or(0);
        let mut child = self.spawn_background(Some(log))?;
        let mut file = std::fs::File::open(log).map_err(|e| Error::read(log, e))?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset))
            .map_err(|e| Error::read(log, e))?;
        let bar = crate::ui::spinner(&shown);
        let mut tail: VecDeque<String> = VecDeque::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut read_new = |tail: &mut VecDeque<String>, pending: &mut Vec<u8>| -> Result<()> {
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::read(log, e))?;
                if n == 0 {
                    return Ok(());
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(i) = pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=i).collect();
                    // Shown on the spinner and in the error: never a secret of the run.
                    let line = crate::ctx::get().redact(
                        console::strip_ansi_codes(&String::from_utf8_lossy(&line)).trim_end(),
                    );
                    if line.is_empty() {
                        continue;
                    }
                    let shown_line: String = line.chars().take(100).collect();
                    bar.set_message(shown_line);
                    tail.push_back(line);
                    if tail.len() > TAIL_LINES {
                        tail.pop_front();
                    }
                }
            }
        };
        let status = loop {
            read_new(&mut tail, &mut pending)?;
            if let Some(s) = child.wait_exit(Duration::from_millis(100)) {
                break s;
            }
            if crate::ctx::get().is_cancelled() {
                child.kill();
                bar.finish_and_clear();
                return Err(Error::Cancelled(format!("`{shown}` was interrupted")));
            }
            if let Some(t) = self.timeout
                && started.elapsed() > t
            {
                child.kill();
                bar.finish_and_clear();
                return Err(Error::other(format!(
                    "`{shown}` did not finish within {}s and was stopped; its output is in `{}`",
                    t.as_secs(),
                    log.display()
                )));
            }
        };
        read_new(&mut tail, &mut pending)?;
        if !pending.is_empty() {
            tail.push_back(String::from_utf8_lossy(&pending).trim_end().to_string());
        }
        bar.finish_and_clear();
        let secs = started.elapsed().as_secs_f64();
        if status.success() {
            return Ok(secs);
        }
        let code = status.code().map(|c| c.to_string()).unwrap_or_else(|| "a signal".into());
        Err(Error::other(format!(
            "`{shown}` failed (exit {code}) after {}; the last lines of `{}`:\n{}",
            crate::duration::format_secs(secs),
            log.display(),
            tail.iter().cloned().collect::<Vec<_>>().join("\n")
        )))
    }
}
