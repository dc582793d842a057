//! The Rhai surface: one thin `#[export_module]` per primitive domain. Wrappers only convert
//! types and errors; the logic lives in the domain modules. Their `///` docs (with a `rhai`
//! example) are what `helix api` prints.
//!
//! `unreachable_pub` is off here: `#[export_module]` exports exactly the `pub` functions of a
//! module, so their `pub` is what makes them part of the recipe language.
#![allow(unreachable_pub)]

pub mod build;
pub mod cloudinit;
pub mod cmd;
pub mod convert;
pub mod deps;
pub mod duration;
pub mod fs;
pub mod git;
pub mod global;
pub mod macho;
pub mod net;
pub mod options;
pub mod plist;
pub mod qemu;
pub mod qemu_img;
pub mod size;
pub mod ssh;
pub mod sys;
pub mod ui;
pub mod utm;
pub mod utm_options;
