//! Durations as people read them: one way to print how long something took or may take
//! (`0.4s`, `7.5s`, `44s`, `2m 05s`, `1h 02m`), so no message shows `43.707491923s`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A duration as an option: seconds, whole or decimal, 0 or more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Seconds(pub Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("seconds (a number)")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Seconds, E> {
                Ok(Seconds(Duration::from_secs(n)))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Seconds, E> {
                self.visit_f64(n as f64)
            }
            fn visit_f64<E: de::Error>(self, s: f64) -> Result<Seconds, E> {
                Duration::try_from_secs_f64(s)
                    .map(Seconds)
                    .map_err(|_| E::custom(format!("{s} seconds: seconds cannot be negative")))
            }
        }
        d.deserialize_any(V)
    }
}

/// `d` in the largest units that matter: tenths of a second below 10 s, whole seconds below a
/// minute, then minutes and seconds, then hours and minutes (rounded to the nearest unit shown).
pub(crate) fn format(d: Duration) -> String {
    let tenths = (d.as_millis() + 50) / 100;
    if tenths < 100 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let secs = (d.as_millis() + 500) / 1000;
    if secs < 60 {
        return format!("{secs}s");
    }
    if secs < 3600 {
        return format!("{}m {:02}s", secs / 60, secs % 60);
    }
    let mins = (secs + 30) / 60;
    format!("{}h {:02}m", mins / 60, mins % 60)
}

/// [`format`] for a count of seconds (as recipes hold them); negative and NaN count as zero.
pub fn format_secs(secs: f64) -> String {
    format(Duration::try_from_secs_f64(secs).unwrap_or_default())
}

/// [`format`] for whole seconds: no tenths on a count that never had them (`3` → `3s`).
pub(crate) fn format_whole_secs(secs: u64) -> String {
    if secs < 10 { format!("{secs}s") } else { format(Duration::from_secs(secs)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_options_are_whole_or_decimal_and_not_negative() {
        let read =
            |v: serde_json::Value| serde_json::from_value::<Seconds>(v).map_err(|e| e.to_string());
        assert_eq!(read(serde_json::json!(3)).unwrap().0, Duration::from_secs(3));
        assert_eq!(read(serde_json::json!(0.5)).unwrap().0, Duration::from_millis(500));
        assert!(read(serde_json::json!(-1)).unwrap_err().contains("cannot be negative"));
        assert!(read(serde_json::json!("3")).unwrap_err().contains("seconds (a number)"));
    }

    #[test]
    fn each_range_prints_its_own_units() {
        for (secs, want) in [
            (0.0, "0.0s"),
            (0.04, "0.0s"),
            (0.36, "0.4s"),
            (7.5, "7.5s"),
            (9.94, "9.9s"),
            (9.96, "10s"),
            (43.707491923, "44s"),
            (59.4, "59s"),
            (59.6, "1m 00s"),
            (125.0, "2m 05s"),
            (3599.4, "59m 59s"),
            (3600.0, "1h 00m"),
            (3729.0, "1h 02m"),
            (90_000.0, "25h 00m"),
            (-3.0, "0.0s"),
            (f64::NAN, "0.0s"),
            (f64::INFINITY, "0.0s"),
        ] {
            assert_eq!(format_secs(secs), want, "{secs}");
        }
    }

    #[test]
    fn whole_seconds_stay_whole() {
        assert_eq!(format_whole_secs(0), "0s");
        assert_eq!(format_whole_secs(3), "3s");
        assert_eq!(format_whole_secs(44), "44s");
        assert_eq!(format_whole_secs(125), "2m 05s");
        assert_eq!(format_whole_secs(7200), "2h 00m");
    }

    #[test]
    fn never_shows_more_than_one_decimal() {
        for ms in (0..200_000).step_by(37) {
            let s = format(Duration::from_millis(ms));
            let decimals = s.split('.').nth(1).map(|r| r.trim_end_matches('s').len());
            assert!(decimals.unwrap_or(0) <= 1, "{ms} ms: {s}");
        }
    }
}
