//! QMP, QEMU's JSON control protocol, over the VM's unix socket: one short connection per
//! command (greeting, `qmp_capabilities`, the command), events skipped, every read timed out.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Error, Result};

fn io(sock: &Path, what: &str, e: std::io::Error) -> Error {
    Error::other(format!("QMP `{}`: could not {what}: {e}", sock.display()))
}

/// Read one reply (`return` or `error`), skipping asynchronous events.
fn reply(sock: &Path, r: &mut BufReader<UnixStream>, deadline: Instant) -> Result<Value> {
    loop {
        if Instant::now() >= deadline {
            return Err(Error::other(format!("QMP `{}` did not answer in time", sock.display())));
        }
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| io(sock, "read", e))?;
        if n == 0 {
            return Err(Error::other(format!(
                "QMP `{}` closed the connection (QEMU exited?)",
                sock.display()
            )));
        }
        let v: Value = serde_json::from_str(line.trim())
            .map_err(|e| Error::other(format!("QMP sent bad JSON: {e}")))?;
        if let Some(ret) = v.get("return") {
            return Ok(ret.clone());
        }
        if let Some(err) = v.get("error") {
            let desc = err.get("desc").and_then(Value::as_str).unwrap_or("unknown error");
            return Err(Error::other(format!("QMP command failed: {desc}")));
        }
        // An event ({"event": ...}) or the greeting: keep reading.
    }
}

/// Run one QMP command and return its `return` value.
pub fn execute(
    sock: &Path,
    command: &str,
    arguments: Option<Value>,
    timeout: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + timeout;
    let stream = UnixStream::connect(sock).map_err(|e| io(sock, "connect", e))?;
    stream
        .set_read_timeout(Some(timeout.max(Duration::from_millis(100))))
        .map_err(|e| io(sock, "configure", e))?;
    stream
        .set_write_timeout(Some(timeout.max(Duration::from_millis(100))))
        .map_err(|e| io(sock, "configure", e))?;
    let mut w = stream.try_clone().map_err(|e| io(sock, "configure", e))?;
    let mut r = BufReader::new(stream);
    let mut greeting = String::new();
    r.read_line(&mut greeting).map_err(|e| io(sock, "read the greeting", e))?;
    if !greeting.contains("\"QMP\"") {
        return Err(Error::other(format!("`{}` is not a QMP socket", sock.display())));
    }
    writeln!(w, "{}", json!({ "execute": "qmp_capabilities" }))
        .map_err(|e| io(sock, "write", e))?;
    reply(sock, &mut r, deadline)?;
    let mut msg = json!({ "execute": command });
    if let Some(a) = arguments {
        msg["arguments"] = a;
    }
    writeln!(w, "{msg}").map_err(|e| io(sock, "write", e))?;
    reply(sock, &mut r, deadline)
}
