#[test]
fn probe() {
    let mut engine = crate::engine::build(vec![]);
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    let list = engine.collect_fn_metadata(None, |f| {
        let m = f.metadata;
        if ["replace","trim","push","remove","fs","info","copy","make_upper","sort","pop","to_upper","join","len"].iter().any(|n| m.name == *n) || f.namespace == "fs" {
            Some(format!("ns={} name={} n={} params={:?} ret={} access={:?} fnns={:?}", f.namespace, m.name, m.num_params, m.params_info, m.return_type, m.access, m.namespace))
        } else { None }
    }, true);
    for l in list { println!("{l}"); }
    let mut scope = rhai::Scope::new();
    scope.push_constant("args", rhai::Map::new());
    let ast = engine.compile_with_scope(&scope, "import \"vm\" as vm;\nlet s = \"a\";\nlet v = s.replace(\"a\",\"b\");\ns.trim();\nlet x = s.trim().len();\nlet q = args.brnach;\nlet r = args[\"no-x\"];\nfs::copy(\"a\");\nvm::foo(1);\nlet z = pins::X;\n").unwrap();
    println!("{:#?}", ast.statements());
}
