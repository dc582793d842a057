//! Credentials files in the `KEY=value` form (`.env.usercreds`): read without a shell, values
//! that look like credentials remembered as secrets of the run so nothing ever shows them.

use std::path::Path;

use crate::error::{Error, Result};

/// The `KEY=value` pairs of `text`, in order. Blank lines and `#` comments are skipped; an
/// `export ` prefix is allowed; a value is everything after the first `=` (as `cut -d= -f2-`
/// reads it), with one pair of matching surrounding quotes removed. `file` names the source
/// in errors.
pub(crate) fn parse(text: &str, file: &Path) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map(str::trim_start).unwrap_or(line);
        let bad = |why: &str| Error::EnvFile {
            path: file.to_path_buf(),
            line: n + 1,
            why: why.to_string(),
        };
        let Some((key, value)) = line.split_once('=') else {
            // Never echo the line: it may be a credential pasted without its name.
            return Err(bad("no `=`"));
        };
        let key = key.trim();
        let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(bad(&format!("`{key}` is not a variable name")));
        }
        let value = value.trim();
        let value = ['"', '\'']
            .iter()
            .find_map(|q| {
                value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)).filter(|_| value.len() >= 2)
            })
            .unwrap_or(value);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// Whether a variable's name says it holds a credential (its value is then a secret).
pub(crate) fn is_secret_name(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH"]
        .iter()
        .any(|w| k.contains(w))
}

/// Read `file`; every value under a credential-like name becomes a secret of the run.
pub(crate) fn read(file: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::read(file, e))?;
    let pairs = parse(&text, file)?;
    let ctx = crate::run::current();
    for (k, v) in &pairs {
        if is_secret_name(k) {
            ctx.add_secret(v);
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Vec<(String, String)>> {
        parse(text, Path::new(".env.usercreds"))
    }

    #[test]
    fn reads_the_forms_people_write() {
        let got = p("# creds\n\nHELIX_API_KEY=hl-abc=def\nexport HELIX_URL=\"http://x:8080\"\nHELIX_PROJECT='prj_1'\nEMPTY=\n")
            .unwrap();
        assert_eq!(
            got,
            vec![
                ("HELIX_API_KEY".into(), "hl-abc=def".into()),
                ("HELIX_URL".into(), "http://x:8080".into()),
                ("HELIX_PROJECT".into(), "prj_1".into()),
                ("EMPTY".into(), "".into()),
            ]
        );
    }

    #[test]
    fn a_bad_line_names_the_file_and_line_but_not_its_text() {
        let e = p("A=1\nhl-secret-pasted-alone\n").unwrap_err().to_string();
        assert!(e.contains(".env.usercreds` line 2: no `=`"), "{e}");
        assert!(!e.contains("hl-secret"), "{e}");
        let e = p("1BAD=x\n").unwrap_err().to_string();
        assert!(e.contains("`1BAD` is not a variable name"), "{e}");
    }

    #[test]
    fn a_bad_line_is_an_envfile_error_carrying_the_line() {
        match p("A=1\n\nB\n") {
            Err(Error::EnvFile { path, line, .. }) => {
                assert_eq!((path.as_path(), line), (Path::new(".env.usercreds"), 3));
            }
            other => panic!("expected Error::EnvFile, got {other:?}"),
        }
    }

    #[test]
    fn credential_names() {
        assert!(is_secret_name("HELIX_API_KEY"));
        assert!(is_secret_name("github_token"));
        assert!(!is_secret_name("HELIX_URL"));
        assert!(!is_secret_name("HELIX_PROJECT"));
    }
}
