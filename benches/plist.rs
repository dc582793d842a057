//! plist benchmarks: parsing and writing a UTM config.plist (XML) and a 40-VM registry
//! (binary), the round trip through Rhai values, and a whole `hp::edit` of a file (atomic
//! write with fsync, previous version kept) — next to Python's plistlib on the same files.
//!
//! Run: `cargo bench --bench plist`. Prints a markdown table (BENCHMARKS.md `## plist`).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // benches drive tools directly

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ::plist::{Dictionary, Value};
use helix::plist::{self as hp, Format, script};

fn per_op(n: u32, f: impl FnMut()) -> Duration {
    let mut f = f;
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

fn registry(vms: usize) -> Dictionary {
    let mut reg = Dictionary::new();
    let mut list = vec![];
    for i in 0..vms {
        let uuid = format!("17DC4F96-F1A9-4B51-962B-{i:012X}");
        let mut pkg = Dictionary::new();
        pkg.insert("Path".into(), Value::String(format!("/Volumes/Big/vm{i}.utm")));
        pkg.insert("Bookmark".into(), Value::Data(vec![7u8; 600]));
        pkg.insert("ReadOnly".into(), Value::Boolean(false));
        let mut e = Dictionary::new();
        e.insert("Name".into(), Value::String(format!("vm {i}")));
        e.insert("Package".into(), Value::Dictionary(pkg));
        e.insert("UUID".into(), Value::String(uuid.clone()));
        e.insert("Suspended".into(), Value::Boolean(false));
        reg.insert(uuid.clone(), Value::Dictionary(e));
        list.push(Value::String(uuid));
    }
    let mut root = Dictionary::new();
    root.insert("VMEntryList".into(), Value::Array(list));
    root.insert("Registry".into(), Value::Dictionary(reg));
    root
}

fn python(file: &Path, n: u32) -> Option<(Duration, Duration)> {
    let code = format!(
        "import plistlib,time\nb=open({f:?},'rb').read()\nfmt=plistlib.FMT_BINARY if b.startswith(b'bplist') else plistlib.FMT_XML\n\
         t=time.perf_counter()\nfor _ in range({n}): d=plistlib.loads(b)\nl=(time.perf_counter()-t)/{n}\n\
         t=time.perf_counter()\nfor _ in range({n}): plistlib.dumps(d, fmt=fmt, sort_keys=False)\nw=(time.perf_counter()-t)/{n}\nprint(l, w)",
        f = file.display().to_string()
    );
    let out = Command::new("python3").args(["-c", &code]).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some((Duration::from_secs_f64(it.next()??), Duration::from_secs_f64(it.next()??)))
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: single-threaded here, before anything reads the environment.
    unsafe { std::env::set_var("HELIX_STATE_DIR", dir.path().join("state")) };
    let n = 300;
    let spec = helix::utm::bundle::NewBundle {
        arguments: vec!["-global".into(), "virtio-gpu-gl-pci.edid=on".into()],
        ..Default::default()
    };
    let config = helix::utm::bundle::new_config(&spec, &[]).unwrap();
    let xml = hp::to_bytes(&config, Format::Xml).unwrap();
    let reg = registry(40);
    let bin = hp::to_bytes(&reg, Format::Binary).unwrap();
    let cfg_file = dir.path().join("config.plist");
    let reg_file = dir.path().join("registry.plist");
    std::fs::write(&cfg_file, &xml).unwrap();
    std::fs::write(&reg_file, &bin).unwrap();

    println!(
        "## plist (per operation, mean of {n}; config.plist {} B XML, registry {} B binary)\n",
        xml.len(),
        bin.len()
    );
    println!("| operation | helix | Python plistlib |\n|---|---|---|");
    let py_cfg = python(&cfg_file, n);
    let py_reg = python(&reg_file, n);
    let show = |p: Option<(Duration, Duration)>, load: bool| {
        p.map(|(l, w)| us(if load { l } else { w })).unwrap_or_else(|| "(no python3)".into())
    };
    let t = per_op(n, || drop(hp::parse(&xml, "c").unwrap()));
    println!("| parse config.plist (XML) | {} | {} |", us(t), show(py_cfg, true));
    let t = per_op(n, || drop(hp::to_bytes(&config, Format::Xml).unwrap()));
    println!("| write config.plist (XML) | {} | {} |", us(t), show(py_cfg, false));
    let t = per_op(n, || drop(hp::parse(&bin, "r").unwrap()));
    println!("| parse registry (binary) | {} | {} |", us(t), show(py_reg, true));
    let t = per_op(n, || drop(hp::to_bytes(&reg, Format::Binary).unwrap()));
    println!("| write registry (binary) | {} | {} |", us(t), show(py_reg, false));
    let t = per_op(n, || {
        let m = script::dict_to_map(&reg);
        drop(script::map_to_dict(&m, Some(&reg), "").unwrap());
    });
    println!("| registry → Rhai map → dictionary | {} | |", us(t));
    let mut flip = false;
    let edits = 50;
    let t = per_op(edits, || {
        flip = !flip;
        hp::edit(&cfg_file, |r| hp::set(r, "QEMU.DebugLog", Value::Boolean(flip))).unwrap();
    });
    println!(
        "| `plist::edit` of config.plist (read, diff, keep previous, atomic write + fsync) | {} | |",
        us(t)
    );
}
