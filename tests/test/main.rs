//! helix's one integration-test binary: each module is a scenario area; `Test` is the builder
//! that makes a temp recipe dir, runs the real `helix` binary and checks what it printed.
//!
//! Tests may spawn, write and delete with std directly (fixtures, doubles, the overlay): the
//! choke point in `clippy.toml` is for helix's own code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod adversarial;
mod build;
mod builder;
mod check;
mod cli;
mod deps;
mod facts;
mod fake_mac;
mod git;
mod guard;
mod host;
mod httpd;
mod language;
mod mac_world;
mod macho;
#[cfg(target_os = "macos")]
mod macos;
mod net;
mod on_mac;
mod options;
mod oslayer;
mod overlay;
mod plist;
mod questions;
mod recipes;
mod recover;
mod recovery;
mod ssh;
mod sshd;
mod undocwd;
mod utm;
mod utmschema;
mod video;
mod vm;
mod vmimage;

/// Virtual size in bytes of a disk image (real qemu-img).
pub fn vm_bytes(_t: &builder::Test, disk: &std::path::Path) -> u64 {
    let out = std::process::Command::new("qemu-img")
        .args(["info", "--output=json", "-U"])
        .arg(disk)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["virtual-size"].as_u64().unwrap()
}
