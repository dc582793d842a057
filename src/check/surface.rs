//! What a recipe can call, read from the engine itself: every primitive (`fs::copy`) and global
//! function by name and number of arguments, with a signature to show the author, and the
//! methods that change their value in place and return `()` (`replace`, `push`, `trim`, …).
//! Nothing here is a hand-written list, so a new primitive is known the moment it is registered.

use std::collections::{BTreeMap, BTreeSet};

use rhai::Engine;

/// One callable function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Func {
    pub name: String,
    /// Number of arguments a call passes (a method's object counts).
    pub arity: usize,
    /// `fs::copy(from: &str, to: &str)`, as Rhai's metadata has it; see [`Func::signature`].
    pub raw: String,
}

impl Func {
    /// `fs::copy(from: String, to: String)`, as `helix api` writes it (made only when shown:
    /// there are thousands of functions and a check shows a handful).
    pub(crate) fn signature(&self) -> String {
        crate::apidoc::clean_signature(&self.raw)
    }
}

/// The callable surface of an engine.
#[derive(Debug, Default)]
pub struct Surface {
    /// Namespace → its functions (`fs` → `copy`, …).
    pub modules: BTreeMap<String, Vec<Func>>,
    /// Functions callable without a namespace (helix's globals, Rhai's packages, and the
    /// methods of helix's types).
    pub global: BTreeMap<String, Vec<Func>>,
    /// Methods whose every form takes its object by reference and returns `()`.
    pub in_place: BTreeSet<String>,
    /// The same for namespaced functions: `plist::set` → (`plist`, `set`).
    pub module_in_place: BTreeSet<(String, String)>,
}

impl Surface {
    pub(crate) fn of(engine: &Engine) -> Surface {
        let rows = engine.collect_fn_metadata(
            None,
            |f| {
                let m = f.metadata;
                if m.access == rhai::FnAccess::Private || m.name.contains('$') {
                    return None;
                }
                let params: Vec<String> = m.params_info.iter().map(|p| p.to_string()).collect();
                Some((
                    f.namespace.to_string(),
                    m.name.to_string(),
                    m.num_params,
                    params,
                    m.return_type.to_string(),
                    m.namespace == rhai::FnNamespace::Global,
                ))
            },
            true,
        );
        let mut s = Surface::default();
        let mut returns: BTreeMap<String, Vec<(bool, bool)>> = BTreeMap::new();
        let mut module_returns: BTreeMap<(String, String), Vec<(bool, bool)>> = BTreeMap::new();
        for (ns, name, arity, params, ret, global) in rows {
            let shown = if ns.is_empty() { name.clone() } else { format!("{ns}::{name}") };
            let raw = format!("{shown}({})", params.join(", "));
            let f = Func { name: name.clone(), arity, raw };
            let by_ref = params.first().is_some_and(|p| p.contains("&mut"));
            let ret: String = ret.chars().filter(|c| !c.is_whitespace()).collect();
            let unit = ret.is_empty() || ret == "()" || ret.ends_with("<()>");
            if !ns.is_empty() {
                s.modules.entry(ns.clone()).or_default().push(f.clone());
                module_returns.entry((ns.clone(), name.clone())).or_default().push((by_ref, unit));
            }
            if ns.is_empty() || global {
                s.global.entry(name.clone()).or_default().push(f);
                returns.entry(name).or_default().push((by_ref, unit));
            }
        }
        for v in s.modules.values_mut().chain(s.global.values_mut()) {
            v.sort();
            v.dedup();
        }
        s.in_place = returns
            .into_iter()
            .filter(|(name, forms)| {
                name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                    && forms.iter().all(|(by_ref, unit)| *by_ref && *unit)
            })
            .map(|(n, _)| n)
            .collect();
        s.module_in_place = module_returns
            .into_iter()
            .filter(|(_, forms)| forms.iter().all(|(by_ref, unit)| *by_ref && *unit))
            .map(|(k, _)| k)
            .collect();
        s
    }

    /// The functions of namespace `ns` called `name`.
    pub(crate) fn module_fns(&self, ns: &str, name: &str) -> Vec<&Func> {
        self.modules
            .get(ns)
            .map(|v| v.iter().filter(|f| f.name == name).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_surface_comes_from_the_engine() {
        let s = Surface::of(&crate::engine::build(vec![]));
        let copy = s.module_fns("fs", "copy");
        assert!(!copy.is_empty());
        assert!(copy.iter().all(|f| f.signature().starts_with("fs::copy(")), "{copy:?}");
        assert!(copy.iter().any(|f| f.arity == 2), "{copy:?}");
        assert!(s.module_fns("fs", "mkdirs").is_empty());
        assert!(s.global.contains_key("step"));
        assert!(s.global.contains_key("to_upper"));
        for m in ["replace", "push", "trim", "make_upper", "sort", "append", "clear"] {
            assert!(s.in_place.contains(m), "{m} is in place: {:?}", s.in_place);
        }
        // Methods that return something (at least in one form) are not flagged.
        assert!(s.module_in_place.contains(&("plist".to_string(), "set".to_string())));
        assert!(!s.module_in_place.contains(&("plist".to_string(), "remove".to_string())));
        for m in ["pop", "to_upper", "remove", "len", "join", "split"] {
            assert!(!s.in_place.contains(m), "{m} returns a value");
        }
    }
}
