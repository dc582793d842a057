//! The in-place method lint: `let v = s.replace("a", "b")`, `let b = a.push(x)`,
//! `s.trim().len()` — these methods change their object and return `()`, so the value used is
//! `()`, not the changed text. Calling them as a statement (`s.replace("a", "b");`) is right.

use rhai::{ASTNode, Expr, Stmt};

use super::{Context, Diagnostic};

pub fn visit(path: &[ASTNode], cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(ASTNode::Expr(Expr::MethodCall(x, pos))) = path.last() else { return };
    if !cx.surface.in_place.contains(x.name.as_str()) {
        return;
    }
    if !value_is_used(path) {
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
        _ => "call it on its own line, then use the variable it changed",
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
            ASTNode::Stmt(Stmt::Expr(_)) => return false,
            // A `switch` statement's arms (`"a" => list.push(x),`) are statements; only what it
            // switches on is a value.
            ASTNode::Stmt(Stmt::Switch(x, _)) => return is_same(&x.0, &path[i]),
            ASTNode::Stmt(_) => return !matches!(parent, ASTNode::Stmt(Stmt::Block(_))),
            _ => return true,
        }
    }
}

fn is_same(e: &Expr, node: &ASTNode) -> bool {
    match node {
        ASTNode::Expr(n) => std::ptr::eq(e, *n),
        _ => false,
    }
}
