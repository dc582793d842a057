//! Looking into Mach-O files the fixtures built or helix edited: LLVM's otool, the framework
//! binary inside an app bundle, raw byte search.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::cmd::stdout_of;
use super::fake_mac::llvm_tool;

/// `llvm-otool ARGS FILE`, which must succeed; its stdout.
pub fn otool(args: &[&str], file: &Path) -> String {
    stdout_of(Command::new(llvm_tool("llvm-otool")).args(args).arg(file))
}

/// The QEMU framework's binary inside `app` (a `UTM.app`).
pub fn framework_binary(app: &Path) -> PathBuf {
    app.join("Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu")
}

/// Whether `hay` holds the bytes of `needle`.
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Whether the file at `file` holds the bytes of `needle`.
pub fn holds(file: &Path, needle: &str) -> bool {
    contains(&std::fs::read(file).unwrap(), needle)
}
