//! Output made stable for a snapshot: the test's temp dir becomes `<test>`, run ids
//! (`20261127-175743258-316`) become `<run>`. Everything else stays, so a snapshot holds the
//! whole message a person reads.

use std::path::Path;

/// `text` with `dir` and run ids replaced (see the module doc).
pub fn redact(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<test>");
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if is_run_id(&b[i..]) && (i == 0 || !b[i - 1].is_ascii_alphanumeric()) {
            out.push_str("<run>");
            i += RUN_ID_LEN;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `YYYYMMDD-HHMMSSmmm-xxx`.
const RUN_ID_LEN: usize = 8 + 1 + 9 + 1 + 3;

fn is_run_id(b: &[u8]) -> bool {
    b.len() >= RUN_ID_LEN
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'-'
        && b[9..18].iter().all(u8::is_ascii_digit)
        && b[18] == b'-'
        && b[19..22].iter().all(u8::is_ascii_hexdigit)
        && b.get(22).is_none_or(|c| !c.is_ascii_alphanumeric())
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

/// What one helix command showed a person, for a snapshot: `$ helix ARGS`, the exit code, then
/// its stdout and stderr under headers (an empty stream is left out), every part redacted as
/// by [`redact`].
pub fn shown(args: &str, out: &super::builder::Output, dir: &Path) -> String {
    let mut text = format!("$ helix {args}\nexit {}\n", out.code);
    for (name, s) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        if !s.is_empty() {
            text.push_str(&format!("--- {name}\n{s}"));
            if !s.ends_with('\n') {
                text.push('\n');
            }
        }
    }
    redact(&text, dir)
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

/// `text` with the table whose header line starts (after its indent) with `header` laid out
/// again: its rows — the header and the lines after it with the same indent — are split into
/// cells at runs of two or more spaces and padded to the widest cell of each column. For a
/// table with a redacted cell (`<test>` for a temp path), whose columns were as wide as the
/// machine's path.
pub fn realign(text: &str, header: &str) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let indent_of = |l: &str| l.len() - l.trim_start_matches(' ').len();
    let Some(start) = lines.iter().position(|l| l.trim_start().starts_with(header)) else {
        return text.to_string();
    };
    let indent = indent_of(lines[start]);
    let end = (start..lines.len())
        .find(|&i| {
            let l = lines[i].trim_end_matches('\n');
            l.trim().is_empty() || indent_of(l) != indent
        })
        .unwrap_or(lines.len());
    let rows: Vec<Vec<&str>> = lines[start..end]
        .iter()
        .map(|l| {
            let cells = l.trim_end_matches('\n').trim_start().split("  ");
            cells.map(str::trim).filter(|c| !c.is_empty()).collect()
        })
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap())
        .collect();
    let mut out: String = lines[..start].concat();
    for (row, line) in rows.iter().zip(&lines[start..end]) {
        let mut l = " ".repeat(indent);
        for (c, cell) in row.iter().enumerate() {
            l.push_str(cell);
            if c + 1 < row.len() {
                l.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        l.push_str(if line.ends_with('\n') { "\n" } else { "" });
        out.push_str(&l);
    }
    out.push_str(&lines[end..].concat());
    out
}

#[test]
fn realign_pads_each_column_to_its_widest_cell_again() {
    let text = "error: 2 bad:\n  TOOL  FOUND                  VERSION\n  a     <test>/bin/a           1.0\n  bb    /usr/bin/bb            2\nafter  it\n";
    assert_eq!(
        realign(text, "TOOL"),
        "error: 2 bad:\n  TOOL  FOUND         VERSION\n  a     <test>/bin/a  1.0\n  bb    /usr/bin/bb   2\nafter  it\n"
    );
}
