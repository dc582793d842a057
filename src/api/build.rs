//! `build::` — configure (skipped when unchanged), ninja with progress, configure-log gates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rhai::plugin::*;

use crate::api::convert;
use crate::api::options::{Word, decode, words};
use crate::build::{Configure, Ninja};
use crate::error::{Error, Result};

pub fn module() -> rhai::Module {
    exported_module!(build_api)
}

/// `build::configure`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigureOptions {
    #[serde(default)]
    argv: Vec<Word>,
    cwd: Option<String>,
    build_dir: Option<String>,
    #[serde(default)]
    env: BTreeMap<String, Word>,
    #[serde(default)]
    path: Vec<String>,
    #[serde(default)]
    force: bool,
}

/// `build::ninja`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NinjaOptions {
    #[serde(default)]
    targets: Vec<Word>,
    jobs: Option<u32>,
    #[serde(default)]
    env: BTreeMap<String, Word>,
    #[serde(default)]
    path: Vec<String>,
}

/// `build::meson_setup`'s options map.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MesonOptions {
    #[serde(default)]
    env: BTreeMap<String, Word>,
    #[serde(default)]
    path: Vec<String>,
    #[serde(default)]
    force: bool,
}

fn env_map(env: BTreeMap<String, Word>) -> BTreeMap<String, String> {
    env.into_iter().map(|(k, v)| (k, v.0)).collect()
}

fn path_list(p: &[String]) -> Vec<PathBuf> {
    p.iter().map(|s| convert::path(s)).collect()
}

fn configure_step(m: &rhai::Map) -> Result<Configure> {
    let o: ConfigureOptions = decode(m, "build::configure")?;
    let build_dir = o.build_dir.ok_or_else(|| {
        Error::invalid("option", "build_dir", "build::configure needs the build dir it produces")
    })?;
    Ok(Configure {
        argv: words(o.argv),
        cwd: o.cwd.map(|c| convert::path(&c)),
        build_dir: convert::path(&build_dir),
        env: env_map(o.env),
        path: path_list(&o.path),
        force: o.force,
    })
}

fn ninja_opts(m: &rhai::Map) -> Result<Ninja> {
    let o: NinjaOptions = decode(m, "build::ninja")?;
    if o.jobs == Some(0) {
        return Err(Error::invalid("option", "jobs", "needs at least 1"));
    }
    Ok(Ninja {
        targets: words(o.targets),
        jobs: o.jobs,
        env: env_map(o.env),
        path: path_list(&o.path),
    })
}

fn meson_step(
    src: &str,
    build_dir: &str,
    options: &rhai::Array,
    more: &rhai::Map,
) -> Result<Configure> {
    let o: MesonOptions = decode(more, "build::meson_setup")?;
    let mut s = crate::build::meson_setup(
        &convert::path(src),
        &convert::path(build_dir),
        &convert::argv(options)?,
        env_map(o.env),
        path_list(&o.path),
    );
    s.force = o.force;
    Ok(s)
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
        let step = super::meson_step(src, build_dir, &options, &more);
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
