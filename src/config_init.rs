//! `helix config init`: find the VMs UTM knows on this machine (its registry and `utmctl
//! list`), show them, ask once which one is the Helix VM, and write its name, UUID and bundle
//! into the user's config file — so every recipe names *this* user's VM, never a default.
//!
//! The user's file is edited in place (comments and other keys kept: only the `[vm]` keys
//! written here change), atomically, with the previous version kept in helix's trash
//! (`helix trash list`).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};

/// A VM found on this machine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    pub uuid: String,
    pub name: String,
    pub bundle: Option<PathBuf>,
    /// From `utmctl list` (`started`, `stopped`, …), when utmctl answered.
    pub status: Option<String>,
}

impl Found {
    fn label(&self) -> String {
        let mut s = format!("{} ({})", self.name, self.uuid);
        if let Some(st) = &self.status {
            s.push_str(&format!(", {st}"));
        }
        if let Some(b) = &self.bundle {
            s.push_str(&format!(" — {}", b.display()));
        }
        s
    }
}

/// Every VM UTM's registry and `utmctl list` know, merged by UUID; plus what could not be
/// asked (utmctl missing or refused), for the person to see.
pub(crate) fn find_vms(config: &Config) -> (Vec<Found>, Vec<String>) {
    let mut notes = Vec::new();
    let prefs = crate::paths::expand(config.get_str("paths.utm_preferences").unwrap_or(""));
    let mut out: Vec<Found> = match crate::utm::registry::entries_from(&prefs) {
        Ok(es) => es
            .into_iter()
            .map(|e| Found {
                name: e.name.clone().unwrap_or_else(|| "(no name)".into()),
                uuid: e.uuid,
                bundle: e.path,
                status: None,
            })
            .collect(),
        Err(e) => {
            notes.push(format!("UTM's registry could not be read: {e}"));
            vec![]
        }
    };
    match crate::utm::utmctl::path().and_then(|_| crate::utm::utmctl::list()) {
        Ok(vms) => {
            for v in vms {
                match out.iter_mut().find(|f| f.uuid.eq_ignore_ascii_case(&v.uuid)) {
                    Some(f) => f.status = Some(v.status),
                    None => out.push(Found {
                        uuid: v.uuid,
                        name: v.name,
                        bundle: None,
                        status: Some(v.status),
                    }),
                }
            }
        }
        Err(e) => notes.push(format!("utmctl list: {e}")),
    }
    (out, notes)
}

/// Pick the VM: `wanted` (a name or UUID) without asking, else a menu at the terminal.
/// `None` means "none of these" (provision-vm will make one).
pub(crate) fn choose(
    found: &[Found],
    wanted: Option<&str>,
    current: &str,
) -> Result<Option<Found>> {
    if let Some(w) = wanted {
        return found
            .iter()
            .find(|f| f.uuid.eq_ignore_ascii_case(w))
            .or_else(|| found.iter().find(|f| f.name == w))
            .cloned()
            .map(Some)
            .ok_or_else(|| {
                Error::invalid("VM", w, format!("UTM knows no such VM; it knows: {}", list(found)))
            });
    }
    if found.is_empty() {
        return Ok(None);
    }
    if !crate::ui::interactive() {
        return Err(Error::NoTerminal {
            question: "Which VM is the Helix VM?".into(),
            hint: format!("pass --vm NAME_OR_UUID (found: {})", list(found)),
        });
    }
    let mut items: Vec<String> = found.iter().map(Found::label).collect();
    items.push("None of these: provision-vm will make a new one".into());
    let default = found.iter().position(|f| f.name == current).unwrap_or(items.len() - 1);
    let i = crate::ui::select("Which of these is the Helix VM?", &items, Some(default))?;
    Ok(found.get(i).cloned())
}

fn list(found: &[Found]) -> String {
    if found.is_empty() {
        return "none".into();
    }
    found.iter().map(|f| format!("`{}` ({})", f.name, f.uuid)).collect::<Vec<_>>().join(", ")
}

/// `text` (a TOML file) with `keys` set in its `[vm]` table: an existing `key = …` line of
/// that table is replaced, a missing one added after the header, a missing table appended.
/// Everything else — comments, other tables, their order — stays as it was.
pub(crate) fn set_vm_keys(text: &str, keys: &[(&str, String)]) -> Result<String> {
    let quoted = |v: &str| toml::Value::String(v.to_string()).to_string();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header = lines.iter().position(|l| l.trim() == "[vm]");
    match header {
        None => {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push("[vm]".into());
            for (k, v) in keys {
                lines.push(format!("{k} = {}", quoted(v)));
            }
        }
        Some(h) => {
            let end = lines[h + 1..]
                .iter()
                .position(|l| l.trim_start().starts_with('['))
                .map(|i| h + 1 + i)
                .unwrap_or(lines.len());
            let mut insert_at = h + 1;
            for (k, v) in keys {
                let line = format!("{k} = {}", quoted(v));
                let existing = (h + 1..end).find(|&i| {
                    let l = lines[i].trim_start();
                    l.strip_prefix(k).is_some_and(|rest| rest.trim_start().starts_with('='))
                });
                match existing {
                    Some(i) => lines[i] = line,
                    None => {
                        lines.insert(insert_at, line);
                        insert_at += 1;
                    }
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    // The edit must leave valid TOML holding exactly these values.
    let parsed: toml::Table = out
        .parse()
        .map_err(|e: toml::de::Error| Error::ConfigEdit { table: "vm", why: e.to_string() })?;
    for (k, v) in keys {
        let got = parsed.get("vm").and_then(|t| t.get(*k)).and_then(|x| x.as_str());
        if got != Some(v.as_str()) {
            return Err(Error::ConfigEdit {
                table: "vm",
                why: format!("`vm.{k}` did not take; edit it by hand"),
            });
        }
    }
    Ok(out)
}

/// `helix config init`: find, ask, write (or say why nothing was written).
pub(crate) fn run(config: &Config, wanted: Option<&str>) -> Result<()> {
    let (found, notes) = find_vms(config);
    for n in &notes {
        crate::ui::info(n);
    }
    if found.is_empty() {
        crate::ui::info("UTM knows no VM on this machine yet");
    } else {
        crate::ui::header(&format!(
            "{} UTM knows on this machine",
            crate::count::count(found.len() as u64, "VM")
        ));
        for f in &found {
            eprintln!("  {}", f.label());
        }
    }
    let current = config.get_str("vm.name").unwrap_or("");
    let Some(vm) = choose(&found, wanted, current)? else {
        crate::ui::info(&format!(
            "nothing written: `helix run provision-vm` makes the VM `{current}` (vm.name), and recipes find it by that name"
        ));
        return Ok(());
    };
    let file = crate::config::config_dir().join("config.toml");
    let mut keys = vec![("name", vm.name.clone()), ("uuid", vm.uuid.clone())];
    if let Some(b) = &vm.bundle {
        keys.push(("bundle", b.display().to_string()));
    }
    write_keys(&file, &keys)?;
    crate::ui::success(&format!(
        "wrote {} to {} (`helix config` shows them)",
        keys.iter().map(|(k, _)| format!("vm.{k}")).collect::<Vec<_>>().join(", "),
        file.display()
    ));
    Ok(())
}

fn write_keys(file: &Path, keys: &[(&str, String)]) -> Result<()> {
    let text = if file.exists() { crate::fs::read(file)? } else { String::new() };
    let new = set_vm_keys(&text, keys)?;
    if let Some(dir) = file.parent() {
        crate::fs::mkdir(dir)?;
    }
    crate::fs::write(file, new.as_bytes(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<(&'static str, String)> {
        vec![("name", "My VM".into()), ("uuid", "A-B".into())]
    }

    #[test]
    fn a_new_file_gets_a_vm_table() {
        let out = set_vm_keys("", &keys()).unwrap();
        assert_eq!(out, "[vm]\nname = \"My VM\"\nuuid = \"A-B\"\n");
    }

    #[test]
    fn an_existing_table_is_edited_in_place_keeping_everything_else() {
        let text = "# mine\n[paths]\npm = \"~/code\" # here\n\n[vm]\n# the VM\nname = \"old\"\nssh_port = 2300\n\n[vm.qemu]\nsmp = 2\nuuid = \"not this one\"\n";
        let out = set_vm_keys(text, &keys()).unwrap();
        assert_eq!(
            out,
            "# mine\n[paths]\npm = \"~/code\" # here\n\n[vm]\nuuid = \"A-B\"\n# the VM\nname = \"My VM\"\nssh_port = 2300\n\n[vm.qemu]\nsmp = 2\nuuid = \"not this one\"\n"
        );
    }

    #[test]
    fn a_file_without_a_vm_table_gets_one_appended() {
        let out = set_vm_keys("[paths]\npm = \"/x\"", &keys()).unwrap();
        assert_eq!(out, "[paths]\npm = \"/x\"\n\n[vm]\nname = \"My VM\"\nuuid = \"A-B\"\n");
    }

    #[test]
    fn quotes_and_backslashes_stay_valid_toml() {
        let k = vec![("name", "a \"quoted\" \\ name".to_string())];
        let out = set_vm_keys("", &k).unwrap();
        let t: toml::Table = out.parse().unwrap();
        assert_eq!(t["vm"]["name"].as_str(), Some("a \"quoted\" \\ name"));
    }

    #[test]
    fn an_edit_that_would_not_take_is_refused() {
        // `vm` defined with dotted keys at the top: a [vm] header cannot be added.
        let err = set_vm_keys("vm.name = \"x\"\n", &keys()).unwrap_err().to_string();
        assert!(err.contains("could not edit"), "{err}");
    }

    #[test]
    fn choosing_by_name_or_uuid_and_unknown_names_list_what_exists() {
        let found = vec![Found {
            uuid: "17DC4F96-F1A9-4B51-962B-03D85998E0E7".into(),
            name: "dev".into(),
            bundle: None,
            status: None,
        }];
        assert_eq!(choose(&found, Some("dev"), "").unwrap().unwrap().name, "dev");
        let lower = "17dc4f96-f1a9-4b51-962b-03d85998e0e7";
        assert_eq!(choose(&found, Some(lower), "").unwrap().unwrap().name, "dev");
        let err = choose(&found, Some("prod"), "").unwrap_err().to_string();
        assert!(err.contains("`dev` (17DC4F96"), "{err}");
        assert_eq!(choose(&[], None, "").unwrap(), None);
    }
}
