//! A closed output pipe (`helix list | head -1`) ends helix quietly with status 141
//! (128 + SIGPIPE, what a shell reports for `yes | head -1`), never with a panic.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with `EPIPE` and `println!` panics.
//! Restoring SIGPIPE's default action would also kill helix whenever a child it feeds exits
//! early, leaving VMs and children behind. Instead the panic hook stays silent for that one
//! panic, and the entry points catch it: a run stops and cleans up like an interrupted one
//! (see `cli::run`), every other command just ends.

use std::any::Any;

/// The exit status for "the reader went away".
pub(crate) const EXIT: i32 = 141;

/// Keep the default panic report for every panic except a closed output pipe.
pub(crate) fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_message(info.payload_as_str().unwrap_or_default()) {
            default(info)
        }
    }));
}

/// Whether a caught panic is `println!`/`eprintln!` failing on a closed pipe.
pub(crate) fn is_closed_pipe(payload: &(dyn Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    is_message(text)
}

fn is_message(text: &str) -> bool {
    text.starts_with("failed printing to std") && text.contains("Broken pipe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_print_panic_on_a_closed_pipe_counts() {
        let p: Box<dyn Any + Send> =
            Box::new("failed printing to stdout: Broken pipe (os error 32)".to_string());
        assert!(is_closed_pipe(p.as_ref()));
        let p: Box<dyn Any + Send> = Box::new("failed printing to stderr: Broken pipe");
        assert!(is_closed_pipe(p.as_ref()));
        for other in ["index out of bounds", "failed printing to stdout: No space left on device"] {
            let p: Box<dyn Any + Send> = Box::new(other.to_string());
            assert!(!is_closed_pipe(p.as_ref()), "{other}");
        }
    }
}
