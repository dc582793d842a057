//! `utmctl`: UTM's command-line tool (a ScriptingBridge client of the running app).
//!
//! What it prints (utmctl/UTMCtl.swift): `list` → a header `UUID<33 spaces>Status   Name`, then
//! `<UUID> <status padded to 8> <name>`; `status` → one word (stopped, starting, started,
//! pausing, paused, resuming, stopping); `ip-address` → one address a line, IPv4 first.
//! Apple-event failures go to stderr as `Error from event: … (OSStatus error -1743.)`, followed
//! for -1743 by `NOTE: utmctl does not work from SSH sessions or before logging in.`, and the
//! exit status may still be 0 — so helix judges utmctl by its stderr, not only its status.

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use crate::error::{Error, Result};
use crate::guard::{self, Action, Target};
use crate::process::{Cmd, Finished};

pub(crate) const STATUSES: [&str; 7] =
    ["stopped", "starting", "started", "pausing", "paused", "resuming", "stopping"];

/// Where utmctl is: inside `paths.utm_app`, else on `PATH`.
pub(crate) fn path() -> Result<PathBuf> {
    let inside = super::app_path().join("Contents/MacOS/utmctl");
    if inside.is_file() {
        return Ok(inside);
    }
    crate::process::which("utmctl").ok_or_else(|| Error::UtmctlMissing { expected: inside.clone() })
}

/// A line of `utmctl list` that is not `UUID STATUS NAME`.
fn unexpected_list_line(line: &str) -> Error {
    Error::Utmctl {
        command: "utmctl list".into(),
        problem: format!("printed a line helix does not understand: {line:?}"),
    }
}

/// A utmctl failure explained: what happened and what to do.
pub(crate) fn explain(argv: &[String], f: &Finished) -> Option<Error> {
    let err = f.stderr.as_str();
    let shown = format!("utmctl {}", argv.join(" "));
    if err.contains("-1743")
        || err.contains("does not work from SSH sessions")
        || err.contains("Not authorized to send Apple events")
    {
        return Some(Error::Utmctl {
            command: shown,
            problem: "was refused by macOS (OSStatus -1743: not allowed to send Apple events to UTM). \
             utmctl only works inside the logged-in desktop session: run helix from Terminal on the Mac itself, \
             not over SSH or before logging in, and allow your terminal to control UTM in System Settings > \
             Privacy & Security > Automation (reset a denied prompt with `tccutil reset AppleEvents`)"
                .into(),
        });
    }
    if err.contains("OSStatus error -600") || err.contains("(-600)") {
        return Some(Error::Utmctl {
            command: shown,
            problem: "could not reach UTM (OSStatus -600: the application is not running in this session). \
             Log in at the Mac, open UTM there, and run helix from that desktop session (not over SSH)"
                .into(),
        });
    }
    if err.contains("Virtual machine not found") {
        let vm = argv.last().cloned().unwrap_or_default();
        return Some(Error::invalid(
            "UTM virtual machine",
            vm,
            "UTM knows no VM with that UUID or full name; utm::list() shows the VMs it knows (a bundle it has not opened must be registered first: utm::register)",
        ));
    }
    if err.contains("Error from event") || err.contains("OSStatus error") {
        let line = err
            .lines()
            .find(|l| l.contains("Error from event") || l.contains("OSStatus"))
            .unwrap_or(err)
            .trim();
        return Some(Error::Utmctl {
            command: shown,
            problem: format!("failed talking to UTM: {line}"),
        });
    }
    if !f.success {
        let tail: Vec<&str> =
            err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        return Some(Error::Utmctl {
            command: shown,
            problem: format!(
                "failed with exit code {}: {}",
                f.code.unwrap_or(-1),
                tail.join(" / ").trim()
            ),
        });
    }
    None
}

fn command(args: &[String]) -> Result<Cmd> {
    let exe = path()?;
    let mut argv = vec![exe.display().to_string()];
    argv.extend(args.iter().cloned());
    Ok(Cmd::new(&argv).capture().unchecked())
}

/// Run a utmctl command that only asks (runs under `--dry-run` too).
pub(crate) fn query(args: &[String]) -> Result<String> {
    let f = command(args)?.read_only().run()?;
    if let Some(e) = explain(args, &f) {
        return Err(e);
    }
    Ok(f.stdout)
}

/// Run a utmctl command that changes something (skipped under `--dry-run`).
fn change(args: &[String]) -> Result<()> {
    let f = command(args)?.run()?;
    if crate::run::current().dry_run {
        return Ok(());
    }
    if let Some(e) = explain(args, &f) {
        return Err(e);
    }
    Ok(())
}

/// One row of `utmctl list`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vm {
    pub uuid: String,
    pub status: String,
    pub name: String,
}

impl Vm {
    pub(crate) fn running(&self) -> bool {
        self.status != "stopped"
    }
    pub(crate) fn to_json(&self) -> Json {
        json!({ "uuid": self.uuid, "status": self.status, "name": self.name, "running": self.running() })
    }
}

/// Parse `utmctl list` output. The name is everything after the 8-column status (it may hold
/// spaces); lines that are not rows are refused so a format change is noticed.
pub(crate) fn parse_list(out: &str) -> Result<Vec<Vm>> {
    let mut vms = Vec::new();
    for line in out.lines() {
        if line.trim().is_empty() || (line.starts_with("UUID") && line.contains("Status")) {
            continue;
        }
        let Some((uuid, rest)) = line.split_once(' ') else {
            return Err(unexpected_list_line(line));
        };
        let status = rest.split_whitespace().next().unwrap_or("");
        if !super::is_uuid(uuid) || !(STATUSES.contains(&status) || status == "unknown") {
            return Err(unexpected_list_line(line));
        }
        let after = &rest[status.len()..];
        let pad = 8usize.saturating_sub(status.len()) + 1;
        let skip = after.chars().take(pad).take_while(|c| *c == ' ').count();
        vms.push(Vm {
            uuid: uuid.to_string(),
            status: status.to_string(),
            name: after[skip..].to_string(),
        });
    }
    Ok(vms)
}

pub(crate) fn list() -> Result<Vec<Vm>> {
    parse_list(&query(&["list".to_string()])?)
}

/// Find a VM by UUID (any case) or its complete name.
pub(crate) fn find(vms: &[Vm], id: &str) -> Option<Vm> {
    vms.iter()
        .find(|v| v.uuid.eq_ignore_ascii_case(id))
        .or_else(|| vms.iter().find(|v| v.name == id))
        .cloned()
}

/// `utmctl status <vm>`: one of [`STATUSES`].
pub(crate) fn status(id: &str) -> Result<String> {
    let out = query(&["status".to_string(), id.to_string()])?;
    let word = out.trim().to_string();
    if !STATUSES.contains(&word.as_str()) {
        return Err(Error::Utmctl {
            command: format!("utmctl status {id}"),
            problem: format!("gave an answer helix does not understand: {word:?}"),
        });
    }
    Ok(word)
}

/// `utmctl ip-address <vm>` (needs the QEMU guest agent in the VM).
pub(crate) fn ip_addresses(id: &str) -> Result<Vec<String>> {
    let out = query(&["ip-address".to_string(), id.to_string()])?;
    Ok(out.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
}

/// Start options: `disposable` runs it as a snapshot, changes not saved.
pub(crate) fn start(id: &str, disposable: bool) -> Result<()> {
    let mut args = vec!["start".to_string(), id.to_string()];
    if disposable {
        args.push("--disposable".into());
    }
    change(&args)
}

/// How to stop a VM (utmctl's flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopMode {
    /// Power-off event (utmctl's default).
    Force,
    /// Kill the VM process.
    Kill,
    /// Ask the guest OS to shut down.
    Request,
}

impl StopMode {
    pub(crate) fn parse(s: &str) -> Result<StopMode> {
        match s {
            "force" => Ok(StopMode::Force),
            "kill" => Ok(StopMode::Kill),
            "request" => Ok(StopMode::Request),
            o => Err(Error::invalid("stop mode", o, "expected \"force\", \"kill\" or \"request\"")),
        }
    }
    pub(crate) fn flag(self) -> &'static str {
        match self {
            StopMode::Force => "--force",
            StopMode::Kill => "--kill",
            StopMode::Request => "--request",
        }
    }
}

/// Stop a VM. A running VM is a guarded target (its guest state can be lost): a person
/// confirms at the terminal, `--dry-run` only says so. A stopped VM is left alone.
/// Returns the status it had.
pub(crate) fn stop(id: &str, mode: StopMode) -> Result<String> {
    let vms = list()?;
    let Some(vm) = find(&vms, id) else {
        return Err(Error::invalid(
            "UTM virtual machine",
            id,
            "UTM knows no VM with that UUID or full name; utm::list() shows the VMs it knows",
        ));
    };
    if !vm.running() {
        crate::ui::info(&format!("VM `{}` is already stopped", vm.name));
        return Ok(vm.status);
    }
    let how = match mode {
        StopMode::Force => "power it off",
        StopMode::Kill => "kill its process",
        StopMode::Request => "ask its OS to shut down",
    };
    let action =
        Action::new("utm.stop", format!("stop the UTM VM `{}` ({}, {how})", vm.name, vm.status))
            .args(json!({ "uuid": vm.uuid, "name": vm.name, "mode": mode.flag() }))
            .destroys(Target::Vm { name: vm.name.clone() });
    guard::act(action, || stop_confirmed(&vm.uuid, mode))?;
    Ok(vm.status)
}

/// Run `utmctl stop` for a VM the caller already confirmed through the guard.
pub(crate) fn stop_confirmed(uuid: &str, mode: StopMode) -> Result<()> {
    let args = vec!["stop".to_string(), uuid.to_string(), mode.flag().to_string()];
    let f = command(&args)?.run()?;
    match explain(&args, &f) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "UUID                                 Status   Name\n\
        17DC4F96-F1A9-4B51-962B-03D85998E0E7 started  new-dev-vm\n\
        0DADCFD5-C147-4870-9C0F-925F33B5D405 stopped  Helix Desktop\n\
        D999E038-76E9-4C81-BCF1-80A6F2E157CF stopping  two  spaces\n";

    #[test]
    fn parses_list_rows_with_spaces_in_names() {
        let vms = parse_list(LIST).unwrap();
        assert_eq!(vms.len(), 3);
        assert_eq!(
            vms[0],
            Vm {
                uuid: "17DC4F96-F1A9-4B51-962B-03D85998E0E7".into(),
                status: "started".into(),
                name: "new-dev-vm".into()
            }
        );
        assert_eq!(vms[1].name, "Helix Desktop");
        assert_eq!(vms[2].status, "stopping");
        assert_eq!(vms[2].name, " two  spaces");
        assert!(vms[0].running() && !vms[1].running());
        assert_eq!(find(&vms, "helix desktop"), None);
        assert_eq!(find(&vms, "Helix Desktop").unwrap().uuid, vms[1].uuid);
        assert_eq!(find(&vms, "17dc4f96-f1a9-4b51-962b-03d85998e0e7").unwrap().name, "new-dev-vm");
        assert!(parse_list("garbage here\n").is_err());
        assert!(
            parse_list("UUID                                 Status   Name\n").unwrap().is_empty()
        );
    }

    #[test]
    fn explains_gui_session_failures() {
        let f = |stderr: &str, code: i32| Finished {
            code: Some(code),
            stdout: String::new(),
            stderr: stderr.into(),
            success: code == 0,
        };
        let args = vec!["list".to_string()];
        let e = explain(&args, &f("Error from event: The operation couldn\u{2019}t be completed. (OSStatus error -1743.)\nNOTE: utmctl does not work from SSH sessions or before logging in.\n", 0)).unwrap().to_string();
        assert!(
            e.contains("-1743") && e.contains("desktop session") && e.contains("Automation"),
            "{e}"
        );
        let e = explain(&args, &f("Error from event: The operation couldn\u{2019}t be completed. (OSStatus error -600.)\n", 0)).unwrap().to_string();
        assert!(e.contains("-600") && e.contains("open UTM"), "{e}");
        let e = explain(
            &["status".into(), "nope".into()],
            &f("Error: Virtual machine not found.\n", 1),
        )
        .unwrap()
        .to_string();
        assert!(e.contains("`nope`") && e.contains("utm::list()"), "{e}");
        assert!(explain(&args, &f("", 0)).is_none());
        // Each failure is a utmctl error naming the command, not a bare message.
        let e = explain(&args, &f("boom\n", 3)).unwrap();
        assert!(
            matches!(&e, Error::Utmctl { command, problem }
                if command == "utmctl list" && problem == "failed with exit code 3: boom"),
            "{e:?}"
        );
        assert!(matches!(
            parse_list("garbage here\n"),
            Err(Error::Utmctl { command, .. }) if command == "utmctl list"
        ));
    }
}
