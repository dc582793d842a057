//! `cloudinit::` — NoCloud seeds: user-data, meta-data and network-config from maps, and the
//! seed volume (FAT `CIDATA`, or ISO 9660 `cidata`) written natively.

use rhai::plugin::*;

use crate::cloudinit::{self, Seed, SeedFormat};
use crate::error::{Error, Result};

pub fn module() -> rhai::Module {
    exported_module!(cloudinit_api)
}

fn json(v: &Dynamic, what: &'static str) -> Result<serde_json::Value> {
    rhai::serde::from_dynamic(v)
        .map_err(|e| Error::invalid(what, v.to_string(), format!("cannot be written as YAML: {e}")))
}

/// A file's text: a string as it is, a map rendered by `render`.
fn text(
    v: Option<serde_json::Value>,
    render: fn(&serde_json::Value) -> Result<String>,
) -> Result<Option<String>> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(v) => render(&v).map(Some),
    }
}

/// `cloudinit::seed`'s options map: each file as a map or ready text.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOptions {
    user_data: Option<serde_json::Value>,
    meta_data: Option<serde_json::Value>,
    network_config: Option<serde_json::Value>,
    vendor_data: Option<serde_json::Value>,
    format: Option<String>,
}

fn seed_from(options: &rhai::Map) -> Result<(Seed, SeedFormat)> {
    let o: SeedOptions = crate::api::options::decode(options, "cloudinit::seed")?;
    let user_data = text(o.user_data, cloudinit::user_data)?
        .ok_or_else(|| Error::invalid("seed", "user_data", "a seed needs `user_data`"))?;
    let meta_data = text(o.meta_data, cloudinit::meta_data)?.ok_or_else(|| {
        Error::invalid("seed", "meta_data", "a seed needs `meta_data` (with an `instance-id`)")
    })?;
    let network_config = text(o.network_config, cloudinit::network_config)?;
    let vendor_data = text(o.vendor_data, cloudinit::user_data)?;
    let format = match o.format {
        Some(f) => SeedFormat::parse(&f)?,
        None => SeedFormat::Fat,
    };
    Ok((Seed { user_data, meta_data, network_config, vendor_data }, format))
}

#[export_module]
mod cloudinit_api {
    use super::*;
    use crate::error::{RhaiResult, rhai as r};

    /// `#cloud-config` user-data from a map (`users`, `packages`, `runcmd`, `write_files`, …).
    /// Every user needs a `name`; an empty SSH key is refused (it would lock you out).
    ///
    /// ```rhai
    /// let ud = cloudinit::user_data(#{ users: [#{ name: "luke", ssh_authorized_keys: ["ssh-ed25519 AAAA... me"] }] });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn user_data(ctx: NativeCallContext, config: rhai::Map) -> RhaiResult<String> {
        r(&ctx, json(&Dynamic::from(config), "user-data").and_then(|v| cloudinit::user_data(&v)))
    }

    /// `meta-data` YAML from a map; `instance-id` is required.
    ///
    /// ```rhai
    /// let md = cloudinit::meta_data(#{ "instance-id": "helix-vm-1", "local-hostname": "helix-vm" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn meta_data(ctx: NativeCallContext, config: rhai::Map) -> RhaiResult<String> {
        r(&ctx, json(&Dynamic::from(config), "meta-data").and_then(|v| cloudinit::meta_data(&v)))
    }

    /// `network-config` YAML (version 1 or 2) from a map.
    ///
    /// ```rhai
    /// let nc = cloudinit::network_config(#{ version: 2, ethernets: #{ id0: #{ "match": #{ driver: "virtio_net" }, dhcp4: true } } });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn network_config(ctx: NativeCallContext, config: rhai::Map) -> RhaiResult<String> {
        r(
            &ctx,
            json(&Dynamic::from(config), "network-config")
                .and_then(|v| cloudinit::network_config(&v)),
        )
    }

    /// Write a NoCloud seed volume to `dest`: `user_data`, `meta_data` (maps or ready text),
    /// optional `network_config`, `vendor_data`, and `format`: `"fat"` (default; label
    /// `CIDATA`) or `"iso"` (label `cidata`). Attach it read-only; add SMBIOS `serial=ds=nocloud`.
    ///
    /// ```rhai
    /// cloudinit::seed("/tmp/seed-fat.img", #{
    ///     user_data: #{ hostname: "helix-vm" },
    ///     meta_data: #{ "instance-id": "helix-vm-1" },
    /// });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn seed(ctx: NativeCallContext, dest: &str, options: rhai::Map) -> RhaiResult<()> {
        r(
            &ctx,
            seed_from(&options)
                .and_then(|(s, f)| cloudinit::write_seed(&crate::api::convert::path(dest), &s, f)),
        )
    }
}
