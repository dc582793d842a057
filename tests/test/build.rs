//! `build::` on a real meson + ninja C project (tests/data/meson-hello): configure skipped when
//! unchanged, incremental ninja, a compile error surfaced with the failing edge, the
//! configure-log gate, and a guarded clean.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::git::journal_kinds;
use crate::support::builder::{Output, Test};
use crate::support::redact::shown;

/// A fresh copy of the meson-hello project in the test dir: (src, build).
fn project(t: &Test) -> (PathBuf, PathBuf) {
    let src = t.path("meson-hello");
    crate::support::tree::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/meson-hello"),
        &src,
    );
    let build = src.join("build");
    (src, build)
}

/// What helix itself said in `out`: meson's report on stdout (it names the tools' versions)
/// is left out, and ninja's output quoted in an error (`  | …` after `failed with exit code N:`)
/// is one line `  | <ninja's output>`; its duration (`after 0.1s`) is `after <time>`.
fn helix_words(out: &Output) -> Output {
    let mut stderr = String::new();
    let mut quoting = false;
    for line in out.stderr.lines() {
        if quoting && line.starts_with("  | (after ") {
            let rest = line.split_once(';').map_or("", |(_, r)| r);
            stderr.push_str(&format!("  | (after <time>;{rest}\n"));
            quoting = false;
        } else if quoting {
            if !stderr.ends_with("  | <ninja's output>\n") {
                stderr.push_str("  | <ninja's output>\n");
            }
        } else {
            quoting = line.starts_with("error: `ninja ") && line.contains("failed with exit code");
            stderr.push_str(line);
            stderr.push('\n');
        }
    }
    Output { code: out.code, stdout: String::new(), stderr }
}

/// `text` with the time stamp in the name a clean moves a build dir aside to
/// (`.build.helix-old-1795814023`) made `<time>`, and the size of the build dir, which the
/// compiler decides (`directory, 143.7K in 32 files`), made `<size> in <n> files`.
fn moved_aside(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split(".helix-old-").enumerate() {
        if i > 0 {
            out.push_str(".helix-old-<time>");
            out.push_str(part.trim_start_matches(|c: char| c.is_ascii_digit()));
        } else {
            out.push_str(part);
        }
    }
    let mut text = String::new();
    for (i, part) in out.split("directory, ").enumerate() {
        if i > 0 {
            text.push_str("directory, ");
            match part.split_once(" files") {
                Some((_, rest)) => {
                    text.push_str("<size> in <n> files");
                    text.push_str(rest);
                }
                None => text.push_str(part),
            }
        } else {
            text.push_str(part);
        }
    }
    text
}

fn build_recipe(src: &Path, build: &Path, options: &str) -> String {
    format!(
        "//! Build.\nlet ran = build::meson_setup(\"{}\", \"{}\", [{options}]);\nlet b = build::ninja(\"{}\");\nprint(`configured=${{ran}} edges=${{b.edges}} log=${{b.log}}`);\n",
        src.display(),
        build.display(),
        build.display()
    )
}

#[test]
fn builds_a_real_meson_project_and_skips_what_is_unchanged() {
    let t = Test::new();
    let (src, build) = project(&t);
    let t = t.recipe("b", &build_recipe(&src, &build, ""));
    t.helix(["run", "b"])
        .success()
        .stdout_has("configured=true edges=4")
        .stdout_has("helix-ninja.log");
    let hello = std::process::Command::new(build.join("hello")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "hello from meson\n");
    assert!(
        std::fs::read_to_string(build.join("helix-ninja.log"))
            .unwrap()
            .contains("[4/4] Linking target hello")
    );

    // Nothing changed: configure is skipped (no meson process) and ninja has nothing to do.
    t.helix(["run", "b"]).success().stdout_has("configured=false edges=0");
    let kinds = journal_kinds(&t);
    assert!(
        !kinds.contains(&"process.run".to_string()),
        "meson setup must not run again: {kinds:?}"
    );
    assert!(kinds.contains(&"build.ninja".to_string()), "{kinds:?}");

    // One source touched: only its edges run.
    std::fs::write(
        src.join("greet.c"),
        "#include \"greet.h\"\n\nconst char *greeting(void) { return \"hello again\"; }\n",
    )
    .unwrap();
    t.helix(["run", "b"]).success().stdout_has("configured=false edges=3");
    let hello = std::process::Command::new(build.join("hello")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&hello.stdout), "hello again\n");
}

#[test]
fn a_compile_error_shows_the_failing_edge() {
    let t = Test::new();
    let (src, build) = project(&t);
    std::fs::write(
        src.join("greet.c"),
        "#include \"greet.h\"\n\nconst char *greeting(void) { return 42 +; }\n",
    )
    .unwrap();
    let t = t.recipe("b", &build_recipe(&src, &build, ""));
    let out = t.helix(["run", "b"]);
    out.code(1);
    // The failing edge and the compiler's words, as ninja printed them (the tools' own text,
    // which the snapshot leaves out).
    out.stderr_has("FAILED: libgreet.a.p/greet.c.o")
        .stderr_has("-c ../greet.c")
        .stderr_has("greet.c:3:")
        .stderr_has("error:");
    // helix's words around them: which command failed, where its full log is, the recipe's line.
    insta::assert_snapshot!("compile_error", shown("run b", &helix_words(&out), t.dir.path()));
    assert!(!out.stderr.contains('\u{1b}'), "no colour escapes in the error:\n{}", out.stderr);
}

#[test]
fn the_configure_log_gate_fails_with_its_message_until_the_flag_changes() {
    let t = Test::new();
    let (src, build) = project(&t);
    // The gate reads the log of the configure a dry run only plans.
    let gate = format!(
        "if dry_run() {{ exit(0); }}\nbuild::require_log(\"{}\", \"spice protocol support*YES\", \"QEMU was configured without SPICE and UTM always starts it with -spice; check spice-protocol and spice-server in the sysroot\");\nprint(\"gate passed\");\n",
        build.display()
    );
    let t = t.recipe("g", &format!("{}{gate}", build_recipe(&src, &build, "")));
    let out = t.helix(["run", "g"]);
    out.code(1).stdout_lacks("gate passed");
    // The recipe's message, the pattern the log lacks, what the log says instead, where it is.
    insta::assert_snapshot!("configure_log_gate", shown("run g", &helix_words(&out), t.dir.path()));
    // Different flags: configure runs again (the stamp no longer matches) and the gate passes.
    let t = t.recipe("g", &format!("{}{gate}", build_recipe(&src, &build, "\"-Dspice=true\"")));
    t.helix(["run", "g"]).success().stdout_has("configured=true").stdout_has("gate passed");
    let out = t
        .recipe(
            "h",
            &format!(
                "//! H.\nprint(build::log_has(\"{}\", \"spice protocol support.*NO\"));\n",
                build.display()
            ),
        )
        .args(["run", "h"])
        .run();
    out.success().stdout_has("false");
}

#[test]
fn a_qemu_style_configure_gets_the_env_and_path_and_is_skipped_when_unchanged() {
    let t = Test::new();
    let src = t.path("qemu");
    let tools = t.path("sysroot/host/bin");
    std::fs::create_dir_all(&tools).unwrap();
    std::fs::create_dir_all(&src).unwrap();
    // What QEMU's configure does for the parts that matter here: makes build/ with build.ninja.
    let configure = src.join("configure");
    std::fs::write(
        &configure,
        "#!/bin/sh\nmkdir -p build\necho \"$@|$PKG_CONFIG|$MACOSX_DEPLOYMENT_TARGET|${PATH%%:*}\" >> build/configure-calls\nprintf 'rule touch\\n  command = touch $out\\nbuild out: touch\\n' > build/build.ninja\n",
    )
    .unwrap();
    std::fs::set_permissions(&configure, std::fs::Permissions::from_mode(0o755)).unwrap();
    let recipe = |target: &str| {
        format!(
            "//! C.\nlet ran = build::configure(#{{ cwd: \"{src}\", build_dir: \"{src}/build\", argv: [\"./configure\", \"--target-list=aarch64-softmmu\", \"-Dshared_lib=true\"], env: #{{ PKG_CONFIG: \"{tools}/pkg-config\", MACOSX_DEPLOYMENT_TARGET: \"{target}\" }}, path: [\"{tools}\"] }});\nprint(`ran=${{ran}}`);\nbuild::ninja(\"{src}/build\", #{{ jobs: 1 }});\n",
            src = src.display(),
            tools = tools.display()
        )
    };
    let t = t.recipe("c", &recipe("14.0"));
    t.helix(["run", "c"]).success().stdout_has("ran=true");
    t.helix(["run", "c"]).success().stdout_has("ran=false");
    let t = t.recipe("c", &recipe("15.0"));
    t.helix(["run", "c"]).success().stdout_has("ran=true");
    let calls = std::fs::read_to_string(src.join("build/configure-calls")).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 2, "{calls}");
    assert_eq!(
        lines[0],
        format!(
            "--target-list=aarch64-softmmu -Dshared_lib=true|{}/pkg-config|14.0|{}",
            tools.display(),
            tools.display()
        )
    );
    assert!(lines[1].contains("|15.0|"));
    assert!(src.join("build/out").exists());
}

#[test]
fn clean_is_a_guarded_move_aside() {
    let t = Test::new();
    let (src, build) = project(&t);
    let t = t.recipe("b", &build_recipe(&src, &build, ""));
    t.helix(["run", "b"]).success();
    let t = t.recipe("c", &format!("//! C.\nprint(build::clean(\"{}\"));\n", build.display()));
    let out = t.helix(["run", "c"]);
    out.code(1);
    let mut all = shown("run c", &out, t.dir.path());
    assert!(build.join("build.ninja").is_file(), "the build dir is intact");
    // Under --dry-run it is only planned.
    let out = t.helix(["run", "c", "--dry-run"]);
    out.success();
    all.push_str(&shown("run c --dry-run", &out, t.dir.path()));
    // Refused without a terminal to ask at; under --dry-run, the question it would ask.
    insta::assert_snapshot!("clean", moved_aside(&all));
    assert!(build.join("build.ninja").is_file());
}

#[test]
fn ninja_without_a_configured_dir_says_what_to_do() {
    let t = Test::new();
    let nowhere = t.path("nowhere");
    let t = t.recipe("n", &format!("//! N.\nbuild::ninja(\"{}\");\n", nowhere.display()));
    let out = t.helix(["run", "n"]);
    out.code(1);
    // No build.ninja there: run the configure step first.
    insta::assert_snapshot!("ninja_unconfigured", shown("run n", &out, t.dir.path()));
}
