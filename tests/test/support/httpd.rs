//! A tiny HTTP/1.1 server for download tests: serves byte ranges, answers 404, sends wrong
//! content, cuts the connection mid-stream, or stalls. Each path has a behaviour that a test can
//! change between requests; every request's path and `Range` header is logged.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Route {
    /// Serve these bytes, honouring `Range: bytes=N-`.
    Serve(Vec<u8>),
    /// Serve these bytes but ignore any `Range` header (always 200, from the start).
    IgnoreRange(Vec<u8>),
    /// Announce the full length, send up to absolute offset `n`, then close the connection.
    CutAt(Vec<u8>, usize),
    /// Announce the full length, send up to offset `n`, then stall without closing.
    StallAt(Vec<u8>, usize),
}

pub struct Httpd {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Httpd {
    pub fn start() -> Httpd {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, q) = (routes.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, q) = (r.clone(), q.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &r, &q);
                });
            }
        });
        Httpd { port, routes, requests }
    }

    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    routes: &Mutex<HashMap<String, Route>>,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range: Option<u64> = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("range:") {
            range =
                v.trim().strip_prefix("bytes=").and_then(|r| r.trim_end_matches('-').parse().ok());
        }
    }
    log.lock().unwrap().push(format!(
        "{path} range={}",
        range.map(|r| r.to_string()).unwrap_or_else(|| "-".into())
    ));
    let route = routes.lock().unwrap().get(&path).cloned();
    let mut out = stream;
    let Some(route) = route else {
        let body = b"<html><body>404 Not Found</body></html>";
        write!(
            out,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(body)?;
        return Ok(());
    };
    let (data, limit, stall, honour_range) = match route {
        Route::Serve(d) => {
            let n = d.len();
            (d, n, false, true)
        }
        Route::IgnoreRange(d) => {
            let n = d.len();
            (d, n, false, false)
        }
        Route::CutAt(d, n) => (d, n, false, true),
        Route::StallAt(d, n) => (d, n, true, true),
    };
    let total = data.len() as u64;
    let start = if honour_range { range.unwrap_or(0) } else { 0 };
    if honour_range && range.is_some() && start >= total {
        write!(
            out,
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    if honour_range && range.is_some() {
        write!(
            out,
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            total - 1,
            total - start
        )?;
    } else {
        write!(
            out,
            "HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
        )?;
    }
    let end = limit.max(start as usize).min(data.len());
    out.write_all(&data[start as usize..end])?;
    out.flush()?;
    if stall {
        std::thread::sleep(Duration::from_secs(30));
    }
    Ok(())
}
