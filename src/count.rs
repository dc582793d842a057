//! A number with its noun, in the right number: "1 byte", "2 bytes", "1 page hash", "3
//! formulae". Messages say `1 uncommitted change`, not `1 uncommitted change(s)` or
//! `1 bytes`: a person reads them, and a count that reads wrong reads as a bug.

/// `n` and `noun`, plural by English's regular rule unless `n` is 1 (see [`plural`]).
pub(crate) fn count(n: impl Into<i128>, noun: &str) -> String {
    let n = n.into();
    if n == 1 { format!("1 {noun}") } else { format!("{n} {}", plural(noun)) }
}

/// `n` and `one` when `n` is 1, else `n` and `many`: for nouns the regular rule gets wrong
/// (`formula`/`formulae`).
pub(crate) fn count_as(n: impl Into<i128>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The regular English plural of the last word of `noun`: `-s`, `-es` after a hissing sound
/// (`hash`, `box`, `class`), `-ies` after a consonant and `y` (`entry`).
pub(crate) fn plural(noun: &str) -> String {
    let lower = noun.to_ascii_lowercase();
    let hiss = ["s", "x", "z", "ch", "sh"].iter().any(|e| lower.ends_with(e));
    let consonant_y = lower.ends_with('y')
        && lower.len() > 1
        && !matches!(lower.as_bytes()[lower.len() - 2], b'a' | b'e' | b'i' | b'o' | b'u');
    if hiss {
        format!("{noun}es")
    } else if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else {
        format!("{noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "byte"), "1 byte");
        assert_eq!(count(0, "byte"), "0 bytes");
        assert_eq!(count(2u64, "uncommitted change"), "2 uncommitted changes");
        assert_eq!(count(-1, "byte"), "-1 bytes");
        assert_eq!(count(3u64, "page hash"), "3 page hashes");
        assert_eq!(count(2, "special slot"), "2 special slots");
        assert_eq!(count(2, "key file"), "2 key files");
        assert_eq!(count(2, "leaked cluster"), "2 leaked clusters");
        assert_eq!(count(2, "entry"), "2 entries");
        assert_eq!(count(2, "key"), "2 keys");
        assert_eq!(count(2, "box"), "2 boxes");
        assert_eq!(count(2, "VM"), "2 VMs");
        assert_eq!(count_as(1, "formula", "formulae"), "1 formula");
        assert_eq!(count_as(2, "formula", "formulae"), "2 formulae");
    }
}
