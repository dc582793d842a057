//! Downloads that never leave a half file looking complete, and waiting for a TCP port.
//!
//! A download streams into `<dest>.part` (resumed with an HTTP `Range` request when one is
//! there), is checked against its SHA-256 and only then renamed onto `dest`. HTTP errors are
//! errors (the legacy `curl` without `-f` saved error pages as disk images); a cut-off transfer
//! keeps the `.part` for the next run to resume. HTTPS (rustls) trusts the platform's root
//! certificates, like curl: the macOS keychain, `/etc/ssl/certs` on Linux, corporate CAs included.

use std::io::{Read, Seek, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::guard::{self, Action};

/// Options of [`download`].
#[derive(Debug, Clone)]
pub(crate) struct DownloadOptions {
    /// The expected SHA-256 (hex); checked before the file is put in place.
    pub sha256: Option<String>,
    /// A transfer that delivers nothing for this long is cut off (and can be resumed).
    pub idle_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            sha256: None,
            idle_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
        }
    }
}

/// What a download did.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Downloaded {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// Bytes that were already in the `.part` file and not fetched again.
    pub resumed_from: u64,
    /// `dest` was already there (and matched the checksum when one was given).
    pub skipped: bool,
}

/// `<dest>.part`: where an unfinished download lives.
pub(crate) fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_os_string();
    s.push(".part");
    PathBuf::from(s)
}

fn normalise_sha(s: &str) -> Result<String> {
    let h = s.trim().to_ascii_lowercase();
    let h = h.strip_prefix("sha256:").unwrap_or(&h).to_string();
    if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid("sha256", s, "expected 64 hexadecimal digits"));
    }
    Ok(h)
}

/// Download `url` to `dest` (see the module doc). An existing `dest` is kept when it matches
/// the checksum (or no checksum is given) and is an error when it does not.
pub(crate) fn download(url: &str, dest: &Path, opts: &DownloadOptions) -> Result<Downloaded> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(Error::invalid("url", url, "only http:// and https:// can be downloaded"));
    }
    let want = opts.sha256.as_deref().map(normalise_sha).transpose()?;
    if dest.is_dir() {
        return Err(Error::invalid(
            "download destination",
            dest.display().to_string(),
            "it is a directory; give the file's path",
        ));
    }
    if dest.exists() {
        if let Some(want) = &want {
            let got = crate::fs::sha256_file(dest)?;
            if &got != want {
                return Err(Error::Download {
                    url: url.to_string(),
                    message: format!(
                        "`{}` already exists and its SHA-256 is {got}, not the expected {want}: it is \
                         another version or damaged; move it away (`fs::remove`) to download it again",
                        dest.display()
                    ),
                });
            }
            crate::ui::info(&format!(
                "`{}` is already downloaded (SHA-256 verified)",
                dest.display()
            ));
            let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
            return Ok(Downloaded {
                path: dest.to_path_buf(),
                bytes,
                sha256: got,
                resumed_from: 0,
                skipped: true,
            });
        }
        crate::ui::info(&format!(
            "`{}` is already downloaded (no checksum given to verify it)",
            dest.display()
        ));
        let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
        return Ok(Downloaded {
            path: dest.to_path_buf(),
            bytes,
            sha256: String::new(),
            resumed_from: 0,
            skipped: true,
        });
    }
    let mut action = Action::new("net.download", format!("download {url} to `{}`", dest.display()))
        .args(json!({ "url": url, "dest": dest, "sha256": want }))
        .undo(crate::undo::Undo::remove_created(dest));
    let part = part_path(dest);
    if part.exists() {
        // Resuming appends to the `.part` file in place: never one that is protected.
        action = action.touches(&part, false);
    }
    guard::act(action, || fetch(url, dest, want.as_deref(), opts))
}

fn agent(opts: &DownloadOptions) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(opts.connect_timeout)
        .timeout_read(opts.idle_timeout)
        .timeout_write(opts.idle_timeout)
        .redirects(10)
        .user_agent(concat!("helix/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `Content-Range: bytes START-END/TOTAL` (or `bytes */TOTAL`) → (start, total).
fn content_range(v: Option<&str>) -> (Option<u64>, Option<u64>) {
    let Some(v) = v.and_then(|v| v.trim().strip_prefix("bytes")) else { return (None, None) };
    let (range, total) = v.trim().split_once('/').unwrap_or((v.trim(), "*"));
    let start = range.split_once('-').and_then(|(s, _)| s.trim().parse().ok());
    (start, total.trim().parse().ok())
}

#[allow(clippy::disallowed_methods)] // the `.part` download file is net's own: appended, discarded on a bad checksum, renamed into place
fn fetch(url: &str, dest: &Path, want: Option<&str>, opts: &DownloadOptions) -> Result<Downloaded> {
    let part = part_path(dest);
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        std::fs::create_dir_all(dir).map_err(|e| Error::fs("create", dir, e))?;
        crate::run::current().note_created(dir);
    }
    let agent = agent(opts);
    let mut offset = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    let mut restarted = false;
    let (resp, total) = loop {
        let mut req = agent.get(url);
        if offset > 0 {
            req = req.set("Range", &format!("bytes={offset}-"));
        }
        match req.call() {
            Ok(resp) if resp.status() == 206 && offset > 0 => {
                let (start, total) = content_range(resp.header("Content-Range"));
                if start != Some(offset) {
                    // The server answered another range than asked: start over.
                    offset = 0;
                    restarted = true;
                    continue;
                }
                let total = total.or_else(|| {
                    resp.header("Content-Length")
                        .and_then(|l| l.parse::<u64>().ok())
                        .map(|l| l + offset)
                });
                break (Some(resp), total);
            }
            Ok(resp) => {
                // A full answer (the server ignored the range, or there was nothing to resume).
                offset = 0;
                let total = resp.header("Content-Length").and_then(|l| l.parse::<u64>().ok());
                break (Some(resp), total);
            }
            Err(ureq::Error::Status(416, resp)) if offset > 0 && !restarted => {
                let (_, total) = content_range(resp.header("Content-Range"));
                if total == Some(offset) {
                    break (None, total); // the .part is already complete
                }
                offset = 0;
                restarted = true;
            }
            Err(ureq::Error::Status(code, resp)) => {
                let reason = resp.status_text().to_string();
                return Err(Error::Download {
                    url: url.to_string(),
                    message: format!(
                        "could not download {url}: the server answered HTTP {code} {reason}; nothing was saved to `{}`",
                        dest.display()
                    ),
                });
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(Error::Download {
                    url: url.to_string(),
                    message: format!(
                        "could not download {url}: {t}; nothing was saved to `{}`",
                        dest.display()
                    ),
                });
            }
        }
    };
    let resumed_from = offset;
    let mut hasher = Sha256::new();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(false)
        .open(&part)
        .map_err(|e| Error::write(&part, e))?;
    if offset == 0 {
        file.set_len(0).map_err(|e| Error::write(&part, e))?;
    } else {
        // Hash what is already there, then append.
        let mut buf = vec![0u8; 1 << 16];
        let mut left = offset;
        while left > 0 {
            let n = file
                .read(&mut buf[..(left.min(1 << 16) as usize)])
                .map_err(|e| Error::read(&part, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        file.seek(std::io::SeekFrom::Start(offset)).map_err(|e| Error::write(&part, e))?;
        crate::ui::info(&format!(
            "resuming the download of {url} at {}",
            crate::size::format(offset)
        ));
    }
    let mut written = offset;
    if let Some(resp) = resp {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "download".into());
        let bar = crate::ui::progress_bytes(total.unwrap_or(0), &format!("downloading {name}"));
        bar.set_position(offset);
        let mut reader = resp.into_reader();
        let mut buf = vec![0u8; 1 << 16];
        let cut = |written: u64, why: String| {
            let of = total.map(|t| format!(" of {}", crate::size::format(t))).unwrap_or_default();
            Error::Download {
                url: url.to_string(),
                message: format!(
                    "the download of {url} was cut off after {}{of} ({why}); `{}` was not created — \
                 the partial file is kept as `{}` and the next run resumes it",
                    crate::size::format(written),
                    dest.display(),
                    part.display()
                ),
            }
        };
        loop {
            if crate::run::current().is_cancelled() {
                let _ = file.sync_all();
                bar.abandon();
                return Err(Error::Cancelled(format!(
                    "the download of {url} was interrupted; `{}` is kept for resuming",
                    part.display()
                )));
            }
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = file.sync_all();
                    bar.abandon();
                    return Err(cut(written, e.to_string()));
                }
            };
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).map_err(|e| Error::write(&part, e))?;
            hasher.update(&buf[..n]);
            written += n as u64;
            bar.set_position(written);
        }
        let _ = file.sync_all();
        if let Some(t) = total
            && written != t
        {
            bar.abandon();
            return Err(cut(written, "the connection ended early".into()));
        }
        bar.finish_and_clear();
    }
    file.sync_all().map_err(|e| Error::write(&part, e))?;
    drop(file);
    let got = crate::fs::hex(&hasher.finalize());
    if let Some(want) = want
        && got != want
    {
        let _ = std::fs::remove_file(&part);
        return Err(Error::Download {
            url: url.to_string(),
            message: format!(
                "the download of {url} has the wrong SHA-256: expected {want}, got {got}; it was \
             discarded and `{}` was not created (a wrong checksum in the recipe, or the file changed upstream)",
                dest.display()
            ),
        });
    }
    std::fs::rename(&part, dest).map_err(|e| Error::fs("rename into place", dest, e))?;
    if let Some(dir) = dest.parent().and_then(|d| {
        std::fs::File::open(if d.as_os_str().is_empty() { Path::new(".") } else { d }).ok()
    }) {
        let _ = dir.sync_all();
    }
    crate::run::current().note_created(dest);
    crate::ui::success(&format!(
        "downloaded `{}` ({})",
        dest.display(),
        crate::size::format(written)
    ));
    Ok(Downloaded {
        path: dest.to_path_buf(),
        bytes: written,
        sha256: got,
        resumed_from,
        skipped: false,
    })
}

/// Whether something accepts TCP connections on `host:port` right now.
pub(crate) fn port_open(host: &str, port: u16, connect_timeout: Duration) -> bool {
    let Ok(addrs) = (host, port).to_socket_addrs() else { return false };
    addrs.into_iter().any(|a| TcpStream::connect_timeout(&a, connect_timeout).is_ok())
}

/// Wait until `host:port` accepts TCP, polling fast at first; returns the seconds waited.
pub(crate) fn wait_port(host: &str, port: u16, timeout: Duration) -> Result<f64> {
    if port == 0 {
        return Err(Error::invalid("port", "0", "the port must be a number from 1 to 65535"));
    }
    let action = Action::new(
        "net.wait_port",
        format!("wait up to {}s for {host}:{port} to accept connections", timeout.as_secs_f64()),
    )
    .args(json!({ "host": host, "port": port, "timeout": timeout.as_secs_f64() }));
    guard::act(action, || {
        let started = Instant::now();
        let spinner = crate::ui::spinner(&format!("waiting for {host}:{port}"));
        let found = crate::wait::until(timeout, Duration::from_millis(50), || {
            port_open(
                host,
                port,
                Duration::from_millis(500).min(timeout.max(Duration::from_millis(50))),
            )
            .then_some(())
        });
        spinner.finish_and_clear();
        match found? {
            Some(()) => Ok(started.elapsed().as_secs_f64()),
            None => Err(Error::WaitPort {
                host: host.to_string(),
                port,
                seconds: timeout.as_secs_f64(),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_parses() {
        assert_eq!(content_range(Some("bytes 100-199/200")), (Some(100), Some(200)));
        assert_eq!(content_range(Some("bytes */200")), (None, Some(200)));
        assert_eq!(content_range(Some("bytes 5-9/*")), (Some(5), None));
        assert_eq!(content_range(None), (None, None));
    }

    #[test]
    fn sha_is_checked_for_shape() {
        assert!(normalise_sha("abc").is_err());
        let h = "A".repeat(64);
        assert_eq!(normalise_sha(&format!("sha256:{h}")).unwrap(), "a".repeat(64));
    }

    #[test]
    fn only_http_urls() {
        let d = tempfile::tempdir().unwrap();
        let e = download("file:///etc/passwd", &d.path().join("x"), &DownloadOptions::default())
            .unwrap_err();
        assert!(e.to_string().contains("only http"), "{e}");
    }

    #[test]
    fn wait_port_sees_a_listener_and_times_out_without_one() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(wait_port("127.0.0.1", port, Duration::from_secs(2)).unwrap() < 0.5);
        drop(l);
        let t = Instant::now();
        let e = wait_port("127.0.0.1", port, Duration::from_millis(300)).unwrap_err().to_string();
        assert!(e.contains("nothing accepted connections"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(3));
    }
}
