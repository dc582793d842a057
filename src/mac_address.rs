//! A NIC's MAC address as an option: six hex pairs, unicast and not all zeros, checked when the
//! options are read so a bad one names its key before anything runs.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A MAC address, kept as written (`52:54:00:12:34:56`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MacAddress(pub String);

impl MacAddress {
    /// `s` if a NIC can use it, else why not.
    pub(crate) fn parse(s: &str) -> Result<MacAddress, String> {
        match crate::utm::schema::mac_problem(s) {
            None => Ok(MacAddress(s.to_string())),
            Some((_, why)) => Err(format!("`{s}` is not a NIC's MAC address: {why}")),
        }
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MacAddress;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a MAC address string like \"52:54:00:12:34:56\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<MacAddress, E> {
                MacAddress::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: serde_json::Value) -> Result<MacAddress, String> {
        serde_json::from_value::<MacAddress>(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_unicast_mac_is_kept_as_written() {
        assert_eq!(read(serde_json::json!("52:54:00:ab:CD:0f")).unwrap().0, "52:54:00:ab:CD:0f");
    }

    #[test]
    fn malformed_multicast_and_zero_macs_are_refused() {
        let e = read(serde_json::json!("52:54:00:12:34")).unwrap_err();
        assert!(e.contains("six hex pairs"), "{e}");
        let e = read(serde_json::json!("01:00:00:00:00:01")).unwrap_err();
        assert!(e.contains("multicast"), "{e}");
        let e = read(serde_json::json!("00:00:00:00:00:00")).unwrap_err();
        assert!(e.contains("all zeros"), "{e}");
        let e = read(serde_json::json!(5)).unwrap_err();
        assert!(e.contains("MAC address string"), "{e}");
    }
}
