//! A running VM: [`start`] checks the spec's files and ports, spawns QEMU and waits for its QMP
//! socket; the [`Vm`] handle waits for ports and serial output and stops the guest (ACPI power
//! button, then QMP `quit`, then a kill). [`powerdown_detached`] stops a VM an earlier run left.

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::argv::{accelerator, argv};
use super::qmp;
use super::spec::{Forward, VmSpec, vars_template_for};
use crate::error::{Error, Result};
use crate::guard::{self, Action};
use crate::process::{Background, Cmd};

// ---------------------------------------------------------------------------------------------
// Running VMs.

pub(super) struct State {
    name: String,
    pub(super) bg: Option<Background>,
    qmp: PathBuf,
    serial_log: PathBuf,
    qemu_log: PathBuf,
    forwards: Vec<Forward>,
    /// The temp dir holding the socket and logs (removed with the handle unless detached).
    tmp: Option<tempfile::TempDir>,
    pub(super) detached: bool,
    dry_run: bool,
}

impl Drop for State {
    fn drop(&mut self) {
        if !self.detached
            && let Some(mut bg) = self.bg.take()
        {
            bg.kill();
        }
    }
}

/// A VM helix started. Clones share the VM; it is killed when the last one is dropped.
#[derive(Clone)]
pub struct Vm {
    pub(super) state: Arc<Mutex<State>>,
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn need(path: &Path, what: &'static str) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::Missing { what, path: path.to_path_buf(), hint: "check the path" })
    }
}

fn port_free(f: &Forward) -> Result<()> {
    if f.proto != "tcp" {
        return Ok(());
    }
    match TcpListener::bind((f.bind.as_str(), f.host)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Err(Error::PortInUse { bind: f.bind.clone(), port: f.host, guest: f.guest })
        }
        Err(source) => Err(Error::Forward { bind: f.bind.clone(), port: f.host, source }),
    }
}

/// Why QEMU exited during start-up, in words people can act on.
fn explain_start_failure(spec: &VmSpec, log: &str) -> Error {
    if log.contains("Could not set up host forwarding rule") {
        let which: Vec<String> =
            spec.forwards.iter().map(|f| format!("{}:{}", f.bind, f.host)).collect();
        return Error::QemuForward { ports: which.join(", ") };
    }
    if log.contains("\"write\" lock") {
        let disk = spec
            .drives
            .iter()
            .find(|d| log.contains(&d.file.display().to_string()))
            .map(|d| d.file.display().to_string())
            .unwrap_or_else(|| "its disk".into());
        return Error::DiskInUse { path: disk.into() };
    }
    Error::VmStart { name: spec.name.clone(), log: log.to_string() }
}

/// Start `spec` headless. Returns once QEMU answers on its QMP socket (the guest is booting).
#[allow(clippy::disallowed_methods)] // a stale QMP socket and helix's own QEMU log in the VM dir, recreated at each start
pub fn start(spec: &VmSpec) -> Result<Vm> {
    let binary = spec.binary();
    if crate::process::which(&binary).is_none() {
        return Err(Error::NotInstalled {
            program: binary,
            hint: "install QEMU (`brew install qemu`, `apt install qemu-system`)",
        });
    }
    let dry_run = crate::run::current().dry_run;
    // Under --dry-run the steps before may only have planned the disks; nothing is created.
    for d in spec.drives.iter().filter(|_| !dry_run) {
        need(&d.file, "disk image")?;
    }
    if let Some(k) = &spec.kernel {
        need(k, "kernel")?;
    }
    if let Some(i) = &spec.initrd {
        need(i, "initrd")?;
    }
    if let Some(fw) = &spec.firmware {
        need(&fw.code, "UEFI firmware")?;
        if let Some(vars) = &fw.vars
            && !vars.exists()
        {
            let Some(t) = fw.vars_template.clone().or_else(|| vars_template_for(&fw.code)) else {
                return Err(Error::VarsTemplate { vars: vars.clone(), code: fw.code.clone() });
            };
            need(&t, "UEFI vars template")?;
            crate::fs::copy(&t, vars)?;
        }
        // Under --dry-run an earlier step may only have planned the vars copy.
        if let Some(v) = fw.vars.as_ref().filter(|_| !dry_run) {
            need(v, "UEFI vars file")?;
        }
    }
    for f in &spec.forwards {
        port_free(f)?;
    }
    let accel = match spec.accel.as_deref() {
        None | Some("auto") => accelerator(&spec.arch),
        Some(a) => a.to_string(),
    };
    let (tmp, dir) = match &spec.dir {
        Some(d) if dry_run => (None, d.clone()),
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::fs("create", d, e))?;
            (None, d.clone())
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("helix-vm-")
                .tempdir()
                .map_err(|e| Error::fs("create", Path::new("/tmp"), e))?;
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let qmp = spec.qmp.clone().unwrap_or_else(|| dir.join("qmp.sock"));
    if qmp.as_os_str().len() > 100 {
        return Err(Error::invalid(
            "QMP socket path",
            qmp.display().to_string(),
            "unix socket paths must be under ~100 bytes",
        ));
    }
    let serial_log = spec.serial_log.clone().unwrap_or_else(|| dir.join("serial.log"));
    let qemu_log = dir.join(format!("{}-qemu.log", spec.name));
    if !dry_run {
        // A socket that answers belongs to a VM that still runs: removing it would cut that VM
        // off from its power-down.
        if std::os::unix::net::UnixStream::connect(&qmp).is_ok() {
            return Err(Error::QmpSocketBusy { socket: qmp });
        }
        // A stale socket or log from an earlier VM in this dir: QEMU's own files, not user data.
        let _ = std::fs::remove_file(&qmp);
        let _ = std::fs::remove_file(&qemu_log);
    }
    let argv = argv(spec, &accel, &qmp, &serial_log);
    let mk = |bg: Option<Background>, dry_run: bool, tmp: Option<tempfile::TempDir>| Vm {
        state: Arc::new(Mutex::new(State {
            name: spec.name.clone(),
            bg,
            qmp: qmp.clone(),
            serial_log: serial_log.clone(),
            qemu_log: qemu_log.clone(),
            forwards: spec.forwards.clone(),
            tmp,
            detached: false,
            dry_run,
        })),
    };
    if dry_run {
        crate::ui::plan(&format!(
            "would start the VM `{}`: {}",
            spec.name,
            crate::process::display_argv(&argv)
        ));
        return Ok(mk(None, true, tmp));
    }
    let bg = Cmd::new(&argv).spawn_background(Some(&qemu_log))?;
    let vm = mk(Some(bg), false, tmp);
    super::registry().lock().unwrap().push(Arc::downgrade(&vm.state));
    // Up when QMP answers; an early exit is a start-up failure with QEMU's own words.
    let up = crate::wait::until(Duration::from_secs(30), Duration::from_millis(50), || {
        let mut st = vm.state.lock().unwrap();
        if !st.bg.as_mut().is_some_and(|b| b.is_running()) {
            return Some(false);
        }
        drop(st);
        qmp::execute(&qmp, "query-status", None, Duration::from_secs(2)).ok().map(|_| true)
    });
    match up {
        Ok(Some(true)) => {
            crate::ui::info(&format!("started the VM `{}` (pid {}, {accel})", spec.name, vm.pid()));
            Ok(vm)
        }
        Ok(Some(false)) => {
            vm.kill_quietly();
            Err(explain_start_failure(spec, &tail(&qemu_log, 12)))
        }
        Ok(None) => {
            vm.kill_quietly();
            Err(Error::VmQmpSilent { name: spec.name.clone(), log: tail(&qemu_log, 12) })
        }
        Err(e) => {
            vm.kill_quietly();
            Err(e)
        }
    }
}

impl Vm {
    pub(crate) fn name(&self) -> String {
        self.state.lock().unwrap().name.clone()
    }

    /// QEMU's process id (0 when not started: dry run).
    pub fn pid(&self) -> u32 {
        self.state.lock().unwrap().bg.as_ref().map(|b| b.pid()).unwrap_or(0)
    }

    pub fn serial_log(&self) -> PathBuf {
        self.state.lock().unwrap().serial_log.clone()
    }

    pub(crate) fn qmp_socket(&self) -> PathBuf {
        self.state.lock().unwrap().qmp.clone()
    }

    pub(crate) fn forwards(&self) -> Vec<Forward> {
        self.state.lock().unwrap().forwards.clone()
    }

    pub fn is_running(&self) -> bool {
        self.state.lock().unwrap().bg.as_mut().is_some_and(|b| b.is_running())
    }

    fn is_dry(&self) -> bool {
        self.state.lock().unwrap().dry_run
    }

    fn died(&self) -> Error {
        let st = self.state.lock().unwrap();
        Error::VmExited {
            name: st.name.clone(),
            qemu_log: tail(&st.qemu_log, 8),
            serial_log: tail(&st.serial_log, 8),
        }
    }

    /// Run a QMP command and return its answer.
    pub(crate) fn qmp(&self, command: &str, arguments: Option<Value>) -> Result<Value> {
        if self.is_dry() {
            return Ok(Value::Null);
        }
        qmp::execute(&self.qmp_socket(), command, arguments, Duration::from_secs(10))
    }

    /// Wait until `127.0.0.1:port` (or the forward's bind address) accepts TCP. With user
    /// networking QEMU itself accepts on a forwarded port at once, so this says QEMU is
    /// forwarding, not that the guest answers: use an SSH banner probe for that.
    pub fn wait_port(&self, port: u16, timeout: Duration) -> Result<()> {
        if self.is_dry() {
            return Ok(());
        }
        let bind = self
            .forwards()
            .into_iter()
            .find(|f| f.host == port)
            .map(|f| f.bind)
            .unwrap_or_else(|| "127.0.0.1".into());
        let addr =
            (bind.as_str(), port).to_socket_addrs().ok().and_then(|mut a| a.next()).ok_or_else(
                || Error::invalid("address", format!("{bind}:{port}"), "cannot be resolved"),
            )?;
        let r = crate::wait::until(timeout, Duration::from_millis(100), || {
            if !self.is_running() {
                return Some(false);
            }
            TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok().map(|_| true)
        })?;
        match r {
            Some(true) => Ok(()),
            Some(false) => Err(self.died()),
            None => {
                Err(Error::VmPortTimeout { name: self.name(), port, seconds: timeout.as_secs() })
            }
        }
    }

    /// Wait until the serial console has printed `text` (e.g. `login:`); returns the log so far.
    pub fn wait_serial(&self, text: &str, timeout: Duration) -> Result<String> {
        if self.is_dry() {
            return Ok(String::new());
        }
        let log = self.serial_log();
        let r = crate::wait::until(timeout, Duration::from_millis(250), || {
            let s = std::fs::read_to_string(&log).unwrap_or_default();
            if s.contains(text) {
                return Some(Ok(s));
            }
            (!self.is_running()).then(|| Err(self.died()))
        })?;
        r.unwrap_or_else(|| {
            Err(Error::VmSerialTimeout {
                name: self.name(),
                text: text.to_string(),
                seconds: timeout.as_secs(),
                tail: tail(&log, 8),
            })
        })
    }

    /// Shut the guest down cleanly: ACPI power button through QMP, wait up to `timeout`; then
    /// QMP `quit` (like pulling the plug, but QEMU flushes its disks); then kill. Returns how it
    /// ended: `"powered off"`, `"quit"`, `"killed"` or `"not running"`.
    pub fn powerdown(&self, timeout: Duration) -> Result<String> {
        if self.is_dry() {
            crate::ui::plan(&format!("would power down the VM `{}`", self.name()));
            return Ok("not running".into());
        }
        let name = self.name();
        let action = Action::new(
            "qemu.powerdown",
            format!("power down the VM `{name}` (ACPI, then quit after {}s)", timeout.as_secs()),
        )
        .args(json!({ "name": name, "pid": self.pid(), "timeout": timeout.as_secs_f64() }));
        guard::act(action, || {
            if !self.is_running() {
                return Ok("not running".to_string());
            }
            let exited = |t: Duration| -> Result<bool> {
                Ok(crate::wait::until(t, Duration::from_millis(100), || {
                    (!self.is_running()).then_some(())
                })?
                .is_some())
            };
            if self.qmp("system_powerdown", None).is_ok() && exited(timeout)? {
                self.reap();
                return Ok("powered off".to_string());
            }
            crate::ui::warn(&format!(
                "the VM `{name}` did not power off within {}s: quitting QEMU",
                timeout.as_secs()
            ));
            let _ = self.qmp("quit", None);
            if exited(Duration::from_secs(5))? {
                self.reap();
                return Ok("quit".to_string());
            }
            self.kill_quietly();
            Ok("killed".to_string())
        })
    }

    fn reap(&self) {
        if let Some(mut bg) = self.state.lock().unwrap().bg.take() {
            bg.kill();
        }
    }

    fn kill_quietly(&self) {
        let bg = self.state.lock().unwrap().bg.take();
        if let Some(mut bg) = bg {
            bg.kill();
        }
    }

    /// Stop QEMU at once (SIGTERM, then SIGKILL): the guest gets no chance to shut down.
    pub(crate) fn kill(&self) -> Result<()> {
        if self.is_dry() {
            return Ok(());
        }
        let name = self.name();
        let action = Action::new("qemu.kill", format!("kill the VM `{name}` (no guest shutdown)"))
            .args(json!({ "name": name, "pid": self.pid() }));
        guard::act(action, || {
            self.kill_quietly();
            Ok(())
        })
    }

    /// Let the VM outlive this run; returns its pid. Its logs and socket stay where they are.
    pub(crate) fn detach(&self) -> Result<u32> {
        let mut st = self.state.lock().unwrap();
        if st.dry_run {
            return Ok(0);
        }
        st.detached = true;
        if let Some(t) = st.tmp.take() {
            let _ = t.keep();
        }
        let pid = st.bg.take().map(|b| b.detach()).unwrap_or(0);
        crate::ui::info(&format!(
            "the VM `{}` keeps running (pid {pid}); QMP: {}",
            st.name,
            st.qmp.display()
        ));
        Ok(pid)
    }
}

/// Power down a VM that an earlier run detached, through its QMP socket: ACPI power button,
/// wait up to `timeout` for QEMU (pid `pid`) to exit, then QMP `quit`. Returns how it ended:
/// `"powered off"`, `"quit"` or `"not running"`.
pub fn powerdown_detached(qmp_socket: &Path, pid: u32, timeout: Duration) -> Result<String> {
    let alive = move || crate::procs::alive(pid);
    let action = Action::new(
        "qemu.powerdown",
        format!("power down the detached VM (pid {pid}, QMP {})", qmp_socket.display()),
    )
    .args(json!({ "pid": pid, "qmp": qmp_socket, "timeout": timeout.as_secs_f64() }));
    guard::act(action, || {
        if !alive() {
            return Ok("not running".to_string());
        }
        let gone = |t: Duration| -> Result<bool> {
            Ok(crate::wait::until(t, Duration::from_millis(100), || (!alive()).then_some(()))?
                .is_some())
        };
        if qmp::execute(qmp_socket, "system_powerdown", None, Duration::from_secs(5)).is_ok()
            && gone(timeout)?
        {
            return Ok("powered off".to_string());
        }
        let _ = qmp::execute(qmp_socket, "quit", None, Duration::from_secs(5));
        if gone(Duration::from_secs(10))? {
            return Ok("quit".to_string());
        }
        Err(Error::VmStop { pid, socket: qmp_socket.to_path_buf() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procs::alive;
    use crate::qemu::kill_all;
    use crate::qemu::spec::{Drive, Firmware};

    /// `kill_all` stops every VM of the process: the tests that start VMs take turns.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static M: Mutex<()> = Mutex::new(());
        M.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn no_disk_vm(name: &str) -> VmSpec {
        VmSpec {
            name: name.into(),
            arch: "x86_64".into(),
            accel: Some("tcg".into()),
            memory: 64 << 20,
            smp: 1,
            ..Default::default()
        }
    }

    #[test]
    fn a_vm_without_an_os_escalates_to_quit_and_a_dropped_handle_kills() {
        let _turn = serial();
        let vm = start(&no_disk_vm("noos")).unwrap();
        let pid = vm.pid();
        assert!(alive(pid));
        assert_eq!(vm.qmp("query-status", None).unwrap()["status"], "running");
        // No OS answers the ACPI button: powerdown escalates to QMP quit.
        assert_eq!(vm.powerdown(Duration::from_secs(1)).unwrap(), "quit");
        assert!(!alive(pid));
        let vm = start(&no_disk_vm("dropped")).unwrap();
        let pid = vm.pid();
        let sock = vm.qmp_socket();
        drop(vm);
        assert!(!alive(pid), "dropping the last handle kills the VM");
        assert!(!sock.exists(), "its temp dir is gone");
    }

    #[test]
    fn kill_all_stops_every_vm_and_busy_ports_are_refused() {
        let _turn = serial();
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let mut s = no_disk_vm("busy");
        s.forwards =
            vec![Forward { proto: "tcp".into(), bind: "127.0.0.1".into(), host: port, guest: 22 }];
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains(&format!("port {port} on 127.0.0.1 is already in use")), "{e}");
        drop(held);
        let vm = start(&s).unwrap();
        vm.wait_port(port, Duration::from_secs(5)).unwrap();
        let pid = vm.pid();
        assert!(kill_all() >= 1);
        assert!(!alive(pid));
        let e = vm.wait_port(port, Duration::from_secs(1)).unwrap_err().to_string();
        assert!(e.contains("exited"), "{e}");
    }

    #[test]
    fn a_second_vm_in_the_same_dir_never_takes_the_running_ones_socket() {
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let mut s = no_disk_vm("first");
        s.dir = Some(d.path().to_path_buf());
        let first = start(&s).unwrap();
        s.name = "second".into();
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("belongs to a VM that is still running"), "{e}");
        // The first VM still answers on its socket, and its files are in `dir`, not a temp dir.
        assert_eq!(first.qmp("query-status", None).unwrap()["status"], "running");
        assert_eq!(first.qmp_socket(), d.path().join("qmp.sock"));
        let pid = first.detach().unwrap();
        assert!(d.path().join("qmp.sock").exists(), "a detached VM keeps its socket in `dir`");
        assert_eq!(
            powerdown_detached(&d.path().join("qmp.sock"), pid, Duration::from_secs(1)).unwrap(),
            "quit"
        );
        // Once it stopped, a stale socket file is no obstacle.
        let again = start(&s).unwrap();
        again.kill().unwrap();
    }

    #[test]
    fn missing_files_and_a_locked_disk() {
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let mut s = no_disk_vm("missing");
        s.drives = vec![Drive {
            file: d.path().join("nope.qcow2"),
            format: "qcow2".into(),
            interface: "virtio".into(),
            read_only: false,
            snapshot: false,
        }];
        let e = start(&s).err().unwrap().to_string();
        assert!(
            e.contains("the disk image")
                && e.contains("nope.qcow2")
                && e.contains("does not exist"),
            "{e}"
        );
        let disk = d.path().join("disk.qcow2");
        crate::qemu_img::create(&disk, Some("64M"), &Default::default()).unwrap();
        s.drives[0].file = disk.clone();
        s.name = "locker".into();
        let vm = start(&s).unwrap();
        let e = crate::qemu_img::resize(&disk, "+64M").unwrap_err().to_string();
        assert_eq!(e, format!("the VM using `{}` is running: stop it first", disk.display()));
        // A second VM on the same disk: the same clear error, and no QEMU left behind.
        s.name = "second".into();
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("is running: stop it first"), "{e}");
        // info still works on a running VM's disk.
        assert_eq!(crate::qemu_img::info(&disk).unwrap().virtual_size, 64 << 20);
        vm.kill().unwrap();
        assert_eq!(crate::qemu_img::resize(&disk, "+64M").unwrap(), 128 << 20);
    }

    #[test]
    fn a_missing_vars_file_without_a_known_template_is_a_clear_error() {
        let d = tempfile::tempdir().unwrap();
        let code = d.path().join("my-firmware.fd");
        std::fs::write(&code, b"").unwrap();
        let mut s = no_disk_vm("novars");
        s.firmware =
            Some(Firmware { code, vars: Some(d.path().join("vars.fd")), vars_template: None });
        let e = start(&s).err().unwrap().to_string();
        assert!(
            e.contains("vars.fd` does not exist") && e.contains("firmware.vars_template"),
            "{e}"
        );
        assert!(!d.path().join("vars.fd").exists());
    }

    #[test]
    fn uefi_firmware_with_a_vars_file_made_from_the_template() {
        let code = Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd");
        let template = Path::new("/usr/share/OVMF/OVMF_VARS_4M.fd");
        if !code.exists() {
            eprintln!("skipped: no OVMF (apt install ovmf)");
            return;
        }
        let _turn = serial();
        let d = tempfile::tempdir().unwrap();
        let vars = d.path().join("efi_vars.fd");
        let mut s = no_disk_vm("uefi");
        s.memory = 256 << 20;
        s.firmware = Some(Firmware {
            code: code.into(),
            vars: Some(vars.clone()),
            vars_template: Some(template.into()),
        });
        let vm = start(&s).unwrap();
        assert_eq!(std::fs::read(&vars).unwrap(), std::fs::read(template).unwrap());
        assert_eq!(vm.qmp("query-status", None).unwrap()["status"], "running");
        let blocks = vm.qmp("query-block", None).unwrap().to_string();
        assert!(blocks.contains("OVMF_CODE_4M.fd") && blocks.contains("efi_vars.fd"), "{blocks}");
        vm.kill().unwrap();
        // A missing firmware file is a clear error.
        s.firmware =
            Some(Firmware { code: d.path().join("none.fd"), vars: None, vars_template: None });
        let e = start(&s).err().unwrap().to_string();
        assert!(e.contains("the UEFI firmware") && e.contains("does not exist"), "{e}");
    }
}
