//! A throwaway world for tests that run destructive commands on purpose.
//!
//! The guard's adversarial tests run `rm -rf`, `mv`, `truncate`, interpreters and Makefiles
//! against protected targets to prove they are refused. If the guard had a bug, the command
//! would really run — so such a test must not run against this machine's real filesystem.
//! [`in_overlay!`] re-executes the calling test, alone, inside a private mount namespace
//! (`unshare -m`) whose `/` is an overlay: the real root is the read-only lower layer and a
//! tmpfs is the upper one. Every write, rename and delete the test (or a guard bug) makes, on
//! any path, lands in that tmpfs and vanishes when the test ends. `/proc`, `/sys` and `/dev`
//! are bound in so programs work; every other disk filesystem mounted on the host gets an
//! overlay of its own.
//!
//! ```ignore
//! #[test]
//! fn rm_rf_protected_dir_is_refused() {
//!     crate::in_overlay!(rm_rf_protected_dir_is_refused);
//!     // from here on, inside the overlay: build fixtures, run helix, assert
//! }
//! ```
//!
//! Needs root (as CI has) for `unshare -m` and overlayfs; without it the test fails and says
//! so, rather than running the destructive body against the real machine.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Set in the re-executed test's environment.
const INNER: &str = "HELIX_TEST_IN_OVERLAY";

/// Re-run the calling test inside a throwaway overlay namespace; in there, continue.
#[macro_export]
macro_rules! in_overlay {
    ($name:ident) => {
        if !$crate::support::overlay::enter(module_path!(), stringify!($name)) {
            return;
        }
    };
}

/// `true`: this process is inside the overlay, run the test's body. `false`: this process
/// launched the body in the overlay and it passed (a failure panics here with its output).
pub fn enter(module: &str, name: &str) -> bool {
    if std::env::var_os(INNER).is_some() {
        assert!(
            root_is_overlay(),
            "{INNER} is set but `/` is not an overlay: refusing to run a destructive test body"
        );
        return true;
    }
    // libtest names tests by their path without the crate's own name (`guard::rm_rf_…`).
    let test = match module.split_once("::") {
        Some((_, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    };
    assert!(
        unsafe { libc::geteuid() } == 0,
        "`{test}` runs destructive commands and must run inside a throwaway mount namespace \
         with an overlay over `/`, which needs root (`unshare -m`, overlayfs); run the tests \
         as root, as CI does"
    );
    let out = launch(&test);
    assert!(
        out.status.success(),
        "`{test}` failed inside the overlay ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 passed"),
        "`{test}` did not run inside the overlay (no test matched?):\n{stdout}"
    );
    false
}

/// Whether `/` of this process is an overlay mount.
pub fn root_is_overlay() -> bool {
    mounts().iter().any(|m| m.target == Path::new("/") && m.fstype == "overlay")
}

struct Mount {
    target: PathBuf,
    fstype: String,
}

/// This process's mount table (`/proc/self/mountinfo`: field 5 is the mount point, the field
/// after ` - ` the filesystem type; octal escapes as the kernel writes them).
fn mounts() -> Vec<Mount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let target = left.split(' ').nth(4)?;
            let fstype = right.split(' ').next()?;
            Some(Mount { target: PathBuf::from(unescape(target)), fstype: fstype.to_string() })
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).and_then(|d| std::str::from_utf8(d).ok());
        if let (b'\\', Some(n)) = (b[i], octal.and_then(|d| u8::from_str_radix(d, 8).ok())) {
            out.push(n);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Kernel filesystems and runtime mounts that are bound in as they are (not overlaid).
fn is_virtual(m: &Mount) -> bool {
    let t = &m.target;
    ["/proc", "/sys", "/dev"].iter().any(|p| t.starts_with(p))
        || matches!(
            m.fstype.as_str(),
            "proc"
                | "sysfs"
                | "devtmpfs"
                | "devpts"
                | "cgroup"
                | "cgroup2"
                | "mqueue"
                | "debugfs"
                | "tracefs"
                | "securityfs"
                | "pstore"
                | "bpf"
                | "fusectl"
                | "configfs"
                | "binfmt_misc"
                | "autofs"
                | "hugetlbfs"
        )
}

fn launch(test: &str) -> std::process::Output {
    let scratch = tempfile::Builder::new().prefix("helix-overlay-").tempdir().expect("temp dir");
    // Every other real filesystem the host has mounted gets its own overlay inside the new
    // root, parents before children (the table lists them in mount order).
    let extra: Vec<String> = mounts()
        .into_iter()
        .filter(|m| m.target != Path::new("/") && !is_virtual(m))
        .filter(|m| !m.target.starts_with(scratch.path()))
        .map(|m| m.target.display().to_string())
        .collect();
    let cwd = std::env::current_dir().expect("cwd");
    let exe = std::env::current_exe().expect("test binary");
    // $1 scratch dir, $2 cwd, then the extra mount points up to "--", then the command.
    let script = r#"
set -eu
S="$1"; CWD="$2"; shift 2
mount --make-rprivate /
mount -t tmpfs -o mode=0700 helix-overlay "$S"
mkdir "$S/upper" "$S/work" "$S/root"
mount -t overlay helix-overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$S/root"
n=0
while [ "$1" != "--" ]; do
  n=$((n + 1)); mkdir -p "$S/u$n" "$S/w$n"
  if [ -d "$S/root$1" ]; then
    mount -t overlay helix-overlay -o "lowerdir=$1,upperdir=$S/u$n,workdir=$S/w$n" "$S/root$1" \
      || mount --bind -o ro "$1" "$S/root$1"
  fi
  shift
done
shift
for d in /proc /sys /dev; do mount --rbind "$d" "$S/root$d"; done
exec chroot "$S/root" /bin/sh -c 'cd "$0" && exec "$@"' "$CWD" "$@"
"#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"])
        .arg(scratch.path())
        .arg(&cwd)
        .args(&extra)
        .arg("--")
        .arg(&exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(INNER, "1");
    cmd.output().expect("run unshare (util-linux)")
}

#[test]
fn overlay_discards_every_write() {
    // Paths outside any temp dir: without the overlay, the body would really change them.
    let probe = PathBuf::from("/var/tmp/helix-overlay-probe");
    let victim = PathBuf::from("/etc/debian_version");
    let before = std::fs::read(&victim).expect("/etc/debian_version on Debian");
    if enter(module_path!(), "overlay_discards_every_write") {
        assert!(root_is_overlay());
        std::fs::write(&probe, "x").unwrap();
        std::fs::remove_file(&victim).unwrap();
        let rm = Command::new("rm").args(["-rf", "/usr/share/doc"]).status().unwrap();
        assert!(rm.success() && !victim.exists() && probe.exists());
        return;
    }
    // Outside again, after the inner run passed: nothing it did is visible.
    assert!(!root_is_overlay());
    assert!(!probe.exists(), "a write inside the overlay reached the machine");
    assert_eq!(std::fs::read(&victim).unwrap(), before);
    assert!(PathBuf::from("/usr/share/doc").is_dir());
}

#[test]
fn overlay_refuses_a_fake_inside() {
    // The marker alone does not make a destructive body run: `/` must really be an overlay.
    if std::env::var_os(INNER).is_some() {
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["support::overlay::fake_inside_body", "--exact", "--ignored", "--test-threads=1"])
        .env(INNER, "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("is not an overlay"), "{text}");
}

#[test]
#[ignore = "run by overlay_refuses_a_fake_inside"]
fn fake_inside_body() {
    crate::in_overlay!(fake_inside_body);
    panic!("the body ran although `/` is not an overlay");
}
