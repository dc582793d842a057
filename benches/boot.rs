//! How long a test VM takes under TCG from `qemu::start` to a working SSH login, and to power
//! off through QMP: the aarch64 UEFI VM (edk2 from pflash → GRUB at the ESP's removable path →
//! the guest's kernel, the way a Mac boots the Ubuntu arm64 cloud image, there under hvf) with
//! the CPU models TCG offers for it, against the x86_64 VM (direct kernel boot) the other VM
//! tests use. Every boot is a first boot (fresh overlay and instance id: cloud-init generates
//! host keys and the user, as in provision-vm), with 2 vCPUs and 1 GiB.
//!
//! `cargo bench --bench boot` (builds the cached images on first use). `HELIX_BENCH_ROUNDS`
//! (default 2) boots per variant, interleaved; `HELIX_BENCH_BOOTS=arm64-max,...` picks variants.

#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly
#[allow(dead_code)]
#[path = "../tests/test/support/builder.rs"]
mod builder;
#[path = "../tests/test/support/ports.rs"]
mod ports;
#[allow(dead_code)]
#[path = "../tests/test/support/tree.rs"]
mod tree;
#[path = "../tests/test/support/vmimage.rs"]
mod vmimage;

use std::time::{Duration, Instant};

use vmimage::{Boot, FIRST_MAC, Guest};

struct Variant {
    name: &'static str,
    boot: fn() -> Boot,
    cpu: Option<&'static str>,
}

const VARIANTS: &[Variant] = &[
    Variant { name: "arm64-max", boot: Boot::arm64_uefi, cpu: None },
    Variant { name: "arm64-cortex-a72", boot: Boot::arm64_uefi, cpu: Some("cortex-a72") },
    Variant { name: "x86_64", boot: Boot::x86, cpu: None },
];

fn one_boot(v: &Variant, round: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let boot = (v.boot)();
    let (key, public) = vmimage::keypair(dir.path());
    let disk = Guest::overlay_of(&boot, dir.path());
    let id = format!("helix-bench-{}-{round}", v.name);
    let seed = Guest::seed(dir.path(), &id, &Guest::user_data(&public));
    let mut spec =
        Guest::spec_for(&boot, dir.path(), &disk, Some(&seed), FIRST_MAC, vmimage::free_port());
    spec.cpu = v.cpu.map(String::from);
    let t = Instant::now();
    let g = Guest::start(spec, key);
    g.wait_ssh(Duration::from_secs(1800));
    let up = t.elapsed();
    let t = Instant::now();
    let how = g.vm.powerdown(Duration::from_secs(300)).unwrap();
    assert_eq!(how, "powered off");
    (up, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs benches without `--bench`: every boot here takes minutes
    // under TCG and the VM tests boot the same images already, so test mode only says so.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("boot bench: VM boots take minutes; run it with `cargo bench --bench boot`");
        return;
    }
    let rounds: usize =
        std::env::var("HELIX_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(2);
    let pick = std::env::var("HELIX_BENCH_BOOTS").unwrap_or_default();
    let chosen: Vec<&Variant> = VARIANTS
        .iter()
        .filter(|v| pick.is_empty() || pick.split(',').any(|p| p == v.name))
        .collect();
    let _turn = vmimage::vm_turn();
    let mut results: Vec<(Vec<Duration>, Vec<Duration>)> = vec![(vec![], vec![]); chosen.len()];
    for round in 0..rounds {
        for (i, v) in chosen.iter().enumerate() {
            let (up, down) = one_boot(v, round);
            eprintln!("round {round}: {} SSH ready {up:.1?}, powered off {down:.1?}", v.name);
            results[i].0.push(up);
            results[i].1.push(down);
        }
    }
    println!("| boot | SSH ready (median of {rounds}) | all rounds | ACPI power-off (median) |");
    println!("|---|---|---|---|");
    for (v, (up, down)) in chosen.iter().zip(results) {
        let all: Vec<String> = up.iter().map(|d| format!("{:.0}", d.as_secs_f64())).collect();
        println!(
            "| {} | {:.0} s | {} s | {:.0} s |",
            v.name,
            median(up.clone()).as_secs_f64(),
            all.join(", "),
            median(down).as_secs_f64()
        );
    }
}
