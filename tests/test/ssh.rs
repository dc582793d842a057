//! `ssh::` against a real sshd on 127.0.0.1 started by the test (own host key, own authorized
//! key): commands, captured output, atomic remote writes with sudo, one multiplexed login per
//! run, the guard on remote commands, readiness within half a second, and the banner probe.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use crate::support::builder::{Output, Test};
use crate::support::redact::{after, shaped};
use crate::support::sshd::{Sshd, free_port, keygen};

/// What a person reads of `helix ARGS`, under a header naming it, for a snapshot: the test's
/// temp dir, the sshd's dir (`<sshd>`), its user (`<user>`), `ports` (`<port>`), OpenSSH's
/// version, the master connection's socket and host key fingerprints redacted.
fn shown(t: &Test, args: &str, out: &Output, sshd: Option<&Sshd>, ports: &[u16]) -> String {
    let mut s = crate::support::redact::shown(args, out, t.dir.path());
    if let Some(sshd) = sshd {
        s = s.replace(&sshd.dir.path().display().to_string(), "<sshd>");
        s = s.replace(&format!("{}@", sshd.user), "<user>@");
        s = s.replace(&format!(" -l {} ", sshd.user), " -l <user> ");
    }
    // The tokens that could hold a port's digits first, then the ports.
    s = after(&s, "SSH-2.0-OpenSSH_", |c| c != '\n' && c != ')', "<version>");
    s = after(&s, "ControlPath=", |c| !c.is_whitespace(), "<socket>");
    s = after(&s, "SHA256:", |c| c.is_ascii_alphanumeric() || "+/=".contains(c), "<fingerprint>");
    for port in ports {
        s = shaped(&s, &port.to_string(), "<port>");
    }
    s
}

fn test_for(sshd: &Sshd) -> Test {
    Test::new().file("helix.toml", &sshd.config_toml())
}

/// Wait (briefly) until the sshd log contains `needle`.
fn log_eventually_has(sshd: &Sshd, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if sshd.log_text().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn run_output_write_file_with_sudo_and_upload_over_one_login() {
    let sshd = Sshd::start();
    let t = test_for(&sshd);
    let remote = t.path("remote");
    std::fs::create_dir_all(&remote).unwrap();
    std::fs::write(t.path("local.sh"), "#!/bin/sh\necho uploaded\n").unwrap();
    std::fs::set_permissions(t.path("local.sh"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let d = remote.display();
    let recipe = format!(
        r#"//! R.
let t = ssh::target();
ssh::run(t, "echo hello-from-ssh");
let o = ssh::output(t, "echo to-out; echo to-err >&2; exit 3");
print(`status=${{o.status}} success=${{o.success}}`);
print(`out=${{o.stdout}}err=${{o.stderr}}`);
ssh::write_file(t, "{d}/secret.conf", "token=s3cret-value\n", #{{ sudo: true, mode: 0o600 }});
ssh::write_file(t, "{d}/plain.txt", "one\n");
ssh::write_file(t, "{d}/plain.txt", "two\n");
if dry_run() {{ exit(0); }} // the rest reads back files a dry run only planned
print(`query=${{ssh::query(t, "cat {d}/plain.txt")}}`);
ssh::upload(ssh::target(), "{local}", "{d}/up.sh");
print(`remote-run=${{ssh::query("{target}", "{d}/up.sh")}}`);
"#,
        local = t.path("local.sh").display(),
        target = sshd.target()
    );
    let t = t.recipe("r", &recipe);
    let out = t.helix(["run", "r"]);
    out.success();
    insta::assert_snapshot!(
        "remote_operations",
        shown(&t, "run r", &out, Some(&sshd), &[sshd.port])
    );
    let secret = remote.join("secret.conf");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "token=s3cret-value\n");
    assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o7777, 0o600);
    assert_eq!(
        std::fs::metadata(remote.join("plain.txt")).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert_eq!(
        std::fs::metadata(remote.join("up.sh")).unwrap().permissions().mode() & 0o7777,
        0o750
    );
    // No temp files left beside the targets.
    let names: Vec<String> = std::fs::read_dir(&remote)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // The secret went over stdin: not in the journal, not in any argv the journal records.
    let journal = read_tree(&t.path("state"));
    assert!(journal.contains("secret.conf"), "the write is journaled");
    assert!(!journal.contains("s3cret-value"), "the content must not be journaled");
    // Multiplexing: seven remote operations, one login (one TCP connection).
    assert_eq!(sshd.logins(), 1, "one master connection per target:\n{}", sshd.log_text());
    // ... and the master is closed at the end of the run.
    assert!(
        log_eventually_has(&sshd, "Disconnected from user"),
        "master not closed:\n{}",
        sshd.log_text()
    );
}

#[test]
fn a_failing_remote_command_gives_its_exit_code_and_stderr_tail() {
    let sshd = Sshd::start();
    let t = test_for(&sshd)
        .recipe("r", "//! R.\nssh::run(ssh::target(), \"echo the-reason >&2; exit 7\");\n")
        .args(["run", "r"]);
    let out = t.run();
    out.code(7);
    insta::assert_snapshot!("remote_failure", shown(&t, "run r", &out, Some(&sshd), &[sshd.port]));
}

#[test]
fn remote_rm_rf_is_refused_without_a_terminal_and_nothing_is_touched() {
    let sshd = Sshd::start();
    let t = test_for(&sshd);
    let victim = t.path("victim");
    std::fs::create_dir_all(victim.join("sub")).unwrap();
    std::fs::write(victim.join("sub/data"), "keep me").unwrap();
    let t = t.recipe(
        "r",
        &format!("//! R.\nssh::run(ssh::target(), \"cd /tmp && rm -rf {}\");\n", victim.display()),
    );
    let out = t.helix(["run", "r"]);
    out.code(1);
    insta::assert_snapshot!(
        "remote_rm_refused",
        shown(&t, "run r", &out, Some(&sshd), &[sshd.port])
    );
    assert_eq!(std::fs::read_to_string(victim.join("sub/data")).unwrap(), "keep me");
    assert_eq!(sshd.logins(), 0, "a refused command never connects");
}

#[test]
fn dry_run_prints_remote_commands_and_runs_only_queries() {
    let sshd = Sshd::start();
    let t = test_for(&sshd);
    let marker = t.path("marker");
    let t = t.recipe(
            "r",
            &format!(
                "//! R.\nlet t = ssh::target();\nssh::run(t, \"touch {m}\");\nssh::write_file(t, \"{m}.2\", \"x\");\nprint(`host=${{ssh::query(t, \"echo q-ran\")}}`);\n",
                m = marker.display()
            ),
        );
    let out = t.helix(["run", "r", "--dry-run"]);
    out.success();
    insta::assert_snapshot!(
        "dry_run_plan",
        shown(&t, "run r --dry-run", &out, Some(&sshd), &[sshd.port])
    );
    assert!(!marker.exists() && !t.path("marker.2").exists());
}

#[test]
fn wait_ready_notices_a_starting_sshd_within_half_a_second() {
    use std::io::BufRead;
    let mut sshd = Sshd::prepare(free_port());
    let t = test_for(&sshd).recipe("r", "//! R.\nlet s = ssh::wait_ready(ssh::target(), 30);\nprint(`waited=${s}`);\nssh::run(ssh::target(), \"echo after-wait\");\n");
    // helix is spawned here (not through `Test::run`) so its stderr lines are timed as they come.
    let mut child = t.spawn(["run", "r"]);
    let stderr = child.stderr.take().unwrap();
    let lines = std::thread::spawn(move || {
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .map(|l| (l, Instant::now()))
            .collect::<Vec<_>>()
    });
    std::thread::sleep(Duration::from_millis(1500));
    sshd.spawn();
    let listening = sshd.wait_listening();
    let out = child.wait_with_output().unwrap();
    let done = Instant::now();
    let lines = lines.join().unwrap();
    let all: Vec<&str> = lines.iter().map(|(l, _)| l.as_str()).collect();
    assert!(out.status.success(), "stderr:\n{}", all.join("\n"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("after-wait"));
    let (_, answered) = lines
        .iter()
        .find(|(l, _)| l.contains("SSH answers on"))
        .unwrap_or_else(|| panic!("{all:?}"));
    let noticed = answered.saturating_duration_since(listening);
    eprintln!(
        "wait_ready: banner noticed {:.0} ms after sshd listened; the run (login, one command, close) ended after {:.0} ms",
        noticed.as_secs_f64() * 1000.0,
        done.duration_since(listening).as_secs_f64() * 1000.0
    );
    assert!(noticed < Duration::from_millis(500), "noticed {noticed:?} after sshd listened");
    assert_eq!(sshd.logins(), 1, "the readiness login is the master the commands reuse");
}

#[test]
fn wait_ready_times_out_with_what_it_saw() {
    let port = free_port();
    let t = Test::new().file("helix.toml", &format!("[vm]\nssh_host = \"127.0.0.1\"\nssh_port = {port}\nssh_user = \"root\"\nssh_key = \"\"\n"));
    let started = Instant::now();
    let t = t.recipe("r", "//! R.\nssh::wait_ready(ssh::target(), 1);\n");
    let out = t.helix(["run", "r"]);
    out.code(1);
    let mut all = shown(&t, "run r (nothing listening)", &out, None, &[port]);
    assert!(started.elapsed() < Duration::from_secs(10));
    // A listener that accepts and never speaks: the netplan hint.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port();
    let _keep = std::thread::spawn(move || {
        let mut held = vec![];
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    std::fs::write(t.path("helix.toml"), format!("[vm]\nssh_host = \"127.0.0.1\"\nssh_port = {sport}\nssh_user = \"root\"\nssh_key = \"\"\n")).unwrap();
    let out = t.helix(["run", "r"]);
    out.code(1);
    all.push_str(&shown(&t, "run r (a silent listener)", &out, None, &[sport]));
    insta::assert_snapshot!("wait_ready_timeouts", all);
}

/// Every file under `dir`, concatenated (to search the journal).
fn read_tree(dir: &std::path::Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.push_str(&read_tree(&p));
        } else {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

#[test]
fn probe_tells_closed_silent_banner_ready_and_refused_key_apart() {
    let sshd = Sshd::start();
    let t = test_for(&sshd);
    let closed = free_port();
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = vec![];
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let wrong = t.path("wrong_key");
    keygen(&wrong);
    let recipe = format!(
        r#"//! R.
let p = ssh::probe("127.0.0.1", {closed}, #{{ banner_timeout: 1 }});
print(`closed: ${{p.state}} | ${{p.message}}`);
let p = ssh::probe("127.0.0.1", {sport}, #{{ banner_timeout: 1 }});
print(`silent: ${{p.state}} | ${{p.message}}`);
let p = ssh::probe("127.0.0.1", {port}, #{{ login: false }});
print(`banner: ${{p.state}} | ${{p.banner}}`);
let p = ssh::probe("127.0.0.1", {port});
print(`ready: ${{p.state}} | ${{p.ok}}`);
let p = ssh::probe("127.0.0.1", {port}, #{{ key: "{wrong}" }});
print(`wrong: ${{p.state}} | ${{p.message}}`);
"#,
        port = sshd.port,
        wrong = wrong.display()
    );
    let started = Instant::now();
    let t = t.recipe("r", &recipe);
    let out = t.helix(["run", "r"]);
    out.success();
    insta::assert_snapshot!(
        "probe_states",
        shown(&t, "run r", &out, Some(&sshd), &[sshd.port, closed, sport])
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn bad_targets_and_missing_keys_are_clear_errors() {
    let t =
        Test::new().recipe("r", "//! R.\nssh::run(\"root@-oProxyCommand=evil:22\", \"true\");\n");
    let out = t.helix(["run", "r"]);
    out.code(1);
    let mut all = shown(&t, "run r (a bad host)", &out, None, &[]);
    let t = Test::new()
        .file("helix.toml", "[vm]\nssh_key = \"/nonexistent/key\"\n")
        .recipe("r", "//! R.\nssh::run(ssh::target(), \"true\");\n");
    let out = t.helix(["run", "r"]);
    out.code(1);
    all.push_str(&shown(&t, "run r (a missing key)", &out, None, &[]));
    insta::assert_snapshot!("bad_target_and_key", all);
}

#[test]
fn a_new_host_key_on_the_same_port_is_a_clear_error_with_the_fix() {
    let first = Sshd::start();
    let port = first.port;
    let t = test_for(&first).recipe("r", "//! R.\nssh::run(ssh::target(), \"echo first\");\n");
    t.helix(["run", "r"]).success().stdout_has("first");
    // helix keeps VM host keys in its own known_hosts, never the user's.
    let kh = std::fs::read_to_string(t.path("state/ssh/known_hosts")).unwrap();
    assert!(kh.contains(&format!("[127.0.0.1]:{port}")), "{kh}");
    drop(first);
    // A re-provisioned VM: same port, new host key.
    let mut second = Sshd::prepare(port);
    second.spawn();
    second.wait_listening();
    std::fs::write(t.path("helix.toml"), second.config_toml()).unwrap();
    let out = t.helix(["run", "r"]);
    out.code(1);
    insta::assert_snapshot!("new_host_key", shown(&t, "run r", &out, Some(&second), &[port]));
    assert_eq!(second.logins(), 0);
}

#[test]
fn wait_until_polls_a_remote_condition_over_the_master() {
    let sshd = Sshd::start();
    let t = test_for(&sshd);
    let marker = t.path("ready-marker");
    let m = marker.display().to_string();
    let t = t.recipe(
        "r",
        &format!("//! R.\nlet s = ssh::wait_until(ssh::target(), \"test -f {m}\", 20);\nprint(`waited=${{s}}`);\nlet r = ssh::output(ssh::target(), \"cat {m}\", #{{ timeout: 5 }});\nprint(`got=${{r.stdout}}`);\n"),
    );
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        std::fs::write(&marker, "done").unwrap();
    });
    let out = t.helix(["run", "r"]);
    writer.join().unwrap();
    out.success().stdout_has("waited=").stdout_has("got=done");
    assert_eq!(sshd.logins(), 1, "every poll reuses the one master connection");
    let t2 = t.recipe(
        "q",
        "//! Q.\nssh::wait_until(ssh::target(), \"test -f /nonexistent-helix\", 1);\n",
    );
    let out = t2.helix(["run", "q"]);
    out.code(1);
    insta::assert_snapshot!(
        "wait_until_timeout",
        shown(&t2, "run q", &out, Some(&sshd), &[sshd.port])
    );
}

/// `ssh::shell` gives the person at the terminal a real login shell on the target; without a
/// terminal it says how to get one instead.
#[test]
fn shell_is_an_interactive_login_at_the_terminal() {
    let sshd = Sshd::start();
    let t = test_for(&sshd)
        .recipe("sh", "//! S.\nssh::shell(ssh::target());\nprint(\"back in helix\");\n");
    let (code, screen) = crate::support::pty::pty_session(
        &t,
        &["run", "sh"],
        &[],
        // Readline switches bracketed paste on when the prompt waits for input.
        &[("\x1b[?2004h", "echo shell-$((6*7)); exit\r")],
        std::time::Duration::from_secs(60),
    );
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("shell-42"), "the command ran in the remote shell:\n{screen}");
    assert!(screen.contains("back in helix"), "{screen}");
    let out = t.helix(["run", "sh"]);
    out.code(1);
    insta::assert_snapshot!(
        "shell_without_a_terminal",
        shown(&t, "run sh", &out, Some(&sshd), &[sshd.port])
    );
}
