//! The command classifier: decides from an argv whether a command destroys data.

/// Why `argv` is destructive, or `None` when it is an ordinary command.
pub fn classify_argv(argv: &[String]) -> Option<String> {
    let argv = strip_wrappers(argv);
    let prog = argv.first().map(|p| p.rsplit('/').next().unwrap_or(p))?;
    let flags: Vec<&str> =
        argv[1..].iter().map(String::as_str).take_while(|a| *a != "--").collect();
    let has_short =
        |c: char| flags.iter().any(|f| f.starts_with('-') && !f.starts_with("--") && f.contains(c));
    match prog {
        "rm" => {
            if has_short('r') || has_short('R') || flags.contains(&"--recursive") {
                Some("recursive delete".into())
            } else if has_short('f') || flags.contains(&"--force") {
                Some("forced delete".into())
            } else {
                None
            }
        }
        "rmdir" | "unlink" | "shred" | "wipefs" | "truncate" => {
            Some(format!("`{prog}` deletes data"))
        }
        p if p.starts_with("mkfs") => Some("formats a filesystem".into()),
        "dd" if argv.iter().any(|a| a.starts_with("of=")) => {
            Some("`dd of=` overwrites its target".into())
        }
        _ => None,
    }
}

/// Drop `sudo`, `env VAR=…`, `nice`, `nohup`, `time`, `command`, `exec` prefixes.
fn strip_wrappers(argv: &[String]) -> &[String] {
    let mut i = 0;
    while i < argv.len() {
        let prog = argv[i].rsplit('/').next().unwrap_or(&argv[i]);
        match prog {
            "sudo" | "env" | "nice" | "nohup" | "time" | "command" | "exec" => {
                i += 1;
                while i < argv.len() && (argv[i].starts_with('-') || argv[i].contains('=')) {
                    i += 1;
                }
            }
            _ => break,
        }
    }
    &argv[i.min(argv.len())..]
}

/// Why a shell script (a remote command over SSH, or `cmd::shell`) is destructive, or `None`.
/// Placeholder until the real shell parser lands: splits on whitespace and separators.
pub fn classify_shell(script: &str) -> Option<String> {
    for part in script.split([';', '&', '|', '\n', '(', ')']) {
        let argv: Vec<String> = part.split_whitespace().map(String::from).collect();
        if let Some(why) = classify_argv(&argv) {
            return Some(why);
        }
    }
    None
}
