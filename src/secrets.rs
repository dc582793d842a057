//! The values a run must never show (credentials read from files), and the one function that
//! blots them out of text. A leaf: the journal redacts its records with the run's
//! [`Secrets`] without knowing about the run.

use std::sync::Mutex;

#[derive(Debug, Default)]
pub(crate) struct Secrets(Mutex<Vec<String>>);

impl Secrets {
    /// Remember `value`: from now on [`Secrets::redact`] shows `***` instead.
    pub(crate) fn add(&self, value: &str) {
        // Very short values would blot out ordinary text; they are not credentials anyway.
        if value.len() >= 4 {
            let mut s = self.0.lock().unwrap();
            if !s.iter().any(|v| v == value) {
                s.push(value.to_string());
            }
        }
    }

    /// `text` with every secret (raw or JSON-escaped) replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let secrets = self.0.lock().unwrap();
        let mut out = text.to_string();
        for v in secrets.iter() {
            out = out.replace(v.as_str(), "***");
            let escaped = serde_json::to_string(v).unwrap_or_default();
            let escaped = &escaped[1..escaped.len().saturating_sub(1)];
            if escaped != v && !escaped.is_empty() {
                out = out.replace(escaped, "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn raw_and_json_escaped_values_are_blotted_out_short_ones_kept() {
        let s = super::Secrets::default();
        s.add("pa\"ss");
        s.add("abc");
        assert_eq!(s.redact(r#"x pa"ss {"p":"pa\"ss"} abc"#), r#"x *** {"p":"***"} abc"#);
    }
}
