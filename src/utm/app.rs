//! UTM.app itself: the QEMU framework binary helix installs a custom build into (keeping UTM's
//! original once), UTM's caches, and a restart that never kills running VMs blindly.
//!
//! UTM loads QEMU from a framework, not a loose dylib:
//! `Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu` is
//! right; `Contents/Frameworks/libqemu-aarch64-softmmu.dylib` is never loaded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::process::Cmd;

pub(crate) const FRAMEWORK_BINARY: &str =
    "Contents/Frameworks/qemu-aarch64-softmmu.framework/Versions/A/qemu-aarch64-softmmu";
pub(crate) const LOOSE_DYLIB: &str = "Contents/Frameworks/libqemu-aarch64-softmmu.dylib";

/// Where UTM loads QEMU from.
pub(crate) fn framework_binary() -> PathBuf {
    super::app_path().join(FRAMEWORK_BINARY)
}

/// The wrong place: a loose dylib UTM never loads.
pub(crate) fn loose_dylib() -> PathBuf {
    super::app_path().join(LOOSE_DYLIB)
}

/// UTM's version from its Info.plist (`CFBundleShortVersionString`), if readable.
pub(crate) fn version() -> Option<String> {
    let info = super::app_path().join("Contents/Info.plist");
    let doc = crate::plist::read(&info).ok()?;
    doc.root.get("CFBundleShortVersionString").and_then(|v| v.as_string()).map(String::from)
}

/// Where UTM's own QEMU binary is kept (once per UTM version, never replaced).
pub(crate) fn original_path() -> PathBuf {
    let v = version().unwrap_or_else(|| "unknown-version".into());
    let safe: String = v
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' })
        .collect();
    crate::config::state_dir().join("utm-original").join(safe).join("qemu-aarch64-softmmu")
}

fn same_file(a: &Path, b: &Path) -> bool {
    crate::paths::resolve(a) == crate::paths::resolve(b)
}

/// Install a QEMU build (`libqemu-aarch64-softmmu.dylib` from the sysroot) as UTM's framework
/// binary. UTM's original binary is kept the first time (in helix's state dir, per UTM
/// version) and never overwritten by a later install; the previous binary is also kept for
/// `helix undo`. With `sudo`, the copy runs as root (when UTM.app is not writable).
pub(crate) fn install_qemu(src: &Path, sudo: bool) -> Result<Json> {
    let dest = framework_binary();
    let loose = loose_dylib();
    // Under --dry-run the build steps before this one only printed their plan.
    if !src.is_file() && !crate::run::current().dry_run {
        return Err(Error::invalid(
            "QEMU build",
            src.display().to_string(),
            "it is not a file (build QEMU first)",
        ));
    }
    if same_file(src, &loose) {
        return Err(crate::guard::refuse(
            format!("install `{}`", src.display()),
            "that is the loose dylib location UTM never loads; install the sysroot build (…/lib/libqemu-aarch64-softmmu.dylib)",
        ));
    }
    if same_file(src, &dest) {
        return Err(Error::invalid(
            "QEMU build",
            src.display().to_string(),
            "it is the installed framework binary itself",
        ));
    }
    let framework_dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
    if !framework_dir.is_dir() || !dest.is_file() {
        return Err(Error::invalid(
            "UTM app",
            super::app_path().display().to_string(),
            format!(
                "it has no `{FRAMEWORK_BINARY}`: UTM loads QEMU from that framework (UTM 4 or newer); check paths.utm_app"
            ),
        ));
    }
    let original = original_path();
    let original_created = if original.exists() {
        crate::ui::info(&format!(
            "UTM's original QEMU is already kept at `{}` (never replaced)",
            original.display()
        ));
        false
    } else {
        if let Some(dir) = original.parent() {
            crate::fs::mkdir(dir)?;
        }
        crate::fs::copy(&dest, &original)?;
        true
    };
    if loose.exists() {
        crate::ui::warn(&format!(
            "`{}` is a loose dylib UTM never loads (it loads the framework); helix leaves it alone — remove it if an old script put it there",
            loose.display()
        ));
    }
    let new_sum = crate::fs::sha256_file(src)?;
    let unchanged = crate::fs::sha256_file(&dest).map(|s| s == new_sum).unwrap_or(false);
    if unchanged {
        crate::ui::info(&format!("`{}` already is this build; nothing to install", dest.display()));
    } else if sudo {
        let mut action = Action::new(
            "utm.install_qemu",
            format!(
                "install `{}` as `{}` as root (previous version kept)",
                src.display(),
                dest.display()
            ),
        )
        .args(json!({ "from": src, "to": dest }));
        if !crate::run::current().dry_run {
            let b = crate::trash::keep_previous(&dest)?;
            action = action.undo(crate::undo::Undo::restore(b, &dest));
        }
        guard::act(action, || {
            Cmd::new(&["cp", &src.display().to_string(), &dest.display().to_string()])
                .sudo()
                .run()
                .map(|_| ())
        })?;
    } else {
        crate::fs::copy(src, &dest)?;
    }
    Ok(json!({
        "installed": dest,
        "sha256": new_sum,
        "changed": !unchanged,
        "original": original,
        "original_created": original_created,
        "loose_dylib": if loose.exists() { json!(loose) } else { Json::Null },
    }))
}

/// Put UTM's original QEMU back (from the copy [`install_qemu`] kept).
pub(crate) fn restore_original_qemu() -> Result<()> {
    let original = original_path();
    if !original.is_file() {
        return Err(Error::invalid(
            "UTM original QEMU",
            original.display().to_string(),
            "helix has not kept one (it is kept by the first utm::install_qemu)",
        ));
    }
    crate::fs::copy(&original, &framework_binary())
}

/// UTM's caches folder.
pub(crate) fn caches_dir() -> PathBuf {
    super::container_library().join("Caches")
}

/// `YYYYMMDD-HHMMSS` in UTC, for dated folders.
pub(crate) fn stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (y, m, d, hh, mm, ss) = crate::clock::civil(secs);
    format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}")
}

/// Clear UTM's caches by moving everything in them aside into a dated folder next to them
/// (`…/Data/Library/helix-cleared-caches/<date>/`), so nothing is lost and `helix undo` can
/// move it back. Returns the folder (or `()` when there was nothing to clear).
pub(crate) fn clear_caches() -> Result<Option<PathBuf>> {
    let caches = caches_dir();
    let Ok(rd) = std::fs::read_dir(&caches) else {
        crate::ui::info(&format!("`{}` does not exist; no UTM caches to clear", caches.display()));
        return Ok(None);
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    if entries.is_empty() {
        return Ok(None);
    }
    let aside = super::container_library().join("helix-cleared-caches").join(stamp());
    crate::fs::mkdir(&aside)?;
    for e in entries {
        let name = e.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        crate::fs::rename(&e, &aside.join(name))?;
    }
    Ok(Some(aside))
}

/// Whether UTM is running (asks macOS through `osascript`).
pub(crate) fn is_running() -> Result<bool> {
    let out = Cmd::new(&["osascript", "-e", "application \"UTM\" is running"])
        .capture()
        .read_only()
        .run()?;
    Ok(out.stdout.trim() == "true")
}

/// Restart UTM so it loads a new QEMU: if it is running, list its running VMs and — only
/// after a person confirms (they lose guest state) — stop them; then quit UTM politely
/// (`osascript -e 'quit app "UTM"'`, never `killall`) and open it again. Returns what it did.
pub(crate) fn restart(mode: super::utmctl::StopMode) -> Result<Json> {
    if !is_running()? {
        crate::ui::info("UTM is not running; it loads the new QEMU when it next starts");
        return Ok(json!({ "was_running": false, "stopped": [] }));
    }
    let vms = super::utmctl::list()?;
    let running: Vec<&super::utmctl::Vm> = vms.iter().filter(|v| v.running()).collect();
    let mut stopped = Vec::new();
    if !running.is_empty() {
        let names: Vec<String> =
            running.iter().map(|v| format!("{} ({})", v.name, v.status)).collect();
        crate::ui::info(&format!("running in UTM: {}", names.join(", ")));
        let mut action = Action::new("utm.stop", format!("stop {} to restart UTM: {}", crate::count::count(running.len() as u64, "running UTM VM"), names.join(", ")))
            .args(json!({ "vms": running.iter().map(|v| v.uuid.clone()).collect::<Vec<_>>(), "mode": mode.flag() }));
        for v in &running {
            action = action.destroys(Target::Vm { name: v.name.clone() });
        }
        guard::act(action, || {
            for v in &running {
                super::utmctl::stop_confirmed(&v.uuid, mode)?;
            }
            Ok(())
        })?;
        if crate::run::current().dry_run {
            crate::ui::plan("would quit UTM (osascript quit app \"UTM\") and open it again");
            return Ok(json!({ "was_running": true, "stopped": [] }));
        }
        for v in &running {
            let ok =
                crate::wait::until(Duration::from_secs(90), Duration::from_millis(500), || {
                    super::utmctl::status(&v.uuid).ok().filter(|s| s == "stopped")
                })?;
            if ok.is_none() {
                return Err(Error::UtmRestart {
                    reason: format!(
                        "the VM `{}` did not stop within 90 s; UTM was not restarted — stop it with utm::stop(\"{}\", \"force\") and retry",
                        v.name, v.uuid
                    ),
                });
            }
            stopped.push(v.name.clone());
        }
    }
    Cmd::new(&["osascript", "-e", "quit app \"UTM\""]).quiet().run()?;
    if crate::run::current().dry_run {
        return Ok(json!({ "was_running": true, "stopped": stopped }));
    }
    let quit = crate::wait::until(Duration::from_secs(30), Duration::from_millis(250), || {
        is_running().ok().filter(|r| !r)
    })?;
    if quit.is_none() {
        return Err(Error::UtmRestart {
            reason: "UTM did not quit within 30 s (a dialog may be waiting in its window); quit it there and retry".into(),
        });
    }
    let app = super::app_path();
    Cmd::new(&["open", "-a", &app.display().to_string()]).quiet().run()?;
    Ok(json!({ "was_running": true, "stopped": stopped }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamp_is_a_date() {
        let s = super::stamp();
        assert_eq!(s.len(), 15, "{s}");
        assert!(s.starts_with("20") && s.as_bytes()[8] == b'-', "{s}");
    }
}
