//! cloud-init NoCloud seeds: `user-data` (`#cloud-config` + YAML), `meta-data` and
//! `network-config` from plain values, and the seed volume written natively — a FAT volume
//! labelled `CIDATA` (what the legacy provisioner used; an ISO from `hdiutil` was unreliable
//! under UEFI) or an ISO 9660 volume labelled `cidata`. No mtools, mkisofs or hdiutil.

pub(crate) mod fat;
pub(crate) mod iso;

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

/// Which kind of volume the seed is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeedFormat {
    #[default]
    Fat,
    Iso,
}

impl SeedFormat {
    pub(crate) fn parse(s: &str) -> Result<SeedFormat> {
        match s.to_ascii_lowercase().as_str() {
            "fat" | "vfat" | "fat12" => Ok(SeedFormat::Fat),
            "iso" | "iso9660" => Ok(SeedFormat::Iso),
            _ => Err(Error::invalid(
                "seed format",
                s,
                "use \"fat\" (label CIDATA) or \"iso\" (label cidata)",
            )),
        }
    }
}

/// The files of a NoCloud seed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seed {
    pub user_data: String,
    pub meta_data: String,
    pub network_config: Option<String>,
    pub vendor_data: Option<String>,
}

/// YAML for a value (keys in the order given; strings quoted where YAML would misread them).
pub(crate) fn to_yaml(v: &Value) -> Result<String> {
    serde_norway::to_string(v)
        .map_err(|e| Error::Encode { what: "YAML".into(), message: e.to_string() })
}

fn expect_map<'a>(v: &'a Value, what: &'static str) -> Result<&'a serde_json::Map<String, Value>> {
    v.as_object().ok_or_else(|| Error::invalid(what, v.to_string(), "expected a map"))
}

/// `#cloud-config` user-data from a map (`users`, `packages`, `runcmd`, `write_files`, …).
pub fn user_data(v: &Value) -> Result<String> {
    let m = expect_map(v, "user-data")?;
    if let Some(users) = m.get("users") {
        let users = users
            .as_array()
            .ok_or_else(|| Error::invalid("user-data", "users", "expected an array of users"))?;
        for u in users {
            let named = u.as_str().is_some()
                || u.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
            if !named {
                return Err(Error::invalid(
                    "user-data",
                    u.to_string(),
                    "every entry of `users` needs a `name` (or is \"default\")",
                ));
            }
            if let Some(keys) = u.get("ssh_authorized_keys") {
                let ok = keys.as_array().is_some_and(|a| {
                    a.iter().all(|k| k.as_str().is_some_and(|k| !k.trim().is_empty()))
                });
                if !ok {
                    return Err(Error::invalid(
                        "user-data",
                        keys.to_string(),
                        "`ssh_authorized_keys` must be an array of non-empty public keys (an empty key locks you out)",
                    ));
                }
            }
        }
    }
    for key in ["packages", "runcmd", "write_files", "bootcmd"] {
        if m.get(key).is_some_and(|x| !x.is_array()) {
            return Err(Error::invalid("user-data", key, "expected an array"));
        }
    }
    if let Some(files) = m.get("write_files").and_then(Value::as_array) {
        for f in files {
            if f.get("path").and_then(Value::as_str).is_none_or(|p| !p.starts_with('/')) {
                return Err(Error::invalid(
                    "user-data",
                    f.to_string(),
                    "every `write_files` entry needs an absolute `path`",
                ));
            }
        }
    }
    Ok(format!("#cloud-config\n{}", to_yaml(v)?))
}

/// `meta-data` from a map; `instance-id` is required (a new one makes cloud-init run again).
pub fn meta_data(v: &Value) -> Result<String> {
    let m = expect_map(v, "meta-data")?;
    if m.get("instance-id").and_then(Value::as_str).is_none_or(str::is_empty) {
        return Err(Error::invalid("meta-data", v.to_string(), "it needs an `instance-id` string"));
    }
    to_yaml(v)
}

/// `network-config` (version 1 or 2) from a map, with or without the top-level `network:` key.
pub(crate) fn network_config(v: &Value) -> Result<String> {
    let m = expect_map(v, "network-config")?;
    let inner = m.get("network").map(|n| expect_map(n, "network-config")).transpose()?.unwrap_or(m);
    match inner.get("version").and_then(Value::as_i64) {
        Some(1 | 2) => to_yaml(v),
        _ => Err(Error::invalid(
            "network-config",
            v.to_string(),
            "it needs `version: 1` or `version: 2`",
        )),
    }
}

impl Seed {
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut f = vec![
            ("user-data".to_string(), self.user_data.clone().into_bytes()),
            ("meta-data".to_string(), self.meta_data.clone().into_bytes()),
        ];
        if let Some(n) = &self.network_config {
            f.push(("network-config".into(), n.clone().into_bytes()));
        }
        if let Some(v) = &self.vendor_data {
            f.push(("vendor-data".into(), v.clone().into_bytes()));
        }
        f
    }

    /// The seed volume's bytes.
    pub fn image(&self, format: SeedFormat) -> Result<Vec<u8>> {
        if !self.user_data.starts_with("#cloud-config")
            && !self.user_data.starts_with("#!")
            && !self.user_data.is_empty()
        {
            return Err(Error::invalid(
                "user-data",
                self.user_data.lines().next().unwrap_or_default(),
                "user-data must start with `#cloud-config` (or `#!` for a script)",
            ));
        }
        if self.meta_data.trim().is_empty() {
            return Err(Error::invalid(
                "meta-data",
                "",
                "a seed needs meta-data with an `instance-id`",
            ));
        }
        match format {
            SeedFormat::Fat => fat::image("CIDATA", &self.files()),
            SeedFormat::Iso => iso::image("cidata", &self.files()),
        }
    }
}

/// Write the seed volume to `dest` (atomically, through the guard; an older seed is kept).
pub fn write_seed(dest: &Path, seed: &Seed, format: SeedFormat) -> Result<()> {
    let bytes = seed.image(format)?;
    crate::fs::write(dest, &bytes, Some(0o644))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_data_is_cloud_config_yaml() {
        let u = user_data(&json!({
            "users": [{"name": "luke", "sudo": "ALL=(ALL) NOPASSWD:ALL", "ssh_authorized_keys": ["ssh-ed25519 AAAA x@y"]}],
            "packages": ["curl", "yes"],
            "runcmd": [["touch", "/x"], "echo 'a: b'"],
            "write_files": [{"path": "/etc/a", "content": "line1\nline2\n", "permissions": "0644"}],
        }))
        .unwrap();
        assert!(u.starts_with("#cloud-config\n"), "{u}");
        let back: Value = serde_norway::from_str(&u).unwrap();
        assert_eq!(back["packages"][1], "yes", "`yes` stays a string: {u}");
        assert_eq!(back["runcmd"][1], "echo 'a: b'");
        assert_eq!(back["write_files"][0]["content"], "line1\nline2\n");
        assert_eq!(back["write_files"][0]["permissions"], "0644");
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(user_data(&json!([1])).is_err());
        let e = user_data(&json!({"users": [{"name": "u", "ssh_authorized_keys": [""]}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("locks you out"), "{e}");
        assert!(user_data(&json!({"users": [{"sudo": "x"}]})).is_err());
        assert!(user_data(&json!({"write_files": [{"path": "rel", "content": ""}]})).is_err());
        assert!(user_data(&json!({"runcmd": "ls"})).is_err());
        assert!(
            meta_data(&json!({"local-hostname": "h"}))
                .unwrap_err()
                .to_string()
                .contains("instance-id")
        );
        assert!(
            network_config(&json!({"ethernets": {}})).unwrap_err().to_string().contains("version")
        );
        assert!(network_config(&json!({"network": {"version": 2}})).is_ok());
        let s = Seed {
            user_data: "users: []".into(),
            meta_data: "instance-id: x".into(),
            ..Default::default()
        };
        assert!(s.image(SeedFormat::Fat).unwrap_err().to_string().contains("#cloud-config"));
        assert!(SeedFormat::parse("udf").is_err());
    }
}
