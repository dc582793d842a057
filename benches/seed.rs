//! The NoCloud seed: helix's native FAT writer vs the legacy way (`dd`, `mformat -v CIDATA` and
//! two `mcopy`), and the ISO writer vs `xorriso -as mkisofs -volid cidata -joliet -rock`.
//! Run: `cargo bench --bench seed`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::process::Command;
use std::time::{Duration, Instant};

use helix::cloudinit::{Seed, SeedFormat};

const N: u32 = 30;

fn time(mut f: impl FnMut()) -> Duration {
    f();
    let t = Instant::now();
    for _ in 0..N {
        f();
    }
    t.elapsed() / N
}

fn sh(argv: &[&str]) {
    let st = Command::new(argv[0])
        .args(&argv[1..])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "{argv:?}");
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).display().to_string();
    let seed = Seed {
        user_data: format!(
            "#cloud-config\nhostname: helix-vm\nruncmd:\n{}",
            "  - [echo, hello]\n".repeat(200)
        ),
        meta_data: "instance-id: helix-vm-1\nlocal-hostname: helix-vm\n".into(),
        ..Default::default()
    };
    std::fs::write(d("user-data"), &seed.user_data).unwrap();
    std::fs::write(d("meta-data"), &seed.meta_data).unwrap();

    let native_fat =
        time(|| std::fs::write(d("native.img"), seed.image(SeedFormat::Fat).unwrap()).unwrap());
    let mtools = time(|| {
        let img = d("legacy.img");
        let _ = std::fs::remove_file(&img);
        sh(&["dd", "if=/dev/zero", &format!("of={img}"), "bs=1k", "count=2048"]);
        sh(&["mformat", "-i", &img, "-v", "CIDATA", "-t", "2", "-h", "64", "-s", "32", "::"]);
        sh(&["mcopy", "-i", &img, &d("user-data"), "::user-data"]);
        sh(&["mcopy", "-i", &img, &d("meta-data"), "::meta-data"]);
    });
    let native_iso =
        time(|| std::fs::write(d("native.iso"), seed.image(SeedFormat::Iso).unwrap()).unwrap());
    let xorriso = time(|| {
        let _ = std::fs::remove_file(d("legacy.iso"));
        sh(&[
            "xorriso",
            "-as",
            "mkisofs",
            "-quiet",
            "-output",
            &d("legacy.iso"),
            "-volid",
            "cidata",
            "-joliet",
            "-rock",
            &d("user-data"),
            &d("meta-data"),
        ]);
    });
    println!("seed (mean of {N})         | helix native | legacy tools | ratio");
    println!(
        "FAT CIDATA (2 MiB)        | {native_fat:>12.2?} | {mtools:>12.2?} | {:.0}x",
        mtools.as_secs_f64() / native_fat.as_secs_f64()
    );
    println!(
        "ISO cidata                | {native_iso:>12.2?} | {xorriso:>12.2?} | {:.0}x",
        xorriso.as_secs_f64() / native_iso.as_secs_f64()
    );
}
