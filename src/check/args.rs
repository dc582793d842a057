//! `args.brnach` when the header declares `branch`: every read of the `args` map (`args.X`,
//! `args?.X`, `args["x"]`) is checked against the recipe's `@param`/`@flag` names, since a
//! misspelt one is `()` at run time and the recipe carries on with nothing.

use rhai::{ASTNode, Expr, Stmt};

use super::{Context, Diagnostic, suggest};

pub(super) fn visit(path: &[ASTNode], cx: &Context, out: &mut Vec<Diagnostic>) {
    choice_comparison(path, cx, out);
    let Some(params) = &cx.params else { return };
    let Some(ASTNode::Expr(Expr::Dot(x, _, _) | Expr::Index(x, _, _))) = path.last() else {
        return;
    };
    let Expr::Variable(v, _, _) = &x.lhs else { return };
    if v.1 != "args" || !v.2.is_empty() || cx.declared.iter().any(|d| d == "args") {
        return;
    }
    // `args.a.b` is `Dot(args, Dot(a, b))`: the name is the first link of the chain.
    let mut rhs = &x.rhs;
    while let Expr::Dot(inner, _, _) | Expr::Index(inner, _, _) = rhs {
        if matches!(path.last(), Some(ASTNode::Expr(Expr::Index(..)))) {
            break;
        }
        rhs = &inner.lhs;
    }
    let (name, pos) = match rhs {
        Expr::Property(p, pos) => (p.2.to_string(), *pos),
        Expr::StringConstant(s, pos) => (s.to_string(), *pos),
        Expr::MethodCall(..) => return, // args.keys(), args.len(): the map's own methods
        _ => return,                    // args[name]: not knowable here
    };
    if params.contains(&name) {
        return;
    }
    let help = suggest::hint(&name, params.iter().map(String::as_str));
    let declared = if params.is_empty() {
        "the header declares no parameters".to_string()
    } else {
        format!(
            "the header declares {}",
            params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
        )
    };
    let name_shown = if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("args.{name}")
    } else {
        format!("args[\"{name}\"]")
    };
    out.push(cx.at(
        pos,
        format!("`{name_shown}` is not a parameter of this recipe: {declared}"),
        if help.is_empty() {
            "declare it in the header: `//! @param NAME  what it is`".into()
        } else {
            help
        },
    ));
}

/// `args.action == "strat"` for a `choice(list|start|stop)` parameter: a word it can never be.
fn choice_comparison(path: &[ASTNode], cx: &Context, out: &mut Vec<Diagnostic>) {
    let x = match path.last() {
        Some(ASTNode::Expr(Expr::FnCall(x, _)) | ASTNode::Stmt(Stmt::FnCall(x, _)))
            if matches!(x.name.as_str(), "==" | "!=") && x.args.len() == 2 =>
        {
            x
        }
        _ => return,
    };
    let param = |e: &Expr| -> Option<String> {
        let Expr::Dot(d, _, _) = e else { return None };
        let Expr::Variable(v, _, _) = &d.lhs else { return None };
        if v.1 != "args" || !v.2.is_empty() {
            return None;
        }
        match &d.rhs {
            Expr::Property(p, _) => Some(p.2.to_string()),
            _ => None,
        }
    };
    let (name, word, pos) = match (&x.args[0], &x.args[1]) {
        (a, Expr::StringConstant(s, pos)) | (Expr::StringConstant(s, pos), a) => match param(a) {
            Some(n) => (n, s.to_string(), *pos),
            None => return,
        },
        _ => return,
    };
    let Some(words) = cx.choices.get(&name) else { return };
    if words.contains(&word) {
        return;
    }
    out.push(cx.at(
        pos,
        format!(
            "`{word}` is not one of `--{name}`'s choices ({}), so this is never true",
            words.join(", ")
        ),
        {
            let h = suggest::hint(&word, words.iter().map(String::as_str));
            if h.is_empty() { "compare with one of the words in the header".into() } else { h }
        },
    ));
}
