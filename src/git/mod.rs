//! Git through libgit2 (the `git2` crate, no `git` process): clone, fetch, HEAD, the dirty
//! check, remotes and their undo here; [`checkout`] (moving HEAD) and [`ensure`] (put a
//! repository at the wanted commit idempotently) in their own files. Moving a dirty worktree
//! is a guarded action (its changes are stashed first, and a person must confirm it); a
//! directory that is not a repository is never reused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::build::RepoBuilder;
use git2::{
    AutotagOption, Cred, CredentialType, FetchOptions, RemoteCallbacks, Repository, StatusOptions,
};
use indicatif::{HumanBytes, ProgressBar};
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::undo::{Domain, Outcome, Undo};

mod checkout;
mod ensure;

pub(crate) use checkout::checkout;
pub(crate) use ensure::{Ensured, ensure_all, ensure_one, progress_bar};
pub use ensure::{Spec, ensure, ensure_all_with};

/// Where HEAD is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Head {
    pub commit: String,
    pub branch: Option<String>,
    pub detached: bool,
}

fn gerr(op: &str, path: &Path, e: git2::Error) -> Error {
    Error::Git { op: op.to_string(), repo: path.to_path_buf(), message: e.message().to_string() }
}

/// Show a URL without any password or token in it.
pub(crate) fn display_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && host.contains('/')
        && !userinfo.contains('/')
    {
        return match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            // `https://TOKEN@host/...`: the user name is the secret.
            None if scheme.starts_with("http") => format!("{scheme}://***@{host}"),
            None => url.to_string(),
        };
    }
    url.to_string()
}

/// Whether two remote URLs name the same repository (`.git` suffix and trailing `/` ignored).
pub(crate) fn same_url(a: &str, b: &str) -> bool {
    fn norm(u: &str) -> &str {
        let u = u.trim().trim_end_matches('/');
        u.strip_suffix(".git").unwrap_or(u)
    }
    norm(a) == norm(b)
}

pub(crate) fn open(path: &Path) -> Result<Repository> {
    Repository::open(path).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            Error::invalid(
                "git repository",
                path.display().to_string(),
                "it is not a git repository",
            )
        } else {
            gerr("open", path, e)
        }
    })
}

/// Credentials for libgit2: for SSH the user's agent first, then `~/.ssh/id_ed25519`,
/// `id_ecdsa`, `id_rsa`; for HTTPS git's credential helpers. Each is tried once, so a refused
/// key ends in an error instead of an endless retry loop.
#[derive(Default)]
struct Auth {
    agent_tried: bool,
    keys_tried: usize,
    helper_tried: bool,
    default_tried: bool,
}

fn ssh_keys() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME") else { return vec![] };
    let dir = PathBuf::from(home).join(".ssh");
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|k| dir.join(k))
        .filter(|p| p.is_file())
        .collect()
}

impl Auth {
    fn next(
        &mut self,
        url: &str,
        user: Option<&str>,
        allowed: CredentialType,
    ) -> std::result::Result<Cred, git2::Error> {
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user.unwrap_or("git"));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            let user = user.unwrap_or("git");
            if !self.agent_tried {
                self.agent_tried = true;
                if std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty())
                    && let Ok(c) = Cred::ssh_key_from_agent(user)
                {
                    return Ok(c);
                }
            }
            let keys = ssh_keys();
            while self.keys_tried < keys.len() {
                let key = &keys[self.keys_tried];
                self.keys_tried += 1;
                let public = key.with_extension("pub");
                if let Ok(c) =
                    Cred::ssh_key(user, public.is_file().then_some(public.as_path()), key, None)
                {
                    return Ok(c);
                }
            }
            return Err(git2::Error::from_str(&format!(
                "no SSH key was accepted for {url} (tried the ssh agent{} and {} in ~/.ssh); \
                 add your key to the agent with `ssh-add` and check it is registered with the server",
                if std::env::var_os("SSH_AUTH_SOCK").is_none_or(|s| s.is_empty()) {
                    " — none is running"
                } else {
                    ""
                },
                crate::count::count(keys.len() as u64, "key file")
            )));
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !self.helper_tried {
            self.helper_tried = true;
            if let Ok(cfg) = git2::Config::open_default()
                && let Ok(c) = Cred::credential_helper(&cfg, url, user)
            {
                return Ok(c);
            }
        }
        if allowed.contains(CredentialType::DEFAULT) && !self.default_tried {
            self.default_tried = true;
            return Cred::default();
        }
        Err(git2::Error::from_str(&format!(
            "no credentials were accepted for {}; set up a git credential helper or use an SSH URL",
            display_url(url)
        )))
    }
}

fn callbacks<'a>(bar: Option<&'a ProgressBar>) -> RemoteCallbacks<'a> {
    let mut cb = RemoteCallbacks::new();
    let mut auth = Auth::default();
    cb.credentials(move |url, user, allowed| auth.next(url, user, allowed));
    cb.transfer_progress(move |p| {
        if let Some(bar) = bar {
            bar.set_length(p.total_objects().max(1) as u64);
            bar.set_position(p.received_objects() as u64);
            bar.set_message(format!("{}", HumanBytes(p.received_bytes() as u64)));
        }
        // Returning false aborts the transfer: Ctrl-C stops a clone mid-way.
        !crate::run::current().is_cancelled()
    });
    cb
}

fn fetch_options(bar: Option<&ProgressBar>) -> FetchOptions<'_> {
    let mut fo = FetchOptions::new();
    fo.remote_callbacks(callbacks(bar));
    fo.download_tags(AutotagOption::All);
    fo
}

fn is_empty_dir(path: &Path) -> bool {
    path.is_dir() && std::fs::read_dir(path).map(|mut d| d.next().is_none()).unwrap_or(false)
}

/// Clone `url` into `path` (which must not exist, or be an empty directory). `remote_name`
/// names the remote (`origin` unless the caller wants another name for this URL).
pub(crate) fn clone(
    url: &str,
    path: &Path,
    branch: Option<&str>,
    remote_name: &str,
    bar: Option<&ProgressBar>,
) -> Result<()> {
    if path.exists() && !is_empty_dir(path) {
        return Err(Error::invalid(
            "clone destination",
            path.display().to_string(),
            "it already exists and is not empty; helix does not clone over it — move it aside or pick another path",
        ));
    }
    let local = url.strip_prefix("file://").unwrap_or(url);
    if (url.starts_with("file://") || local.starts_with('/') || local.starts_with('.'))
        && !Path::new(local).exists()
    {
        return Err(Error::invalid("git url", url, "there is no repository at that path"));
    }
    let existed = path.exists();
    let shown = display_url(url);
    let detail = match branch {
        Some(b) => format!("clone `{shown}` (branch `{b}`) into `{}`", path.display()),
        None => format!("clone `{shown}` into `{}`", path.display()),
    };
    let action = Action::new("git.clone", detail)
        .args(json!({ "url": shown, "path": path, "branch": branch, "remote": remote_name }))
        .undo(Undo::remove_created(path));
    guard::act(action, || {
        let mut builder = RepoBuilder::new();
        builder.fetch_options(fetch_options(bar));
        if let Some(b) = branch {
            builder.branch(b);
        }
        if remote_name != "origin" {
            let name = remote_name.to_string();
            builder.remote_create(move |repo, _default, url| repo.remote(&name, url));
        }
        builder.clone(url, path).map_err(|e| gerr(&format!("clone `{shown}` into"), path, e))?;
        if !existed {
            crate::run::current().note_created(path);
        }
        Ok(())
    })
}

/// Fetch `remote` (its configured refspecs, plus tags) in the repository at `path`.
pub(crate) fn fetch(path: &Path, remote: &str, bar: Option<&ProgressBar>) -> Result<()> {
    fetch_refspecs(path, remote, &[], bar)
}

fn fetch_refspecs(
    path: &Path,
    remote: &str,
    refspecs: &[String],
    bar: Option<&ProgressBar>,
) -> Result<()> {
    let repo = open(path)?;
    let mut r = match repo.find_remote(remote) {
        Ok(r) => r,
        // Under --dry-run the remote may only have been planned (`would add remote`).
        Err(_) if crate::run::current().dry_run => {
            crate::ui::plan(&format!("would fetch `{remote}` in `{}`", path.display()));
            return Ok(());
        }
        Err(e) => return Err(gerr(&format!("find remote `{remote}` in"), path, e)),
    };
    let url = display_url(r.url().unwrap_or(""));
    let action =
        Action::new("git.fetch", format!("fetch `{remote}` ({url}) in `{}`", path.display()))
            .args(json!({ "path": path, "remote": remote, "refspecs": refspecs }));
    guard::act(action, || {
        let mut fo = fetch_options(bar);
        r.fetch(refspecs, Some(&mut fo), None)
            .map_err(|e| gerr(&format!("fetch `{remote}` in"), path, e))
    })
}

/// Where HEAD points.
pub(crate) fn head(path: &Path) -> Result<Head> {
    head_of(&open(path)?, path)
}

fn head_of(repo: &Repository, path: &Path) -> Result<Head> {
    let head = repo.head().map_err(|e| gerr("read HEAD of", path, e))?;
    let commit = head.peel_to_commit().map_err(|e| gerr("read HEAD of", path, e))?;
    let detached = repo.head_detached().unwrap_or(false);
    let branch = if detached { None } else { head.shorthand().ok().map(str::to_string) };
    Ok(Head { commit: commit.id().to_string(), branch, detached })
}

/// Tracked files with uncommitted changes (staged or not). Untracked files do not count:
/// a checkout leaves them alone.
pub(crate) fn dirty_files(path: &Path) -> Result<Vec<String>> {
    dirty_of(&open(path)?, path)
}

fn dirty_of(repo: &Repository, path: &Path) -> Result<Vec<String>> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(false).include_ignored(false).exclude_submodules(true);
    let st = repo.statuses(Some(&mut opts)).map_err(|e| gerr("read the status of", path, e))?;
    Ok(st
        .iter()
        .filter(|e| !e.status().is_empty() && !e.status().contains(git2::Status::IGNORED))
        .map(|e| e.path().unwrap_or("?").to_string())
        .collect())
}

pub(crate) fn is_dirty(path: &Path) -> Result<bool> {
    Ok(!dirty_files(path)?.is_empty())
}

/// The repository's remotes, `name -> url`.
pub(crate) fn remotes(path: &Path) -> Result<BTreeMap<String, String>> {
    remotes_of(&open(path)?, path)
}

fn remotes_of(repo: &Repository, path: &Path) -> Result<BTreeMap<String, String>> {
    let names = repo.remotes().map_err(|e| gerr("list the remotes of", path, e))?;
    let mut out = BTreeMap::new();
    for name in names.iter().flatten().flatten() {
        if let Ok(r) = repo.find_remote(name) {
            out.insert(name.to_string(), r.url().unwrap_or("").to_string());
        }
    }
    Ok(out)
}

/// Add a remote; an existing remote of that name is an error (use [`set_url`]).
pub(crate) fn add_remote(path: &Path, name: &str, url: &str) -> Result<()> {
    let repo = open(path)?;
    if repo.find_remote(name).is_ok() {
        return Err(Error::invalid(
            "remote",
            name,
            format!(
                "`{}` already has a remote called `{name}`; use git::set_url to change its URL",
                path.display()
            ),
        ));
    }
    let action = Action::new(
        "git.remote_add",
        format!("add remote `{name}` = `{}` to `{}`", display_url(url), path.display()),
    )
    .args(json!({ "path": path, "name": name, "url": display_url(url) }))
    .undo(Undo::Domain(Domain::GitRemoteRemove { path: path.into(), name: name.into() }));
    guard::act(action, || {
        repo.remote(name, url)
            .map(|_| ())
            .map_err(|e| gerr(&format!("add remote `{name}` to"), path, e))
    })
}

/// Undo of [`add_remote`]: remove the remote again (gone already: nothing to do).
pub(crate) fn undo_remote_add(path: &Path, name: &str) -> Result<Outcome> {
    let repo = open(path)?;
    if repo.find_remote(name).is_err() {
        return Ok(Outcome::Skipped(format!(
            "remote `{name}` of `{}` is already gone",
            path.display()
        )));
    }
    repo.remote_delete(name).map_err(|e| gerr(&format!("remove remote `{name}` from"), path, e))?;
    Ok(Outcome::Done(format!("removed remote `{name}` from `{}`", path.display())))
}

/// Undo of [`set_url`]: point the remote back at its old URL (refused when the journal only
/// has it with its password hidden).
pub(crate) fn undo_set_url(path: &Path, name: &str, url: &str) -> Result<Outcome> {
    if url.contains("***@") {
        return Err(Error::Git {
            op: format!("point remote `{name}` back at its old URL in"),
            repo: path.to_path_buf(),
            message: format!(
                "that URL held a secret, which the journal does not keep: set it back with `git -C {} remote set-url {name} …`",
                path.display()
            ),
        });
    }
    let repo = open(path)?;
    repo.remote_set_url(name, url)
        .map_err(|e| gerr(&format!("set the URL of `{name}` in"), path, e))?;
    Ok(Outcome::Done(format!("pointed remote `{name}` of `{}` back at `{url}`", path.display())))
}

/// Undo of a checkout: check out what HEAD was before (through [`checkout`], so a dirty
/// worktree is guarded as usual).
pub(crate) fn undo_checkout(path: &Path, rev: Option<&str>) -> Result<Outcome> {
    let Some(rev) = rev else {
        return Ok(Outcome::Skipped(format!("`{}` had no HEAD before", path.display())));
    };
    checkout(path, rev)?;
    Ok(Outcome::Done(format!("checked out `{rev}` in `{}` again", path.display())))
}

/// Point an existing remote at another URL (the old URL is journaled for undo).
pub(crate) fn set_url(path: &Path, name: &str, url: &str) -> Result<()> {
    let repo = open(path)?;
    let old = repo
        .find_remote(name)
        .map_err(|e| gerr(&format!("find remote `{name}` in"), path, e))?
        .url()
        .unwrap_or("")
        .to_string();
    let action = Action::new(
        "git.remote_set_url",
        format!(
            "point remote `{name}` of `{}` at `{}` (was `{}`)",
            path.display(),
            display_url(url),
            display_url(&old)
        ),
    )
    .args(json!({ "path": path, "name": name, "url": display_url(url) }))
    .undo(Undo::Domain(Domain::GitRemoteSetUrl {
        path: path.into(),
        name: name.into(),
        url: display_url(&old),
    }));
    guard::act(action, || {
        repo.remote_set_url(name, url)
            .map_err(|e| gerr(&format!("set the URL of `{name}` in"), path, e))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use git2::{Oid, Signature};

    /// A bare "remote" with history on `main` (3 commits, tag `v1` at the 2nd), and a branch
    /// `feature` one commit ahead of `v1`. Returns (bare path, commits on main oldest first).
    pub(crate) fn remote_fixture(dir: &Path) -> (PathBuf, Vec<Oid>) {
        let bare = dir.join("remote.git");
        let bare_repo = Repository::init_bare(&bare).unwrap();
        let work = dir.join("seed");
        let repo = Repository::init(&work).unwrap();
        let sig = Signature::now("t", "t@example.com").unwrap();
        let mut commits = vec![];
        let mut parent: Option<Oid> = None;
        for i in 0..3 {
            std::fs::write(work.join("file.txt"), format!("v{i}\n")).unwrap();
            let mut idx = repo.index().unwrap();
            idx.add_path(Path::new("file.txt")).unwrap();
            idx.write().unwrap();
            let tree = repo.find_tree(idx.write_tree().unwrap()).unwrap();
            let parents: Vec<git2::Commit> =
                parent.iter().map(|p| repo.find_commit(*p).unwrap()).collect();
            let refs: Vec<&git2::Commit> = parents.iter().collect();
            let oid = repo
                .commit(Some("refs/heads/main"), &sig, &sig, &format!("c{i}"), &tree, &refs)
                .unwrap();
            commits.push(oid);
            parent = Some(oid);
        }
        let v1 = repo.find_commit(commits[1]).unwrap();
        repo.tag_lightweight("v1", v1.as_object(), false).unwrap();
        let tree = v1.tree().unwrap();
        repo.commit(Some("refs/heads/feature"), &sig, &sig, "feature", &tree, &[&v1]).unwrap();
        let mut remote = repo.remote("origin", bare.to_str().unwrap()).unwrap();
        remote.push(&["refs/heads/main", "refs/heads/feature", "refs/tags/v1"], None).unwrap();
        bare_repo.set_head("refs/heads/main").unwrap();
        (bare, commits)
    }

    fn spec(path: &Path, url: &Path) -> Spec {
        Spec { path: path.to_path_buf(), url: url.display().to_string(), ..Default::default() }
    }

    #[test]
    fn dirty_files_ignores_untracked() {
        let d = tempfile::tempdir().unwrap();
        let (bare, _) = remote_fixture(d.path());
        let s = spec(&d.path().join("co"), &bare);
        ensure(&s, None).unwrap();
        std::fs::write(s.path.join("new.txt"), "x").unwrap();
        assert!(!is_dirty(&s.path).unwrap());
        std::fs::write(s.path.join("file.txt"), "changed").unwrap();
        assert_eq!(dirty_files(&s.path).unwrap(), vec!["file.txt".to_string()]);
    }

    #[test]
    fn urls() {
        assert!(same_url("https://x/a.git", "https://x/a/"));
        assert_eq!(display_url("https://me:tok@github.com/a"), "https://me:***@github.com/a");
        assert_eq!(
            display_url("git@github.com:helixml/qemu-utm.git"),
            "git@github.com:helixml/qemu-utm.git"
        );
    }
}
