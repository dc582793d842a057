//! test-video against a double of the helix CLI that the recipe really builds from Go source
//! (`tests/doubles/helix-cli`, `CGO_ENABLED=0 go build`), with the real one's output, exit
//! codes and pacing: a desktop that answers after a while, one that never does, a refused key,
//! a stream without frames.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::builder::{Output, Test};
use crate::support::redact::{after, shaped};

/// What a person reads of `helix ARGS`, under a header naming it: for a snapshot.
fn shown(t: &Test, args: &str, out: &Output) -> String {
    let s = crate::support::redact::shown(args, out, t.dir.path());
    let secs = |c: char| c.is_ascii_digit() || c == '.';
    let hex = |c: char| c.is_ascii_hexdigit();
    // The double's random session ids, the screenshot's moment, how long building and
    // waiting took.
    let s = after(&s, "ses_01", hex, "<id>");
    let s = shaped(&s, "screenshot-########-######.jpg", "screenshot-<time>.jpg");
    let s = after(&s, "helix-cli in ", secs, "<n>");
    let s = after(&s, "answers (after ", secs, "<n>");
    after(&s, "  | (after ", secs, "<n>")
}

const KEY: &str = "hl-s3cret-key-4242";

/// The helix checkout with the CLI double as its `api` module and a credentials file.
fn video_world(creds: &str) -> Test {
    let t = Test::new();
    let api = t.path("pm/helix/api");
    std::fs::create_dir_all(&api).unwrap();
    let double = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/doubles/helix-cli");
    for f in ["go.mod", "main.go"] {
        std::fs::copy(double.join(f), api.join(f)).unwrap();
    }
    let config = format!("[paths]\nhelix = \"{}\"\n", t.path("pm/helix").display());
    let sessions = t.path("fake-helix").display().to_string();
    t.file("helix.toml", &config)
        .file("pm/helix/.env.usercreds", creds)
        // Go's build cache outlives the test's home: the standard library compiles once.
        .env("GOCACHE", "/var/tmp/helix-test-gocache")
        .env("FAKE_HELIX_STATE", &sessions)
        .env("FAKE_HELIX_EXPECT_KEY", KEY)
}

fn creds() -> String {
    format!(
        "# helix test credentials\nHELIX_API_KEY={KEY}\nHELIX_URL=http://helix.test:8080\nHELIX_PROJECT=prj_01video\n"
    )
}

/// Every file under the state dir (journal, logs) and the output, for leak checks.
fn journal_text(t: &Test) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(t.path("state/runs")).unwrap().flatten() {
        all.push_str(&std::fs::read_to_string(e.path()).unwrap());
    }
    all
}

#[test]
fn builds_the_cli_waits_for_the_desktop_and_tables_the_benchmark() {
    let t = video_world(&creds()).env("FAKE_HELIX_READY_AFTER", "3");
    let started = Instant::now();
    let out = t.helix(["run", "test-video", "--duration", "2", "--ready", "60"]);
    out.success();
    insta::assert_snapshot!("benchmark", shown(&t, "run test-video --duration 2 --ready 60", &out));
    // Ready when the desktop answered, not after a fixed sleep: at least the 3 s the double
    // takes, and well before the 60 s allowed.
    let waited: u64 = out
        .stderr
        .split("answers (after ")
        .nth(1)
        .and_then(|r| r.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no wait in:\n{}", out.stderr));
    assert!((3..20).contains(&waited), "waited {waited}s");
    assert!(started.elapsed() < Duration::from_secs(60));
    // The first screenshot and the benchmark's output are kept.
    let runs = journal_text(&t);
    assert!(!runs.contains(KEY), "the API key reached the journal");
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));
    let outs: Vec<_> = std::fs::read_dir(t.path("state/test-video")).unwrap().flatten().collect();
    assert_eq!(outs.len(), 1);
    let names: Vec<String> = std::fs::read_dir(outs[0].path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("screenshot-") && n.ends_with(".jpg")), "{names:?}");
    assert!(names.contains(&"benchmark.log".to_string()), "{names:?}");
}

#[test]
fn a_desktop_that_never_answers_is_a_clear_timeout() {
    let t = video_world(&creds()).env("FAKE_HELIX_READY_AFTER", "never");
    let started = Instant::now();
    let out = t.helix(["run", "test-video", "--duration", "2", "--ready", "6"]);
    out.code(1);
    insta::assert_snapshot!(
        "never_answers",
        shown(&t, "run test-video --duration 2 --ready 6", &out)
    );
    assert!(started.elapsed() < Duration::from_secs(45), "gave up in time");
    assert!(!out.stderr.contains("BENCHMARK"), "no benchmark without a desktop");
}

#[test]
fn a_refused_key_never_shows_and_a_missing_credential_stops_before_anything_runs() {
    let t = video_world(&creds()).env("FAKE_HELIX_EXPECT_KEY", "hl-another-key");
    let out = t.helix(["run", "test-video", "--duration", "2"]);
    out.code(1);
    insta::assert_snapshot!("refused_key", shown(&t, "run test-video --duration 2", &out));
    assert!(!out.stderr.contains(KEY) && !out.stdout.contains(KEY), "{}", out.stderr);
    assert!(!journal_text(&t).contains(KEY));

    let t = video_world(&format!("HELIX_API_KEY={KEY}\nHELIX_URL=http://helix.test:8080\n"));
    let out = t.helix(["run", "test-video"]);
    out.code(1);
    insta::assert_snapshot!("missing_project", shown(&t, "run test-video", &out));
    assert!(!t.path("state/bin/helix-cli").exists(), "nothing was built");
}

#[test]
fn a_stream_without_frames_fails_although_the_cli_exits_zero() {
    let t = video_world(&creds()).env("FAKE_HELIX_READY_AFTER", "0").env("FAKE_HELIX_FPS", "0");
    let out = t.helix(["run", "test-video", "--duration", "1"]);
    out.code(1);
    insta::assert_snapshot!("no_frames", shown(&t, "run test-video --duration 1", &out));
}
