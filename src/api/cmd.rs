//! `cmd::` — run programs from an argv array. Non-zero exit is an error unless `unchecked`.

use rhai::plugin::*;

use crate::api::convert;
use crate::error::Result;
use crate::process::{Cmd, Finished, Output};

pub fn module() -> rhai::Module {
    exported_module!(cmd_api)
}

/// The options of every `cmd::` function that takes a map.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    cwd: Option<String>,
    /// Values are written as Rhai shows them (`#{ JOBS: 4 }` is `JOBS=4`).
    env: Option<std::collections::BTreeMap<String, Dynamic>>,
    timeout: Option<crate::duration::Seconds>,
    #[serde(default)]
    sudo: bool,
    secrets: Option<Vec<String>>,
    stdin: Option<String>,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    quiet: bool,
}

fn build(argv: &rhai::Array, opts: &rhai::Map, primitive: &str) -> Result<Cmd> {
    let o: Options = crate::api::options::decode(opts, primitive)?;
    let mut c = Cmd::new(&convert::argv(argv)?);
    c.cwd = o.cwd.map(|d| convert::path(&d));
    for (k, v) in o.env.unwrap_or_default() {
        c.env.insert(k, v.to_string());
    }
    c.timeout = o.timeout.map(|t| t.0);
    c.sudo = o.sudo;
    c.read_only = o.read_only;
    if o.quiet {
        c.output = Output::Quiet;
    }
    c.secrets = o.secrets.unwrap_or_default();
    c.stdin = o.stdin.map(String::into_bytes);
    Ok(c)
}

/// A finished command as the map `cmd::` and `ssh::` return: `status`, `success`, `stdout`,
/// `stderr`.
pub(crate) fn finished_map(f: Finished) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("status".into(), f.code.map(|c| Dynamic::from(c as i64)).unwrap_or(Dynamic::UNIT));
    m.insert("success".into(), f.success.into());
    m.insert("stdout".into(), f.stdout.into());
    m.insert("stderr".into(), f.stderr.into());
    m
}

fn trimmed(s: String) -> String {
    s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t).to_string()).unwrap_or(s)
}

#[export_module]
mod cmd_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Run a command, streaming its output live. A non-zero exit is an error that shows the
    /// command and the tail of its stderr; destructive commands (`rm -rf`, `dd of=`, …) are
    /// refused unless a person confirms at the terminal. Under `--dry-run` it is only printed.
    ///
    /// ```rhai
    /// cmd::run(["git", "-C", "/tmp/repo", "status"]);
    /// ```
    #[rhai_fn(return_raw, name = "run")]
    pub fn run(ctx: NativeCallContext, argv: rhai::Array) -> RhaiResult<()> {
        r(&ctx, build(&argv, &rhai::Map::new(), "cmd::run").and_then(|c| c.run()).map(|_| ()))
    }

    /// Run a command with options: `cwd`, `env` (map), `timeout` (seconds), `sudo`,
    /// `secrets` (values redacted in output and the journal), `stdin` (text fed to it),
    /// `read_only` (runs under `--dry-run` too), `quiet` (discard output).
    ///
    /// ```rhai
    /// cmd::run(["make", "-j4"], #{ cwd: "/tmp/build", env: #{ CC: "clang" }, timeout: 600 });
    /// ```
    #[rhai_fn(return_raw, name = "run")]
    pub fn run_with(
        ctx: NativeCallContext,
        argv: rhai::Array,
        options: rhai::Map,
    ) -> RhaiResult<()> {
        r(&ctx, build(&argv, &options, "cmd::run").and_then(|c| c.run()).map(|_| ()))
    }

    /// Run a long command with its output appended to `log` (kept), a spinner showing the
    /// newest line, and `cmd::run`'s options (`timeout` stops it with a clear error). A
    /// non-zero exit is an error with the log's last lines. Returns the seconds it took.
    ///
    /// ```rhai
    /// let secs = cmd::run_logged(["./stack", "build-ubuntu"], "/tmp/build-ubuntu.log", #{ cwd: "/tmp/helix", timeout: 7200 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn run_logged(
        ctx: NativeCallContext,
        argv: rhai::Array,
        log: &str,
        options: rhai::Map,
    ) -> RhaiResult<f64> {
        r(
            &ctx,
            build(&argv, &options, "cmd::run_logged")
                .and_then(|c| c.run_logged(&convert::path(log))),
        )
    }

    /// Run a command and return its stdout (one trailing newline removed). A non-zero exit is
    /// an error. Under `--dry-run` it is not run and returns `""`; use `cmd::query` for
    /// commands that only read.
    ///
    /// ```rhai
    /// let rev = cmd::output(["git", "rev-parse", "HEAD"]);
    /// ```
    #[rhai_fn(return_raw, name = "output")]
    pub fn output(ctx: NativeCallContext, argv: rhai::Array) -> RhaiResult<String> {
        r(
            &ctx,
            build(&argv, &rhai::Map::new(), "cmd::output")
                .and_then(|c| c.capture().run())
                .map(|f| trimmed(f.stdout)),
        )
    }

    /// `cmd::output` with options (see `cmd::run`).
    ///
    /// ```rhai
    /// let files = cmd::output(["ls"], #{ cwd: "/tmp" });
    /// ```
    #[rhai_fn(return_raw, name = "output")]
    pub fn output_with(
        ctx: NativeCallContext,
        argv: rhai::Array,
        options: rhai::Map,
    ) -> RhaiResult<String> {
        r(
            &ctx,
            build(&argv, &options, "cmd::output")
                .and_then(|c| c.capture().run())
                .map(|f| trimmed(f.stdout)),
        )
    }

    /// Run a command that only reads (it runs under `--dry-run` too) and return its stdout.
    /// The guard still refuses it if it is destructive.
    ///
    /// ```rhai
    /// let version = cmd::query(["uname", "-r"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn query(ctx: NativeCallContext, argv: rhai::Array) -> RhaiResult<String> {
        r(
            &ctx,
            build(&argv, &rhai::Map::new(), "cmd::query")
                .and_then(|c| c.capture().read_only().run())
                .map(|f| trimmed(f.stdout)),
        )
    }

    /// Run a command whose failure is an answer, not an error: returns
    /// `#{ status, success, stdout, stderr }`. Runs under `--dry-run` only if `read_only`.
    ///
    /// ```rhai
    /// let r = cmd::unchecked(["grep", "-q", "spice", "/tmp/config.log"]);
    /// if r.success { print("found"); }
    /// ```
    #[rhai_fn(return_raw, name = "unchecked")]
    pub fn unchecked(ctx: NativeCallContext, argv: rhai::Array) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            build(&argv, &rhai::Map::new(), "cmd::unchecked")
                .and_then(|c| c.capture().unchecked().run())
                .map(finished_map),
        )
    }

    /// `cmd::unchecked` with options (see `cmd::run`).
    ///
    /// ```rhai
    /// let r = cmd::unchecked(["test", "-d", "build"], #{ cwd: "/tmp", read_only: true });
    /// ```
    #[rhai_fn(return_raw, name = "unchecked")]
    pub fn unchecked_with(
        ctx: NativeCallContext,
        argv: rhai::Array,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            build(&argv, &options, "cmd::unchecked")
                .and_then(|c| c.capture().unchecked().run())
                .map(finished_map),
        )
    }

    /// Run a command as root through `sudo` (non-interactive when there is no terminal).
    ///
    /// ```rhai
    /// cmd::sudo(["cp", "/tmp/a", "/tmp/b"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sudo(ctx: NativeCallContext, argv: rhai::Array) -> RhaiResult<()> {
        r(
            &ctx,
            build(&argv, &rhai::Map::new(), "cmd::sudo").and_then(|c| c.sudo().run()).map(|_| ()),
        )
    }

    /// The one shell escape hatch: run `script` with `sh -c`. The guard parses the script with
    /// a real shell parser and classifies every command in it; a script it cannot parse counts
    /// as destructive. Prefer `cmd::run` with an argv.
    ///
    /// ```rhai
    /// cmd::shell("echo building && true");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn shell(ctx: NativeCallContext, script: &str) -> RhaiResult<()> {
        r(&ctx, Cmd::new(&["sh", "-c", script]).run().map(|_| ()))
    }

    /// The full path of a program on `PATH`, or `()` when it is not there.
    ///
    /// ```rhai
    /// if cmd::which("ninja") == () { print("install ninja"); }
    /// ```
    pub fn which(program: &str) -> Dynamic {
        crate::process::which(program)
            .map(|p| Dynamic::from(p.display().to_string()))
            .unwrap_or(Dynamic::UNIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(script: &str) -> rhai::Map {
        rhai::Engine::new().eval::<rhai::Map>(script).unwrap()
    }

    #[test]
    fn options_are_declared_named_by_function_and_env_values_kept_as_written() {
        let argv: rhai::Array = vec!["true".into()];
        let c =
            build(&argv, &map(r#"#{ env: #{ JOBS: 4, CC: "clang" }, timeout: 1.5 }"#), "cmd::run")
                .unwrap();
        assert_eq!(c.env.get("JOBS").map(String::as_str), Some("4"));
        assert_eq!(c.timeout, Some(std::time::Duration::from_millis(1500)));
        let e = build(&argv, &map("#{ timout: 5 }"), "cmd::run_logged").unwrap_err().to_string();
        assert!(
            e.contains("cmd::run_logged") && e.contains("timout") && e.contains("timeout"),
            "{e}"
        );
        let e = build(&argv, &map(r#"#{ secrets: "x" }"#), "cmd::run").unwrap_err().to_string();
        assert!(e.contains("secrets"), "{e}");
    }
}
