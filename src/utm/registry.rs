//! The VMs UTM knows: its preferences plist (`VMEntryList`, the ordered UUIDs, and `Registry`,
//! UUID → `{Name, Package: {Path, Bookmark, …}, …}`) and the `.utm` bundles in its Documents.
//!
//! UTM 5 registers a bundle only through its own UI (File > Open, drag and drop, or opening the
//! bundle with `open -a UTM`): the registry holds security-scoped bookmarks that only the app
//! can make, and bookmarks written by other tools are silently ignored. So helix never writes
//! the registry; [`register`] offers `open -a UTM <bundle>`.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::process::Cmd;

/// One VM in UTM's registry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub uuid: String,
    pub name: Option<String>,
    pub path: Option<PathBuf>,
    /// Listed in `VMEntryList` (shown in UTM's sidebar).
    pub listed: bool,
}

impl Entry {
    pub(crate) fn exists(&self) -> bool {
        self.path.as_ref().is_some_and(|p| p.join(super::bundle::CONFIG).is_file())
    }
    pub(crate) fn to_json(&self) -> Json {
        json!({ "uuid": self.uuid, "name": self.name, "path": self.path, "exists": self.exists(), "listed": self.listed })
    }
}

/// Read the registry from a preferences plist (missing file: UTM never ran here → empty).
pub(crate) fn entries_from(prefs: &Path) -> Result<Vec<Entry>> {
    if !prefs.exists() {
        return Ok(vec![]);
    }
    let doc = crate::plist::read(prefs)?;
    let listed: Vec<String> = doc
        .root
        .get("VMEntryList")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_string().map(String::from)).collect())
        .unwrap_or_default();
    let registry = doc.root.get("Registry").and_then(|v| v.as_dictionary());
    let mut out: Vec<Entry> = Vec::new();
    let mut push = |uuid: &str, listed: bool| {
        if out.iter().any(|e| e.uuid == uuid) {
            return;
        }
        let entry = registry.and_then(|r| r.get(uuid)).and_then(|v| v.as_dictionary());
        let name = entry.and_then(|e| e.get("Name")).and_then(|v| v.as_string()).map(String::from);
        let path = entry
            .and_then(|e| e.get("Package"))
            .and_then(|v| v.as_dictionary())
            .and_then(|p| p.get("Path"))
            .and_then(|v| v.as_string())
            .map(|s| PathBuf::from(s.strip_prefix("file://").unwrap_or(s)));
        out.push(Entry { uuid: uuid.to_string(), name, path, listed });
    };
    for u in &listed {
        push(u, true);
    }
    if let Some(r) = registry {
        for k in r.keys() {
            push(k, false);
        }
    }
    Ok(out)
}

pub(crate) fn entries() -> Result<Vec<Entry>> {
    entries_from(&super::preferences_path())
}

/// `.utm` bundles directly inside `dir`, as `(path, Information.UUID)` (unreadable ones have
/// no UUID).
pub(crate) fn bundles_in(dir: &Path) -> Vec<(PathBuf, Option<String>, Option<String>)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    let mut out: Vec<(PathBuf, Option<String>, Option<String>)> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("utm") && p.is_dir())
        .map(|p| {
            let b = super::bundle::open(&p).ok();
            let uuid = b.as_ref().and_then(|b| b.uuid());
            let name = b.as_ref().map(|b| b.name());
            (p, uuid, name)
        })
        .collect();
    out.sort();
    out
}

/// The bundles in UTM's Documents folder, each with whether the registry knows it.
pub(crate) fn documents() -> Result<Vec<Json>> {
    let reg = entries()?;
    Ok(bundles_in(&super::documents_dir())
        .into_iter()
        .map(|(p, uuid, name)| {
            let registered = is_registered(&reg, &p);
            json!({ "path": p, "uuid": uuid, "name": name, "registered": registered })
        })
        .collect())
}

fn is_registered(reg: &[Entry], bundle: &Path) -> bool {
    let me = crate::paths::resolve(bundle);
    reg.iter().any(|e| e.path.as_ref().is_some_and(|p| crate::paths::resolve(p) == me))
}

/// Every (bundle path, UUID) helix can see: registry entries and Documents bundles. Used by
/// `check` to find duplicate VM UUIDs.
pub(crate) fn known_uuids() -> Vec<(PathBuf, String)> {
    let mut out: Vec<(PathBuf, String)> =
        entries().unwrap_or_default().into_iter().filter_map(|e| Some((e.path?, e.uuid))).collect();
    for (p, u, _) in bundles_in(&super::documents_dir()) {
        if let Some(u) = u {
            out.push((p, u));
        }
    }
    out
}

/// Why helix cannot register a bundle itself, and what to run.
pub(crate) fn not_registered_error(bundle: &Path) -> Error {
    Error::UtmNotRegistered { bundle: bundle.to_path_buf() }
}

/// Make sure UTM knows `bundle`: if the registry has it, nothing to do (returns false);
/// otherwise, asked at the terminal (or `--yes`), open it with `open -a UTM <bundle>`
/// (returns true); with nobody to ask, the error explains the one way UTM 5 registers bundles.
pub(crate) fn register(bundle: &Path) -> Result<bool> {
    super::bundle::open(bundle)?;
    let reg = entries()?;
    if is_registered(&reg, bundle) {
        return Ok(false);
    }
    let prompt = format!(
        "UTM does not know `{}` yet; open it in UTM now (`open -a UTM …`)?",
        bundle.display()
    );
    let yes = match crate::ui::confirm(&prompt, None) {
        Ok(yes) => yes,
        Err(_) => return Err(not_registered_error(bundle)),
    };
    if !yes {
        return Err(not_registered_error(bundle));
    }
    open_in_utm(bundle)?;
    Ok(true)
}

/// `open -a UTM <bundle>` (UTM shows it and adds it to its registry).
pub(crate) fn open_in_utm(bundle: &Path) -> Result<()> {
    let app = super::app_path();
    let target = if app.exists() { app.display().to_string() } else { "UTM".to_string() };
    Cmd::new(&["open", "-a", &target, &bundle.display().to_string()]).quiet().run()?;
    Ok(())
}
