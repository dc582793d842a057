//! Every command the built-in recipes run passes the guard's classifier unasked.

use std::collections::BTreeMap;
use std::path::Path;

use crate::guard::classify::command;

use crate::guard::classify::tests::words;

fn env_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn fixture() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The guest steps of `stdlib/provision.rhai` (both profiles), as the recipe sends them.
fn provision_steps() -> Vec<String> {
    let text = include_str!("../../stdlib/provision.rhai");
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("run: ") {
        rest = &rest[i + 5..];
        let quote = rest.chars().next().unwrap();
        if quote != '"' && quote != '`' {
            continue;
        }
        let end = rest[1..].find(quote).unwrap() + 1;
        out.push(rest[1..end].replace("${go_version}", "1.23.4"));
        rest = &rest[end + 1..];
    }
    out
}

/// Every command the built-in recipes run — locally (with the directory and environment they
/// give it) and over SSH (with the stdin they feed it) — passes the classifier unasked.
#[test]
fn the_built_in_recipes_commands_run_unasked() {
    let d = fixture();
    let root = d.path();
    std::fs::create_dir_all(root.join("qemu/build")).unwrap();
    std::fs::write(root.join("qemu/configure"), "#!/bin/sh\n").unwrap();
    std::fs::write(root.join("qemu/build/build.ninja"), "").unwrap();
    let r = root.display().to_string();
    let sysroot_path = format!("{r}/sysroot/host/bin:{}", std::env::var("PATH").unwrap());
    let build_env = env_map(&[
        ("PKG_CONFIG", &format!("{r}/sysroot/host/bin/pkg-config")),
        ("PKG_CONFIG_PATH", &format!("{r}/sysroot/lib/pkgconfig")),
        ("MACOSX_DEPLOYMENT_TARGET", "14.0"),
        ("PATH", &sysroot_path),
    ]);
    let ninja_env = env_map(&[("PATH", &sysroot_path), ("NINJA_STATUS", "[%f/%t] ")]);
    let none = env_map(&[]);
    type Local<'a> = (Vec<String>, Option<String>, &'a BTreeMap<String, String>);
    let local: Vec<Local> = vec![
        // build-qemu
        (
            words(&format!(
                "./configure --prefix={r}/prefix --target-list=aarch64-softmmu --enable-cocoa"
            )),
            Some(format!("{r}/qemu")),
            &build_env,
        ),
        (words(&format!("ninja -C {r}/qemu/build -j4")), None, &ninja_env),
        (words(&format!("ninja -C {r}/qemu/build install")), None, &ninja_env),
        (words(&format!("meson setup {r}/qemu/build {r}/qemu")), None, &build_env),
        // build-images, setup, test-video
        (words("./stack build-ubuntu"), Some(r.clone()), &none),
        (words("Scripts/build_dependencies.sh -p macos -a arm64"), Some(r.clone()), &none),
        (words(&format!("go build -o {r}/bin/helix .")), Some(r.clone()), &none),
        (words(&format!("{r}/bin/helix spectask start --project p -n x")), Some(r.clone()), &none),
        (words(&format!("{r}/bin/helix spectask screenshot ses_1")), Some(r.clone()), &none),
        // deps, utm, macho, qemu_img, procs, ssh housekeeping
        (words("brew info --json=v2 --installed"), None, &none),
        (words("brew install bison ninja"), None, &none),
        (words("python3 -m pip list --format=json --disable-pip-version-check"), None, &none),
        (
            words(
                "python3 -m pip install --user --break-system-packages --disable-pip-version-check --quiet pyyaml",
            ),
            None,
            &none,
        ),
        (words("ninja --version"), None, &none),
        (words("osascript -e 'application \"UTM\" is running'"), None, &none),
        (words("osascript -e 'quit app \"UTM\"'"), None, &none),
        (words("open -a /Applications/UTM.app"), None, &none),
        (words("utmctl list"), None, &none),
        (words("utmctl start 0A1B"), None, &none),
        (
            words(&format!(
                "codesign --force --sign - --preserve-metadata=identifier,entitlements,flags,runtime {r}/UTM.app"
            )),
            None,
            &none,
        ),
        (words(&format!("qemu-img info --output=json -U {r}/disk.qcow2")), None, &none),
        (words(&format!("qemu-img create -f qcow2 {r}/fresh.qcow2 64G")), None, &none),
        (words(&format!("qemu-img resize {r}/disk.qcow2 +10G")), None, &none),
        (words(&format!("qemu-img snapshot -c helix-before {r}/disk.qcow2")), None, &none),
        (words(&format!("qemu-img check --output=json {r}/disk.qcow2")), None, &none),
        (words(&format!("lsof -t -- {r}/disk.qcow2")), None, &none),
        (words("ps -o command= -p 1"), None, &none),
        (words("ssh -o ControlPath=/tmp/cp -O exit -p 2222 -l luke 127.0.0.1"), None, &none),
        (words("qemu-system-aarch64 -machine virt -accel tcg -m 2048 -nographic"), None, &none),
    ];
    let mut asked = vec![];
    for (argv, cwd, env) in &local {
        if let Some(f) = command(argv, cwd.as_deref().map(Path::new), None, env) {
            asked.push(format!("{argv:?}: {}", f.why));
        }
    }
    let mut remote: Vec<(String, Option<Vec<u8>>)> = [
        "findmnt -no SOURCE /",
        "lsblk -no PKNAME /dev/vda1",
        "cat /sys/class/block/vda1/partition",
        "df -h /",
        "sudo growpart /dev/vda 1",
        "sudo resize2fs /dev/vda1",
        "test -f /var/lib/cloud/instance/provision-ready",
        "sudo fstrim -av",
        "sudo netplan generate",
        "df -P / | tail -1",
        "true",
    ]
    .iter()
    .map(|s| (s.to_string(), None))
    .collect();
    let steps = provision_steps();
    assert!(steps.len() >= 7, "{steps:?}");
    remote.extend(steps.into_iter().map(|s| (s, None)));
    for sudo in [false, true] {
        let opts = crate::ssh::WriteOptions { sudo, mode: Some(0o600) };
        remote.push((
            crate::ssh::write_script("/etc/netplan/99-helix-override.yaml", &opts),
            Some(b"network: {}\n".to_vec()),
        ));
        let opts = crate::ssh::WriteOptions { sudo, mode: None };
        remote.push((crate::ssh::write_script("/home/luke/.bashrc", &opts), Some(b"x\n".to_vec())));
    }
    for (script, stdin) in &remote {
        let argv: Vec<String> =
            ["ssh", "-o", "BatchMode=yes", "-p", "2222", "-l", "luke", "127.0.0.1", script]
                .iter()
                .map(|s| s.to_string())
                .collect();
        if let Some(f) = command(&argv, None, stdin.as_deref(), &none) {
            asked.push(format!("ssh {script:?}: {} {:?}", f.why, f.hits));
        }
    }
    assert!(asked.is_empty(), "the recipes' own commands would ask:\n{}", asked.join("\n"));
}
