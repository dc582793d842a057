//! The NoCloud seed as a FAT volume (what the legacy `mformat -v CIDATA` + `mcopy` made):
//! formatted and filled in memory with the `fatfs` crate, FAT12 for small seeds.

use std::io::{Cursor, Write};

use crate::error::{Error, Result};

/// The smallest volume made: 2 MiB, like the legacy seed (`-t 2 -h 64 -s 32`).
const MIN_BYTES: u64 = 2 << 20;

/// A FAT image labelled `label` (up to 11 characters) holding `files` in its root directory.
pub(crate) fn image(label: &str, files: &[(String, Vec<u8>)]) -> Result<Vec<u8>> {
    if label.is_empty() || label.len() > 11 || !label.is_ascii() {
        return Err(Error::invalid(
            "volume label",
            label,
            "a FAT label is 1 to 11 ASCII characters",
        ));
    }
    let mut l = [b' '; 11];
    l[..label.len()].copy_from_slice(label.to_ascii_uppercase().as_bytes());
    // Room for the files, their clusters' slack and the FAT metadata, rounded up to 1 MiB.
    let payload: u64 = files.iter().map(|(_, d)| d.len() as u64 + 4096).sum();
    let size = (MIN_BYTES.max(payload * 5 / 4 + (1 << 20)) + (1 << 20) - 1) & !((1 << 20) - 1);
    let mut disk = Cursor::new(vec![0u8; size as usize]);
    let err = |op: &'static str, e: std::io::Error| Error::Seed {
        kind: "FAT",
        op,
        message: e.to_string(),
    };
    fatfs::format_volume(&mut disk, fatfs::FormatVolumeOptions::new().volume_label(l))
        .map_err(|e| err("format", e))?;
    {
        let fs = fatfs::FileSystem::new(&mut disk, fatfs::FsOptions::new())
            .map_err(|e| err("open", e))?;
        for (name, data) in files {
            let mut f = fs.root_dir().create_file(name).map_err(|e| err("create a file in", e))?;
            f.truncate().map_err(|e| err("write", e))?;
            f.write_all(data).map_err(|e| err("write", e))?;
            f.flush().map_err(|e| err("write", e))?;
        }
        fs.unmount().map_err(|e| err("finish", e))?;
    }
    Ok(disk.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn files_read_back_through_fatfs() {
        let files = vec![
            ("user-data".to_string(), b"#cloud-config\n".to_vec()),
            ("network-config".to_string(), vec![b'x'; 10_000]),
        ];
        let img = image("cidata", &files).unwrap();
        assert_eq!(img.len(), 2 << 20);
        let mut c = Cursor::new(img);
        let fs = fatfs::FileSystem::new(&mut c, fatfs::FsOptions::new()).unwrap();
        assert_eq!(fs.fat_type(), fatfs::FatType::Fat12);
        assert_eq!(fs.volume_label().trim(), "CIDATA");
        let mut s = Vec::new();
        fs.root_dir().open_file("network-config").unwrap().read_to_end(&mut s).unwrap();
        assert_eq!(s.len(), 10_000);
    }

    #[test]
    fn big_payloads_grow_the_volume_and_bad_labels_are_refused() {
        let img = image("CIDATA", &[("big".into(), vec![1u8; 5 << 20])]).unwrap();
        assert!(img.len() >= 6 << 20);
        assert!(image("much-too-long-label", &[]).is_err());
        assert!(image("", &[]).is_err());
    }
}
