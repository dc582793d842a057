//! How a command is shown to people (questions, plan lines, the journal): its argv quoted the
//! way a shell user would type it. Here, in the guard, because the guard shows commands in its
//! questions and imports no domain; `process` shows them the same way.

/// Quote an argv for display the way a shell user would type it.
pub(crate) fn display_argv(argv: &[String]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

fn quote(a: &str) -> String {
    let plain =
        !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+~".contains(c));
    if plain { a.to_string() } else { format!("'{}'", a.replace('\'', r"'\''")) }
}
