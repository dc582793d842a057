//! Output made stable for a snapshot: the test's temp dir becomes `<test>`, run ids
//! (`20261127-175743258-316`) become `<run>`. Everything else stays, so a snapshot holds the
//! whole message a person reads.

use std::path::Path;

/// `text` with `dir` and run ids replaced (see the module doc).
pub fn redact(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<test>");
    // `YYYYMMDD-HHMMSSmmm-xxx`: a date, a time with milliseconds, 3 hex digits.
    shaped(&text, "########-#########-HHH", "<run>")
}

#[test]
fn temp_dirs_and_run_ids_are_redacted_and_nothing_else() {
    let dir = Path::new("/tmp/.tmpAbC123");
    let text = "error at /tmp/.tmpAbC123/recipes/r.rhai:3:5\n  = run `20261127-175743258-316`: \
                `helix log 20261127-175743258-316`\n2026-11-27 12345678-123456789-12 kept";
    assert_eq!(
        redact(text, dir),
        "error at <test>/recipes/r.rhai:3:5\n  = run `<run>`: `helix log <run>`\n\
         2026-11-27 12345678-123456789-12 kept"
    );
}

// --- snapb: free space, local ports, table columns ---

/// This machine's free space, which depends on how full its disk is:
/// - doctor's `disk space DIR  WARN  25.1G free: a VM disk and …` row becomes
///   `disk space DIR  <state>  <size> free`: the state and the fix that goes with it depend on
///   the size as much as the number does (the thresholds are tested on their own);
/// - recover-vm's `free on DIR  66.1G` and hello's `free space  66.1G` end in `<size>`;
/// - any other `55.4G free` becomes `<size> free`.
///
/// The check, its directory and the other words stay.
pub fn free_space(text: &str) -> String {
    let size = |w: &str| {
        let number = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        number.len() < w.len()
            && number.starts_with(|c: char| c.is_ascii_digit())
            && number.chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    text.split_inclusive('\n')
        .map(|l| {
            let (body, end) = l.split_at(l.trim_end_matches('\n').len());
            let disk_row = body.starts_with("disk space ");
            let last_is_size = body.starts_with("free on ") || body.starts_with("free space ");
            let mut out = String::new();
            let mut words = body.split_inclusive(' ').peekable();
            while let Some(w) = words.next() {
                let next = words.peek().map(|n| n.trim_end());
                let next_is_free = next.is_some_and(|n| n == "free" || n == "free:");
                let bare = w.trim_end();
                if next_is_free && size(bare) {
                    out.push_str(&w.replacen(bare, "<size>", 1));
                    if disk_row {
                        out.push_str("free");
                        break;
                    }
                } else if disk_row && matches!(bare, "ok" | "WARN" | "FAIL") {
                    out.push_str(&w.replacen(bare, "<state>", 1));
                } else if last_is_size && next.is_none() && size(bare) {
                    out.push_str("<size>");
                } else {
                    out.push_str(w);
                }
            }
            out + end
        })
        .collect()
}

/// A local port the kernel chose at run time (`127.0.0.1:42221`: `support::ports::free_port`
/// gets one from the ephemeral range) → `127.0.0.1:<port>`. A port below 10000 is a choice of
/// the test or of helix's defaults (`:9`, `:2222`) and stays.
pub fn ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("127.0.0.1:") {
        let (head, tail) = rest.split_at(i + "127.0.0.1:".len());
        out.push_str(head);
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let port: u32 = tail[..digits].parse().unwrap_or(0);
        out.push_str(if port >= 10000 { "<port>" } else { &tail[..digits] });
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The table that starts at the line beginning with `header` (as `ui::table` prints it:
/// columns apart by two or more spaces), aligned again after redaction changed the widths of
/// its cells (a temp path became `<test>`). The table ends at the first line without a column
/// gap; lines outside it stay as they are.
pub fn table(text: &str, header: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(start) = lines.iter().position(|l| l.starts_with(header)) else {
        return text.to_string();
    };
    let split = |l: &str, max: usize| -> Vec<String> {
        let mut cells = vec![];
        let mut rest = l.trim_end();
        while cells.len() + 1 < max {
            match rest.find("  ") {
                Some(i) => {
                    cells.push(rest[..i].to_string());
                    rest = rest[i..].trim_start();
                }
                None => break,
            }
        }
        cells.push(rest.to_string());
        cells
    };
    let cols = split(lines[start], usize::MAX).len();
    let end =
        start + lines[start..].iter().take_while(|l| l.trim_end().contains("  ")).count().max(1);
    let rows: Vec<Vec<String>> = lines[start..end].iter().map(|l| split(l, cols)).collect();
    let mut widths = vec![0; cols];
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out: Vec<String> = lines[..start].iter().map(|l| l.to_string()).collect();
    for r in &rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        out.push(line.trim_end().to_string());
    }
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let mut text = out.join("\n");
    if !lines.is_empty() && !text.is_empty() {
        text.push('\n');
    }
    text
}

#[test]
fn free_space_ports_and_tables_are_redacted_and_nothing_else() {
    let text = "CHECK                   STATE  DETAIL/FIX\n\
                VM SSH                  WARN   nothing listens on 127.0.0.1:42221: start it\n\
                disk space /tmp/.tmpAbC123/pm  ok     55.4G free\n\
                disk space /tmp/.tmpAbC123     WARN   25.1G free: a VM disk needs tens of GB\n\
                free on /tmp/.tmpAbC123/vm  66.1G\n\
                127.0.0.1:2222 answers, 127.0.0.1:x has 1.2G free\n\
                kept 3 free slots, port 8080\n";
    let text = free_space(&ports(&redact(text, Path::new("/tmp/.tmpAbC123"))));
    assert_eq!(
        table(&text, "CHECK"),
        "CHECK                 STATE    DETAIL/FIX\n\
         VM SSH                WARN     nothing listens on 127.0.0.1:<port>: start it\n\
         disk space <test>/pm  <state>  <size> free\n\
         disk space <test>     <state>  <size> free\n\
         free on <test>/vm     <size>\n\
         127.0.0.1:2222 answers, 127.0.0.1:x has <size> free\n\
         kept 3 free slots, port 8080\n"
    );
}

/// A finished command as a person saw it, redacted ([`redact`], [`times_and_trash_ids`]): its
/// exit code, then its stdout and its stderr under headers (a stream left empty is left out).
pub fn output(out: &super::builder::Output, dir: &Path) -> String {
    let mut text = format!("exit {}\n", out.code);
    for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if !s.is_empty() {
            text.push_str(&format!("--- {name}\n{}", times_and_trash_ids(&redact(s, dir))));
            if !s.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    text
}

/// What one helix command showed a person, for a snapshot: `$ helix ARGS` (redacted), then
/// its [`output`].
pub fn shown(args: &str, out: &super::builder::Output, dir: &Path) -> String {
    format!("$ helix {}\n{}", redact(args, dir), output(out, dir))
}

impl super::builder::Test {
    /// A finished `helix ARGS` of this test as a person saw it, for a snapshot ([`shown`]).
    /// (Here rather than in the builder, which the benches include without this module.)
    pub fn shown(&self, args: &str, out: &super::builder::Output) -> String {
        shown(args, out, self.dir.path())
    }
}

#[test]
fn shown_names_the_command_code_and_streams_and_redacts_them() {
    let dir = Path::new("/tmp/.tmpXyZ");
    let out = super::builder::Output {
        code: 1,
        stdout: String::new(),
        stderr: "error: /tmp/.tmpXyZ/a.rhai:2:1 in 20261127-175743258-316".into(),
    };
    assert_eq!(
        shown("run a", &out, dir),
        "$ helix run a\nexit 1\n--- stderr\nerror: <test>/a.rhai:2:1 in <run>\n"
    );
}

// ---- by shape (helper snapd) ---------------------------------------------------------------

/// `text` with every token of `shape` replaced by `with`. In `shape` `#` is one ASCII digit,
/// `H` one hex digit, anything else itself; a token must not touch a letter or digit on either
/// side (so `<run>` ids are not mistaken for trash ids and the reverse).
pub fn shaped(text: &str, shape: &str, with: &str) -> String {
    let (b, s) = (text.as_bytes(), shape.as_bytes());
    let fits = |at: &[u8]| {
        at.len() >= s.len()
            && s.iter().zip(at).all(|(p, c)| match p {
                b'#' => c.is_ascii_digit(),
                b'H' => c.is_ascii_hexdigit(),
                p => p == c,
            })
            && at.get(s.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if fits(&b[i..]) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            out.push_str(with);
            i += s.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `text` with helix's moments and trash ids replaced: journal timestamps
/// (`2026-11-27T21:11:22.028Z`) become `<time>`, trash item ids (`20261127-211121572-8a500`,
/// also a trashed file's directory in the state dir) become `<trash-id>`.
pub fn times_and_trash_ids(text: &str) -> String {
    let text = shaped(text, "####-##-##T##:##:##.###Z", "<time>");
    shaped(&text, "########-#########-HHHHH", "<trash-id>")
}

#[test]
fn times_and_trash_ids_are_redacted_and_run_ids_are_not() {
    let text = "`<test>/link` (link, 20B, removed 2026-11-27T21:11:22.028Z); kept at \
                `state/trash/20261127-211121572-8a500/a.plist`; run 20261127-175743258-316, \
                x2026-11-27T21:11:22.028Z 20261127-211121572-8a5001";
    assert_eq!(
        times_and_trash_ids(text),
        "`<test>/link` (link, 20B, removed <time>); kept at `state/trash/<trash-id>/a.plist`; \
         run 20261127-175743258-316, x2026-11-27T21:11:22.028Z 20261127-211121572-8a5001"
    );
}

/// `text` with what follows each `prefix` — the longest run of chars `part` holds for —
/// replaced by `with` (a prefix followed by none stays as it is): `after(text, "built in ", |c| c.is_ascii_digit() || c == '.', "<n>")`
/// turns `built in 0.8s` into `built in <n>s`. The words around the varying token stay.
pub fn after(text: &str, prefix: &str, part: fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let (head, tail) = rest.split_at(at + prefix.len());
        out.push_str(head);
        let n = tail.find(|c| !part(c)).unwrap_or(tail.len());
        if n > 0 {
            out.push_str(with);
        }
        rest = &tail[n..];
    }
    out.push_str(rest);
    out
}

#[test]
fn after_a_prefix_only_the_varying_token_is_replaced() {
    let secs = |c: char| c.is_ascii_digit() || c == '.';
    let text = "built x in 0.8s; answers (after 12s); (after s) in 3 files; built y in 1.25s";
    assert_eq!(
        after(&after(text, " in ", secs, "<n>"), "(after ", secs, "<n>"),
        "built x in <n>s; answers (after <n>s); (after s) in <n> files; built y in <n>s"
    );
}

/// Commit ids made by the test itself (40 or 12 lowercase hex digits, standing alone) →
/// `<commit>`; the pinned ones (`stdlib/pins.rhai`) stay, they are part of what is shown.
pub fn commits_made_now(text: &str) -> String {
    const PINS: &str = include_str!("../../../stdlib/pins.rhai");
    let b = text.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let alone = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let run = if alone { b[i..].iter().take_while(|c| hex(c)).count() } else { 0 };
        let ends = b.get(i + run).is_none_or(|c| !c.is_ascii_alphanumeric());
        if (run == 40 || run == 12) && ends && !PINS.contains(&text[i..i + run]) {
            out.push_str("<commit>");
            i += run;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn commits_made_now_are_redacted_and_pinned_ones_kept() {
    const PINS: &str = include_str!("../../../stdlib/pins.rhai");
    let pinned = PINS
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 40)
        .expect("a pinned commit");
    let text = format!(
        "main @ 6009c04cc080, at 0123456789abcdef0123456789abcdef01234567; pin {pinned}; \
         x6009c04cc080 6009c04cc0801 DEADBEEFCAFE"
    );
    assert_eq!(
        commits_made_now(&text),
        format!(
            "main @ <commit>, at <commit>; pin {pinned}; x6009c04cc080 6009c04cc0801 DEADBEEFCAFE"
        )
    );
}
