//! "Did you mean …?": the closest known names to a misspelt one, by edit distance, so every
//! check that rejects a name can offer the one the author meant.

/// Levenshtein distance between two names (by characters).
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidates close enough to `name` to be what was meant, closest first (at most three).
/// "Close" grows with the length: one edit for short names, up to three for long ones; a
/// candidate that differs only in case or in `-`/`_` always counts.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let norm = |s: &str| s.to_lowercase().replace('-', "_");
    let limit = match name.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    let all: Vec<&'a str> = candidates.into_iter().collect();
    let mut found: Vec<(usize, &str)> = all
        .iter()
        .copied()
        .filter(|c| *c != name)
        .filter_map(|c| {
            let d = if norm(c) == norm(name) { 0 } else { distance(name, c) };
            (d <= limit).then_some((d, c))
        })
        .collect();
    found.sort();
    found.dedup();
    let mut out: Vec<&str> = found.into_iter().map(|(_, c)| c).collect();
    // Then names that share all but the end of it: `snapshots` → `snapshot_list`.
    let chars: Vec<char> = name.chars().collect();
    for c in all {
        let common = chars.iter().zip(c.chars()).take_while(|(a, b)| **a == *b).count();
        if common >= 4
            && common + 1 >= chars.len().min(c.chars().count())
            && !out.contains(&c)
            && c != name
        {
            out.push(c);
        }
    }
    out.into_iter().take(3).collect()
}

/// ` (did you mean `a` or `b`?)` or an empty string, to append to a message.
pub(crate) fn hint<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let close = closest(name, candidates);
    if close.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
    format!("did you mean {}?", quoted.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("branch", "brnach"), 2);
        assert_eq!(distance("mkdir", "mkdirs"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn closest_finds_typos_not_strangers() {
        let names = ["mkdir", "exists", "remove", "write"];
        assert_eq!(closest("mkdirs", names), vec!["mkdir"]);
        assert_eq!(closest("wrte", names), vec!["write"]);
        assert!(closest("download", names).is_empty());
        assert_eq!(closest("no_start", ["start", "no-start"])[0], "no-start");
        // Short names allow one edit only: `ab` is not a typo of `xyz`.
        assert!(closest("ab", ["xyz"]).is_empty());
        // A name that is the start of a longer one.
        assert_eq!(
            closest("snapshots", ["snapshot_list", "snapshot_create", "info"]),
            ["snapshot_list", "snapshot_create"]
        );
        assert!(closest("snaps", ["snowflake"]).is_empty());
    }

    #[test]
    fn hint_reads_as_a_question() {
        assert_eq!(
            hint("snapshots", ["snapshot_list", "snapshot"]),
            "did you mean `snapshot` or `snapshot_list`?"
        );
        assert_eq!(hint("zzz", ["snapshot"]), "");
    }
}
