//! A minimal ISO 9660 writer for NoCloud seeds (what `mkisofs -volid cidata -joliet` made): one
//! root directory of small files, with a Joliet tree so Linux sees the exact names
//! (`user-data`, not `USER_DAT`). Layout, in 2048-byte sectors: 16 system area, 16 primary
//! descriptor, 17 Joliet descriptor, 18 terminator, 19–22 path tables, 23–24 root directories,
//! then the files.

use crate::clock::civil;
use crate::error::{Error, Result};

const SECTOR: usize = 2048;
const PVD: usize = 16;
const SVD: usize = 17;
const TERM: usize = 18;
const PATH_L: usize = 19;
const PATH_M: usize = 20;
const JPATH_L: usize = 21;
const JPATH_M: usize = 22;
const ROOT: usize = 23;
const JROOT: usize = 24;
const FIRST_FILE: usize = 25;

fn both32(b: &mut [u8], v: u32) {
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..8].copy_from_slice(&v.to_be_bytes());
}

fn both16(b: &mut [u8], v: u16) {
    b[..2].copy_from_slice(&v.to_le_bytes());
    b[2..4].copy_from_slice(&v.to_be_bytes());
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A directory record (ECMA-119 9.1).
fn dir_record(name: &[u8], extent: u32, len: u32, dir: bool, t: i64) -> Vec<u8> {
    let n = name.len();
    let total = 33 + n + (1 - n % 2);
    let mut r = vec![0u8; total];
    r[0] = total as u8;
    both32(&mut r[2..10], extent);
    both32(&mut r[10..18], len);
    let (y, mo, d, h, mi, s) = civil(t);
    r[18..25].copy_from_slice(&[
        (y - 1900).clamp(0, 255) as u8,
        mo as u8,
        d as u8,
        h as u8,
        mi as u8,
        s as u8,
        0,
    ]);
    r[25] = if dir { 2 } else { 0 };
    both16(&mut r[28..32], 1);
    r[32] = n as u8;
    r[33..33 + n].copy_from_slice(name);
    r
}

fn date17(t: i64) -> [u8; 17] {
    let (y, mo, d, h, mi, s) = civil(t);
    let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}00");
    let mut out = [0u8; 17];
    out[..16].copy_from_slice(&text.as_bytes()[..16]);
    out
}

fn ucs2(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|c| c.to_be_bytes()).collect()
}

fn pad_field(dst: &mut [u8], src: &[u8], joliet: bool) {
    for (i, b) in dst.iter_mut().enumerate() {
        *b = if joliet && i % 2 == 0 { 0 } else { b' ' };
    }
    let n = src.len().min(dst.len());
    dst[..n].copy_from_slice(&src[..n]);
}

/// The plain ISO 9660 name: upper case, `NAME.EXT;1` (other characters kept; Linux reads them).
fn iso_name(name: &str) -> Vec<u8> {
    let up = name.to_ascii_uppercase();
    let mut s = if up.contains('.') { up } else { format!("{up}.") };
    s.push_str(";1");
    s.into_bytes()
}

/// An ISO 9660 image labelled `label` holding `files` in its root directory.
pub(crate) fn image(label: &str, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    if label.is_empty() || label.len() > 16 || !label.is_ascii() {
        return Err(Error::invalid(
            "volume label",
            label,
            "an ISO label is 1 to 16 ASCII characters",
        ));
    }
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by_key(|f| f.0.to_ascii_uppercase());
    for (name, _) in &sorted {
        if name.is_empty() || name.len() > 64 || name.contains('/') || !name.is_ascii() {
            return Err(Error::invalid(
                "seed file name",
                name.as_str(),
                "use 1 to 64 ASCII characters without `/`",
            ));
        }
    }
    let t = now();
    // Where each file goes.
    let mut extents = Vec::new();
    let mut next = FIRST_FILE;
    for (_, data) in &sorted {
        extents.push(next as u32);
        next += data.len().div_ceil(SECTOR).max(1);
    }
    let total = next;
    let mut img = vec![0u8; total * SECTOR];

    for (joliet, root_sector) in [(false, ROOT), (true, JROOT)] {
        let mut dir = Vec::new();
        dir.extend(dir_record(&[0], root_sector as u32, SECTOR as u32, true, t));
        dir.extend(dir_record(&[1], root_sector as u32, SECTOR as u32, true, t));
        for ((name, data), extent) in sorted.iter().zip(&extents) {
            let n = if joliet { ucs2(name) } else { iso_name(name) };
            dir.extend(dir_record(&n, *extent, data.len() as u32, false, t));
        }
        if dir.len() > SECTOR {
            return Err(Error::Seed {
                kind: "ISO",
                op: "lay out",
                message: "too many files for one directory sector".into(),
            });
        }
        img[root_sector * SECTOR..root_sector * SECTOR + dir.len()].copy_from_slice(&dir);
    }
    for ((_, data), extent) in sorted.iter().zip(&extents) {
        let at = *extent as usize * SECTOR;
        img[at..at + data.len()].copy_from_slice(data);
    }
    // Path tables: the root only (10 bytes).
    for (sector, root, big) in [
        (PATH_L, ROOT, false),
        (PATH_M, ROOT, true),
        (JPATH_L, JROOT, false),
        (JPATH_M, JROOT, true),
    ] {
        let p = &mut img[sector * SECTOR..sector * SECTOR + 10];
        p[0] = 1;
        let loc = root as u32;
        p[2..6].copy_from_slice(&if big { loc.to_be_bytes() } else { loc.to_le_bytes() });
        p[6..8].copy_from_slice(&if big { 1u16.to_be_bytes() } else { 1u16.to_le_bytes() });
    }
    for (sector, joliet) in [(PVD, false), (SVD, true)] {
        let d = &mut img[sector * SECTOR..(sector + 1) * SECTOR];
        d[0] = if joliet { 2 } else { 1 };
        d[1..6].copy_from_slice(b"CD001");
        d[6] = 1;
        let text = |s: &str| if joliet { ucs2(s) } else { s.as_bytes().to_vec() };
        pad_field(&mut d[8..40], &text("LINUX"), joliet);
        pad_field(&mut d[40..72], &text(label), joliet);
        both32(&mut d[80..88], total as u32);
        if joliet {
            d[88..91].copy_from_slice(b"%/E"); // UCS-2 level 3
        }
        both16(&mut d[120..124], 1);
        both16(&mut d[124..128], 1);
        both16(&mut d[128..132], SECTOR as u16);
        both32(&mut d[132..140], 10);
        let (l, m, root) = if joliet { (JPATH_L, JPATH_M, JROOT) } else { (PATH_L, PATH_M, ROOT) };
        d[140..144].copy_from_slice(&(l as u32).to_le_bytes());
        d[148..152].copy_from_slice(&(m as u32).to_be_bytes());
        let r = dir_record(&[0], root as u32, SECTOR as u32, true, t);
        d[156..190].copy_from_slice(&r);
        for range in [190..318, 318..446, 446..574, 702..739, 739..776, 776..813] {
            pad_field(&mut d[range], b"", joliet);
        }
        pad_field(&mut d[574..702], &text("HELIX"), joliet);
        let date = date17(t);
        d[813..830].copy_from_slice(&date);
        d[830..847].copy_from_slice(&date);
        d[847..863].copy_from_slice(b"0000000000000000");
        d[864..880].copy_from_slice(b"0000000000000000");
        d[881] = 1;
    }
    let term = &mut img[TERM * SECTOR..TERM * SECTOR + 7];
    term[0] = 255;
    term[1..6].copy_from_slice(b"CD001");
    term[6] = 1;
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(1_709_210_096), (2024, 2, 29, 12, 34, 56));
        assert_eq!(&date17(0)[..], b"1970010100000000\0");
    }

    #[test]
    fn layout() {
        let img = image(
            "cidata",
            &[
                ("user-data".into(), b"#cloud-config\n".to_vec()),
                ("meta-data".into(), b"instance-id: x\n".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(img.len(), 27 * SECTOR);
        assert_eq!(&img[PVD * SECTOR + 1..PVD * SECTOR + 6], b"CD001");
        assert_eq!(&img[PVD * SECTOR + 40..PVD * SECTOR + 46], b"cidata");
        // Sorted: META-DATA first.
        assert_eq!(&img[FIRST_FILE * SECTOR..FIRST_FILE * SECTOR + 12], b"instance-id:");
        assert!(image("a-label-longer-than-16", &[]).is_err());
        assert!(image("x", &[("a/b".into(), vec![])]).is_err());
    }
}
