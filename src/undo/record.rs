//! The undo record: how to reverse one journaled action, as a typed value. Primitives build
//! one ([`Undo::RemoveCreated`], [`Undo::Restore`], …) and hand it to the guard's `Action`;
//! the journal keeps it as JSON; `helix undo` reads it back and matches on the variant.
//!
//! The JSON is the shape helix has always written (`{"remove_created": PATH}`,
//! `{"restore": B, "to": P, "sha256": H}`, `{"kind": "git.checkout", …}`, …), so a journal
//! written by an older helix still undoes and an older helix reads a new journal. Fields a
//! record does not know are ignored. This file is plain data: it imports no domain, so the
//! guard (a leaf) may carry a record.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How to reverse one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Undo {
    /// A domain with its own reversal (`{"kind": NAME, …}`).
    Domain(Domain),
    /// Several effects, reversed last first (`{"steps": [RECORD…]}`).
    Steps { steps: Vec<Undo> },
    /// Copy `backup`'s bytes back to `to` (`{"restore": B, "to": P, "sha256"?: H}`); with
    /// `sha256` (of what the run wrote), refused when `to` changed since.
    Restore {
        #[serde(rename = "restore")]
        backup: PathBuf,
        to: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
    },
    /// Rename `from` (where the run moved it) back to `to` (`{"move_back": FROM, "to": TO}`).
    MoveBack {
        #[serde(rename = "move_back")]
        from: PathBuf,
        to: PathBuf,
    },
    /// Restore trash item `id` (`{"untrash": ID, "dir"?: TRASH}`).
    Untrash {
        #[serde(rename = "untrash")]
        id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dir: Option<PathBuf>,
    },
    /// Run `argv` through `process`, so the guard classifies it (`{"run": [ARGV…], "why": T}`).
    Run {
        #[serde(rename = "run")]
        argv: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// Move what the run created to the trash (`{"remove_created": PATH}`); `None` (`null`):
    /// the run created nothing.
    RemoveCreated {
        // Required (`null` allowed): without it every map would read as this variant.
        #[serde(rename = "remove_created", deserialize_with = "Option::deserialize")]
        path: Option<PathBuf>,
    },
}

/// The reversals a domain owns, tagged by `kind` in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Domain {
    /// A snapshot the run took: undo keeps it (deleting it would lose what it holds).
    #[serde(rename = "qemu_img.snapshot_kept")]
    SnapshotKept { path: PathBuf, name: String },
    /// A snapshot taken as the state to go back to: undo reverts the disk to it.
    #[serde(rename = "qemu_img.checkpoint")]
    Checkpoint { path: PathBuf, name: String },
    /// A remote the run added: undo removes it.
    #[serde(rename = "git.remote_remove")]
    GitRemoteRemove { path: PathBuf, name: String },
    /// A remote whose URL the run changed: undo sets `url` back.
    #[serde(rename = "git.remote_set_url")]
    GitRemoteSetUrl { path: PathBuf, name: String, url: String },
    /// A checkout: undo checks out `rev` (what HEAD was; `None`: there was no HEAD).
    #[serde(rename = "git.checkout")]
    GitCheckout { path: PathBuf, rev: Option<String> },
}

/// Why a journaled value is not a record this helix can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unknown {
    /// A domain kind this helix has no variant for.
    Kind(String),
    /// Any other shape.
    Shape(String),
}

impl Undo {
    /// Read a journaled record.
    pub(crate) fn from_json(v: &Value) -> std::result::Result<Undo, Unknown> {
        Undo::deserialize(v).map_err(|_| match v.get("kind").and_then(Value::as_str) {
            Some(k) => Unknown::Kind(k.to_string()),
            None => Unknown::Shape(v.to_string()),
        })
    }

    /// The record as the journal keeps it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The record with every path it names made absolute (against the current directory), so
    /// `helix undo` restores the same file from whatever directory it runs in. Names, URLs,
    /// revisions and argv are left as given.
    pub fn absolute(self) -> Undo {
        let abs = |p: PathBuf| -> PathBuf {
            if p.as_os_str().is_empty() { p } else { crate::paths::absolute(&p) }
        };
        match self {
            Undo::Domain(d) => Undo::Domain(match d {
                Domain::SnapshotKept { path, name } => {
                    Domain::SnapshotKept { path: abs(path), name }
                }
                Domain::Checkpoint { path, name } => Domain::Checkpoint { path: abs(path), name },
                Domain::GitRemoteRemove { path, name } => {
                    Domain::GitRemoteRemove { path: abs(path), name }
                }
                Domain::GitRemoteSetUrl { path, name, url } => {
                    Domain::GitRemoteSetUrl { path: abs(path), name, url }
                }
                Domain::GitCheckout { path, rev } => Domain::GitCheckout { path: abs(path), rev },
            }),
            Undo::Steps { steps } => {
                Undo::Steps { steps: steps.into_iter().map(Undo::absolute).collect() }
            }
            Undo::Restore { backup, to, sha256 } => {
                Undo::Restore { backup: abs(backup), to: abs(to), sha256 }
            }
            Undo::MoveBack { from, to } => Undo::MoveBack { from: abs(from), to: abs(to) },
            Undo::Untrash { id, dir } => Undo::Untrash { id, dir: dir.map(abs) },
            Undo::Run { argv, why } => Undo::Run { argv, why },
            Undo::RemoveCreated { path } => Undo::RemoveCreated { path: path.map(abs) },
        }
    }

    /// `{"remove_created": path}`.
    pub(crate) fn remove_created(path: impl AsRef<Path>) -> Undo {
        Undo::RemoveCreated { path: Some(path.as_ref().to_path_buf()) }
    }

    /// `{"restore": backup, "to": to}` (no hash: restored whatever `to` holds then).
    pub(crate) fn restore(backup: impl AsRef<Path>, to: impl AsRef<Path>) -> Undo {
        Undo::Restore {
            backup: backup.as_ref().to_path_buf(),
            to: to.as_ref().to_path_buf(),
            sha256: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record as a journal written by helix before records were typed has it (one line
    /// per kind), and the variant it reads as.
    fn old_lines() -> Vec<(&'static str, Undo)> {
        let p = PathBuf::from;
        vec![
            (
                r#"{"restore":"/s/trash/b1","sha256":"ab12","to":"/w/a.txt"}"#,
                Undo::Restore {
                    backup: p("/s/trash/b1"),
                    to: p("/w/a.txt"),
                    sha256: Some("ab12".into()),
                },
            ),
            (
                r#"{"restore":"/s/trash/b2","to":"/w/p.plist"}"#,
                Undo::restore("/s/trash/b2", "/w/p.plist"),
            ),
            (r#"{"remove_created":"/w/new"}"#, Undo::remove_created("/w/new")),
            (r#"{"remove_created":null}"#, Undo::RemoveCreated { path: None }),
            (
                r#"{"move_back":"/w/moved","to":"/w/m"}"#,
                Undo::MoveBack { from: p("/w/moved"), to: p("/w/m") },
            ),
            (
                r#"{"dir":"/s/trash","untrash":"20261127-r.txt"}"#,
                Undo::Untrash { id: "20261127-r.txt".into(), dir: Some(p("/s/trash")) },
            ),
            (
                r#"{"run":["qemu-img","snapshot","-a","s","/d.qcow2"],"why":"revert"}"#,
                Undo::Run {
                    argv: vec![
                        "qemu-img".into(),
                        "snapshot".into(),
                        "-a".into(),
                        "s".into(),
                        "/d.qcow2".into(),
                    ],
                    why: Some("revert".into()),
                },
            ),
            (
                r#"{"steps":[{"remove_created":"/a"},{"move_back":"/b","to":"/c"}]}"#,
                Undo::Steps {
                    steps: vec![
                        Undo::remove_created("/a"),
                        Undo::MoveBack { from: p("/b"), to: p("/c") },
                    ],
                },
            ),
            (
                r#"{"kind":"qemu_img.snapshot_kept","name":"s0","path":"/d.qcow2"}"#,
                Undo::Domain(Domain::SnapshotKept { path: p("/d.qcow2"), name: "s0".into() }),
            ),
            (
                r#"{"kind":"qemu_img.checkpoint","name":"s1","path":"/d.qcow2"}"#,
                Undo::Domain(Domain::Checkpoint { path: p("/d.qcow2"), name: "s1".into() }),
            ),
            (
                r#"{"kind":"git.remote_remove","name":"up","path":"/r"}"#,
                Undo::Domain(Domain::GitRemoteRemove { path: p("/r"), name: "up".into() }),
            ),
            (
                r#"{"kind":"git.remote_set_url","name":"up","path":"/r","url":"https://x/y"}"#,
                Undo::Domain(Domain::GitRemoteSetUrl {
                    path: p("/r"),
                    name: "up".into(),
                    url: "https://x/y".into(),
                }),
            ),
            (
                r#"{"kind":"git.checkout","path":"/r","rev":"main"}"#,
                Undo::Domain(Domain::GitCheckout { path: p("/r"), rev: Some("main".into()) }),
            ),
            (
                r#"{"kind":"git.checkout","path":"/r","rev":null}"#,
                Undo::Domain(Domain::GitCheckout { path: p("/r"), rev: None }),
            ),
        ]
    }

    #[test]
    fn old_journal_records_read_as_their_variant_and_are_written_the_same() {
        for (line, want) in old_lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(Undo::from_json(&v), Ok(want.clone()), "{line}");
            // An older helix reads what this one writes: the same JSON.
            assert_eq!(want.to_json(), v, "{line}");
        }
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_shapes_named() {
        let v = serde_json::json!({"remove_created": "/a", "note": "later helix"});
        assert_eq!(Undo::from_json(&v), Ok(Undo::remove_created("/a")));
        let v = serde_json::json!({"kind": "plist.set", "path": "/p"});
        assert_eq!(Undo::from_json(&v), Err(Unknown::Kind("plist.set".into())));
        // A map without a record's key is not read as the one record whose field may be null.
        let v = serde_json::json!({"to": "/a"});
        assert_eq!(Undo::from_json(&v), Err(Unknown::Shape(v.to_string())));
        let v = serde_json::json!({"kind": "git.checkout", "rev": "main"});
        assert_eq!(Undo::from_json(&v), Err(Unknown::Kind("git.checkout".into())));
    }
}
