//! The Mach-O parser and writer on arbitrary bytes: reading (goblin + helix's bounds-checked
//! reader), verifying, editing (which re-signs) and signing must return errors, never panic.
//! Run: `cargo +nightly fuzz run macho fuzz/corpus/macho -- -max_total_time=120`
//! (the corpus is seeded from the test fixtures by `fuzz/seed.sh`).
#![no_main]

use helix::macho::{self, Edit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let readable = macho::info_bytes(data, std::path::Path::new("fuzz")).is_ok();
    let _ = macho::verify_bytes(data);
    let edits = [
        Edit::Change { old: "/usr/lib/libSystem.B.dylib".into(), new: "@rpath/libSystem.B.dylib".into() },
        Edit::Id { name: "@rpath/fuzz.framework/Versions/A/fuzz".into() },
        Edit::AddRpath { path: "@loader_path/../Frameworks".into() },
    ];
    if let Ok((out, report)) = macho::edit::edit_bytes(data, &edits) {
        // What helix writes must read back.
        if report.modified && readable {
            assert!(macho::info_bytes(&out, std::path::Path::new("fuzz")).is_ok(), "edited output does not parse");
        }
    }
    let _ = macho::edit::sign_bytes(data, "fuzz");
});
