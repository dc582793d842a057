//! `git::` — repositories through libgit2: clone, fetch, checkout, remotes, and `ensure`.

use rhai::plugin::*;

use crate::api::convert;
use crate::error::{Error, Result};
use crate::git::{Ensured, Spec};

pub fn module() -> rhai::Module {
    exported_module!(git_api)
}

/// `git::ensure`'s options map (and each entry of `git::ensure_all`, which adds `path`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecOptions {
    path: Option<String>,
    url: Option<String>,
    rev: Option<String>,
    branch: Option<String>,
    #[serde(default)]
    remotes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    update: bool,
}

fn spec(path: Option<&str>, o: SpecOptions) -> Result<Spec> {
    let path = match (path, o.path) {
        (Some(p), _) => p.to_string(),
        (None, Some(p)) => p,
        (None, None) => {
            return Err(Error::invalid("option", "path", "each repository needs a path"));
        }
    };
    let url = o.url.ok_or_else(|| {
        Error::invalid("option", "url", format!("`{path}` needs a url to clone from"))
    })?;
    Ok(Spec {
        path: convert::path(&path),
        url,
        rev: o.rev,
        branch: o.branch,
        remotes: o.remotes,
        update: o.update,
    })
}

fn ensured_map(e: Ensured) -> rhai::Map {
    rhai::serde::to_dynamic(&e).ok().and_then(|d| d.try_cast::<rhai::Map>()).unwrap_or_default()
}

fn strs(m: std::collections::BTreeMap<String, String>) -> rhai::Map {
    m.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect()
}

#[export_module]
mod git_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Put a repository at `path` in the wanted state, idempotently: clone it when missing
    /// (SSH URLs use your ssh agent or `~/.ssh/id_*` keys), add or re-point `remotes`, fetch
    /// only when the pinned `rev` (commit or tag) is not here yet (or `update: true` asks for
    /// the `branch` tip), and check it out — pins detached, branches attached. A second run
    /// does nothing. A worktree with uncommitted changes is moved only after a person
    /// confirms at the terminal (the changes are stashed first); a directory that is not a
    /// repository is never reused. Returns `#{ action, head, branch, fetched, moved, ... }`
    /// where `action` is `"cloned"`, `"updated"` or `"unchanged"`.
    ///
    /// ```rhai
    /// let r = git::ensure("~/pm/qemu-utm", #{
    ///     url: "git@github.com:helixml/qemu-utm.git",
    ///     branch: "utm-edition-venus-helix",
    ///     remotes: #{ origin: "https://github.com/utmapp/qemu", helixml: "git@github.com:helixml/qemu-utm.git" },
    /// });
    /// print(`${r.action} at ${r.head}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ensure(ctx: NativeCallContext, path: &str, options: rhai::Map) -> RhaiResult<rhai::Map> {
        r(
            &ctx,
            crate::api::options::decode(&options, "git::ensure")
                .and_then(|o| spec(Some(path), o))
                .and_then(|s| crate::git::ensure_one(&s))
                .map(ensured_map),
        )
    }

    /// `git::ensure` for several repositories at once, concurrently, with one progress display.
    /// Each entry is a map with `path` plus the options of `git::ensure`. Every repository is
    /// tried; the error lists each one that failed. Returns one result map per entry.
    ///
    /// ```rhai
    /// git::ensure_all([
    ///     #{ path: "~/pm/helix", url: "git@github.com:helixml/helix.git" },
    ///     #{ path: "~/pm/UTM", url: "https://github.com/utmapp/UTM.git", rev: "8d34e35b" },
    /// ]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ensure_all(ctx: NativeCallContext, repos: rhai::Array) -> RhaiResult<rhai::Array> {
        let specs: Result<Vec<Spec>> =
            crate::api::options::decode_value::<Vec<super::SpecOptions>>(
                &Dynamic::from_array(repos),
                "git::ensure_all",
            )
            .and_then(|all| all.into_iter().map(|o| super::spec(None, o)).collect());
        r(&ctx, specs.and_then(|s| crate::git::ensure_all(&s)))
            .map(|v| v.into_iter().map(|e| Dynamic::from(ensured_map(e))).collect())
    }

    /// Clone `url` into `path` (which must not exist or be empty).
    ///
    /// ```rhai
    /// git::clone("https://github.com/utmapp/UTM.git", "~/pm/UTM");
    /// ```
    #[rhai_fn(return_raw, name = "clone")]
    pub fn clone(ctx: NativeCallContext, url: &str, path: &str) -> RhaiResult<()> {
        let p = convert::path(path);
        let bar = crate::git::progress_bar(&p);
        let res = crate::git::clone(url, &p, None, "origin", Some(&bar));
        bar.finish_and_clear();
        r(&ctx, res)
    }

    /// Clone `url` into `path` with `branch` checked out.
    ///
    /// ```rhai
    /// git::clone("git@github.com:helixml/qemu-utm.git", "~/pm/qemu-utm", "utm-edition-venus-helix");
    /// ```
    #[rhai_fn(return_raw, name = "clone")]
    pub fn clone_branch(
        ctx: NativeCallContext,
        url: &str,
        path: &str,
        branch: &str,
    ) -> RhaiResult<()> {
        let p = convert::path(path);
        let bar = crate::git::progress_bar(&p);
        let res = crate::git::clone(url, &p, Some(branch), "origin", Some(&bar));
        bar.finish_and_clear();
        r(&ctx, res)
    }

    /// Fetch a remote (its branches and tags).
    ///
    /// ```rhai
    /// git::fetch("~/pm/UTM", "origin");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fetch(ctx: NativeCallContext, path: &str, remote: &str) -> RhaiResult<()> {
        let p = convert::path(path);
        let bar = crate::git::progress_bar(&p);
        let res = crate::git::fetch(&p, remote, Some(&bar));
        bar.finish_and_clear();
        r(&ctx, res)
    }

    /// Check out a branch (attached), or a tag or commit (detached). Uncommitted changes make
    /// it ask a person first; they are stashed before HEAD moves.
    ///
    /// ```rhai
    /// git::checkout("~/pm/UTM", "8d34e35b");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn checkout(ctx: NativeCallContext, path: &str, rev: &str) -> RhaiResult<()> {
        r(&ctx, crate::git::checkout(&convert::path(path), rev))
    }

    /// Where HEAD is: `#{ commit, branch, detached }` (`branch` is `()` when detached).
    ///
    /// ```rhai
    /// let h = git::head("~/pm/UTM");
    /// if !h.commit.starts_with("8d34e35b") { ui::warn("UTM is not at the pin"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn head(ctx: NativeCallContext, path: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, crate::git::head(&convert::path(path))).map(|h| {
            let mut m = rhai::Map::new();
            m.insert("commit".into(), h.commit.into());
            m.insert("branch".into(), h.branch.map(Dynamic::from).unwrap_or(Dynamic::UNIT));
            m.insert("detached".into(), h.detached.into());
            m
        })
    }

    /// Whether tracked files have uncommitted changes (untracked files do not count).
    ///
    /// ```rhai
    /// if git::is_dirty("~/pm/UTM") { throw "UTM has local changes; helix never patches UTM"; }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn is_dirty(ctx: NativeCallContext, path: &str) -> RhaiResult<bool> {
        r(&ctx, crate::git::is_dirty(&convert::path(path)))
    }

    /// The tracked files with uncommitted changes.
    ///
    /// ```rhai
    /// for f in git::dirty_files("~/pm/qemu-utm") { print(f); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dirty_files(ctx: NativeCallContext, path: &str) -> RhaiResult<rhai::Array> {
        r(&ctx, crate::git::dirty_files(&convert::path(path)))
            .map(|v| v.into_iter().map(Dynamic::from).collect())
    }

    /// The remotes, `#{ name: url }`.
    ///
    /// ```rhai
    /// let urls = git::remotes("~/pm/qemu-utm");
    /// print(urls.helixml);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn remotes(ctx: NativeCallContext, path: &str) -> RhaiResult<rhai::Map> {
        r(&ctx, crate::git::remotes(&convert::path(path))).map(strs)
    }

    /// Add a remote (an existing one of that name is an error; use `git::set_url`).
    ///
    /// ```rhai
    /// git::add_remote("~/pm/qemu-utm", "helixml", "git@github.com:helixml/qemu-utm.git");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_remote(ctx: NativeCallContext, path: &str, name: &str, url: &str) -> RhaiResult<()> {
        r(&ctx, crate::git::add_remote(&convert::path(path), name, url))
    }

    /// Point an existing remote at another URL.
    ///
    /// ```rhai
    /// git::set_url("~/pm/qemu-utm", "origin", "https://github.com/utmapp/qemu");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set_url(ctx: NativeCallContext, path: &str, name: &str, url: &str) -> RhaiResult<()> {
        r(&ctx, crate::git::set_url(&convert::path(path), name, url))
    }
}
