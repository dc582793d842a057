//! A real OpenSSH server on 127.0.0.1 for tests and benchmarks: its own host key, an authorized
//! key made with `ssh-keygen`, running as the current user (root here, so `PermitRootLogin yes`),
//! logging to a file the test can read; killed on drop.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Sshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The authorized client key (private half).
    pub key: PathBuf,
    pub log: PathBuf,
    pub user: String,
    child: Option<Child>,
}

pub fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "helix-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs")
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Sshd {
    /// Generate keys and a config; the server is not started yet (see [`Sshd::start`]).
    pub fn prepare(port: u16) -> Sshd {
        let dir = tempfile::Builder::new().prefix("helix-sshd-").tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("id_ed25519"));
        std::fs::copy(d.join("id_ed25519.pub"), d.join("authorized_keys")).unwrap();
        // The remote shell's HOME: an empty dir, so this machine's own ~/.bashrc (which bash
        // reads for commands run by sshd) does not stand in for a guest's stock shell start-up.
        std::fs::create_dir_all(d.join("home")).unwrap();
        // sshd refuses to start without its privilege-separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = d.join("sshd.log");
        let cfg = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin yes\nPubkeyAuthentication yes\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
             LogLevel VERBOSE\nMaxStartups 200\nMaxSessions 200\nMaxAuthTries 3\n\
             SetEnv HOME={d}/home\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), cfg).unwrap();
        Sshd { port, key: d.join("id_ed25519"), log, user: current_user(), dir, child: None }
    }

    /// Start it now (returns once the spawn happened, not once it listens).
    pub fn spawn(&mut self) {
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-f"])
            .arg(self.dir.path().join("sshd_config"))
            .arg("-E")
            .arg(&self.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/sbin/sshd starts");
        self.child = Some(child);
    }

    /// Wait until it answers with a banner.
    pub fn wait_listening(&mut self) -> Instant {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                drop(s);
                return Instant::now();
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "sshd exited with {status}: {}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "sshd did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Prepare on a free port, start, and wait until it listens.
    pub fn start() -> Sshd {
        let mut s = Sshd::prepare(free_port());
        s.spawn();
        s.wait_listening();
        s
    }

    /// `user@127.0.0.1:port`
    pub fn target(&self) -> String {
        format!("{}@127.0.0.1:{}", self.user, self.port)
    }

    /// A `helix.toml` `[vm]` section pointing at this server.
    pub fn config_toml(&self) -> String {
        format!(
            "[vm]\nssh_host = \"127.0.0.1\"\nssh_port = {}\nssh_user = \"{}\"\nssh_key = \"{}\"\n",
            self.port,
            self.user,
            self.key.display()
        )
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many logins the server accepted (one per TCP connection that authenticated).
    pub fn logins(&self) -> usize {
        self.log_text().matches("Accepted publickey").count()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub use super::ports::free_port;
