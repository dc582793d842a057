//! UTM: its VM bundles (`config.plist` + `Data/`), the registry in its preferences, its
//! command-line tool `utmctl`, and the app bundle (the QEMU framework helix installs into it,
//! its caches, a careful restart).
//!
//! Paths come from the config (`paths.utm_app`, `paths.utm_documents`, `paths.utm_preferences`)
//! so tests point helix at a fake `UTM.app` holding doubles of the macOS-only tools.

pub(crate) mod app;
pub(crate) mod arguments;
pub mod bundle;
pub(crate) mod constants;
pub(crate) mod registry;
pub mod schema;
pub(crate) mod utmctl;

use std::path::PathBuf;

fn config_path(key: &str, fallback: &str) -> PathBuf {
    let cfg = &crate::run::current().config;
    match cfg.get_str(key) {
        Some(v) => crate::paths::expand(v),
        None => crate::paths::expand(&crate::paths::system(fallback).display().to_string()),
    }
}

/// `UTM.app` (config `paths.utm_app`).
pub(crate) fn app_path() -> PathBuf {
    config_path("paths.utm_app", "/Applications/UTM.app")
}

/// UTM's Documents folder, where it keeps the bundles it created (config `paths.utm_documents`).
pub(crate) fn documents_dir() -> PathBuf {
    config_path("paths.utm_documents", "~/Library/Containers/com.utmapp.UTM/Data/Documents")
}

/// UTM's preferences plist, which holds its registry (config `paths.utm_preferences`).
pub(crate) fn preferences_path() -> PathBuf {
    config_path(
        "paths.utm_preferences",
        "~/Library/Containers/com.utmapp.UTM/Data/Library/Preferences/com.utmapp.UTM.plist",
    )
}

/// UTM's container `Data/Library` folder (next to the preferences).
pub(crate) fn container_library() -> PathBuf {
    let prefs = preferences_path();
    prefs
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use std::io::Read;
    let mut b = [0u8; N];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b)).is_err() {
        // No /dev/urandom (never on macOS/Linux): fall back to time and pid, still unique enough.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seed = t ^ ((std::process::id() as u128) << 64);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    b
}

/// A new random (version 4) UUID in upper case, as UTM writes them.
pub(crate) fn new_uuid() -> String {
    let mut b: [u8; 16] = random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Whether `s` is a UUID (8-4-4-4-12 hex digits), as UTM parses one.
pub(crate) fn is_uuid(s: &str) -> bool {
    schema::is_uuid(s)
}

/// A new MAC address in UTM's style: `52:42:` and four random bytes (locally administered, unicast).
pub(crate) fn new_mac() -> String {
    let b: [u8; 4] = random_bytes();
    format!("52:42:{:02X}:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2], b[3])
}

#[cfg(test)]
/// Whether `s` is a MAC address written as UTM writes them (six hex pairs and colons).
pub(crate) fn is_mac(s: &str) -> bool {
    schema::parse_mac(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_and_macs() {
        let u = new_uuid();
        assert!(is_uuid(&u) && u == u.to_uppercase() && &u[14..15] == "4", "{u}");
        assert_ne!(new_uuid(), new_uuid());
        assert!(is_mac(&new_mac()) && new_mac().starts_with("52:42:"));
        assert!(!is_uuid("17DC4F96-F1A9-4B51-962B") && !is_mac("52:42:00"));
    }
}
