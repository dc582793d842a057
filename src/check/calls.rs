//! Calls resolved before anything runs: `fs::mkdirs(…)` is not a primitive, `qemu_img::snapshots`
//! is not either, `fs::copy("a")` has the wrong number of arguments, `vm::strat()` is not in the
//! stdlib module, `pins::QEMU_REV` is not one of its constants, and `helpr(1)` is defined nowhere
//! — each with the signatures that exist and the closest name.

use rhai::{ASTNode, Expr, FnCallExpr, Position, Stmt};

use super::{Context, Diagnostic, suggest};

/// Look at one node of the walk.
pub(super) fn visit(path: &[ASTNode], cx: &Context, out: &mut Vec<Diagnostic>) {
    match path.last() {
        // A call is an expression, or a statement of its own.
        Some(ASTNode::Expr(Expr::FnCall(x, pos)) | ASTNode::Stmt(Stmt::FnCall(x, pos))) => {
            call(cx, x, *pos, out)
        }
        Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => {
            method(cx, &x.name, x.args.len() + 1, *pos, out)
        }
        Some(ASTNode::Expr(Expr::Variable(x, _, pos))) if !x.2.is_empty() => {
            let ns = x.2.path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>();
            let at = x.2.path.first().map(|i| i.pos).unwrap_or(*pos);
            variable(cx, &ns, &x.1, at, out);
        }
        _ => {}
    }
}

fn call(cx: &Context, x: &FnCallExpr, pos: Position, out: &mut Vec<Diagnostic>) {
    if !x.namespace.is_empty() {
        let ns = x.namespace.path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>();
        let at = x.namespace.path.first().map(|i| i.pos).unwrap_or(pos);
        namespaced(cx, &ns, &x.name, x.args.len(), at, out);
    } else if x.op_token.is_none() {
        plain(cx, &x.name, x.args.len(), pos, out);
    }
}

fn namespaced(
    cx: &Context,
    ns: &[&str],
    name: &str,
    argc: usize,
    pos: Position,
    out: &mut Vec<Diagnostic>,
) {
    let [ns] = ns else { return };
    let qualified = format!("{ns}::{name}");
    if let Some(fns) = cx.surface.modules.get(*ns) {
        let same: Vec<_> = fns.iter().filter(|f| f.name == name).collect();
        if same.is_empty() {
            let help = suggest::hint(name, fns.iter().map(|f| f.name.as_str()));
            out.push(cx.at(
                pos,
                format!("`{qualified}` is not a primitive: `{ns}` has no function `{name}`"),
                or_else(help, format!("`helix api {ns}` lists what `{ns}::` offers")),
            ));
        } else if !same.iter().any(|f| f.arity == argc) {
            out.push(cx.at(
                pos,
                format!("`{qualified}` does not take {}", count(argc)),
                format!("it is called as {}", list(same.iter().map(|f| f.signature()))),
            ));
        }
        return;
    }
    if let Some(m) = cx.imports.get(*ns) {
        let same: Vec<_> = m.fns.iter().filter(|f| f.name == name).collect();
        if same.is_empty() {
            let help = suggest::hint(name, m.fns.iter().map(|f| f.name.as_str()));
            out.push(cx.at(
                pos,
                format!("`{qualified}`: module `{}` has no function `{name}`", m.source),
                or_else(
                    help,
                    format!("its functions: {}", names(m.fns.iter().map(|f| f.name.as_str()))),
                ),
            ));
        } else if !same.iter().any(|f| f.arity == argc) {
            out.push(cx.at(
                pos,
                format!("`{qualified}` does not take {}", count(argc)),
                format!(
                    "it is defined as {}",
                    list(same.iter().map(|f| format!("{ns}::{}", f.signature())))
                ),
            ));
        }
        return;
    }
    // An alias nobody imported (strict variables usually stop this at compile time).
    if !cx.failed_imports.iter().any(|a| a == ns) {
        let known: Vec<&str> = cx
            .surface
            .modules
            .keys()
            .map(String::as_str)
            .chain(cx.imports.keys().map(String::as_str))
            .collect();
        out.push(cx.at(
            pos,
            format!("there is no module `{ns}`"),
            or_else(suggest::hint(ns, known), format!("import it: `import \"{ns}\" as {ns};`")),
        ));
    }
}

fn plain(cx: &Context, name: &str, argc: usize, pos: Position, out: &mut Vec<Diagnostic>) {
    // Names Rhai's parser handles itself, or calls through a variable holding a closure.
    if matches!(
        name,
        "print"
            | "debug"
            | "type_of"
            | "Fn"
            | "call"
            | "curry"
            | "is_def_var"
            | "is_def_fn"
            | "is_shared"
            | "eval"
    ) || !name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        || cx.declared.iter().any(|d| d == name)
    {
        return;
    }
    let local: Vec<_> = cx.local_fns.iter().filter(|f| f.name == name).collect();
    let global = cx.surface.global.get(name);
    if local.is_empty() && global.is_none() {
        let candidates = cx
            .local_fns
            .iter()
            .map(|f| f.name.as_str())
            .chain(cx.surface.global.keys().map(String::as_str));
        out.push(cx.at(
            pos,
            format!("there is no function `{name}`"),
            or_else(
                suggest::hint(name, candidates),
                "define it with `fn`, or call a primitive with its namespace (`fs::…`)".into(),
            ),
        ));
        return;
    }
    let arities =
        local.iter().map(|f| f.arity).chain(global.into_iter().flatten().map(|f| f.arity));
    if !arities.clone().any(|a| a == argc) {
        let sigs = local
            .iter()
            .map(|f| f.signature())
            .chain(global.into_iter().flatten().map(|f| f.signature()));
        out.push(cx.at(
            pos,
            format!("`{name}` does not take {}", count(argc)),
            format!("it is called as {}", list(sigs)),
        ));
    }
}

/// `value.name(…)`: some function of that name must take the value and the arguments. A map
/// may hold a closure under any key (`obj.run()`), so names the file uses as map keys pass.
fn method(cx: &Context, name: &str, argc: usize, pos: Position, out: &mut Vec<Diagnostic>) {
    if matches!(name, "call" | "curry" | "type_of" | "is_shared")
        || cx.map_keys.iter().any(|k| k == name)
        || cx.local_fns.iter().any(|f| f.name == name)
    {
        return;
    }
    match cx.surface.global.get(name) {
        None => {
            // A primitive is called with its namespace, not as a method: `ui::inc(bar, 1)`.
            let namespaced: Vec<String> = cx
                .surface
                .modules
                .iter()
                .filter(|(_, fs)| fs.iter().any(|f| f.name == name && f.arity == argc))
                .map(|(ns, _)| format!("`{ns}::{name}(value, …)`"))
                .collect();
            if !namespaced.is_empty() {
                out.push(cx.at(
                    pos,
                    format!("`{name}` is a primitive, not a method of the value"),
                    format!("call it as {}", namespaced.join(" or ")),
                ));
                return;
            }
            let candidates = cx
                .surface
                .global
                .iter()
                .filter(|(_, fs)| fs.iter().any(|f| f.arity == argc))
                .map(|(n, _)| n.as_str());
            out.push(cx.at(
                pos,
                format!("there is no method `{name}`"),
                or_else(
                    suggest::hint(name, candidates),
                    "`helix api` lists helix's functions; Rhai's are in its book".into(),
                ),
            ));
        }
        Some(fns) if !fns.iter().any(|f| f.arity == argc) => {
            let sigs = fns.iter().map(|f| f.signature());
            out.push(cx.at(
                pos,
                format!("`.{name}(…)` does not take {}", count(argc - 1)),
                format!("it is called as {} (the value before the `.` is the first)", list(sigs)),
            ));
        }
        Some(_) => {}
    }
}

fn variable(cx: &Context, ns: &[&str], name: &str, pos: Position, out: &mut Vec<Diagnostic>) {
    let [ns] = ns else { return };
    if let Some(m) = cx.imports.get(*ns)
        && !m.vars.iter().any(|v| v == name)
    {
        let help = suggest::hint(name, m.vars.iter().map(String::as_str));
        out.push(cx.at(
            pos,
            format!("`{ns}::{name}`: module `{}` has no constant `{name}`", m.source),
            or_else(help, format!("its constants: {}", names(m.vars.iter().map(String::as_str)))),
        ));
    }
}

fn or_else(help: String, other: String) -> String {
    if help.is_empty() { other } else { help }
}

fn count(n: usize) -> String {
    match n {
        0 => "no arguments".into(),
        1 => "1 argument".into(),
        n => format!("{n} arguments"),
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    v.join(" or ")
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}
