//! `net::download` against a local HTTP server that cuts, stalls, lies and 404s: a partial or
//! wrong file never lands at `dest`, and a cut download resumes with a range request.
//! `net::wait_port` against real listeners.

use std::time::{Duration, Instant};

use sha2::Digest;

use crate::support::builder::{Output, Test};
use crate::support::httpd::{Httpd, Route};
use crate::support::redact::shaped;

/// What a person reads of `helix ARGS`, under a header naming it, with the test's port
/// (`127.0.0.1:<port>`) and temp dir redacted: for a snapshot.
fn shown(t: &Test, args: &str, out: &Output, port: u16) -> String {
    let s = crate::support::redact::shown(args, out, t.dir.path());
    shaped(&s, &port.to_string(), "<port>")
}

/// The port of the test server behind `http`.
fn port_of(http: &Httpd) -> u16 {
    let url = http.url("");
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

fn data(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn sha(b: &[u8]) -> String {
    sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn download_recipe(url: &str, dest: &str, opts: &str) -> String {
    format!(
        "//! D.\nlet r = net::download(\"{url}\", \"{dest}\"{opts});\nprint(`bytes=${{r.bytes}} resumed_from=${{r.resumed_from}} skipped=${{r.skipped}} sha=${{r.sha256}}`);\n"
    )
}

#[test]
fn a_cut_download_leaves_no_dest_and_resumes_with_a_range_request() {
    let http = Httpd::start();
    let body = data(300_000);
    http.route("/img", Route::CutAt(body.clone(), 100_000));
    let t = Test::new();
    let dest = t.path("vm/disk.img");
    let opts = format!(", #{{ sha256: \"{}\" }}", sha(&body));
    let t = t.recipe("d", &download_recipe(&http.url("/img"), &dest.display().to_string(), &opts));
    let out = t.helix(["run", "d"]);
    out.code(1);
    insta::assert_snapshot!("cut_download", shown(&t, "run d", &out, port_of(&http)));
    assert!(!dest.exists(), "a partial download must not be at dest");
    let part = t.path("vm/disk.img.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 100_000);
    http.route("/img", Route::Serve(body.clone()));
    let out = t.helix(["run", "d"]);
    out.success()
        .stdout_has("bytes=300000 resumed_from=100000 skipped=false")
        .stdout_has(&sha(&body));
    assert_eq!(std::fs::read(&dest).unwrap(), body);
    assert!(!part.exists());
    assert_eq!(http.requests().last().unwrap(), "/img range=100000", "{:?}", http.requests());
    // Already there and verified: no request at all.
    let n = http.requests().len();
    t.helix(["run", "d"]).success().stdout_has("skipped=true");
    assert_eq!(http.requests().len(), n);
}

#[test]
fn a_wrong_checksum_is_discarded_and_never_lands() {
    let http = Httpd::start();
    http.route("/img", Route::Serve(data(50_000)));
    let t = Test::new();
    let dest = t.path("disk.img");
    let wrong = sha(b"something else");
    let t = t.recipe(
        "d",
        &download_recipe(
            &http.url("/img"),
            &dest.display().to_string(),
            &format!(", #{{ sha256: \"{wrong}\" }}"),
        ),
    );
    let out = t.helix(["run", "d"]);
    out.code(1);
    assert!(out.stderr.contains(&wrong), "{}", out.stderr);
    insta::assert_snapshot!("wrong_checksum", shown(&t, "run d", &out, port_of(&http)));
    assert!(!dest.exists() && !t.path("disk.img.part").exists());
}

#[test]
fn http_404_is_an_error_and_saves_nothing() {
    let http = Httpd::start();
    let t = Test::new();
    let dest = t.path("disk.img");
    let t = t.recipe("d", &download_recipe(&http.url("/missing"), &dest.display().to_string(), ""));
    let out = t.helix(["run", "d"]);
    out.code(1);
    insta::assert_snapshot!("http_404", shown(&t, "run d", &out, port_of(&http)));
    assert!(!dest.exists() && !t.path("disk.img.part").exists());
}

#[test]
fn a_stalled_server_is_cut_off_by_the_idle_timeout() {
    let http = Httpd::start();
    http.route("/img", Route::StallAt(data(100_000), 10_000));
    let t = Test::new();
    let dest = t.path("disk.img");
    let t = t.recipe(
        "d",
        &download_recipe(&http.url("/img"), &dest.display().to_string(), ", #{ idle_timeout: 1 }"),
    );
    let started = Instant::now();
    let out = t.helix(["run", "d"]);
    out.code(1);
    insta::assert_snapshot!("stalled_download", shown(&t, "run d", &out, port_of(&http)));
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(!dest.exists());
}

#[test]
fn a_server_that_ignores_ranges_restarts_from_zero() {
    let http = Httpd::start();
    let body = data(80_000);
    let t = Test::new();
    let dest = t.path("disk.img");
    std::fs::write(t.path("disk.img.part"), &body[..20_000]).unwrap();
    http.route("/img", Route::IgnoreRange(body.clone()));
    let t = t.recipe(
        "d",
        &download_recipe(
            &http.url("/img"),
            &dest.display().to_string(),
            &format!(", #{{ sha256: \"{}\" }}", sha(&body)),
        ),
    );
    t.helix(["run", "d"]).success().stdout_has("bytes=80000 resumed_from=0");
    assert_eq!(std::fs::read(&dest).unwrap(), body);
}

#[test]
fn dry_run_downloads_nothing() {
    let http = Httpd::start();
    http.route("/img", Route::Serve(data(1000)));
    let t = Test::new();
    let dest = t.path("disk.img");
    let t = t.recipe("d", &download_recipe(&http.url("/img"), &dest.display().to_string(), ""));
    let out = t.helix(["run", "d", "--dry-run"]);
    out.success();
    insta::assert_snapshot!("dry_run_download", shown(&t, "run d --dry-run", &out, port_of(&http)));
    assert!(!dest.exists() && http.requests().is_empty());
}

#[test]
fn wait_port_sees_a_late_listener_and_names_a_dead_port() {
    let port = crate::support::sshd::free_port();
    let t = Test::new().recipe(
        "w",
        &format!(
            "//! W.\nlet s = net::wait_port(\"127.0.0.1\", {port}, 20);\nprint(`waited=${{s}}`);\n"
        ),
    );
    let runner = std::thread::spawn(move || {
        let out = t.helix(["run", "w"]);
        (out, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(800));
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let listening = Instant::now();
    let (out, done) = runner.join().unwrap();
    out.success().stdout_has("waited=");
    assert!(done.duration_since(listening) < Duration::from_millis(500));
    drop(l);
    let t = Test::new()
        .recipe("w", &format!("//! W.\nnet::wait_port(\"127.0.0.1\", {port}, 1);\n"))
        .args(["run", "w"]);
    let out = t.run();
    out.code(1);
    insta::assert_snapshot!("dead_port", shown(&t, "run w", &out, port));
}
