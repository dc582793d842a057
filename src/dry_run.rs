//! What `--dry-run` promises, and the line that ends every dry run.
//!
//! A dry run reads for real and changes nothing: every change goes through the guard, which
//! prints `[dry-run] would …` instead of making it (`ui::plan`). Three rules keep the rest of
//! the output true without any effort from a recipe's author:
//! - from the first planned change on, the recipe's own `ui::success`/`ui::info` lines are
//!   marked `[dry-run] planned:` — whatever they report rests on work that was not done;
//! - helix, not the recipe, prints the `helix undo` line, and only after a real run that
//!   recorded something to undo;
//! - the run ends with [`summary`]: one line saying nothing was changed, and how many changes
//!   were planned — the `would …` lines, not the detail lines under one (`ui::plan_detail`: a
//!   plist edit's keys, a Mach-O edit's load commands), so one edit of four keys is one change;
//!   an act the guard would refuse (`refused: …`, `ui::plan_refused`) is no change and is
//!   counted apart, since a real run would stop there.
//!
//! `helix undo --dry-run` follows the same contract: `would restore …`, nothing restored.

/// The last line of a dry run: how many changes it planned, and how many acts the guard would
/// refuse (those are not changes: a real run stops at the first).
pub(crate) fn summary(planned: usize, refused: usize, finished: bool) -> String {
    let how = if finished { "nothing was changed" } else { "stopped; nothing was changed" };
    let mut what = match planned {
        0 if refused == 0 => "nothing to change was found".to_string(),
        n => format!("{} planned", crate::count::count(n as u64, "change")),
    };
    if refused > 0 {
        what.push_str(&format!(
            "; {} would be refused, and a real run stops at the first",
            crate::count::count(refused as u64, "act")
        ));
    }
    format!("{} {how} ({what})", console::style("[dry-run]").magenta())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_last_line_says_nothing_was_changed() {
        console::set_colors_enabled(false);
        assert_eq!(super::summary(2, 0, true), "[dry-run] nothing was changed (2 changes planned)");
        assert_eq!(
            super::summary(0, 0, false),
            "[dry-run] stopped; nothing was changed (nothing to change was found)"
        );
        assert_eq!(
            super::summary(1, 1, true),
            "[dry-run] nothing was changed (1 change planned; 1 act would be refused, and a real \
             run stops at the first)"
        );
        assert_eq!(
            super::summary(0, 2, true),
            "[dry-run] nothing was changed (0 changes planned; 2 acts would be refused, and a \
             real run stops at the first)"
        );
    }
}
