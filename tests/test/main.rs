//! helix's one integration-test binary: each module is a scenario area; the fixtures they share
//! (the `Test` builder that runs the real `helix` binary, terminals, servers, worlds) are
//! `support`, each once.
//!
//! Tests may spawn, write and delete with std directly (fixtures, doubles, the overlay): the
//! choke point in `clippy.toml` is for helix's own code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod adversarial;
mod build;
mod check;
mod cli;
mod deps;
mod facts;
mod git;
mod guard;
mod host;
mod language;
mod macho;
#[cfg(target_os = "macos")]
mod macos;
mod net;
mod on_mac;
mod options;
mod oslayer;
mod plist;
mod questions;
mod readme;
mod recipes;
mod recover;
mod recovery;
mod ssh;
mod support;
mod undocwd;
mod utm;
mod utmschema;
mod video;
mod vm;
