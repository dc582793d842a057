//! `duration::` — print a duration the one way helix does (`44s`, `2m 05s`), never as
//! `43.707491923s`.

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(duration_api)
}

#[export_module]
mod duration_api {
    /// Seconds (as `ssh::wait_ready` and friends return them) in human form: `7.5s`, `44s`,
    /// `2m 05s`, `1h 02m`.
    ///
    /// ```rhai
    /// let waited = ssh::wait_ready(ssh::target(), 600);
    /// ui::success(`SSH is up after ${duration::format(waited)}`);
    /// ```
    #[rhai_fn(name = "format")]
    pub fn format(secs: f64) -> String {
        crate::duration::format_secs(secs)
    }

    /// Whole seconds in human form (`125` → `2m 05s`).
    ///
    /// ```rhai
    /// print(duration::format(125));
    /// ```
    #[rhai_fn(name = "format")]
    pub fn format_int(secs: i64) -> String {
        crate::duration::format_whole_secs(secs.max(0) as u64)
    }
}
