//! Memory in MiB, the one rule for every `memory` option (QEMU's and UTM's): a number is MiB,
//! a string is a size (`"8G"`, `"512M"`) that must come to whole MiB; either way more than 0.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::error::{Error, Result};

/// A count of MiB read from a number of MiB or a size string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mib(pub u64);

const RULE: &str =
    "give a number of MiB (e.g. 2048) or a size like \"2G\", in whole MiB and more than 0 MiB";

impl Mib {
    /// From a count of MiB: more than 0.
    pub(crate) fn from_count(n: i64) -> Result<Mib> {
        u64::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .map(Mib)
            .ok_or_else(|| Error::invalid("memory", n.to_string(), RULE))
    }

    /// From a size string: whole MiB, more than 0.
    pub(crate) fn parse(s: &str) -> Result<Mib> {
        let bytes = super::parse(s)?;
        if bytes == 0 || !bytes.is_multiple_of(1 << 20) {
            return Err(Error::invalid("memory", s, RULE));
        }
        Ok(Mib(bytes >> 20))
    }

    pub(crate) fn bytes(self) -> u64 {
        self.0 << 20
    }
}

impl<'de> Deserialize<'de> for Mib {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Mib;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("memory: MiB as a number (e.g. 2048) or a size like \"2G\"")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Mib, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Mib, E> {
                Mib::from_count(n).map_err(|_| E::custom(format!("`{n}`: {RULE}")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Mib, E> {
                Mib::parse(s).map_err(|e| match e {
                    Error::Invalid { what: "memory", .. } => E::custom(format!("`{s}`: {RULE}")),
                    other => E::custom(other),
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: serde_json::Value) -> std::result::Result<Mib, String> {
        serde_json::from_value::<Mib>(v).map_err(|e| e.to_string())
    }

    #[test]
    fn a_number_is_mib_and_a_string_is_a_size() {
        assert_eq!(read(serde_json::json!(2048)).unwrap(), Mib(2048));
        assert_eq!(read(serde_json::json!("8G")).unwrap(), Mib(8192));
        assert_eq!(read(serde_json::json!("512M")).unwrap(), Mib(512));
        assert_eq!(read(serde_json::json!("1.5G")).unwrap(), Mib(1536));
        assert_eq!(Mib(3).bytes(), 3 << 20);
    }

    #[test]
    fn zero_negative_and_part_mib_are_refused_with_the_rule() {
        for bad in [serde_json::json!(0), serde_json::json!(-5), serde_json::json!("1.5K")] {
            let e = read(bad.clone()).unwrap_err();
            assert!(e.contains("whole MiB and more than 0 MiB"), "{bad}: {e}");
        }
        let e = read(serde_json::json!("lots")).unwrap_err();
        assert!(e.contains("invalid size `lots`"), "{e}");
        let e = read(serde_json::json!(true)).unwrap_err();
        assert!(e.contains("MiB as a number"), "{e}");
    }
}
