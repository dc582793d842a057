//! Durations as people read them: one way to print how long something took or may take
//! (`0.4s`, `7.5s`, `44s`, `2m 05s`, `1h 02m`), so no message shows `43.707491923s`.

use std::time::Duration;

/// `d` in the largest units that matter: tenths of a second below 10 s, whole seconds below a
/// minute, then minutes and seconds, then hours and minutes (rounded to the nearest unit shown).
pub fn format(d: Duration) -> String {
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
pub fn format_whole_secs(secs: u64) -> String {
    if secs < 10 { format!("{secs}s") } else { format(Duration::from_secs(secs)) }
}

#[cfg(test)]
mod tests {
    use super::*;

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
