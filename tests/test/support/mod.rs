//! The test kit: every fixture the scenarios share, once. The [`builder`] runs the real binary
//! (captured, streaming or at a terminal through [`pty`]); the rest make the world a scenario
//! needs — ports, an sshd, an HTTP server, a simulated Mac and its doubles, the real-VM images,
//! a throwaway overlay over `/`, disk images, Mach-O tools, tree snapshots. Scenario files hold
//! tests and the helpers only they use; the benches include the files they need by `#[path]`.
#![allow(dead_code)]

pub mod builder;
pub mod cmd;
pub mod disk;
pub mod fake_mac;
pub mod httpd;
pub mod mac_world;
pub mod macho;
pub mod overlay;
pub mod ports;
pub mod pty;
pub mod redact;
pub mod sshd;
pub mod tree;
pub mod vmimage;
