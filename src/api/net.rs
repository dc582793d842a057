//! `net::` — downloads that resume and verify before they land, and waiting for a TCP port.

use rhai::plugin::*;

use crate::api::convert;
use crate::duration::Seconds;
use crate::error::Result;
use crate::net::{DownloadOptions, Downloaded};

pub fn module() -> rhai::Module {
    exported_module!(net_api)
}

/// `net::download`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    sha256: Option<String>,
    idle_timeout: Option<Seconds>,
    connect_timeout: Option<Seconds>,
}

fn options(opts: &rhai::Map) -> Result<DownloadOptions> {
    let o: Options = crate::api::options::decode(opts, "net::download")?;
    let mut d = DownloadOptions { sha256: o.sha256, ..Default::default() };
    if let Some(t) = o.idle_timeout {
        d.idle_timeout = t.0;
    }
    if let Some(t) = o.connect_timeout {
        d.connect_timeout = t.0;
    }
    Ok(d)
}

fn result_map(d: Downloaded) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("path".into(), d.path.display().to_string().into());
    m.insert("bytes".into(), (d.bytes as i64).into());
    m.insert("sha256".into(), d.sha256.into());
    m.insert("resumed_from".into(), (d.resumed_from as i64).into());
    m.insert("skipped".into(), d.skipped.into());
    m
}

#[export_module]
mod net_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Download `url` to `dest`: into `dest.part` first (resumed with an HTTP range request
    /// next time if cut off), with a progress bar; only a complete file is renamed onto
    /// `dest`. HTTP errors (404, …) are errors. An existing `dest` is kept. Returns
    /// `#{ path, bytes, sha256, resumed_from, skipped }`.
    ///
    /// ```rhai
    /// net::download("https://cloud-images.ubuntu.com/questing/current/questing-server-cloudimg-arm64.img", "/tmp/ubuntu.img");
    /// ```
    #[rhai_fn(return_raw, name = "download")]
    pub fn download(ctx: NativeCallContext, url: &str, dest: &str) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            crate::net::download(url, &convert::path(dest), &DownloadOptions::default())
                .map(super::result_map),
        )
    }

    /// `net::download` with options: `sha256` (hex; verified before the file is put in place,
    /// a mismatch discards it), `idle_timeout` (seconds without data before the transfer is
    /// cut off, default 60), `connect_timeout` (default 30).
    ///
    /// ```rhai
    /// net::download("https://example.com/disk.img", "/tmp/disk.img", #{ sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" });
    /// ```
    #[rhai_fn(return_raw, name = "download")]
    pub fn download_with(
        ctx: NativeCallContext,
        url: &str,
        dest: &str,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            super::options(&options)
                .and_then(|o| crate::net::download(url, &convert::path(dest), &o))
                .map(super::result_map),
        )
    }

    /// Wait up to `timeout` seconds until `host:port` accepts TCP connections; returns the
    /// seconds waited. An error names the port when nothing listened in time.
    ///
    /// ```rhai
    /// net::wait_port("127.0.0.1", 8080, 60);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_port(
        ctx: NativeCallContext,
        host: &str,
        port: i64,
        timeout: i64,
    ) -> RhaiResult<f64> {
        let checked = crate::port::Port::new(port)
            .and_then(|p| Ok((p.0, crate::api::convert::timeout(timeout)?)));
        r(&ctx, checked.and_then(|(p, t)| crate::net::wait_port(host, p, t)))
    }
}
