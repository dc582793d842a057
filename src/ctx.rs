//! The old name of the run handle: `crate::ctx::get()` is [`crate::run::current`], the run the
//! calling thread is part of. Kept so existing call sites read unchanged; new code takes the
//! [`crate::run::Run`] from its caller or the engine ([`crate::run::of`]).

pub use crate::run::Run as Ctx;

/// The run the calling thread is part of (see [`crate::run::current`]).
pub fn get() -> std::sync::Arc<Ctx> {
    crate::run::current()
}
