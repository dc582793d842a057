//! A TCP/UDP port as an option: a whole number 1–65535, checked when the options are read.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(pub u16);

impl Port {
    /// `n` if it is a port, else why not.
    pub fn new(n: i64) -> Result<Port, String> {
        u16::try_from(n)
            .ok()
            .filter(|p| *p > 0)
            .map(Port)
            .ok_or_else(|| format!("{n} is not a port: give 1-65535"))
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number 1-65535")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Port, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Port, E> {
                Port::new(n).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: serde_json::Value) -> Result<Port, String> {
        serde_json::from_value::<Port>(v).map_err(|e| e.to_string())
    }

    #[test]
    fn ports_are_1_to_65535() {
        assert_eq!(read(serde_json::json!(22)).unwrap(), Port(22));
        assert_eq!(read(serde_json::json!(65535)).unwrap(), Port(65535));
        for bad in [0, -1, 65536] {
            let e = read(serde_json::json!(bad)).unwrap_err();
            assert!(e.contains("give 1-65535"), "{bad}: {e}");
        }
        let e = read(serde_json::json!("22")).unwrap_err();
        assert!(e.contains("a port number"), "{e}");
    }
}
