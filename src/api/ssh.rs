//! `ssh::` — commands and files on a VM over the system OpenSSH client, one multiplexed
//! connection per target. A target is a map `#{ user, host, port, key }` or a string
//! `user@host:port`; what it leaves out comes from the config (`vm.ssh_user`, `vm.ssh_host`,
//! `vm.ssh_port`, `vm.ssh_key`).

use rhai::plugin::*;

use serde::Deserialize;

use crate::api::{convert, options};
use crate::duration::Seconds;
use crate::error::{Error, Result};
use crate::port::Port;
use crate::process::Output;
use crate::ssh::{RunOptions, Target, WriteOptions};

pub fn module() -> rhai::Module {
    exported_module!(ssh_api)
}

/// A target from a Rhai value given to `primitive` (named in its errors): `()`, a string or a
/// map.
pub fn target(v: &Dynamic, primitive: &str) -> Result<Target> {
    let defaults = Target::from_config(&crate::run::current().config);
    if v.is_unit() {
        defaults.validate()?;
        return Ok(defaults);
    }
    if v.is_string() {
        return Target::parse(&v.clone().into_string().unwrap_or_default(), &defaults);
    }
    let Some(m) = v.clone().try_cast::<rhai::Map>() else {
        return Err(Error::invalid(
            "ssh target",
            v.to_string(),
            format!("expected `user@host:port` or a map, found {}", v.type_name()),
        ));
    };
    let o: TargetOptions = options::decode_given(&m, "the ssh target", primitive)?;
    let mut t = defaults;
    if let Some(u) = o.user {
        t.user = u;
    }
    if let Some(h) = o.host {
        t.host = h;
    }
    if let Some(Port(p)) = o.port {
        t.port = p;
    }
    if let Some(k) = o.key {
        t.key = Some(convert::path(&k));
    }
    t.validate()?;
    Ok(t)
}

/// An ssh target given as a map; what it leaves out comes from the config.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetOptions {
    user: Option<String>,
    host: Option<String>,
    port: Option<Port>,
    key: Option<String>,
}

/// `ssh::run`/`ssh::output`'s options map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunMap {
    timeout: Option<Seconds>,
    #[serde(default)]
    quiet: bool,
    #[serde(default)]
    read_only: bool,
    stdin: Option<String>,
}

/// `ssh::write_file`/`ssh::upload`'s options map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteMap {
    #[serde(default)]
    sudo: bool,
    mode: Option<i64>,
}

/// `ssh::probe`'s options map.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeMap {
    banner_timeout: Option<Seconds>,
    login: Option<bool>,
    user: Option<String>,
    key: Option<String>,
}

fn target_map(t: &Target) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("user".into(), t.user.clone().into());
    m.insert("host".into(), t.host.clone().into());
    m.insert("port".into(), (t.port as i64).into());
    m.insert(
        "key".into(),
        t.key.as_ref().map(|k| Dynamic::from(k.display().to_string())).unwrap_or(Dynamic::UNIT),
    );
    m
}

fn run_options(opts: &rhai::Map, primitive: &str) -> Result<RunOptions> {
    let o: RunMap = options::decode(opts, primitive)?;
    Ok(RunOptions {
        output: if o.quiet { Output::Quiet } else { Output::Stream },
        read_only: o.read_only,
        timeout: o.timeout.map(|Seconds(d)| d),
        stdin: o.stdin.map(String::into_bytes),
        unchecked: false,
    })
}

fn write_options(opts: &rhai::Map, primitive: &str) -> Result<WriteOptions> {
    let o: WriteMap = options::decode(opts, primitive)?;
    let mode = o
        .mode
        .map(|m| {
            u32::try_from(m).ok().filter(|m| *m <= 0o7777).ok_or_else(|| {
                Error::invalid("mode", m.to_string(), "permission bits go from 0o0 to 0o7777")
            })
        })
        .transpose()?;
    Ok(WriteOptions { sudo: o.sudo, mode })
}

fn probe_map(p: &crate::ssh::Probe, host: &str, port: u16) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("state".into(), p.state().into());
    m.insert(
        "ok".into(),
        matches!(p, crate::ssh::Probe::Ready { .. } | crate::ssh::Probe::Banner { .. }).into(),
    );
    m.insert(
        "banner".into(),
        p.version().map(|v| Dynamic::from(v.to_string())).unwrap_or(Dynamic::UNIT),
    );
    m.insert("message".into(), p.message(host, port).into());
    m
}

fn probe_with(host: &str, port: i64, opts: &rhai::Map) -> Result<rhai::Map> {
    let o: ProbeMap = options::decode(opts, "ssh::probe")?;
    let port = u16::try_from(port).ok().filter(|p| *p > 0).ok_or_else(|| {
        Error::invalid("port", port.to_string(), "the port must be a number from 1 to 65535")
    })?;
    let wait = o.banner_timeout.map_or(std::time::Duration::from_secs(5), |Seconds(d)| d);
    let login = o.login.unwrap_or(true);
    let mut t = Target::from_config(&crate::run::current().config);
    t.host = host.to_string();
    t.port = port;
    if let Some(u) = o.user {
        t.user = u;
    }
    if let Some(k) = o.key {
        t.key = Some(convert::path(&k));
    }
    t.validate()?;
    let p = crate::ssh::probe(host, port, wait, login.then_some(&t))?;
    Ok(probe_map(&p, host, port))
}

fn trimmed(s: String) -> String {
    s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t).to_string()).unwrap_or(s)
}

#[export_module]
mod ssh_api {
    use crate::error::{RhaiResult, rhai as r};

    /// The VM's SSH target from the config, as a map `#{ user, host, port, key }`.
    ///
    /// ```rhai
    /// let vm = ssh::target();
    /// print(`${vm.user}@${vm.host}:${vm.port}`);
    /// ```
    #[rhai_fn(return_raw, name = "target")]
    pub fn target_default(ctx: NativeCallContext) -> RhaiResult<rhai::Map> {
        r(&ctx, super::target(&Dynamic::UNIT, "ssh::target").map(|t| super::target_map(&t)))
    }

    /// Parse `user@host:port` (or a map) into a full target map, filling in from the config.
    ///
    /// ```rhai
    /// let t = ssh::target("ubuntu@127.0.0.1:2223");
    /// ```
    #[rhai_fn(return_raw, name = "target")]
    pub fn target_of(ctx: NativeCallContext, target: Dynamic) -> RhaiResult<rhai::Map> {
        r(&ctx, super::target(&target, "ssh::target").map(|t| super::target_map(&t)))
    }

    /// Run a shell command on the target, streaming its output. A non-zero exit is an error
    /// with the tail of its stderr. Destructive commands (`rm -rf`, `mkfs`, …) need a person to
    /// confirm at the terminal; under `--dry-run` the command is only printed.
    ///
    /// ```rhai
    /// ssh::run("luke@127.0.0.1:2222", "sudo netplan apply");
    /// ```
    #[rhai_fn(return_raw, name = "run")]
    pub fn run(ctx: NativeCallContext, target: Dynamic, command: &str) -> RhaiResult<()> {
        r(&ctx, super::target(&target, "ssh::run").and_then(|t| crate::ssh::run(&t, command)))
    }

    /// `ssh::run` with options: `timeout` (seconds), `quiet` (discard output), `read_only`
    /// (runs under `--dry-run` too), `stdin` (text fed to the command).
    ///
    /// ```rhai
    /// ssh::run(ssh::target(), "cloud-init status --wait", #{ timeout: 600 });
    /// ```
    #[rhai_fn(return_raw, name = "run")]
    pub fn run_with(
        ctx: NativeCallContext,
        target: Dynamic,
        command: &str,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        r(
            &ctx,
            (|| {
                crate::ssh::exec(
                    &super::target(&target, "ssh::run")?,
                    command,
                    &super::run_options(&options, "ssh::run")?,
                )
                .map(|_| ())
            })(),
        )
    }

    /// Run a command and return `#{ status, success, stdout, stderr }`; a non-zero exit is an
    /// answer, not an error. Not run under `--dry-run` (see `ssh::query`).
    ///
    /// ```rhai
    /// let r = ssh::output(ssh::target(), "test -f /var/lib/cloud/instance/boot-finished");
    /// if r.success { print("cloud-init done"); }
    /// ```
    #[rhai_fn(return_raw, name = "output")]
    pub fn output(ctx: NativeCallContext, target: Dynamic, command: &str) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            super::target(&target, "ssh::output")
                .and_then(|t| crate::ssh::output(&t, command))
                .map(crate::api::cmd::finished_map),
        )
    }

    /// `ssh::output` with options: `timeout` (seconds), `read_only` (runs under `--dry-run`
    /// too), `stdin` (text fed to the command).
    ///
    /// ```rhai
    /// let r = ssh::output(ssh::target(), "systemctl is-active ssh", #{ read_only: true, timeout: 10 });
    /// ```
    #[rhai_fn(return_raw, name = "output")]
    pub fn output_with(
        ctx: NativeCallContext,
        target: Dynamic,
        command: &str,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            (|| {
                let mut o = super::run_options(&options, "ssh::output")?;
                o.output = Output::Capture;
                o.unchecked = true;
                crate::ssh::exec(&super::target(&target, "ssh::output")?, command, &o)
                    .map(crate::api::cmd::finished_map)
            })(),
        )
    }

    /// Poll a command on the target until it succeeds, for at most `timeout` seconds; returns
    /// the seconds waited. Uses the shared connection, so each try costs milliseconds.
    ///
    /// ```rhai
    /// ssh::wait_until(ssh::target(), "test -f /var/lib/cloud/instance/boot-finished", 600);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_until(
        ctx: NativeCallContext,
        target: Dynamic,
        command: &str,
        timeout: i64,
    ) -> RhaiResult<f64> {
        let secs = crate::api::convert::timeout(timeout);
        r(
            &ctx,
            (|| {
                crate::ssh::wait_until(&super::target(&target, "ssh::wait_until")?, command, secs?)
            })(),
        )
    }

    /// Run a command that only reads (it runs under `--dry-run` too) and return its stdout.
    /// A non-zero exit is an error; the guard still refuses destructive commands.
    ///
    /// ```rhai
    /// let kernel = ssh::query(ssh::target(), "uname -r");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn query(ctx: NativeCallContext, target: Dynamic, command: &str) -> RhaiResult<String> {
        let o = RunOptions { output: Output::Capture, read_only: true, ..Default::default() };
        r(
            &ctx,
            super::target(&target, "ssh::query")
                .and_then(|t| crate::ssh::exec(&t, command, &o))
                .map(|f| super::trimmed(f.stdout)),
        )
    }

    /// Write a text file on the target atomically (temp file beside it, then rename). The
    /// content travels on stdin, never on a command line. An existing file keeps its mode and
    /// owner; a new one gets 0644.
    ///
    /// ```rhai
    /// ssh::write_file(ssh::target(), "/tmp/hello.txt", "hi\n");
    /// ```
    #[rhai_fn(return_raw, name = "write_file")]
    pub fn write_file(
        ctx: NativeCallContext,
        target: Dynamic,
        path: &str,
        content: &str,
    ) -> RhaiResult<()> {
        r(
            &ctx,
            super::target(&target, "ssh::write_file").and_then(|t| {
                crate::ssh::write_file(&t, path, content.as_bytes(), &WriteOptions::default())
            }),
        )
    }

    /// `ssh::write_file` with options: `sudo` (write as root with `sudo -n`), `mode` (e.g. `0o600`).
    ///
    /// ```rhai
    /// ssh::write_file(ssh::target(), "/etc/netplan/99-helix-override.yaml", "network:\n  version: 2\n", #{ sudo: true, mode: 0o600 });
    /// ```
    #[rhai_fn(return_raw, name = "write_file")]
    pub fn write_file_with(
        ctx: NativeCallContext,
        target: Dynamic,
        path: &str,
        content: &str,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        r(
            &ctx,
            (|| {
                crate::ssh::write_file(
                    &super::target(&target, "ssh::write_file")?,
                    path,
                    content.as_bytes(),
                    &super::write_options(&options, "ssh::write_file")?,
                )
            })(),
        )
    }

    /// Copy a local file to the target (atomically, over the shared connection). A new remote
    /// file gets the local file's mode.
    ///
    /// ```rhai
    /// ssh::upload(ssh::target(), "/tmp/setup.sh", "/tmp/setup.sh");
    /// ```
    #[rhai_fn(return_raw, name = "upload")]
    pub fn upload(
        ctx: NativeCallContext,
        target: Dynamic,
        local: &str,
        remote: &str,
    ) -> RhaiResult<()> {
        r(
            &ctx,
            super::target(&target, "ssh::upload").and_then(|t| {
                crate::ssh::upload(&t, &convert::path(local), remote, &WriteOptions::default())
            }),
        )
    }

    /// `ssh::upload` with options `sudo` and `mode`.
    ///
    /// ```rhai
    /// ssh::upload(ssh::target(), "/tmp/helix-drm-manager", "/usr/local/bin/helix-drm-manager", #{ sudo: true, mode: 0o755 });
    /// ```
    #[rhai_fn(return_raw, name = "upload")]
    pub fn upload_with(
        ctx: NativeCallContext,
        target: Dynamic,
        local: &str,
        remote: &str,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        r(
            &ctx,
            (|| {
                crate::ssh::upload(
                    &super::target(&target, "ssh::upload")?,
                    &convert::path(local),
                    remote,
                    &super::write_options(&options, "ssh::upload")?,
                )
            })(),
        )
    }

    /// Wait up to `timeout` seconds until the target accepts a batch-mode login; returns the
    /// seconds waited. Polls fast (a listening sshd is noticed within a fraction of a second)
    /// and says on timeout what it saw: nothing listening, no SSH banner (the netplan MAC
    /// problem), or a refused key.
    ///
    /// ```rhai
    /// let waited = ssh::wait_ready(ssh::target(), 600);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn wait_ready(ctx: NativeCallContext, target: Dynamic, timeout: i64) -> RhaiResult<f64> {
        let secs = crate::api::convert::timeout(timeout);
        r(&ctx, (|| crate::ssh::wait_ready(&super::target(&target, "ssh::wait_ready")?, secs?))())
    }

    /// Look at `host:port` and tell what is there: `#{ state, ok, banner, message }` with
    /// `state` one of `closed` (nothing listening), `dropped` (accepted, closed without a
    /// banner), `no_banner` (accepted, silent: the guest has no network), `banner`,
    /// `auth_refused` (the key was refused in batch mode) or `ready`.
    ///
    /// ```rhai
    /// let p = ssh::probe("127.0.0.1", 2222);
    /// print(p.message);
    /// ```
    #[rhai_fn(return_raw, name = "probe")]
    pub fn probe(ctx: NativeCallContext, host: &str, port: i64) -> RhaiResult<rhai::Map> {
        r(&ctx, super::probe_with(host, port, &rhai::Map::new()))
    }

    /// `ssh::probe` with options: `banner_timeout` (seconds, default 5), `login` (try a
    /// batch-mode login after the banner, default true), `user`, `key`.
    ///
    /// ```rhai
    /// let p = ssh::probe("127.0.0.1", 2222, #{ banner_timeout: 10, login: false });
    /// ```
    #[rhai_fn(return_raw, name = "probe")]
    pub fn probe_opts(
        ctx: NativeCallContext,
        host: &str,
        port: i64,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        r(&ctx, super::probe_with(host, port, &options))
    }

    /// Close the shared connection to the target now (every connection is closed at the end
    /// of the run anyway).
    ///
    /// ```rhai
    /// ssh::close(ssh::target());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn close(ctx: NativeCallContext, target: Dynamic) -> RhaiResult<()> {
        r(&ctx, super::target(&target, "ssh::close").map(|t| crate::ssh::close(&t)))
    }

    /// An interactive login shell on the target for the person at the terminal; returns when
    /// they log out.
    ///
    /// ```rhai
    /// ssh::shell(ssh::target());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shell(ctx: NativeCallContext, target: Dynamic) -> RhaiResult<()> {
        r(&ctx, super::target(&target, "ssh::shell").and_then(|t| crate::ssh::shell(&t)))
    }
}
