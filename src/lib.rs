//! helix: runs editable Rhai recipes on a hardened core. Data flows one way:
//! CLI → recipe (Rhai) → primitive (Rust) → guard → the machine, and back into the journal.
//!
//! The choke point is the compiler's: `clippy.toml` disallows spawning, deleting, moving,
//! overwriting and signalling through std/libc except in the modules that own them (each with
//! an `#[allow]` saying why). Unit tests may use std freely for their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods, clippy::disallowed_types))]

pub mod api;
pub mod apidoc;
pub mod build;
pub mod check;
pub mod cli;
pub mod clock;
pub mod closed_pipe;
pub mod cloudinit;
pub mod complete;
pub mod config;
pub mod config_init;
pub mod definitions;
pub mod deps;
pub mod dry_run;
pub mod duration;
pub mod engine;
pub mod envfile;
pub mod error;
pub mod explain;
pub mod fs;
pub mod git;
pub mod guard;
pub mod journal;
pub mod mac_address;
pub mod macho;
pub mod net;
pub mod paths;
pub mod picker;
pub mod plist;
pub mod port;
pub mod process;
pub mod procs;
pub mod qemu;
pub mod qemu_img;
pub mod recipe;
pub mod recipe_files;
pub mod report;
pub mod run;
pub mod runlog;
pub mod secrets;
pub mod size;
pub mod sources;
pub mod ssh;
pub mod step;
pub mod trash;
pub mod ui;
pub mod undo;
pub mod utm;
pub mod wait;
