//! The QEMU command line for a [`VmSpec`]: the accelerator `auto` resolves to, and the full
//! `qemu-system-*` argv (machine, CPU, memory, firmware, kernel, drives, user networking with
//! its forwards, SMBIOS, serial log, QMP socket).

use std::path::Path;

use super::spec::{VmSpec, host_arch, normal_arch};

// ---------------------------------------------------------------------------------------------
// The accelerator.

/// The accelerator `auto` resolves to for `arch` on this host: `hvf` on macOS for the host's
/// own architecture, else `tcg`. KVM is used only when asked for (`accel: "kvm"` or
/// `HELIX_QEMU_ACCEL=kvm`): on nested hosts `/dev/kvm` can open and even run SeaBIOS while a
/// Linux guest hangs without a word, which no cheap probe tells apart — TCG is slow but sure.
pub(crate) fn accelerator(arch: &str) -> String {
    if let Ok(a) = std::env::var("HELIX_QEMU_ACCEL")
        && !a.is_empty()
    {
        return a;
    }
    let Ok(arch) = normal_arch(arch) else { return "tcg".into() };
    if arch == host_arch() && cfg!(target_os = "macos") { "hvf".into() } else { "tcg".into() }
}

// ---------------------------------------------------------------------------------------------
// The command line.

fn qemu_opt(s: &str) -> String {
    s.replace(',', ",,")
}

/// The full `qemu-system-*` argv for `spec` with accelerator `accel`, QMP socket and serial log.
pub(crate) fn argv(spec: &VmSpec, accel: &str, qmp: &Path, serial_log: &Path) -> Vec<String> {
    let mut a = vec![spec.binary()];
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|x| x.to_string()));
    push(&["-name", &spec.name]);
    let machine = spec
        .machine
        .clone()
        .unwrap_or_else(|| if spec.arch == "aarch64" { "virt".into() } else { "q35".into() });
    push(&["-machine", &machine, "-accel", accel]);
    let cpu = spec
        .cpu
        .clone()
        .unwrap_or_else(|| if accel == "tcg" { "max".into() } else { "host".into() });
    push(&["-cpu", &cpu, "-smp", &spec.smp.to_string(), "-m", &format!("{}M", spec.memory >> 20)]);
    push(&["-display", "none", "-monitor", "none", "-nodefaults"]);
    push(&["-serial", &format!("file:{}", serial_log.display())]);
    push(&["-qmp", &format!("unix:{},server=on,wait=off", qemu_opt(&qmp.display().to_string()))]);
    if let Some(fw) = &spec.firmware {
        push(&[
            "-drive",
            &format!(
                "if=pflash,format=raw,readonly=on,file={}",
                qemu_opt(&fw.code.display().to_string())
            ),
        ]);
        if let Some(v) = &fw.vars {
            push(&[
                "-drive",
                &format!("if=pflash,format=raw,file={}", qemu_opt(&v.display().to_string())),
            ]);
        }
    }
    if let Some(k) = &spec.kernel {
        push(&["-kernel", &k.display().to_string()]);
    }
    if let Some(i) = &spec.initrd {
        push(&["-initrd", &i.display().to_string()]);
    }
    if let Some(ap) = &spec.append {
        push(&["-append", ap]);
    }
    for d in &spec.drives {
        let mut o = format!(
            "file={},format={},if={}",
            qemu_opt(&d.file.display().to_string()),
            d.format,
            d.interface
        );
        if d.read_only {
            o.push_str(",readonly=on");
        }
        if d.snapshot {
            o.push_str(",snapshot=on");
        }
        push(&["-drive", &o]);
    }
    if spec.network {
        let mut net = "user,id=net0".to_string();
        for f in &spec.forwards {
            net.push_str(&format!(",hostfwd={}:{}:{}-:{}", f.proto, f.bind, f.host, f.guest));
        }
        push(&["-netdev", &net]);
        let mut dev = format!("{},netdev=net0", spec.nic);
        if let Some(m) = &spec.mac {
            dev.push_str(&format!(",mac={m}"));
        }
        push(&["-device", &dev]);
    }
    for s in &spec.smbios {
        push(&["-smbios", s]);
    }
    a.extend(spec.extra_args.iter().cloned());
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::qemu::options::from_json as spec;

    #[test]
    fn command_line_from_a_map() {
        let s = spec(json!({
            "name": "helix-desktop", "arch": "arm64", "smp": 8, "memory": 32768,
            "firmware": {"code": "/fw/code.fd", "vars": "/vm/efi_vars.fd"},
            "drives": [{"file": "/vm/disk.qcow2"}, {"file": "/vm/seed-fat.img", "format": "raw", "read_only": true}],
            "forwards": [{"host": 2223, "guest": 22}],
            "mac": "52:54:00:12:34:56",
            "smbios": {"serial": "ds=nocloud"},
        }))
        .unwrap();
        let a = argv(&s, "hvf", Path::new("/t/q.sock"), Path::new("/t/serial.log")).join(" ");
        for want in [
            "qemu-system-aarch64 -name helix-desktop -machine virt -accel hvf -cpu host -smp 8 -m 32768M",
            "-serial file:/t/serial.log -qmp unix:/t/q.sock,server=on,wait=off",
            "-drive if=pflash,format=raw,readonly=on,file=/fw/code.fd -drive if=pflash,format=raw,file=/vm/efi_vars.fd",
            "-drive file=/vm/disk.qcow2,format=qcow2,if=virtio -drive file=/vm/seed-fat.img,format=raw,if=virtio,readonly=on",
            "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:2223-:22 -device virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56",
            "-smbios type=1,serial=ds=nocloud",
        ] {
            assert!(a.contains(want), "{want}\nin\n{a}");
        }
        let t = spec(json!({"arch": "x86_64", "memory": "2G", "kernel": "/k", "initrd": "/i", "append": "root=/dev/vda1 console=ttyS0"})).unwrap();
        let a = argv(&t, "tcg", Path::new("/q"), Path::new("/s")).join(" ");
        assert!(
            a.contains(
                "qemu-system-x86_64 -name vm -machine q35 -accel tcg -cpu max -smp 2 -m 2048M"
            ),
            "{a}"
        );
        assert!(a.contains("-kernel /k -initrd /i -append root=/dev/vda1 console=ttyS0"), "{a}");
    }

    #[test]
    fn accelerator_is_hvf_on_macos_else_tcg() {
        if std::env::var_os("HELIX_QEMU_ACCEL").is_some() {
            return;
        }
        let native = if cfg!(target_os = "macos") { "hvf" } else { "tcg" };
        assert_eq!(accelerator(host_arch()), native);
        assert_eq!(accelerator("riscv64"), "tcg");
        let other = if host_arch() == "x86_64" { "aarch64" } else { "x86_64" };
        assert_eq!(accelerator(other), "tcg");
    }
}
