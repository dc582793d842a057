//! [`ensure`]: put a repository at the wanted commit idempotently, in named steps — clone
//! when missing, the remotes, fetch only when the wanted commit is not here, the pin or
//! branch resolved, and HEAD moved only when it is elsewhere — plus [`ensure_all`], several
//! repositories at once under one progress display.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Mutex;

use git2::Repository;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::checkout::{Want, is_right, move_head, resolve};
use super::{
    add_remote, clone, display_url, fetch, fetch_refspecs, head, is_empty_dir, open, remotes_of,
    same_url, set_url,
};
use crate::error::{Error, Result};

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
    let dry = crate::run::current().dry_run;
    let mut out =
        Ensured { path: path.to_path_buf(), action: "unchanged".into(), ..Default::default() };
    let cloned = clone_if_missing(spec, &remote, bar)?;
    if cloned {
        out.fetched = true;
        if dry {
            out.action = "cloned".into();
            plan_after_clone(spec, &remote);
            return Ok(out);
        }
    }
    sync_remotes(spec, &remote, &mut out)?;
    let Some(want) = wanted(spec, &remote, cloned, bar, &mut out)? else {
        if dry {
            let what = spec.rev.clone().or(spec.branch.clone()).unwrap_or_default();
            crate::ui::plan(&format!(
                "would check out `{what}` in `{}` after the fetch",
                path.display()
            ));
            out.action = "updated".into();
            return Ok(out);
        }
        return Err(not_found(spec, &remote));
    };
    if !is_right(&open(path)?, &want) {
        out.stashed = move_head(path, &want)?;
        out.moved = true;
    }
    if let Ok(h) = head(path) {
        out.head = h.commit;
        out.branch = h.branch;
    }
    out.action = action_of(&out, cloned).into();
    Ok(out)
}

/// The clone step: clone when the path is missing or an empty directory (`true`); refuse a
/// directory that is not a repository, which helix never reuses.
fn clone_if_missing(spec: &Spec, remote: &str, bar: Option<&ProgressBar>) -> Result<bool> {
    let path = spec.path.as_path();
    if !path.exists() || is_empty_dir(path) {
        clone(&spec.url, path, spec.branch.as_deref(), remote, bar)?;
        return Ok(true);
    }
    if !path.join(".git").exists() && Repository::open(path).is_err() {
        return Err(Error::invalid(
            "git checkout",
            path.display().to_string(),
            "it exists and is not a git repository; helix does not reuse or replace it — move it aside or pick another path",
        ));
    }
    Ok(false)
}

/// Under `--dry-run` nothing was cloned: say what would follow the clone.
fn plan_after_clone(spec: &Spec, remote: &str) {
    let path = spec.path.display();
    if let Some(rev) = &spec.rev {
        crate::ui::plan(&format!("would check out `{rev}` (detached) in `{path}`"));
    }
    for (name, url) in spec.remotes.iter().filter(|(n, _)| *n != remote) {
        crate::ui::plan(&format!("would add remote `{name}` = `{}` to `{path}`", display_url(url)));
    }
}

/// The remotes step: the URL's own remote and every listed one exist and point where the spec
/// says (added when missing, re-pointed when different). An `origin` that points elsewhere,
/// when the spec does not name it, is refused: the path is probably the wrong checkout.
fn sync_remotes(spec: &Spec, remote: &str, out: &mut Ensured) -> Result<()> {
    let path = spec.path.as_path();
    let have = remotes_of(&open(path)?, path)?;
    let mut wanted = spec.remotes.clone();
    wanted.entry(remote.to_string()).or_insert_with(|| spec.url.clone());
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
    Ok(())
}

/// The fetch and branch/pin steps: what HEAD should become, resolved from what is here, and
/// fetched for only when it is not (or `update` asks for the branch's tip). `None`: not
/// resolvable (under `--dry-run`, possibly only because nothing was fetched).
fn wanted(
    spec: &Spec,
    remote: &str,
    cloned: bool,
    bar: Option<&ProgressBar>,
    out: &mut Ensured,
) -> Result<Option<Want>> {
    let path = spec.path.as_path();
    // `update` on an existing checkout always fetches, to learn the branch's tip.
    if (cloned || !spec.update)
        && let Some(want) = resolve(&open(path)?, spec, remote, false)
    {
        return Ok(Some(want));
    }
    if !cloned {
        fetch(path, remote, bar)?;
        out.fetched = true;
    }
    if let Some(want) = resolve(&open(path)?, spec, remote, true) {
        return Ok(Some(want));
    }
    if crate::run::current().dry_run {
        return Ok(None);
    }
    fetch_pinned_commit(spec, remote, bar)
}

/// The pin step's last resort: a full SHA that no branch or tag reaches is asked for itself.
fn fetch_pinned_commit(
    spec: &Spec,
    remote: &str,
    bar: Option<&ProgressBar>,
) -> Result<Option<Want>> {
    let Some(rev) =
        spec.rev.as_ref().filter(|r| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit()))
    else {
        return Ok(None);
    };
    let path = spec.path.as_path();
    let _ = fetch_refspecs(path, remote, std::slice::from_ref(rev), bar);
    Ok(resolve(&open(path)?, spec, remote, true))
}

/// The pin or branch is not in the repository even after fetching.
fn not_found(spec: &Spec, remote: &str) -> Error {
    let what = match (&spec.rev, &spec.branch) {
        (Some(r), _) => format!("the revision `{r}`"),
        (None, Some(b)) => format!("the branch `{b}`"),
        _ => "it".into(),
    };
    Error::Git {
        op: format!("find {what} in"),
        repo: spec.path.clone(),
        message: format!(
            "it is not there even after fetching `{remote}` ({}); check the pin and that it was pushed",
            display_url(&spec.url)
        ),
    }
}

/// `cloned`, `updated` (anything fetched, moved or re-pointed) or `unchanged`.
fn action_of(out: &Ensured, cloned: bool) -> &'static str {
    if cloned {
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
pub(crate) fn progress_bar(path: &Path) -> ProgressBar {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let bar = repo_bar(&name);
    bar.set_draw_target(draw_target());
    bar
}

/// [`ensure`] with its own progress bar.
pub(crate) fn ensure_one(spec: &Spec) -> Result<Ensured> {
    let bar = progress_bar(&spec.path);
    let r = ensure(spec, Some(&bar));
    bar.finish_and_clear();
    r
}

/// [`ensure`] several repositories at once, one thread each (at most 8 at a time), under one
/// progress display. Every repository is tried; the error lists each one that failed.
pub(crate) fn ensure_all(specs: &[Spec]) -> Result<Vec<Ensured>> {
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
    let run = crate::run::current();
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
        Err(Error::EnsureRepositories { total: specs.len(), failed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::{head, remotes, tests::remote_fixture};

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
    fn a_pin_that_is_nowhere_is_a_git_error_naming_the_repository() {
        let d = tempfile::tempdir().unwrap();
        let (bare, _) = remote_fixture(d.path());
        let mut s = spec(&d.path().join("co"), &bare);
        ensure(&s, None).unwrap();
        s.rev = Some("no-such-tag".into());
        match ensure(&s, None) {
            Err(e @ Error::Git { .. }) => {
                let Error::Git { op, repo, .. } = &e else { unreachable!() };
                assert_eq!((op.as_str(), repo), ("find the revision `no-such-tag` in", &s.path));
                assert!(e.to_string().contains("even after fetching `origin`"), "{e}");
            }
            other => panic!("expected Error::Git, got {other:?}"),
        }
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
}
