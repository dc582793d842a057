//! helix: runs editable Rhai recipes on a hardened core. Data flows one way:
//! CLI → recipe (Rhai) → primitive (Rust) → guard → the machine, and back into the journal.

pub mod api;
pub mod apidoc;
pub mod build;
pub mod cli;
pub mod clock;
pub mod cloudinit;
pub mod config;
pub mod ctx;
pub mod deps;
pub mod duration;
pub mod engine;
pub mod envfile;
pub mod error;
pub mod fs;
pub mod git;
pub mod guard;
pub mod journal;
pub mod macho;
pub mod net;
pub mod paths;
pub mod plist;
pub mod process;
pub mod procs;
pub mod qemu;
pub mod qemu_img;
pub mod recipe;
pub mod report;
pub mod run;
pub mod size;
pub mod sources;
pub mod ssh;
pub mod step;
pub mod ui;
pub mod utm;
pub mod wait;
