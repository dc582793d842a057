//! Which run the calling code is part of: the run entered on this thread ([`Run::enter`], an
//! RAII guard like tokio's `Handle::enter`), else the thread's default run (not dry-run, no
//! journal: what library users and unit tests get). Rhai wrappers ask the engine instead
//! ([`of`]); the Ctrl-C handler, which runs on its own thread, asks for every [`live`] run.

use std::cell::{OnceCell, RefCell};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, Weak};

use super::Run;
use crate::config::Config;

thread_local! {
    /// The runs entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<Arc<Run>>> = const { RefCell::new(Vec::new()) };
    /// This thread's run outside any entered one.
    static DEFAULT: OnceCell<Arc<Run>> = const { OnceCell::new() };
}

/// Every run entered somewhere in the process and not yet dropped — for the Ctrl-C handler,
/// which cancels them all. Holds no run state, only weak handles.
static LIVE: Mutex<Vec<Weak<Run>>> = Mutex::new(Vec::new());

/// Entered with [`Run::enter`]; leaving the scope makes the previous run current again.
#[must_use = "the run is current only while the guard lives"]
pub(crate) struct Entered {
    /// The guard belongs to the thread it was made on.
    _thread: PhantomData<*const ()>,
}

impl Run {
    /// Make this run the current one on this thread until the guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> Entered {
        ENTERED.with(|e| e.borrow_mut().push(self.clone()));
        let mut live = LIVE.lock().unwrap();
        live.retain(|w| w.strong_count() > 0);
        if !live.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(self))) {
            live.push(Arc::downgrade(self));
        }
        Entered { _thread: PhantomData }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // Dropped outside the borrow: the last handle's drop tears the run down, which may
        // ask for the current run itself.
        let left = ENTERED.try_with(|e| e.borrow_mut().pop()).ok().flatten();
        drop(left);
    }
}

/// Whether a run is entered on this thread.
pub(super) fn entered() -> bool {
    ENTERED.try_with(|e| !e.borrow().is_empty()).unwrap_or(false)
}

/// The run the calling thread is part of: the innermost entered one, else the thread's
/// default run.
pub fn current() -> Arc<Run> {
    if let Some(r) = ENTERED.try_with(|e| e.borrow().last().cloned()).ok().flatten() {
        return r;
    }
    let fresh = || Arc::new(Run::new(false, false, false, Config::default()));
    DEFAULT.try_with(|d| d.get_or_init(fresh).clone()).unwrap_or_else(|_| fresh())
}

/// The run a Rhai call belongs to: the engine's (its default tag, set by the lifecycle), else
/// the current one.
pub(crate) fn of(ctx: &rhai::NativeCallContext) -> Arc<Run> {
    ctx.tag().and_then(|t| t.clone().try_cast::<Arc<Run>>()).unwrap_or_else(current)
}

/// Every run entered in this process that is still alive.
pub(crate) fn live() -> Vec<Arc<Run>> {
    LIVE.lock().unwrap().iter().filter_map(Weak::upgrade).collect()
}
