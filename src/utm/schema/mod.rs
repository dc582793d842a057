//! UTM's `config.plist` schema (QEMU backend, ConfigurationVersion 4) as data, and the one
//! validator that `utm::create_bundle`, `utm::configure` and `utm::check` share — so "check
//! passes" means "UTM loads it", and helix never writes what UTM or QEMU would refuse.
//!
//! Read from UTM's source (utmapp/UTM, `Configuration/`): each section's `init(from:)` says
//! which keys are required (`decode`) and which optional (`decodeIfPresent`):
//! `UTMQemuConfiguration.swift` (top level), `UTMConfigurationInfo.swift`,
//! `UTMQemuConfigurationSystem.swift`, `UTMQemuConfigurationQEMU.swift`,
//! `UTMQemuConfigurationInput.swift`, `UTMQemuConfigurationSharing.swift`,
//! `UTMQemuConfigurationDisplay.swift`, `UTMQemuConfigurationDrive.swift`,
//! `UTMQemuConfigurationNetwork.swift`, `UTMQemuConfigurationPortForward.swift` (with the
//! lower-case keys UTM before 4.4 wrote), `UTMQemuConfigurationSerial.swift`,
//! `UTMConfigurationTerminal.swift`, `UTMQemuConfigurationSound.swift`. The enums and their
//! case-exact raw values are `QEMUConstant.swift`'s; the per-architecture targets, CPUs and
//! devices are `QEMUConstantGenerated.swift`'s (data in [`super::constants`]).
//!
//! Severity follows what UTM does with a value:
//! - **error**: UTM refuses to load the file (a missing required key, a wrong type, a value
//!   outside a `QEMUConstant` enum — its decoder throws `invalidConfigurationValue` — a target
//!   the architecture does not have, a malformed UUID), or QEMU refuses to start (a malformed
//!   MAC, a port outside 1–65535).
//! - **warning**: UTM loads it but the VM will not work as written: an unknown CPU (UTM resets
//!   it to `default`), a device UTM's QEMU does not have (`AnyQEMUConstant`: UTM accepts any
//!   string, QEMU refuses to start), a multicast or all-zero MAC (the guest ignores it and makes
//!   up its own, breaking MAC-matched netplan), an unknown built-in icon, a key UTM does not
//!   know (dropped on its next save).
//!
//! `create_bundle` refuses errors and warnings alike; `configure` refuses any finding its
//! change adds; `check` reports them all.
//!
//! This file holds what a finding is; `keys.rs` the schema as data (every section's keys and
//! their types, UTM's enums, the per-architecture tables), `rules.rs` the rules for single
//! values (UUIDs, MACs, "did you mean"), `validate.rs` the validator walking a tree.

use serde_json::{Value as Json, json};

mod keys;
mod rules;
mod validate;

pub use keys::*;
pub(crate) use rules::*;
pub(crate) use validate::*;

/// How bad a finding is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One thing wrong with a bundle: `kind` names the rule, `path` the key path or file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    pub severity: Severity,
    pub kind: &'static str,
    pub path: String,
    pub message: String,
}

impl Finding {
    pub(crate) fn error(
        kind: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding { severity: Severity::Error, kind, path: path.into(), message: message.into() }
    }
    pub(crate) fn warning(
        kind: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding { severity: Severity::Warning, kind, path: path.into(), message: message.into() }
    }
    pub(crate) fn to_json(&self) -> Json {
        json!({
            "severity": self.severity.name(),
            "kind": self.kind,
            "path": self.path,
            "message": self.message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::constants as c;
    use super::*;
    use plist::Value;

    #[test]
    fn suggestions_find_the_case_exact_value_and_aliases() {
        assert_eq!(suggest("virtio", INTERFACES), Some("VirtIO"));
        assert_eq!(suggest("virtfs", SHARE_MODES), Some("VirtFS"));
        assert_eq!(suggest("arm64", c::ARCHITECTURES), Some("aarch64"));
        assert_eq!(suggest("amd64", c::ARCHITECTURES), Some("x86_64"));
        assert_eq!(suggest("Emulatd", NETWORK_MODES), Some("Emulated"));
        assert_eq!(suggest("sctp", PROTOCOLS), None);
        assert!(expected("sctp", PROTOCOLS).contains("`TCP`, `UDP`"));
        assert!(expected("virtio", INTERFACES).starts_with("did you mean `VirtIO`?"));
        let long = expected("zzz", c::AARCH64_TARGETS);
        assert!(long.contains("values in all"), "{long}");
    }

    #[test]
    fn macs_and_uuids() {
        assert!(mac_problem("52:42:0A:1B:2C:3D").is_none());
        assert!(mac_problem("52:42:0a:1b:2c:3d").is_none());
        assert_eq!(mac_problem("52:42:0A:1B:2C").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52-42-0A-1B-2C-3D").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52:42:0A:1B:2C:3G").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("52:42:0A:1B:2C:3DD").unwrap().0, Severity::Error);
        assert_eq!(mac_problem("01:00:5E:00:00:01").unwrap().0, Severity::Warning);
        assert_eq!(mac_problem("FF:FF:FF:FF:FF:FF").unwrap().0, Severity::Warning);
        assert_eq!(mac_problem("00:00:00:00:00:00").unwrap().0, Severity::Warning);
        assert!(is_uuid("17dc4f96-f1a9-4b51-962b-03d85998e0e7"));
        assert!(!is_uuid("17DC4F96F1A94B51962B03D85998E0E7"));
        assert!(!is_uuid("17DC4F96-F1A9-4B51-962B-03D85998E0EZ"));
    }

    #[test]
    fn other_architectures_are_known_but_unchecked_and_uefi_needs_firmware() {
        let spec = crate::utm::bundle::NewBundle::default();
        let mut root = crate::utm::bundle::new_config(&spec, &[]).unwrap();
        assert_eq!(validate(&root), vec![]);
        crate::plist::set(&mut root, "System.Architecture", Value::String("sparc64".into()))
            .unwrap();
        let f = validate(&root);
        assert!(
            f.iter().any(|f| f.path == "QEMU.UEFIBoot" && f.severity == Severity::Error),
            "{f:?}"
        );
        let unchecked: Vec<&str> =
            f.iter().filter(|f| f.kind == "unchecked").map(|f| f.path.as_str()).collect();
        assert!(unchecked.contains(&"System.Target") && unchecked.contains(&"System.CPU"));
        assert!(f.iter().all(|f| f.kind != "bad-value" || f.path == "QEMU.UEFIBoot"), "{f:?}");
    }

    #[test]
    fn the_tables_hold_what_helix_writes() {
        assert!(c::AARCH64_TARGETS.contains(&"virt") && c::X86_64_TARGETS.contains(&"q35"));
        assert!(!c::AARCH64_TARGETS.contains(&"q35") && !c::X86_64_TARGETS.contains(&"virt"));
        for arch in KNOWN_ARCHITECTURES {
            assert!(targets(arch).unwrap().contains(&default_target(arch).unwrap()));
            assert!(cpus(arch).unwrap().contains(&"default"));
            assert!(devices(arch, Device::Display).unwrap().contains(&"virtio-gpu-gl-pci"));
            assert!(devices(arch, Device::Network).unwrap().contains(&"virtio-net-pci"));
            assert!(devices(arch, Device::Sound).unwrap().contains(&"intel-hda"));
        }
        assert!(c::ICONS.contains(&"linux") && c::ICONS.contains(&"ubuntu"));
    }
}
