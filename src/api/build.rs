//! `build::` — configure (skipped when unchanged), ninja with progress, configure-log gates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rhai::plugin::*;

use crate::api::convert;
use crate::build::{Configure, Ninja};
use crate::error::{Error, Result};

pub fn module() -> rhai::Module {
    exported_module!(build_api)
}

fn env_map(m: &rhai::Map) -> Result<BTreeMap<String, String>> {
    let Some(env) = convert::opt(m, "env") else { return Ok(BTreeMap::new()) };
    let env = env
        .clone()
        .try_cast::<rhai::Map>()
        .ok_or_else(|| Error::invalid("option", "env", "expected a map of NAME: value"))?;
    Ok(env.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

fn path_list(m: &rhai::Map) -> Result<Vec<PathBuf>> {
    let Some(p) = convert::opt(m, "path") else { return Ok(vec![]) };
    let a = p
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(|| Error::invalid("option", "path", "expected an array of directories"))?;
    Ok(convert::strings(&a, "directory")?.iter().map(|s| convert::path(s)).collect())
}

fn array(m: &rhai::Map, key: &'static str) -> Result<Vec<String>> {
    let Some(v) = convert::opt(m, key) else { return Ok(vec![]) };
    let a = v
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(|| Error::invalid("option", key, "expected an array of strings"))?;
    convert::argv(&a)
}

fn configure_step(m: &rhai::Map) -> Result<Configure> {
    convert::known_keys(
        m,
        &["argv", "cwd", "build_dir", "env", "path", "force"],
        "build::configure",
    )?;
    let argv = array(m, "argv")?;
    let build_dir = convert::opt_str(m, "build_dir")?.ok_or_else(|| {
        Error::invalid("option", "build_dir", "build::configure needs the build dir it produces")
    })?;
    Ok(Configure {
        argv,
        cwd: convert::opt_str(m, "cwd")?.map(|c| convert::path(&c)),
        build_dir: convert::path(&build_dir),
        env: env_map(m)?,
        path: path_list(m)?,
        force: convert::opt_bool(m, "force")?,
    })
}

fn ninja_opts(m: &rhai::Map) -> Result<Ninja> {
    convert::known_keys(m, &["targets", "jobs", "env", "path"], "build::ninja")?;
    let jobs = convert::opt_int(m, "jobs")?;
    if jobs.is_some_and(|j| j < 1) {
        return Err(Error::invalid("option", "jobs", "needs at least 1"));
    }
    Ok(Ninja {
        targets: array(m, "targets")?,
        jobs: jobs.map(|j| j as u32),
        env: env_map(m)?,
        path: path_list(m)?,
    })
}

fn built_map(b: crate::build::Built) -> rhai::Map {
    let mut m = rhai::Map::new();
    m.insert("edges".into(), (b.edges as i64).into());
    m.insert("log".into(), b.log.display().to_string().into());
    m.insert("seconds".into(), b.seconds.into());
    m
}

#[export_module]
mod build_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Run a configure step — `argv` in `cwd`, producing `build_dir` — with `env` (a map) and
    /// `path` (directories put in front of `PATH`). Skipped when `build_dir` was configured with
    /// the same command, env and path (a stamp in the build dir records them); `force: true`
    /// runs it anyway. Returns whether it ran.
    ///
    /// ```rhai
    /// let sysroot = sys::home() + "/pm/UTM/sysroot-macOS-arm64";
    /// build::configure(#{
    ///     cwd: "~/pm/qemu-utm", build_dir: "~/pm/qemu-utm/build",
    ///     argv: ["./configure", `--prefix=${sysroot}`, "--target-list=aarch64-softmmu", "-Dshared_lib=true"],
    ///     env: #{ PKG_CONFIG: `${sysroot}/host/bin/pkg-config`, PKG_CONFIG_PATH: `${sysroot}/lib/pkgconfig`, MACOSX_DEPLOYMENT_TARGET: "14.0" },
    ///     path: [`${sysroot}/host/bin`],
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn configure(ctx: NativeCallContext, options: rhai::Map) -> RhaiResult<bool> {
        r(&ctx, configure_step(&options).and_then(|s| crate::build::configure(&s)))
    }

    /// `meson setup BUILD SRC OPTIONS…`, skipped when already set up with the same options.
    /// Returns whether it ran.
    ///
    /// ```rhai
    /// build::meson_setup("/tmp/src", "/tmp/src/build", ["-Dbuildtype=release"]);
    /// ```
    #[rhai_fn(return_raw, name = "meson_setup")]
    pub fn meson_setup(
        ctx: NativeCallContext,
        src: &str,
        build_dir: &str,
        options: rhai::Array,
    ) -> RhaiResult<bool> {
        let step = convert::argv(&options).map(|o| {
            crate::build::meson_setup(
                &convert::path(src),
                &convert::path(build_dir),
                &o,
                BTreeMap::new(),
                vec![],
            )
        });
        r(&ctx, step.and_then(|s| crate::build::configure(&s)))
    }

    /// `meson_setup` with `env` and `path` (`#{ env: #{..}, path: [..], force: false }`).
    ///
    /// ```rhai
    /// build::meson_setup("/tmp/src", "/tmp/src/build", [], #{ env: #{ CC: "clang" } });
    /// ```
    #[rhai_fn(return_raw, name = "meson_setup")]
    pub fn meson_setup_with(
        ctx: NativeCallContext,
        src: &str,
        build_dir: &str,
        options: rhai::Array,
        more: rhai::Map,
    ) -> RhaiResult<bool> {
        let step = (|| {
            convert::known_keys(&more, &["env", "path", "force"], "build::meson_setup")?;
            let mut s = crate::build::meson_setup(
                &convert::path(src),
                &convert::path(build_dir),
                &convert::argv(&options)?,
                env_map(&more)?,
                path_list(&more)?,
            );
            s.force = convert::opt_bool(&more, "force")?;
            Ok(s)
        })();
        r(&ctx, step.and_then(|s| crate::build::configure(&s)))
    }

    /// Run `ninja -C DIR` with a progress bar from its `[n/m]` status; the full output goes to
    /// `DIR/helix-ninja.log`. A failure shows the failing step's command and compiler output.
    /// Returns `#{ edges, log, seconds }` (`edges` is 0 when everything was up to date).
    ///
    /// ```rhai
    /// build::ninja("~/pm/qemu-utm/build");
    /// ```
    #[rhai_fn(return_raw, name = "ninja")]
    pub fn ninja(ctx: NativeCallContext, dir: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, crate::build::ninja(&convert::path(dir), &Ninja::default())).map(built_map)
    }

    /// `build::ninja` with `targets` (array), `jobs`, `env` and `path`.
    ///
    /// ```rhai
    /// build::ninja("~/pm/qemu-utm/build", #{ targets: ["install"], jobs: 8 });
    /// ```
    #[rhai_fn(return_raw, name = "ninja")]
    pub fn ninja_with(
        ctx: NativeCallContext,
        dir: &str,
        options: rhai::Map,
    ) -> RhaiResult<rhai::Map> {
        r(&ctx, ninja_opts(&options).and_then(|o| crate::build::ninja(&convert::path(dir), &o)))
            .map(built_map)
    }

    /// Whether a configure log has a line matching `pattern` (`*`, `.*` or `…` match anything
    /// within the line). `path` is the log file, or a build dir (its `meson-logs/meson-log.txt`).
    ///
    /// ```rhai
    /// if !build::log_has("~/pm/qemu-utm/build", "spice protocol support*YES") { ui::warn("no SPICE"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn log_has(ctx: NativeCallContext, path: &str, pattern: &str) -> RhaiResult<bool> {
        r(&ctx, crate::build::log_has(&convert::path(path), pattern))
    }

    /// A gate: fail with `message` unless the configure log has a line matching `pattern`.
    /// The error shows the log's lines about it and the log's path.
    ///
    /// ```rhai
    /// build::require_log("~/pm/qemu-utm/build", "spice protocol support*YES",
    ///     "QEMU was configured without SPICE, and UTM always starts QEMU with -spice; check that spice-protocol and spice-server are in the sysroot's lib/pkgconfig");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn require_log(
        ctx: NativeCallContext,
        path: &str,
        pattern: &str,
        message: &str,
    ) -> RhaiResult<()> {
        r(&ctx, crate::build::require_log(&convert::path(path), pattern, message))
    }

    /// A clean rebuild: move the build dir aside (a person confirms at the terminal; nothing
    /// is deleted). Returns where it went, or `()` when there was no build dir.
    ///
    /// ```rhai
    /// build::clean("~/pm/qemu-utm/build");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clean(ctx: NativeCallContext, dir: &str) -> RhaiResult<Dynamic> {
        r(&ctx, crate::build::clean(&convert::path(dir)))
            .map(|p| p.map(|p| Dynamic::from(p.display().to_string())).unwrap_or(Dynamic::UNIT))
    }
}
