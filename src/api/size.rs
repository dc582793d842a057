//! `size::` — parse and print sizes the one way helix does (binary units, like qemu-img).

use rhai::plugin::*;

pub fn module() -> rhai::Module {
    exported_module!(size_api)
}

#[export_module]
mod size_api {
    use crate::error::{RhaiResult, rhai as r};

    /// Bytes in a size string like `256G`, `1T`, `512M` or `1.5G` (K = 1024).
    ///
    /// ```rhai
    /// let bytes = size::parse("256G");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse(ctx: NativeCallContext, text: &str) -> RhaiResult<i64> {
        r(&ctx, crate::size::parse(text)).map(|n| n as i64)
    }

    /// A byte count as a size string (`274877906944` → `256G`).
    ///
    /// ```rhai
    /// print(size::format(1073741824));
    /// ```
    pub fn format(bytes: i64) -> String {
        crate::size::format(bytes.max(0) as u64)
    }
}
