//! Sizes: one way to parse (`256G`, `1T`, `512M`, `1.5G`, plain bytes) and one way to print,
//! used by qemu-img, disks, downloads and messages alike. Units are binary (K = 1024), as
//! qemu-img's are.

use crate::error::{Error, Result};

mod mib;
pub(crate) use mib::Mib;

const UNITS: [(char, u32); 6] = [('K', 1), ('M', 2), ('G', 3), ('T', 4), ('P', 5), ('E', 6)];

pub fn parse(s: &str) -> Result<u64> {
    let t = s.trim();
    let bad = |why: &str| Error::invalid("size", s, why.to_string());
    if t.is_empty() {
        return Err(bad("it is empty; write e.g. 256G, 1T or 512M"));
    }
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B').filter(|r| r.ends_with(|c: char| c.is_ascii_alphabetic())))
        .unwrap_or(t);
    let t = if t.ends_with('B') && t[..t.len() - 1].chars().all(|c| c.is_ascii_digit()) {
        &t[..t.len() - 1]
    } else {
        t
    };
    let (num, exp) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => {
            let u = c.to_ascii_uppercase();
            let exp = UNITS
                .iter()
                .find(|(k, _)| *k == u)
                .map(|(_, e)| *e)
                .ok_or_else(|| bad("unknown unit; use K, M, G, T or P"))?;
            (&t[..t.len() - 1], exp)
        }
        _ => (t, 0),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| bad("not a number followed by an optional unit (K, M, G, T)"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad("a size cannot be negative"));
    }
    let bytes = n * 1024f64.powi(exp as i32);
    if bytes > u64::MAX as f64 {
        return Err(bad("too large"));
    }
    Ok(bytes.round() as u64)
}

/// `274877906944` → `256G`; exact units when they divide evenly, else one decimal.
pub(crate) fn format(bytes: u64) -> String {
    for (u, e) in UNITS.iter().rev() {
        let unit = 1u64 << (10 * e);
        if bytes >= unit {
            return if bytes.is_multiple_of(unit) {
                format!("{}{u}", bytes / unit)
            } else {
                format!("{:.1}{u}", bytes as f64 / unit as f64)
            };
        }
    }
    format!("{bytes}B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_people_write() {
        assert_eq!(parse("256G").unwrap(), 256 << 30);
        assert_eq!(parse("1T").unwrap(), 1 << 40);
        assert_eq!(parse("512m").unwrap(), 512 << 20);
        assert_eq!(parse("1.5G").unwrap(), 3 << 29);
        assert_eq!(parse("4096").unwrap(), 4096);
        assert_eq!(parse("10GiB").unwrap(), 10 << 30);
        assert_eq!(parse("10GB").unwrap(), 10 << 30);
        for bad in ["", "G", "12Q", "-1G", "1..2G", "ten"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in ["256G", "1T", "512M", "1.5G", "100B"] {
            assert_eq!(format(parse(s).unwrap()), s);
        }
    }
}
