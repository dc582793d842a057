//! A TCP/UDP port as an option: a whole number 1–65535, checked when the options are read.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::error::Error;

/// A port, 1–65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Port(pub u16);

/// What a port is, in the words of every port error.
pub(crate) const RULE: &str = "the port must be a number from 1 to 65535";

impl Port {
    /// `n` if it is a port, else an error saying what a port is.
    pub(crate) fn new(n: i64) -> crate::error::Result<Port> {
        u16::try_from(n)
            .ok()
            .filter(|p| *p > 0)
            .map(Port)
            .ok_or_else(|| Error::invalid("port", n.to_string(), RULE))
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
                Port::new(n).map_err(|_| E::custom(format!("`{n}`: {RULE}")))
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
            assert!(e.contains("from 1 to 65535"), "{bad}: {e}");
        }
        let e = read(serde_json::json!("22")).unwrap_err();
        assert!(e.contains("a port number"), "{e}");
        assert_eq!(Port::new(0).unwrap_err().to_string(), format!("invalid port `0`: {RULE}"));
    }
}
