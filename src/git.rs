//! Git through libgit2 (the `git2` crate, no `git` process): clone, fetch, checkout, HEAD,
//! the dirty check, remotes, and [`ensure`] — put a repository at the wanted commit
//! idempotently. Moving a dirty worktree is a guarded action (its changes are stashed first,
//! and a person must confirm it); a directory that is not a repository is never reused.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::build::{CheckoutBuilder, RepoBuilder};
use git2::{
    AutotagOption, BranchType, Cred, CredentialType, FetchOptions, Oid, RemoteCallbacks,
    Repository, StatusOptions,
};
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};

/// What a repository should look like: where, from which URL, at which commit or branch, with
/// which remotes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spec {
    pub path: PathBuf,
    /// Where the wanted commit lives; the remote with this URL is the one fetched.
    pub url: String,
    /// A pin: a commit SHA (full or abbreviated) or a tag. Checked out detached.
    pub rev: Option<String>,
    /// A branch to be on (when there is no pin) or to fetch the pin from.
    pub branch: Option<String>,
    /// Remotes that must exist, `name -> url` (added when missing, re-pointed when different).
    pub remotes: BTreeMap<String, String>,
    /// With a branch and no pin: fetch and fast-forward to the remote's tip.
    pub update: bool,
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ensured {
    pub path: PathBuf,
    /// `cloned`, `updated` (fetched and/or moved, or remotes changed) or `unchanged`.
    pub action: String,
    /// The commit HEAD is at afterwards (empty under `--dry-run` before a clone).
    pub head: String,
    /// The branch HEAD is on, if it is not detached.
    pub branch: Option<String>,
    pub fetched: bool,
    /// HEAD was moved to another commit or branch.
    pub moved: bool,
    /// The stash that holds uncommitted changes moved out of the way (after confirmation).
    pub stashed: Option<String>,
    pub remotes_added: Vec<String>,
    pub remotes_changed: Vec<String>,
}

/// Where HEAD is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Head {
    pub commit: String,
    pub branch: Option<String>,
    pub detached: bool,
}

fn gerr(op: &str, path: &Path, e: git2::Error) -> Error {
    Error::other(format!("git: could not {op} `{}`: {}", path.display(), e.message()))
}

/// Show a URL without any password or token in it.
pub fn display_url(url: &str) -> String {
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
pub fn same_url(a: &str, b: &str) -> bool {
    fn norm(u: &str) -> &str {
        let u = u.trim().trim_end_matches('/');
        u.strip_suffix(".git").unwrap_or(u)
    }
    norm(a) == norm(b)
}

pub fn open(path: &Path) -> Result<Repository> {
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
                "no SSH key was accepted for {url} (tried the ssh agent{} and {} key file(s) in ~/.ssh); \
                 add your key to the agent with `ssh-add` and check it is registered with the server",
                if std::env::var_os("SSH_AUTH_SOCK").is_none_or(|s| s.is_empty()) {
                    " — none is running"
                } else {
                    ""
                },
                keys.len()
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
        !crate::ctx::get().is_cancelled()
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
pub fn clone(
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
        .undo(json!({ "remove_created": path }));
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
            crate::ctx::get().note_created(path);
        }
        Ok(())
    })
}

/// Fetch `remote` (its configured refspecs, plus tags) in the repository at `path`.
pub fn fetch(path: &Path, remote: &str, bar: Option<&ProgressBar>) -> Result<()> {
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
        Err(_) if crate::ctx::get().dry_run => {
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
pub fn head(path: &Path) -> Result<Head> {
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
pub fn dirty_files(path: &Path) -> Result<Vec<String>> {
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

pub fn is_dirty(path: &Path) -> Result<bool> {
    Ok(!dirty_files(path)?.is_empty())
}

/// The repository's remotes, `name -> url`.
pub fn remotes(path: &Path) -> Result<BTreeMap<String, String>> {
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
pub fn add_remote(path: &Path, name: &str, url: &str) -> Result<()> {
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
    .undo(json!({ "kind": "git.remote_remove", "name": name, "path": path }));
    guard::act(action, || {
        repo.remote(name, url)
            .map(|_| ())
            .map_err(|e| gerr(&format!("add remote `{name}` to"), path, e))
    })
}

fn undo_field<'a>(v: &'a serde_json::Value, key: &str) -> Result<&'a str> {
    v.get(key)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| Error::other(format!("a git undo record needs `{key}`: `{v}`")))
}

/// Undo of [`add_remote`]: remove the remote again (gone already: nothing to do).
pub fn undo_remote_add(v: &serde_json::Value) -> Result<crate::undo::Outcome> {
    use crate::undo::Outcome;
    let (path, name) = (Path::new(undo_field(v, "path")?), undo_field(v, "name")?);
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
pub fn undo_set_url(v: &serde_json::Value) -> Result<crate::undo::Outcome> {
    use crate::undo::Outcome;
    let (path, name, url) =
        (Path::new(undo_field(v, "path")?), undo_field(v, "name")?, undo_field(v, "url")?);
    if url.contains("***@") {
        return Err(Error::other(format!(
            "the old URL of remote `{name}` held a secret, which the journal does not keep: set it back with `git -C {} remote set-url {name} …`",
            path.display()
        )));
    }
    let repo = open(path)?;
    repo.remote_set_url(name, url)
        .map_err(|e| gerr(&format!("set the URL of `{name}` in"), path, e))?;
    Ok(Outcome::Done(format!("pointed remote `{name}` of `{}` back at `{url}`", path.display())))
}

/// Undo of a checkout: check out what HEAD was before (through [`checkout`], so a dirty
/// worktree is guarded as usual).
pub fn undo_checkout(v: &serde_json::Value) -> Result<crate::undo::Outcome> {
    use crate::undo::Outcome;
    let path = Path::new(undo_field(v, "path")?);
    let Ok(rev) = undo_field(v, "rev") else {
        return Ok(Outcome::Skipped(format!("`{}` had no HEAD before", path.display())));
    };
    checkout(path, rev)?;
    Ok(Outcome::Done(format!("checked out `{rev}` in `{}` again", path.display())))
}

/// Point an existing remote at another URL (the old URL is journaled for undo).
pub fn set_url(path: &Path, name: &str, url: &str) -> Result<()> {
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
    .undo(json!({ "kind": "git.remote_set_url", "name": name, "path": path, "url": display_url(&old) }));
    guard::act(action, || {
        repo.remote_set_url(name, url)
            .map_err(|e| gerr(&format!("set the URL of `{name}` in"), path, e))
    })
}

/// What HEAD should become.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// Leave HEAD where it is (no pin, no branch).
    Anything,
    /// A pinned commit, checked out detached.
    Commit(Oid),
    /// Be on local branch `name` at `oid`; `upstream` is the remote-tracking branch to create it from.
    Branch { name: String, oid: Oid, upstream: Option<String> },
}

fn resolve_commit(repo: &Repository, spec: &str) -> Option<Oid> {
    repo.revparse_single(spec).ok().and_then(|o| o.peel_to_commit().ok()).map(|c| c.id())
}

/// Resolve the wanted state from what is local; `None` when it cannot be resolved without a fetch.
fn resolve(repo: &Repository, spec: &Spec, remote: &str, prefer_remote_tip: bool) -> Option<Want> {
    if let Some(rev) = &spec.rev {
        let candidates =
            [format!("refs/tags/{rev}"), format!("refs/remotes/{remote}/{rev}"), rev.clone()];
        return candidates.iter().find_map(|c| resolve_commit(repo, c)).map(Want::Commit);
    }
    let Some(branch) = &spec.branch else { return Some(Want::Anything) };
    let remote_tip = repo
        .find_branch(&format!("{remote}/{branch}"), BranchType::Remote)
        .ok()
        .and_then(|b| b.get().target());
    let local = repo.find_branch(branch, BranchType::Local).ok().and_then(|b| b.get().target());
    let upstream = Some(format!("{remote}/{branch}"));
    match (local, remote_tip) {
        (Some(l), Some(r)) if prefer_remote_tip => {
            // Fast-forward only: a local branch that is ahead or has diverged is left as it is.
            let ff = l != r && repo.graph_descendant_of(r, l).unwrap_or(false);
            Some(Want::Branch { name: branch.clone(), oid: if ff { r } else { l }, upstream })
        }
        (Some(l), _) => Some(Want::Branch { name: branch.clone(), oid: l, upstream: None }),
        (None, Some(r)) => Some(Want::Branch { name: branch.clone(), oid: r, upstream }),
        (None, None) => None,
    }
}

fn is_right(repo: &Repository, want: &Want) -> bool {
    let Ok(head) = repo.head() else { return false };
    let at = head.peel_to_commit().ok().map(|c| c.id());
    match want {
        Want::Anything => true,
        // A pin is satisfied by HEAD at that commit, on a branch or not: nothing to change on disk.
        Want::Commit(oid) => at == Some(*oid),
        Want::Branch { name, oid, .. } => {
            !repo.head_detached().unwrap_or(true)
                && head.shorthand().ok() == Some(name.as_str())
                && at == Some(*oid)
        }
    }
}

fn describe_want(want: &Want) -> String {
    match want {
        Want::Anything => "HEAD".into(),
        Want::Commit(oid) => format!("commit {} (detached)", &oid.to_string()[..12]),
        Want::Branch { name, oid, .. } => format!("branch `{name}` at {}", &oid.to_string()[..12]),
    }
}

fn signature(repo: &Repository) -> git2::Signature<'static> {
    repo.signature()
        .map(|s| s.to_owned())
        .or_else(|_| git2::Signature::now("helix", "helix@localhost"))
        .expect("a signature from constant strings")
}

/// Move HEAD (and the worktree) to `want`. Uncommitted changes make this a guarded action
/// (Target::Worktree): a person must confirm, and the changes are stashed before the move.
/// Returns the stash id when changes were stashed.
fn move_head(path: &Path, want: &Want) -> Result<Option<String>> {
    let repo = open(path)?;
    let before = head_of(&repo, path).ok();
    let dirty = dirty_of(&repo, path)?;
    let what = describe_want(want);
    let mut action = Action::new("git.checkout", format!("check out {what} in `{}`", path.display()))
        .args(json!({ "path": path, "to": what }))
        .undo(json!({ "kind": "git.checkout", "path": path, "rev": before.as_ref().map(|h| h.branch.clone().unwrap_or_else(|| h.commit.clone())) }));
    if !dirty.is_empty() {
        let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
        let more =
            if dirty.len() > 5 { format!(" and {} more", dirty.len() - 5) } else { String::new() };
        action = action.destroys(Target::Worktree {
            path: path.to_path_buf(),
            why: format!(
                "{} uncommitted change(s) in {}{more}; they are stashed (`git stash list`) before HEAD moves",
                dirty.len(),
                shown.join(", ")
            ),
        });
    }
    drop(repo);
    guard::act(action, || {
        let mut repo = open(path)?;
        let stash = if dirty.is_empty() {
            None
        } else {
            let sig = signature(&repo);
            let id = repo
                .stash_save(&sig, &format!("helix: before checking out {what}"), None)
                .map_err(|e| gerr("stash the changes in", path, e))?;
            Some(id.to_string())
        };
        let oid = match want {
            Want::Anything => return Ok(stash),
            Want::Commit(oid) | Want::Branch { oid, .. } => *oid,
        };
        let commit = repo.find_commit(oid).map_err(|e| gerr("find the commit in", path, e))?;
        let mut co = CheckoutBuilder::new();
        co.safe();
        repo.checkout_tree(commit.as_object(), Some(&mut co))
            .map_err(|e| gerr(&format!("check out {what} in"), path, e))?;
        match want {
            Want::Commit(oid) => {
                repo.set_head_detached(*oid).map_err(|e| gerr("detach HEAD in", path, e))?
            }
            Want::Branch { name, upstream, .. } => {
                let mut b = match repo.find_branch(name, BranchType::Local) {
                    // The current branch cannot be force-created over: move its ref instead.
                    Ok(b) => {
                        let moved = b
                            .into_reference()
                            .set_target(oid, &format!("helix: fast-forward to {oid}"))
                            .map_err(|e| gerr(&format!("move branch `{name}` in"), path, e))?;
                        git2::Branch::wrap(moved)
                    }
                    Err(_) => repo
                        .branch(name, &commit, false)
                        .map_err(|e| gerr(&format!("create branch `{name}` in"), path, e))?,
                };
                if let Some(u) = upstream {
                    let _ = b.set_upstream(Some(u));
                }
                repo.set_head(&format!("refs/heads/{name}"))
                    .map_err(|e| gerr(&format!("switch to `{name}` in"), path, e))?;
            }
            Want::Anything => {}
        }
        Ok(stash)
    })
}

/// Check out a branch (attached; created from the remote-tracking branch if needed), a tag or
/// a commit (detached). A dirty worktree needs a person's confirmation (see [`ensure`]).
pub fn checkout(path: &Path, rev: &str) -> Result<()> {
    let repo = open(path)?;
    let want = if let Ok(b) = repo.find_branch(rev, BranchType::Local) {
        Want::Branch {
            name: rev.to_string(),
            oid: b.get().target().ok_or_else(|| Error::other("branch without a target"))?,
            upstream: None,
        }
    } else if let Some((name, oid, upstream)) = remote_branch(&repo, rev) {
        Want::Branch { name, oid, upstream: Some(upstream) }
    } else {
        let oid = resolve_commit(&repo, rev).ok_or_else(|| {
            Error::invalid(
                "revision",
                rev,
                format!(
                    "`{}` has no branch, tag or commit by that name; fetch first?",
                    path.display()
                ),
            )
        })?;
        Want::Commit(oid)
    };
    if is_right(&repo, &want) {
        return Ok(());
    }
    drop(repo);
    move_head(path, &want).map(|_| ())
}

/// `rev` as a remote-tracking branch of some remote (origin first): `(name, oid, "remote/name")`.
fn remote_branch(repo: &Repository, rev: &str) -> Option<(String, Oid, String)> {
    let mut names: Vec<String> =
        repo.remotes().ok()?.iter().flatten().flatten().map(str::to_string).collect();
    names.sort_by_key(|n| n != "origin");
    names.into_iter().find_map(|r| {
        let full = format!("{r}/{rev}");
        let oid = repo.find_branch(&full, BranchType::Remote).ok()?.get().target()?;
        Some((rev.to_string(), oid, full))
    })
}

/// Which remote name `spec.url` gets: the name it has in `spec.remotes`, else `origin`.
fn main_remote(spec: &Spec) -> Result<String> {
    if let Some((name, _)) = spec.remotes.iter().find(|(_, u)| same_url(u, &spec.url)) {
        return Ok(name.clone());
    }
    if let Some(other) = spec.remotes.get("origin") {
        return Err(Error::invalid(
            "git remotes",
            format!("origin = {}", display_url(other)),
            format!(
                "`origin` would not point at the url `{}`; name that url in remotes too (e.g. helixml: \"{}\")",
                display_url(&spec.url),
                display_url(&spec.url)
            ),
        ));
    }
    Ok("origin".into())
}

/// Make the repository at `spec.path` look like `spec`: clone when missing, add or re-point
/// remotes, fetch only when the wanted commit is not here (or `update` asks for the branch tip),
/// and move HEAD only when it is elsewhere. A second run with the same spec does nothing.
pub fn ensure(spec: &Spec, bar: Option<&ProgressBar>) -> Result<Ensured> {
    if spec.url.trim().is_empty() {
        return Err(Error::invalid("git url", "", "a repository needs a url to clone from"));
    }
    let path = spec.path.as_path();
    let remote = main_remote(spec)?;
    let dry = crate::ctx::get().dry_run;
    let mut out =
        Ensured { path: path.to_path_buf(), action: "unchanged".into(), ..Default::default() };
    let mut cloned = false;
    if !path.exists() || is_empty_dir(path) {
        clone(&spec.url, path, spec.branch.as_deref(), &remote, bar)?;
        cloned = true;
        out.fetched = true;
        if dry {
            out.action = "cloned".into();
            if let Some(rev) = &spec.rev {
                crate::ui::plan(&format!(
                    "would check out `{rev}` (detached) in `{}`",
                    path.display()
                ));
            }
            for (name, url) in spec.remotes.iter().filter(|(n, _)| **n != remote) {
                crate::ui::plan(&format!(
                    "would add remote `{name}` = `{}` to `{}`",
                    display_url(url),
                    path.display()
                ));
            }
            return Ok(out);
        }
    } else if !path.join(".git").exists() && Repository::open(path).is_err() {
        return Err(Error::invalid(
            "git checkout",
            path.display().to_string(),
            "it exists and is not a git repository; helix does not reuse or replace it — move it aside or pick another path",
        ));
    }
    let repo = open(path)?;
    // Remotes: the URL's own remote first, then the rest.
    let have = remotes_of(&repo, path)?;
    let mut wanted = spec.remotes.clone();
    wanted.entry(remote.clone()).or_insert_with(|| spec.url.clone());
    if remote == "origin"
        && !spec.remotes.contains_key("origin")
        && let Some(url) = have.get("origin")
        && !same_url(url, &spec.url)
    {
        return Err(Error::invalid(
            "git checkout",
            path.display().to_string(),
            format!(
                "its `origin` points at `{}`, not `{}`; check the path, or list both in remotes to say which is which",
                display_url(url),
                display_url(&spec.url)
            ),
        ));
    }
    drop(repo);
    for (name, url) in &wanted {
        match have.get(name) {
            None => {
                add_remote(path, name, url)?;
                out.remotes_added.push(name.clone());
            }
            Some(cur) if !same_url(cur, url) => {
                set_url(path, name, url)?;
                out.remotes_changed.push(name.clone());
            }
            Some(_) => {}
        }
    }
    let repo = open(path)?;
    let mut want = if spec.update && !cloned { None } else { resolve(&repo, spec, &remote, false) };
    if want.is_none() {
        drop(repo);
        if !cloned {
            fetch(path, &remote, bar)?;
            out.fetched = true;
        }
        let repo = open(path)?;
        want = resolve(&repo, spec, &remote, true);
        if want.is_none() && !dry {
            // A pin that no branch or tag reaches: ask for the commit itself.
            if let Some(rev) = spec
                .rev
                .as_ref()
                .filter(|r| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()))
            {
                drop(repo);
                let _ = fetch_refspecs(path, &remote, std::slice::from_ref(rev), bar);
                let repo = open(path)?;
                want = resolve(&repo, spec, &remote, true);
            }
        }
    } else {
        drop(repo);
    }
    let Some(want) = want else {
        if dry {
            let what = spec.rev.clone().or(spec.branch.clone()).unwrap_or_default();
            crate::ui::plan(&format!(
                "would check out `{what}` in `{}` after the fetch",
                path.display()
            ));
            out.action = "updated".into();
            return Ok(out);
        }
        let what = match (&spec.rev, &spec.branch) {
            (Some(r), _) => format!("the revision `{r}`"),
            (None, Some(b)) => format!("the branch `{b}`"),
            _ => "it".into(),
        };
        return Err(Error::other(format!(
            "git: `{}` has no {what} even after fetching `{remote}` ({}); check the pin and that it was pushed",
            path.display(),
            display_url(&spec.url)
        )));
    };
    let repo = open(path)?;
    if !is_right(&repo, &want) {
        drop(repo);
        out.stashed = move_head(path, &want)?;
        out.moved = true;
    } else {
        drop(repo);
    }
    if let Ok(h) = head(path) {
        out.head = h.commit;
        out.branch = h.branch;
    }
    out.action = if cloned {
        "cloned"
    } else if out.moved
        || out.fetched
        || !out.remotes_added.is_empty()
        || !out.remotes_changed.is_empty()
    {
        "updated"
    } else {
        "unchanged"
    }
    .into();
    Ok(out)
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

fn repo_bar(name: &str) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>14.cyan} [{bar:25.cyan/blue}] {pos}/{len} objects {msg}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_string());
    bar
}

/// A transfer bar for one repository on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(path: &Path) -> ProgressBar {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bar = repo_bar(&name);
    bar.set_draw_target(draw_target());
    bar
}

/// [`ensure`] with its own progress bar.
pub fn ensure_one(spec: &Spec) -> Result<Ensured> {
    let bar = progress_bar(&spec.path);
    let r = ensure(spec, Some(&bar));
    bar.finish_and_clear();
    r
}

/// [`ensure`] several repositories at once, one thread each (at most 8 at a time), under one
/// progress display. Every repository is tried; the error lists each one that failed.
pub fn ensure_all(specs: &[Spec]) -> Result<Vec<Ensured>> {
    ensure_all_with(specs, MultiProgress::with_draw_target(draw_target()))
}

pub fn ensure_all_with(specs: &[Spec], multi: MultiProgress) -> Result<Vec<Ensured>> {
    let mut seen = std::collections::HashSet::new();
    for s in specs {
        if !seen.insert(crate::paths::absolute(&s.path)) {
            return Err(Error::invalid(
                "git::ensure_all",
                s.path.display().to_string(),
                "the same path is listed twice",
            ));
        }
    }
    let next = Mutex::new(0usize);
    let results: Vec<Mutex<Option<Result<Ensured>>>> =
        specs.iter().map(|_| Mutex::new(None)).collect();
    let bars: Vec<ProgressBar> = specs
        .iter()
        .map(|s| {
            let name = s
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| s.path.display().to_string());
            multi.add(repo_bar(&name))
        })
        .collect();
    // The workers are part of the caller's run (its dry-run, journal, cancellation).
    let run = crate::ctx::get();
    std::thread::scope(|scope| {
        for _ in 0..specs.len().clamp(1, 8) {
            scope.spawn(|| {
                let _in_run = run.enter();
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        let i = *n;
                        *n += 1;
                        i
                    };
                    if i >= specs.len() {
                        break;
                    }
                    let r = ensure(&specs[i], Some(&bars[i]));
                    match &r {
                        Ok(e) => bars[i].finish_with_message(e.action.clone()),
                        Err(_) => bars[i].abandon_with_message("failed"),
                    }
                    *results[i].lock().unwrap() = Some(r);
                }
            });
        }
    });
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (spec, r) in specs.iter().zip(results) {
        match r.into_inner().unwrap() {
            Some(Ok(e)) => ok.push(e),
            Some(Err(e)) => failed.push(format!("  `{}`: {e}", spec.path.display())),
            None => failed.push(format!("  `{}`: was not attempted", spec.path.display())),
        }
    }
    if failed.is_empty() {
        Ok(ok)
    } else {
        Err(Error::other(format!(
            "{} of {} repositories failed:\n{}",
            failed.len(),
            specs.len(),
            failed.join("\n")
        )))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use git2::Signature;

    /// A bare "remote" with history on `main` (3 commits, tag `v1` at the 2nd), and a branch
    /// `feature` one commit ahead of `v1`. Returns (bare path, commits on main oldest first).
    pub fn remote_fixture(dir: &Path) -> (PathBuf, Vec<Oid>) {
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
    fn ensure_clones_pins_and_then_does_nothing() {
        let d = tempfile::tempdir().unwrap();
        let (bare, commits) = remote_fixture(d.path());
        let mut s = spec(&d.path().join("co"), &bare);
        s.rev = Some(commits[0].to_string());
        let first = ensure(&s, None).unwrap();
        assert_eq!(first.action, "cloned");
        assert_eq!(first.head, commits[0].to_string());
        assert!(head(&s.path).unwrap().detached);
        let second = ensure(&s, None).unwrap();
        assert_eq!(second.action, "unchanged", "{second:?}");
        assert!(!second.fetched && !second.moved);
        // A tag pin moves it; nothing is fetched because the tag is here.
        s.rev = Some("v1".into());
        let third = ensure(&s, None).unwrap();
        assert_eq!((third.action.as_str(), third.moved, third.fetched), ("updated", true, false));
        assert_eq!(third.head, commits[1].to_string());
    }

    #[test]
    fn ensure_branch_and_remotes() {
        let d = tempfile::tempdir().unwrap();
        let (bare, _) = remote_fixture(d.path());
        let upstream = d.path().join("upstream.git");
        Repository::init_bare(&upstream).unwrap();
        let mut s = spec(&d.path().join("co"), &bare);
        s.branch = Some("feature".into());
        s.remotes.insert("origin".into(), upstream.display().to_string());
        s.remotes.insert("helixml".into(), bare.display().to_string());
        let e = ensure(&s, None).unwrap();
        assert_eq!(e.branch.as_deref(), Some("feature"));
        let r = remotes(&s.path).unwrap();
        assert_eq!(r.get("helixml").map(String::as_str), Some(bare.to_str().unwrap()));
        assert_eq!(r.get("origin").map(String::as_str), Some(upstream.to_str().unwrap()));
        assert_eq!(ensure(&s, None).unwrap().action, "unchanged");
    }

    #[test]
    fn ensure_refuses_a_non_git_directory() {
        let d = tempfile::tempdir().unwrap();
        let (bare, _) = remote_fixture(d.path());
        let p = d.path().join("plain");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(p.join("keep.txt"), "mine").unwrap();
        let err = ensure(&spec(&p, &bare), None).unwrap_err().to_string();
        assert!(err.contains("not a git repository"), "{err}");
        assert_eq!(std::fs::read_to_string(p.join("keep.txt")).unwrap(), "mine");
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
