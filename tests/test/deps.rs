//! `deps::` against the real tools on this machine (bison, meson, ninja, cmake, nasm,
//! pkg-config from .ci/install-deps), a fake old bison 2.3, the `brew` double, and real pip.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::builder::Test;
use crate::support::redact::shown;

fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What macOS's /usr/bin/bison prints.
const OLD_BISON: &str = "cat <<'EOF'\nbison (GNU Bison) 2.3\nWritten by Robert Corbett and Richard Stallman.\n\nCopyright (C) 2006 Free Software Foundation, Inc.\nEOF\n";
const NEW_BISON: &str =
    "cat <<'EOF'\nbison (GNU Bison) 3.8.2\nWritten by Robert Corbett and Richard Stallman.\nEOF\n";

fn path_with(dirs: &[&Path]) -> String {
    let mut parts: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    parts.push(std::env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// PATH without any directory holding a `brew`.
fn path_without_brew() -> String {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|d| !d.join("brew").exists())
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

fn doubles() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doubles")
}

fn brew_calls(state: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(state.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn require_finds_the_real_tools_and_their_versions() {
    let out = Test::new()
        .env("PATH", &path_without_brew())
        .recipe(
            "d",
            "//! D.\nlet t = deps::require([\"bison >= 3.0\", \"pkg-config\", \"meson >= 0.63\", \"ninja >= 1.8\", \"nasm\", \"cmake >= 3.0\"]);\nfor k in t.keys() { print(`${k} ${t[k].version} ${t[k].path}`); }\n",
        )
        .args(["run", "d"])
        .run();
    out.success()
        .stdout_has("bison 3.")
        .stdout_has("ninja 1.")
        .stdout_has("cmake 3.")
        .stdout_has("/bin/nasm");
}

#[test]
fn an_old_bison_and_a_missing_tool_are_reported_together() {
    let t = Test::new();
    let fake = t.path("fake-bin");
    script(&fake.join("bison"), OLD_BISON);
    let t = t
        .env("PATH", &format!("{}:{}", fake.display(), path_without_brew()))
        .recipe("d", "//! D.\ndeps::require([\"bison >= 3.0\", \"ninja\", \"helix-no-such-tool\", \"cmake >= 99\"]);\n");
    let out = t.helix(["run", "d"]);
    out.code(1);
    assert!(
        !out.stderr.contains("  ninja "),
        "ninja is fine and not in the table:\n{}",
        out.stderr
    );
    // The table whole: the fake bison 2.3 (where it is) not >= 3.0, the missing tool not found
    // on PATH, cmake not >= 99, and the one `brew install` line for all three.
    // The real cmake is this machine's: its path and version are `<cmake>` and `<version>`.
    let text = shown("run d", &out, t.dir.path());
    let cmake: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("  cmake "))
        .expect("cmake is in the table")
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let text = text.replace(cmake[2], "<cmake>").replace(cmake[3], "<version>");
    insta::assert_snapshot!("old_and_missing", crate::support::redact::table(&text, "  TOOL "));
}

#[test]
fn keg_only_bison_in_the_homebrew_prefix_wins_over_an_old_one_on_path() {
    let t = Test::new();
    let old = t.path("usr-bin");
    script(&old.join("bison"), OLD_BISON);
    let prefix = t.path("homebrew");
    script(&prefix.join("opt/bison/bin/bison"), NEW_BISON);
    let state = t.path("brew-state");
    let t = t
        .env("PATH", &path_with(&[&old, &doubles()]))
        .env("BREW_DOUBLE_PREFIX", prefix.to_str().unwrap())
        .env("BREW_DOUBLE_DIR", state.to_str().unwrap())
        .recipe("d", "//! D.\nlet t = deps::require([\"bison >= 3.0\"]);\nprint(`${t.bison.path} ${t.bison.version}`);\n");
    let out = t.helix(["run", "d"]);
    out.success().stdout_has(&format!("{}/opt/bison/bin/bison 3.8.2", prefix.display()));
    assert!(brew_calls(&state).contains(&vec!["--prefix".to_string()]));
}

#[test]
fn brew_installed_asks_homebrew_what_is_really_installed() {
    let t = Test::new();
    let state = t.path("brew-state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("installed.json"),
        r#"{"bison": "3.8.2", "pkgconf": "2.3.0_1", "meson": "1.6.1"}"#,
    )
    .unwrap();
    let t = t
        .env("PATH", &path_with(&[&doubles()]))
        .env("BREW_DOUBLE_DIR", state.to_str().unwrap())
        .recipe(
            "b",
            "//! B.\nlet h = deps::brew_installed([\"bison\", \"pkg-config\", \"llvm\"]);\nprint(`bison=${h.bison} pkg-config=${h[\"pkg-config\"]} llvm=${h.llvm}`);\nprint(`missing=${deps::brew_missing([\"meson\", \"llvm\", \"glib-utils\"])}`);\n",
        );
    let out = t.helix(["run", "b"]);
    out.success()
        .stdout_has("bison=3.8.2 pkg-config=2.3.0_1 llvm=")
        .stdout_has("missing=[\"glib-utils\", \"llvm\"]");
    let calls = brew_calls(&state);
    assert!(
        calls.iter().all(|c| c == &["info", "--json=v2", "--installed"]),
        "only `brew info --json=v2 --installed`: {calls:?}"
    );
}

#[test]
fn brew_install_asks_first_and_installs_only_what_is_missing() {
    let t = Test::new();
    let state = t.path("brew-state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("installed.json"), r#"{"bison": "3.8.2"}"#).unwrap();
    let t = t
        .env("PATH", &path_with(&[&doubles()]))
        .env("BREW_DOUBLE_DIR", state.to_str().unwrap())
        .recipe("i", "//! I.\nlet done = deps::brew_install([\"bison\", \"llvm\", \"glib-utils\"]);\nprint(`installed=${done}`);\n");
    // No terminal and no --yes: nobody answered, nothing is installed.
    let out = t.helix(["run", "i"]);
    out.code(1);
    let mut all = shown("run i", &out, t.dir.path());
    assert!(!brew_calls(&state).iter().any(|c| c[0] == "install"));
    let out = t.helix(["run", "i", "--yes"]);
    out.success();
    all.push_str(&shown("run i --yes", &out, t.dir.path()));
    // The question that needs an answer (and --yes to give it), then what --yes installed.
    insta::assert_snapshot!("brew_install", all);
    assert!(brew_calls(&state).contains(&vec![
        "install".to_string(),
        "glib-utils".into(),
        "llvm".into()
    ]));
    let installed = std::fs::read_to_string(state.join("installed.json")).unwrap();
    assert!(installed.contains("llvm") && installed.contains("glib-utils"), "{installed}");
    // Everything is there now: nothing more is asked or installed.
    t.helix(["run", "i"]).success().stdout_has("installed=[]");
}

#[test]
fn without_homebrew_the_brew_functions_say_so() {
    let t = Test::new()
        .env("PATH", &path_without_brew())
        .recipe("b", "//! B.\ndeps::brew_installed([\"bison\"]);\n");
    let out = t.helix(["run", "b"]);
    out.code(1);
    insta::assert_snapshot!("without_homebrew", shown("run b", &out, t.dir.path()));
}

/// A minimal pure-Python wheel, made with python's zipfile (pip checks RECORD).
fn make_wheel(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let py = r#"
import base64, hashlib, sys, zipfile, os
d = sys.argv[1]
files = {
    "helix_probe/__init__.py": b"VALUE = 42\n",
    "helix_probe-0.1.dist-info/METADATA": b"Metadata-Version: 2.1\nName: helix-probe\nVersion: 0.1\n",
    "helix_probe-0.1.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: helix-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for name, data in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (name, h, len(data)))
record.append("helix_probe-0.1.dist-info/RECORD,,")
with zipfile.ZipFile(os.path.join(d, "helix_probe-0.1-py3-none-any.whl"), "w") as z:
    for name, data in files.items():
        z.writestr(name, data)
    z.writestr("helix_probe-0.1.dist-info/RECORD", "\n".join(record) + "\n")
"#;
    let st = std::process::Command::new("python3")
        .args(["-c", py, dir.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn pip_packages_are_checked_and_installed_into_the_user_site() {
    let t = Test::new();
    let wheels = t.path("wheels");
    make_wheel(&wheels);
    let userbase = t.path("userbase");
    let t = t
        .env("PYTHONUSERBASE", userbase.to_str().unwrap())
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheels.to_str().unwrap())
        .recipe(
            "p",
            "//! P.\nlet h = deps::pip_installed([\"pip\", \"helix_probe\"]);\nprint(`pip=${h.pip != ()} probe=${h.helix_probe}`);\nprint(`installed=${deps::pip_install([\"pip\", \"Helix.Probe\"])}`);\nprint(`after=${deps::pip_installed([\"helix-probe\"])[\"helix-probe\"]}`);\n",
        );
    let out = t.helix(["run", "p", "--yes"]);
    out.success()
        .stdout_has("pip=true probe=")
        .stdout_has("installed=[\"Helix.Probe\"]")
        .stdout_has("after=0.1");
    assert!(
        crate::support::tree::walk(&userbase)
            .iter()
            .any(|p| p.ends_with("helix_probe/__init__.py")),
        "installed into the user site under PYTHONUSERBASE"
    );
}
