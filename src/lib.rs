//! helix: runs editable Rhai recipes on a hardened core. Data flows one way:
//! CLI → recipe (Rhai) → primitive (Rust) → guard → the machine, and back into the journal.
//!
//! The choke point is the compiler's: `clippy.toml` disallows spawning, deleting, moving,
//! overwriting and signalling through std/libc except in the modules that own them (each with
//! an `#[allow]` saying why). Unit tests may use std freely for their fixtures.
#![warn(unreachable_pub)]
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::disallowed_types))]

pub mod api;
pub(crate) mod apidoc;
pub mod build;
pub mod check;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod closed_pipe;
pub mod cloudinit;
pub(crate) mod complete;
pub mod config;
pub(crate) mod config_init;
pub(crate) mod count;
pub(crate) mod definitions;
pub(crate) mod deps;
pub(crate) mod dry_run;
pub mod duration;
pub mod engine;
pub(crate) mod envfile;
pub(crate) mod error;
pub(crate) mod explain;
pub mod fs;
pub mod git;
pub mod guard;
pub(crate) mod journal;
pub(crate) mod mac_address;
pub mod macho;
pub(crate) mod net;
pub(crate) mod parse_words;
pub(crate) mod paths;
pub(crate) mod picker;
pub mod plist;
pub(crate) mod port;
pub(crate) mod process;
pub(crate) mod procs;
pub mod qemu;
pub mod qemu_img;
pub mod recipe;
pub(crate) mod recipe_files;
pub(crate) mod report;
pub mod run;
pub(crate) mod runlog;
pub(crate) mod secrets;
pub mod size;
pub(crate) mod sources;
pub mod ssh;
pub(crate) mod step;
pub mod trash;
pub(crate) mod ui;
pub mod undo;
pub mod utm;
pub(crate) mod wait;
