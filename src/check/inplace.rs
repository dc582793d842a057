//! The in-place method lint: `let v = s.replace("a", "b")`, `let b = a.push(x)`,
//! `s.trim().len()` — these methods change their object and return `()`, so the value used is
//! `()`, not the changed text. Calling them as a statement (`s.replace("a", "b");`) is right.

use rhai::{ASTNode, Expr, Stmt};

use super::{Context, Diagnostic};

pub(super) fn visit(path: &[ASTNode], cx: &Context, out: &mut Vec<Diagnostic>) {
    let (x, pos) = match path.last() {
        Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => (x, pos),
        // The function-call form: `let v = replace(s, "a", "b")`, `let d = plist::set(d, …)`.
        Some(ASTNode::Expr(Expr::FnCall(x, pos))) if x.op_token.is_none() => (x, pos),
        _ => return,
    };
    let in_place = if x.namespace.is_empty() {
        cx.surface.in_place.contains(x.name.as_str())
            && !cx.local_fns.iter().any(|f| f.name == x.name.as_str())
    } else {
        let ns = x.namespace.path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join("::");
        cx.surface.module_in_place.contains(&(ns, x.name.to_string()))
    };
    if !in_place || !value_is_used(path) {
        return;
    }
    let name = x.name.as_str();
    let instead = match name {
        "replace" => "call `s.replace(…);` on its own line, then use `s`",
        "trim" => "call `s.trim();` on its own line, then use `s` (or `s.trim()` as a statement)",
        "make_upper" => "use `s.to_upper()`, which returns the new text",
        "make_lower" => "use `s.to_lower()`, which returns the new text",
        "push" | "append" | "insert" => "call it on its own line, then use the array",
        "sort" | "reverse" | "dedup" => "call it on its own line, then use the array",
        _ => "call it on its own line, then use the value it changed",
    };
    out.push(cx.at(
        *pos,
        format!("`{name}` changes its value in place and returns `()`, so this uses `()`"),
        instead.to_string(),
    ));
}

/// Whether the value of the method call at the end of `path` is used: anything but the last
/// link of a `a.b.m(…)` chain that is itself a statement.
fn value_is_used(path: &[ASTNode]) -> bool {
    let mut i = path.len() - 1;
    loop {
        let Some(parent) = i.checked_sub(1).map(|p| &path[p]) else { return false };
        match parent {
            // The right end of a chain: the chain's value is ours; keep climbing.
            ASTNode::Expr(Expr::Dot(d, _, _)) if is_same(&d.rhs, &path[i]) => i -= 1,
            // Anything to the left of a `.`/`[` is an object something else is called on.
            ASTNode::Expr(Expr::Dot(..) | Expr::Index(..)) => return true,
            // The last statement of an expression block (`${ s.trim() }`) is the block's value.
            ASTNode::Stmt(Stmt::Expr(_)) => {
                let block = i.checked_sub(2).map(|b| &path[b]);
                match block {
                    Some(ASTNode::Expr(Expr::Stmt(b)))
                        if b.statements().last().is_some_and(|l| is_stmt(l, parent)) =>
                    {
                        i -= 2
                    }
                    _ => return false,
                }
            }
            // A `switch` statement's arms (`"a" => list.push(x),`) are statements; only what it
            // switches on is a value.
            ASTNode::Stmt(Stmt::Switch(x, _)) => return is_same(&x.0, &path[i]),
            ASTNode::Stmt(_) => return !matches!(parent, ASTNode::Stmt(Stmt::Block(_))),
            _ => return true,
        }
    }
}

fn is_stmt(s: &Stmt, node: &ASTNode) -> bool {
    match node {
        ASTNode::Stmt(n) => std::ptr::eq(s, *n),
        _ => false,
    }
}

fn is_same(e: &Expr, node: &ASTNode) -> bool {
    match node {
        ASTNode::Expr(n) => std::ptr::eq(e, *n),
        _ => false,
    }
}
