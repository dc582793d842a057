//! The cost of `helix check`'s static analysis, which `helix run` does before every run: for
//! each built-in recipe, compiling it alone (what `run` always did) against the whole gate
//! (build the checker — engine and primitive surface — then header, compile, imports, walk).
//!
//! Run: `cargo bench --bench check` (release), or `cargo bench --profile dev --bench check`.

use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let runs = 21;
    let recipes = helix::recipe::discover(&[]).unwrap();
    let engine = helix::engine::build(vec![]);
    println!("## check (median of {runs} runs, every built-in recipe)\n");
    let new = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(helix::check::Checker::new(vec![]));
                t.elapsed()
            })
            .collect(),
    );
    let engine_only = median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(helix::engine::build(vec![]));
                t.elapsed()
            })
            .collect(),
    );
    println!(
        "Building the checker: {} (of which the engine, which `run` builds anyway: {})\n",
        ms(new),
        ms(engine_only)
    );
    println!(
        "| recipe | lines | compile only | check (without building the checker) | whole gate |"
    );
    println!("|---|---|---|---|---|");
    let checker = helix::check::Checker::new(vec![]);
    let (mut all_compile, mut all_check) = (Duration::ZERO, Duration::ZERO);
    for r in &recipes {
        let mut scope = rhai::Scope::new();
        scope.push("args", rhai::Map::new());
        scope.push("config", rhai::Map::new());
        let compile = median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(engine.compile_with_scope(&scope, &r.text).unwrap());
                    t.elapsed()
                })
                .collect(),
        );
        let check = median(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    assert!(std::hint::black_box(checker.recipe(r)).is_empty());
                    t.elapsed()
                })
                .collect(),
        );
        all_compile += compile;
        all_check += check;
        println!(
            "| {} | {} | {} | {} | {} |",
            r.name,
            r.text.lines().count(),
            ms(compile),
            ms(check),
            ms(new + check)
        );
    }
    println!("| **all {}** | | {} | {} | |", recipes.len(), ms(all_compile), ms(all_check));
}
