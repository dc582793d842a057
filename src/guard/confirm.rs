//! Confirmation at the controlling terminal (`/dev/tty`), never stdin: a pipe, a script or an
//! agent cannot answer for a person.

use crate::error::{Error, Result};

use super::Target;

pub fn confirm(detail: &str, targets: &[Target]) -> Result<()> {
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty");
    let what: Vec<String> = targets.iter().map(|t| t.describe()).collect();
    let Ok(tty) = tty else {
        return Err(Error::Refused {
            command: detail.to_string(),
            reason: format!(
                "it destroys {} and needs a person to confirm it at a terminal, and there is none; \
                 run helix from an interactive terminal to be asked",
                what.join(", ")
            ),
        });
    };
    let reader =
        tty.try_clone().map_err(|e| Error::other(format!("could not open the terminal: {e}")))?;
    let term = console::Term::read_write_pair(reader, tty);
    let _ = term.write_line(&format!("helix is about to {detail}, which destroys:"));
    for w in &what {
        let _ = term.write_line(&format!("  - {w}"));
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt("Go ahead?")
        .default(false)
        .interact_on(&term)
        .map_err(|e| Error::other(format!("could not ask at the terminal: {e}")))?;
    if ok {
        Ok(())
    } else {
        Err(Error::Refused {
            command: detail.to_string(),
            reason: "declined at the terminal; nothing was changed".into(),
        })
    }
}
