//! Checking out: what HEAD should become ([`Want`]), resolved from the local refs, and the
//! move itself — a guarded action when the worktree has uncommitted changes (stashed first,
//! after a person confirms).

use std::path::Path;

use git2::build::CheckoutBuilder;
use git2::{BranchType, Oid, Repository};
use serde_json::json;

use super::ensure::Spec;
use super::{dirty_of, gerr, head_of, open};
use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::undo::{Domain, Undo};

/// What HEAD should become.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Want {
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
pub(super) fn resolve(
    repo: &Repository,
    spec: &Spec,
    remote: &str,
    prefer_remote_tip: bool,
) -> Option<Want> {
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

pub(super) fn is_right(repo: &Repository, want: &Want) -> bool {
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
pub(super) fn move_head(path: &Path, want: &Want) -> Result<Option<String>> {
    let repo = open(path)?;
    let before = head_of(&repo, path).ok();
    let dirty = dirty_of(&repo, path)?;
    let what = describe_want(want);
    let mut action =
        Action::new("git.checkout", format!("check out {what} in `{}`", path.display()))
            .args(json!({ "path": path, "to": what }))
            .undo(Undo::Domain(Domain::GitCheckout {
                path: path.into(),
                rev: before.as_ref().map(|h| h.branch.clone().unwrap_or_else(|| h.commit.clone())),
            }));
    if !dirty.is_empty() {
        let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
        let more =
            if dirty.len() > 5 { format!(" and {} more", dirty.len() - 5) } else { String::new() };
        action = action.destroys(Target::Worktree {
            path: path.to_path_buf(),
            why: format!(
                "{} in {}{more}; they are stashed (`git stash list`) before HEAD moves",
                crate::count::count(dirty.len() as u64, "uncommitted change"),
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
pub(crate) fn checkout(path: &Path, rev: &str) -> Result<()> {
    let repo = open(path)?;
    let want = if let Ok(b) = repo.find_branch(rev, BranchType::Local) {
        Want::Branch {
            name: rev.to_string(),
            oid: b.get().target().ok_or_else(|| Error::Git {
                op: format!("check out branch `{rev}` in"),
                repo: path.to_path_buf(),
                message: "the branch points at no commit".into(),
            })?,
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
