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
