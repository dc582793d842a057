//! What a run keeps running and must end — the children it spawned, the VMs it started, its
//! SSH masters — each domain's registry kept in the run, found by its type (so `run/` names
//! no domain), and torn down with the run in a fixed order.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

/// A registry a domain keeps in each run ([`super::Run::resource`]).
pub(crate) trait Resource: Teardown + Default + 'static {
    /// When it is torn down: lower first (VMs before the children they are, before SSH
    /// masters).
    const ORDER: u8;
}

/// Ending what a [`Resource`] holds.
pub(crate) trait Teardown: Any + Send + Sync {
    fn teardown(&self);
}

type Entry = (TypeId, u8, Arc<dyn Any + Send + Sync>, Arc<dyn Teardown>);

#[derive(Default)]
pub(super) struct Resources(Mutex<Vec<Entry>>);

impl Resources {
    /// The run's `T`, made on first use.
    pub(super) fn get<T: Resource>(&self) -> Arc<T> {
        let mut all = self.0.lock().unwrap();
        if let Some((_, _, any, _)) = all.iter().find(|(id, ..)| *id == TypeId::of::<T>()) {
            return any.clone().downcast::<T>().expect("stored under its own type");
        }
        let t = Arc::new(T::default());
        all.push((TypeId::of::<T>(), T::ORDER, t.clone(), t.clone()));
        t
    }

    /// End everything, in order; each resource once.
    pub(super) fn teardown(&self) {
        let mut all = std::mem::take(&mut *self.0.lock().unwrap());
        all.sort_by_key(|(_, order, ..)| *order);
        for (.., t) in all {
            t.teardown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static ENDED: Mutex<Vec<&str>> = Mutex::new(Vec::new());

    #[derive(Default)]
    struct Late(AtomicUsize);
    impl Teardown for Late {
        fn teardown(&self) {
            ENDED.lock().unwrap().push("late");
        }
    }
    impl Resource for Late {
        const ORDER: u8 = 9;
    }
    #[derive(Default)]
    struct Early;
    impl Teardown for Early {
        fn teardown(&self) {
            ENDED.lock().unwrap().push("early");
        }
    }
    impl Resource for Early {
        const ORDER: u8 = 1;
    }

    #[test]
    fn one_of_each_type_ended_once_in_order() {
        let r = Resources::default();
        r.get::<Late>().0.fetch_add(1, Ordering::SeqCst);
        r.get::<Early>();
        assert_eq!(r.get::<Late>().0.load(Ordering::SeqCst), 1, "the same one");
        r.teardown();
        r.teardown();
        assert_eq!(*ENDED.lock().unwrap(), ["early", "late"]);
    }
}
