//! Waiting that Ctrl-C can interrupt: every wait in helix goes through here.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub(crate) fn sleep(d: Duration) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        if crate::run::current().is_cancelled() {
            return Err(Error::Cancelled("interrupted while waiting".into()));
        }
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        std::thread::sleep((end - now).min(Duration::from_millis(50)));
    }
}

/// Poll `check` until it returns `Some`, every `every`, for at most `timeout`.
pub(crate) fn until<T>(
    timeout: Duration,
    every: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> Result<Option<T>> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Ok(Some(v));
        }
        if Instant::now() >= end {
            return Ok(None);
        }
        sleep(every.min(end.saturating_duration_since(Instant::now())))?;
    }
}
