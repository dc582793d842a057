//! Every primitive that takes an options map refuses a key it does not know: the error names
//! the key (and the closest allowed one when there is one) and nothing ran. The table is complete
//! by construction: every function `helix api --json` lists with a map parameter must have a row
//! (or be named below as taking a document, whose keys are the document's own).

use std::collections::BTreeSet;

use crate::support::builder::Test;

struct Row {
    /// `module::name` as Rhai's metadata names it.
    func: &'static str,
    call: &'static str,
    /// The key path the error must name.
    key: &'static str,
    /// The allowed key "did you mean" must offer (None where the decoder has no hint yet).
    hint: Option<&'static str>,
    /// A file or directory the call would have made had it run.
    made: Option<&'static str>,
}

const fn row(
    func: &'static str,
    call: &'static str,
    key: &'static str,
    hint: Option<&'static str>,
    made: Option<&'static str>,
) -> Row {
    Row { func, call, key, hint, made }
}

const ROWS: &[Row] = &[
    row(
        "build::configure",
        r#"build::configure(#{ argv: ["touch", "ran"], build_dir: "out", froce: true })"#,
        "froce",
        Some("force"),
        Some("out"),
    ),
    row(
        "build::meson_setup",
        r#"build::meson_setup("src", "bd", [], #{ envv: #{} })"#,
        "envv",
        Some("env"),
        Some("bd"),
    ),
    row(
        "build::ninja",
        r#"build::ninja("nb", #{ jbos: 2 })"#,
        "jbos",
        Some("jobs"),
        Some("nb/helix-ninja.log"),
    ),
    row(
        "cloudinit::seed",
        r#"cloudinit::seed("seed.img", #{ user_data: #{}, meta_data: #{ "instance-id": "i" }, fromat: "iso" })"#,
        "fromat",
        Some("format"),
        Some("seed.img"),
    ),
    row(
        "cmd::output",
        r#"cmd::output(["touch", "ran"], #{ cwdd: "." })"#,
        "cwdd",
        Some("cwd"),
        Some("ran"),
    ),
    row(
        "cmd::run",
        r#"cmd::run(["touch", "ran"], #{ quite: true })"#,
        "quite",
        Some("quiet"),
        Some("ran"),
    ),
    row(
        "cmd::run_logged",
        r#"cmd::run_logged(["touch", "ran"], "run.log", #{ timout: 5 })"#,
        "timout",
        Some("timeout"),
        Some("run.log"),
    ),
    row(
        "cmd::unchecked",
        r#"cmd::unchecked(["touch", "ran"], #{ stdn: "" })"#,
        "stdn",
        Some("stdin"),
        Some("ran"),
    ),
    row(
        "git::ensure",
        r#"git::ensure("repo", #{ url: "https://127.0.0.1:9/r.git", brnach: "main" })"#,
        "brnach",
        Some("branch"),
        Some("repo"),
    ),
    row(
        "git::ensure_all",
        r#"git::ensure_all([#{ path: "repo2", url: "https://127.0.0.1:9/r.git", revv: "abc" }])"#,
        "[0].revv",
        Some("rev"),
        Some("repo2"),
    ),
    row(
        "macho::edit",
        r#"macho::edit("bin", #{ add_rapth: "@loader_path" })"#,
        "add_rapth",
        Some("add_rpath"),
        None,
    ),
    row(
        "macho::rewrite_prefix",
        r#"macho::rewrite_prefix("bin", "/p", "fw", #{ identiy: "-" })"#,
        "identiy",
        Some("identity"),
        None,
    ),
    row(
        "net::download",
        r#"net::download("http://127.0.0.1:9/x", "dl", #{ sha265: "ab" })"#,
        "sha265",
        Some("sha256"),
        Some("dl"),
    ),
    row("qemu::start", r#"qemu::start(#{ memroy: 512 })"#, "memroy", Some("memory"), None),
    row(
        "qemu_img::convert",
        r#"qemu_img::convert("a.img", "b.img", #{ fromat: "raw" })"#,
        "fromat",
        Some("format"),
        Some("b.img"),
    ),
    row(
        "qemu_img::create",
        r#"qemu_img::create("c.img", "1G", #{ fromat: "raw" })"#,
        "fromat",
        Some("format"),
        Some("c.img"),
    ),
    row(
        "qemu_img::snapshot_apply",
        r#"qemu_img::snapshot_apply("a.img", "s", #{ save_curent: true })"#,
        "save_curent",
        Some("save_current"),
        None,
    ),
    row(
        "ssh::output",
        r#"ssh::output("u@127.0.0.1:9", "touch ran", #{ qiuet: true })"#,
        "qiuet",
        Some("quiet"),
        None,
    ),
    row(
        "ssh::probe",
        r#"ssh::probe("127.0.0.1", 9, #{ logn: true })"#,
        "logn",
        Some("login"),
        None,
    ),
    row(
        "ssh::run",
        r#"ssh::run("u@127.0.0.1:9", "touch ran", #{ read_olny: true })"#,
        "read_olny",
        Some("read_only"),
        None,
    ),
    row(
        "ssh::run",
        r#"ssh::run(#{ hots: "127.0.0.1", port: 9 }, "touch ran")"#,
        "hots",
        Some("host"),
        None,
    ),
    row(
        "ssh::upload",
        r#"ssh::upload("u@127.0.0.1:9", "local", "/tmp/x", #{ mdoe: 0o600 })"#,
        "mdoe",
        Some("mode"),
        None,
    ),
    row(
        "ssh::write_file",
        r#"ssh::write_file("u@127.0.0.1:9", "/tmp/x", "t", #{ sduo: true })"#,
        "sduo",
        Some("sudo"),
        None,
    ),
    row(
        "utm::add_disk",
        r#"utm::add_disk("vm.utm", #{ image: "d.qcow2", howw: "move" })"#,
        "howw",
        Some("how"),
        None,
    ),
    row("utm::configure", r#"utm::configure("vm.utm", #{ cpsu: 2 })"#, "cpsu", Some("cpus"), None),
    row(
        "utm::create_bundle",
        r#"utm::create_bundle("new.utm", #{ network: #{ mdoe: "Shared" } })"#,
        "network.mdoe",
        Some("mode"),
        Some("new.utm"),
    ),
    row(
        "utm::install_qemu",
        r#"utm::install_qemu("lib.dylib", #{ suod: true })"#,
        "suod",
        Some("sudo"),
        None,
    ),
    row(
        "utm::start",
        r#"utm::start("vm", #{ disposible: true })"#,
        "disposible",
        Some("disposable"),
        None,
    ),
];

/// Functions whose map is a document, not options: any key is the document's own.
const DOCUMENTS: &[&str] = &[
    "cloudinit::meta_data",
    "cloudinit::network_config",
    "cloudinit::user_data",
    "plist::get",
    "plist::get_path",
    "plist::has",
    "plist::remove",
    "plist::remove_path",
    "plist::set",
    "plist::set_path",
    "plist::to_binary",
    "plist::to_xml",
    "plist::write",
];

/// `module::name` of every function Rhai's metadata lists with a map parameter.
fn functions_taking_a_map(t: &Test) -> BTreeSet<String> {
    let out = t.helix(["api", "--json"]);
    out.success();
    let meta: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut found = BTreeSet::new();
    let mut scan = |module: &str, fns: &serde_json::Value| {
        for f in fns.as_array().into_iter().flatten() {
            let takes_map = f["params"].as_array().into_iter().flatten().any(|p| {
                p["type"].as_str().is_some_and(|t| t.split(['&', ' ']).any(|w| w.ends_with("Map")))
            });
            if takes_map {
                let name = f["name"].as_str().unwrap_or_default();
                found.insert(if module.is_empty() {
                    name.to_string()
                } else {
                    format!("{module}::{name}")
                });
            }
        }
    };
    scan("", &meta["functions"]);
    for (name, m) in meta["modules"].as_object().into_iter().flatten() {
        scan(name, &m["functions"]);
    }
    found
}

#[test]
fn every_primitive_with_a_map_has_a_row() {
    let t = Test::new();
    let found = functions_taking_a_map(&t);
    assert!(found.contains("utm::create_bundle") && found.contains("qemu::start"), "{found:?}");
    let covered: BTreeSet<&str> =
        ROWS.iter().map(|r| r.func).chain(DOCUMENTS.iter().copied()).collect();
    let missing: Vec<&String> = found.iter().filter(|f| !covered.contains(f.as_str())).collect();
    assert!(missing.is_empty(), "primitives taking a map with no row in options.rs: {missing:?}");
}

#[test]
fn an_unknown_option_key_is_an_error_naming_it_and_nothing_runs() {
    let mut src = String::from("//! Unknown keys.\n");
    for (i, r) in ROWS.iter().enumerate() {
        src.push_str(&format!(
            "try {{ {}; print(\"RAN {i}\"); }} catch (e) {{ print(`ERR {i} ${{e}}`); }}\n",
            r.call
        ));
    }
    let t = Test::new().recipe("keys", &src);
    let out = t.helix(["run", "keys"]);
    out.success().stdout_lacks("RAN ");
    for (i, r) in ROWS.iter().enumerate() {
        let prefix = format!("ERR {i} ");
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no error line for {}:\n{}", r.func, out.stdout));
        let key = if r.key == "add_rapth" { "add_rapth" } else { r.key };
        assert!(
            line.contains(&format!("`{key}`")),
            "{}: the error names no `{key}`: {line}",
            r.func
        );
        if let Some(h) = r.hint {
            assert!(
                line.contains(&format!("did you mean `{h}`")),
                "{}: no hint `{h}`: {line}",
                r.func
            );
        }
        if let Some(m) = r.made {
            assert!(!t.path(m).exists(), "{}: `{m}` was made, so the call ran", r.func);
        }
    }
    assert!(!t.path("ran").exists(), "a refused call ran its command");
    // The messages whole, one per call, as a recipe's author reads them.
    let mut said = String::new();
    for line in out.stdout.lines() {
        let (i, error) = line
            .strip_prefix("ERR ")
            .and_then(|l| l.split_once(' '))
            .unwrap_or_else(|| panic!("not an error line: {line}"));
        let call = ROWS[i.parse::<usize>().unwrap()].call;
        said.push_str(&format!("{call}\n  {error}\n"));
    }
    insta::assert_snapshot!(
        "unknown_option_keys",
        crate::support::redact::redact(&said, t.dir.path())
    );
}
