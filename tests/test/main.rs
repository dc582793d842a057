//! helix's one integration-test binary: each module is a scenario area; `Test` is the builder
//! that makes a temp recipe dir, runs the real `helix` binary and checks what it printed.

mod build;
mod builder;
mod deps;
mod fake_mac;
mod git;
mod host;
mod httpd;
mod macho;
mod net;
mod plist;
mod recipes;
mod ssh;
mod sshd;
mod utm;
mod vm;
mod vmimage;
