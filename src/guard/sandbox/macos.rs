//! The macOS layer: the child runs under `sandbox-exec -p PROFILE`, a Seatbelt profile that
//! allows everything but `file-write*` under each protected tree and `file-write-unlink` of
//! each pinned path; the paths travel as `-D` parameters, never spliced into the profile.
//! Built on every OS (the argv and profile are tested everywhere); only [`probe`] is macOS-only.

use super::*;

impl Plan {
    /// The Seatbelt profile for `sandbox-exec -p` and its `-D KEY=VALUE` parameters.
    pub(crate) fn seatbelt(&self) -> (String, Vec<String>) {
        let mut profile = String::from(
            "(version 1)\n(allow default)\n\
             ; helix: protected trees are write-denied; pinned paths cannot be removed or renamed\n",
        );
        let mut params = vec![];
        for (i, p) in self.read_only.iter().enumerate() {
            profile.push_str(&format!("(deny file-write* (subpath (param \"RO{i}\")))\n"));
            params.push(format!("RO{i}={}", p.display()));
        }
        for (i, p) in self.pinned.iter().enumerate() {
            profile.push_str(&format!("(deny file-write-unlink (literal (param \"PIN{i}\")))\n"));
            params.push(format!("PIN{i}={}", p.display()));
        }
        (profile, params)
    }
}

pub(super) const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// `argv` run under `sandbox-exec` with the plan's profile; after `sudo [-n]` when present, so
/// sudo itself runs outside and the privileged command inside.
pub(crate) fn seatbelt_argv(plan: &Plan, argv: Vec<String>) -> Vec<String> {
    let (profile, params) = plan.seatbelt();
    let split = if argv.first().is_some_and(|a| a == "sudo") {
        1 + argv[1..].iter().take_while(|a| a.starts_with('-')).count()
    } else {
        0
    };
    let mut out: Vec<String> = argv[..split].to_vec();
    out.push(SANDBOX_EXEC.into());
    for p in params {
        out.push("-D".into());
        out.push(p);
    }
    out.push("-p".into());
    out.push(profile);
    out.extend(argv[split..].iter().cloned());
    out
}

#[cfg(target_os = "macos")]
pub(super) fn probe(try_run: TryRun) -> State {
    if !Path::new(SANDBOX_EXEC).exists() {
        return State::Unavailable(format!("{SANDBOX_EXEC} is missing"));
    }
    // A sandboxed helix (inside an agent's sandbox) cannot apply another profile: try one.
    if try_run(&[SANDBOX_EXEC, "-p", "(version 1)(allow default)", "/usr/bin/true"]) {
        State::Active(Layer::Seatbelt)
    } else {
        State::Unavailable(
            "sandbox-exec cannot apply a profile here (is helix itself sandboxed?)".into(),
        )
    }
}
