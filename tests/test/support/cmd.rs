//! Running the other tools a fixture or an assertion needs (qemu-img, ssh-keygen, otool, sh):
//! each must succeed, and what it printed comes back.

use std::path::Path;
use std::process::Command;

/// Run `cmd`; panic with its output unless it succeeds. Returns stdout.
pub fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `program ARGS`, which must succeed; its stdout.
pub fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    stdout_of(Command::new(program).args(args))
}

/// `sh -c SCRIPT` in `cwd`, which must succeed; its stdout.
pub fn sh(script: &str, cwd: &Path) -> String {
    stdout_of(Command::new("sh").arg("-c").arg(script).current_dir(cwd))
}

/// A path as the text an argument list takes.
pub fn s(p: &Path) -> String {
    p.display().to_string()
}
