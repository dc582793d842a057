//! The world a command is classified in, as it will be when the command runs: its working
//! directory, the variables of the script so far, and what earlier commands of the same script
//! did to the filesystem (links made, files created, paths known to be absent). Paths are
//! resolved here the way the command will resolve them: through the script's links first, then
//! the real filesystem's, `..` after a link taken physically.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use super::finding::Place;

/// A shell variable's value as far as the classifier knows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    /// Known words (a `for` variable may have several).
    Words(Vec<String>),
    /// A path the script created itself whose name is only known at run time (`$(mktemp)`).
    Created,
    /// Only known at run time.
    Unknown,
}

/// What earlier commands of the script did to the filesystem. Shared by nested scripts
/// (`sh -c` inside a script): their effects outlive them.
#[derive(Debug, Default)]
pub(crate) struct FsView {
    /// `(link, target, hard)`: made by `ln -s`/`ln` earlier in the script (absolute).
    links: Vec<(PathBuf, PathBuf, bool)>,
    /// Created by the script: the path and everything later created inside it.
    created: HashSet<PathBuf>,
    /// Known not to exist at this point (inside `test -e P || …`).
    absent: HashSet<PathBuf>,
}

/// Where and how one command runs.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// The working directory; `None` when it is only known at run time (`cd "$X"`).
    pub cwd: Option<PathBuf>,
    /// The host, for a command that runs on another machine (no local filesystem checks).
    pub remote: Option<String>,
    /// Bytes fed to the command's stdin (a script for `sh -s`).
    pub stdin: Option<String>,
    /// Stdin is a pipe from an earlier command of a pipeline (contents unknown).
    pub piped: bool,
    pub depth: u32,
    /// The environment the command gets on top of helix's (local) or the script's exports.
    pub env: HashMap<String, String>,
    /// The script's variables so far.
    pub vars: HashMap<String, Val>,
    pub fs: Rc<RefCell<FsView>>,
}

/// A resolved operand.
pub(crate) struct Resolved {
    pub place: Place,
    pub link: Option<(PathBuf, PathBuf, bool)>,
    pub by_script: bool,
}

impl Scope {
    /// A local command running in `cwd` (else helix's own directory).
    pub(crate) fn local(cwd: Option<&Path>) -> Scope {
        let cwd = match cwd {
            Some(c) if c.is_absolute() => c.to_path_buf(),
            Some(c) => std::env::current_dir().unwrap_or_else(|_| "/".into()).join(c),
            None => std::env::current_dir().unwrap_or_else(|_| "/".into()),
        };
        Scope {
            cwd: Some(cwd),
            remote: None,
            stdin: None,
            piped: false,
            depth: 0,
            env: HashMap::new(),
            vars: HashMap::new(),
            fs: Rc::default(),
        }
    }

    /// A command on `host`: paths are the remote shell's (relative ones to its home).
    pub(crate) fn remote(host: &str) -> Scope {
        Scope {
            cwd: Some(PathBuf::from("~")),
            remote: Some(host.to_string()),
            ..Scope::local(None)
        }
    }

    pub(crate) fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// One level deeper (a wrapped command, a nested script); `None` beyond the limit.
    pub(crate) fn deeper(&self) -> Option<Scope> {
        (self.depth < 16).then(|| Scope { depth: self.depth + 1, stdin: None, ..self.clone() })
    }

    /// The value of `$name`: the script's, the command's environment, then (locally) helix's.
    pub(crate) fn var(&self, name: &str) -> Val {
        if let Some(v) = self.vars.get(name) {
            return v.clone();
        }
        if let Some(v) = self.env.get(name) {
            return Val::Words(vec![v.clone()]);
        }
        if !self.is_remote()
            && let Ok(v) = std::env::var(name)
        {
            return Val::Words(vec![v]);
        }
        Val::Unknown
    }

    fn home(&self) -> PathBuf {
        match self.var("HOME") {
            Val::Words(w) if w.len() == 1 && w[0].starts_with('/') => PathBuf::from(&w[0]),
            _ => crate::paths::home(),
        }
    }

    /// `text` made absolute (`~` expanded locally), or `None` when the directory is unknown.
    pub(crate) fn absolute(&self, text: &str) -> Option<PathBuf> {
        if text.is_empty() {
            return None;
        }
        let expanded = if self.is_remote() {
            PathBuf::from(text)
        } else if text == "~" {
            self.home()
        } else if let Some(rest) = text.strip_prefix("~/") {
            self.home().join(rest)
        } else {
            PathBuf::from(text)
        };
        if expanded.is_absolute() || expanded.starts_with("~") {
            return Some(expanded);
        }
        self.cwd.as_ref().map(|c| c.join(expanded))
    }

    /// Follow `text` the way a command does: every link on the way, the last one only with
    /// `follow`. `None` when it cannot be known before the command runs.
    pub(crate) fn resolve(&self, text: &str, follow: bool) -> Option<Resolved> {
        let abs = self.absolute(text)?;
        let comps: Vec<Component> = abs.components().collect();
        let mut cur = PathBuf::new();
        let mut link = None;
        let mut hops = 0;
        let last = comps.len().saturating_sub(1);
        for (i, c) in comps.iter().enumerate() {
            match c {
                Component::CurDir => continue,
                Component::ParentDir => {
                    cur.pop();
                    continue;
                }
                other => cur.push(other),
            }
            let final_part = i == last;
            // Follow links on the way (and the last one when the command follows it).
            while let Some(to) = self.link_of(&cur) {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                if final_part && !follow {
                    link = Some((cur.clone(), to, false));
                    break;
                }
                if final_part {
                    link = Some((cur.clone(), to.clone(), true));
                }
                cur = to;
            }
        }
        let by_script = self.own(&cur);
        let place = if self.is_remote() {
            Place::Remote(cur.to_string_lossy().into_owned())
        } else {
            Place::Local(cur)
        };
        Some(Resolved { place, link, by_script })
    }

    /// Where the link at `p` points (absolute), if `p` is a link made by the script or a real
    /// symbolic link (locally).
    fn link_of(&self, p: &Path) -> Option<PathBuf> {
        let fs = self.fs.borrow();
        if let Some((_, t, _)) = fs.links.iter().rev().find(|(l, _, _)| l == p) {
            return Some(t.clone());
        }
        drop(fs);
        if self.is_remote() {
            return None;
        }
        let m = p.symlink_metadata().ok()?;
        if !m.file_type().is_symlink() {
            return None;
        }
        let to = std::fs::read_link(p).ok()?;
        Some(if to.is_absolute() { to } else { p.parent().unwrap_or(Path::new("/")).join(to) })
    }

    /// Whether the script itself created `p` (or a directory it is in, wholly its own).
    pub(crate) fn own(&self, p: &Path) -> bool {
        let fs = self.fs.borrow();
        p.ancestors().any(|a| fs.created.contains(a))
    }

    /// Whether `text` exists at this point of the script: `Some` when that can be known.
    pub(crate) fn exists(&self, text: &str) -> Option<bool> {
        let r = self.resolve(text, false)?;
        let p = match &r.place {
            Place::Local(p) => p.clone(),
            Place::Remote(s) => PathBuf::from(s),
            _ => return None,
        };
        {
            let fs = self.fs.borrow();
            if fs.absent.contains(&p) {
                return Some(false);
            }
            if fs.created.contains(&p) || fs.links.iter().any(|(l, _, _)| *l == p) {
                return Some(true);
            }
        }
        if self.is_remote() {
            return None;
        }
        Some(p.symlink_metadata().is_ok())
    }

    /// Whether `text` is a directory now (followed through links); `None` when unknown.
    pub(crate) fn is_dir(&self, text: &str) -> Option<bool> {
        let r = self.resolve(text, true)?;
        match &r.place {
            Place::Local(p) => Some(p.is_dir()),
            _ => None,
        }
    }

    /// A directory that has something in it (an extraction there may replace files).
    pub(crate) fn non_empty_dir(&self, text: &str) -> bool {
        match self.resolve(text, true).map(|r| r.place) {
            Some(Place::Local(p)) => std::fs::read_dir(&p).is_ok_and(|mut d| d.next().is_some()),
            _ => false,
        }
    }

    // ---- effects of commands that ran earlier in the script ----

    /// `ln -s TARGET LINK` (or a hard link): later paths through LINK reach TARGET.
    pub(crate) fn note_link(&self, target: &str, link: &str, hard: bool) {
        let Some(l) = self.absolute(link) else { return };
        // A symlink's relative target is relative to the link's directory.
        let t = if self.is_remote() || target.starts_with('/') || target.starts_with('~') || hard {
            self.absolute(target)
        } else {
            Some(l.parent().unwrap_or(Path::new("/")).join(target))
        };
        let Some(t) = t else { return };
        let mut fs = self.fs.borrow_mut();
        fs.absent.remove(&l);
        // The link (the name) is the script's own; what it points to is not.
        fs.created.insert(l.clone());
        fs.links.push((l, t, hard));
    }

    /// The script creates `text` when it does not exist yet (mkdir, touch, `>`, fallocate…).
    pub(crate) fn note_created_if_new(&self, text: &str) {
        if self.exists(text) == Some(false)
            && let Some(r) = self.resolve(text, false)
        {
            let p = match r.place {
                Place::Local(p) => p,
                Place::Remote(s) => PathBuf::from(s),
                _ => return,
            };
            let mut fs = self.fs.borrow_mut();
            fs.absent.remove(&p);
            fs.created.insert(p);
        }
    }

    /// Something not the script's own lands at `text` (a move or copy into it): neither it nor
    /// any directory above it is wholly the script's own any more.
    pub(crate) fn note_foreign(&self, text: &str) {
        let Some(r) = self.resolve(text, false) else { return };
        let p = match r.place {
            Place::Local(p) => p,
            Place::Remote(s) => PathBuf::from(s),
            _ => return,
        };
        let mut fs = self.fs.borrow_mut();
        for a in p.ancestors() {
            fs.created.remove(a);
        }
        fs.absent.remove(&p);
    }

    /// Inside `test -e P || …`: P does not exist there.
    pub(crate) fn note_absent(&self, text: &str) {
        if let Some(r) = self.resolve(text, false) {
            let p = match r.place {
                Place::Local(p) => p,
                Place::Remote(s) => PathBuf::from(s),
                _ => return,
            };
            self.fs.borrow_mut().absent.insert(p);
        }
    }

    /// Leaving `test -e P || …`: P may exist again (unless the script created it there).
    pub(crate) fn forget_absent(&self, text: &str) {
        if let Some(r) = self.resolve(text, false) {
            let p = match r.place {
                Place::Local(p) => p,
                Place::Remote(s) => PathBuf::from(s),
                _ => return,
            };
            self.fs.borrow_mut().absent.remove(&p);
        }
    }

    /// `cd DIR`.
    pub(crate) fn cd(&mut self, dir: Option<&str>) {
        let target = match dir {
            None => Some(if self.is_remote() { PathBuf::from("~") } else { self.home() }),
            Some("-") => None,
            Some(d) => self.resolve(d, true).and_then(|r| match r.place {
                Place::Local(p) => Some(p),
                Place::Remote(s) => Some(PathBuf::from(s)),
                _ => None,
            }),
        };
        self.cwd = target;
    }
}
