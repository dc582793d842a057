//! QMP, QEMU's JSON control protocol, over the VM's unix socket: one short connection per
//! command (greeting, `qmp_capabilities`, the command), events skipped, every read timed out.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::{Error, Result};

fn io(sock: &Path, what: &str, e: std::io::Error) -> Error {
    problem(sock, format!("could not {what}: {e}"))
}

fn problem(sock: &Path, problem: impl Into<String>) -> Error {
    Error::Qmp { socket: sock.to_path_buf(), problem: problem.into() }
}

/// Read one reply (`return` or `error`), skipping asynchronous events.
fn reply(
    sock: &Path,
    command: &str,
    r: &mut BufReader<UnixStream>,
    deadline: Instant,
) -> Result<Value> {
    loop {
        if Instant::now() >= deadline {
            return Err(problem(sock, "did not answer in time"));
        }
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(|e| io(sock, "read", e))?;
        if n == 0 {
            return Err(problem(sock, "closed the connection (QEMU exited?)"));
        }
        let v: Value = serde_json::from_str(line.trim())
            .map_err(|e| problem(sock, format!("sent bad JSON: {e}")))?;
        if let Some(ret) = v.get("return") {
            return Ok(ret.clone());
        }
        if let Some(err) = v.get("error") {
            let desc = err.get("desc").and_then(Value::as_str).unwrap_or("unknown error");
            return Err(Error::QmpCommand { command: command.into(), message: desc.into() });
        }
        // An event ({"event": ...}) or the greeting: keep reading.
    }
}

/// Run one QMP command and return its `return` value.
pub(crate) fn execute(
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
        return Err(problem(sock, "is not a QMP socket"));
    }
    writeln!(w, "{}", json!({ "execute": "qmp_capabilities" }))
        .map_err(|e| io(sock, "write", e))?;
    reply(sock, "qmp_capabilities", &mut r, deadline)?;
    let mut msg = json!({ "execute": command });
    if let Some(a) = arguments {
        msg["arguments"] = a;
    }
    writeln!(w, "{msg}").map_err(|e| io(sock, "write", e))?;
    reply(sock, command, &mut r, deadline)
}
