//! Bounds-checked reading of Mach-O bytes: the fat header, each slice's header and load
//! commands, their strings, and how much room the header padding leaves. Every offset read from
//! the file is checked before it is used, so lying sizes are errors, never panics.

pub(crate) const MH_MAGIC: u32 = 0xfeed_face;
pub(crate) const MH_MAGIC_64: u32 = 0xfeed_facf;
pub(crate) const MH_CIGAM: u32 = 0xcefa_edfe;
pub(crate) const MH_CIGAM_64: u32 = 0xcffa_edfe;
pub(crate) const FAT_MAGIC: u32 = 0xcafe_babe;
pub(crate) const FAT_MAGIC_64: u32 = 0xcafe_babf;

pub(crate) const LC_REQ_DYLD: u32 = 0x8000_0000;
pub(crate) const LC_SEGMENT: u32 = 0x1;
pub(crate) const LC_SEGMENT_64: u32 = 0x19;
pub(crate) const LC_LOAD_DYLIB: u32 = 0xc;
pub(crate) const LC_ID_DYLIB: u32 = 0xd;
pub(crate) const LC_LOAD_WEAK_DYLIB: u32 = 0x18 | LC_REQ_DYLD;
pub(crate) const LC_RPATH: u32 = 0x1c | LC_REQ_DYLD;
pub(crate) const LC_CODE_SIGNATURE: u32 = 0x1d;
pub(crate) const LC_REEXPORT_DYLIB: u32 = 0x1f | LC_REQ_DYLD;
pub(crate) const LC_LAZY_LOAD_DYLIB: u32 = 0x20;
pub(crate) const LC_LOAD_UPWARD_DYLIB: u32 = 0x23 | LC_REQ_DYLD;

pub(crate) const MH_EXECUTE: u32 = 0x2;

pub(crate) const CPU_TYPE_X86_64: u32 = 0x0100_0007;
pub(crate) const CPU_TYPE_ARM64: u32 = 0x0100_000c;

/// Why bytes are not a Mach-O helix can work on (the caller adds the path).
pub(crate) type Malformed = String;
pub(crate) type R<T> = std::result::Result<T, Malformed>;

pub(crate) fn u32le(b: &[u8], off: usize) -> R<u32> {
    let s = off.checked_add(4).and_then(|e| b.get(off..e)).ok_or_else(|| {
        format!("truncated: 4 bytes at offset {off} are past the end ({} bytes)", b.len())
    })?;
    Ok(u32::from_le_bytes(s.try_into().unwrap()))
}

pub(crate) fn u64le(b: &[u8], off: usize) -> R<u64> {
    let s = off.checked_add(8).and_then(|e| b.get(off..e)).ok_or_else(|| {
        format!("truncated: 8 bytes at offset {off} are past the end ({} bytes)", b.len())
    })?;
    Ok(u64::from_le_bytes(s.try_into().unwrap()))
}

pub(crate) fn u32be(b: &[u8], off: usize) -> R<u32> {
    let s = off.checked_add(4).and_then(|e| b.get(off..e)).ok_or_else(|| {
        format!("truncated: 4 bytes at offset {off} are past the end ({} bytes)", b.len())
    })?;
    Ok(u32::from_be_bytes(s.try_into().unwrap()))
}

pub(crate) fn u64be(b: &[u8], off: usize) -> R<u64> {
    let s = off.checked_add(8).and_then(|e| b.get(off..e)).ok_or_else(|| {
        format!("truncated: 8 bytes at offset {off} are past the end ({} bytes)", b.len())
    })?;
    Ok(u64::from_be_bytes(s.try_into().unwrap()))
}

pub(crate) fn put32le(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put64le(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put32be(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_be_bytes());
}

pub(crate) fn put64be(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_be_bytes());
}

/// One architecture's bytes inside the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SliceRange {
    pub offset: usize,
    pub size: usize,
    /// log2 of the slice's alignment in a universal file (0 for a thin file).
    pub align: u32,
}

/// The slices of a file: one for a thin Mach-O, one per architecture for a universal one.
pub(crate) fn slices(b: &[u8]) -> R<(bool, Vec<SliceRange>)> {
    if b.is_empty() {
        return Err("the file is empty".into());
    }
    if b.len() < 8 {
        return Err(format!("too short for a Mach-O header ({} bytes)", b.len()));
    }
    let be = u32be(b, 0)?;
    if be == FAT_MAGIC || be == FAT_MAGIC_64 {
        let n = u32be(b, 4)? as usize;
        // Java class files share the magic; no real universal file has this many slices.
        if n == 0 || n > 64 {
            return Err(format!("universal header claims {n} architectures"));
        }
        let entry = if be == FAT_MAGIC_64 { 32 } else { 20 };
        let header_end = 8 + n * entry;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let e = 8 + i * entry;
            let (offset, size, align) = if be == FAT_MAGIC_64 {
                (u64be(b, e + 8)?, u64be(b, e + 16)?, u32be(b, e + 24)?)
            } else {
                (u32be(b, e + 8)? as u64, u32be(b, e + 12)? as u64, u32be(b, e + 16)?)
            };
            let end = offset.checked_add(size).ok_or("slice size overflows")?;
            if (offset as usize) < header_end || end > b.len() as u64 || size == 0 {
                return Err(format!(
                    "architecture {i} claims bytes {offset}..{end}, outside the file's {} bytes",
                    b.len()
                ));
            }
            if align > 20 {
                return Err(format!("architecture {i} claims an alignment of 2^{align}"));
            }
            out.push(SliceRange { offset: offset as usize, size: size as usize, align });
        }
        let mut sorted = out.clone();
        sorted.sort_by_key(|s| s.offset);
        for w in sorted.windows(2) {
            if w[0].offset + w[0].size > w[1].offset {
                return Err("two architectures overlap".into());
            }
        }
        return Ok((true, out));
    }
    Ok((false, vec![SliceRange { offset: 0, size: b.len(), align: 0 }]))
}

/// One load command: where it sits in its slice and what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lc {
    pub cmd: u32,
    pub offset: usize,
    pub size: usize,
}

/// The header and load commands of one slice (offsets relative to the slice).
#[derive(Debug, Clone)]
pub(crate) struct Thin {
    pub is64: bool,
    pub cputype: u32,
    pub cpusubtype: u32,
    pub filetype: u32,
    pub header_size: usize,
    pub sizeofcmds: usize,
    pub cmds: Vec<Lc>,
}

impl Thin {
    pub(crate) fn parse(b: &[u8]) -> R<Thin> {
        let magic = u32le(b, 0)?;
        let is64 = match magic {
            MH_MAGIC_64 => true,
            MH_MAGIC => false,
            MH_CIGAM | MH_CIGAM_64 => {
                return Err("big-endian Mach-O (PowerPC) is not supported".into());
            }
            _ => return Err(format!("not a Mach-O file (magic 0x{:08x})", u32be(b, 0)?)),
        };
        let header_size = if is64 { 32 } else { 28 };
        if b.len() < header_size {
            return Err(format!(
                "truncated: {} bytes, the header alone needs {header_size}",
                b.len()
            ));
        }
        let ncmds = u32le(b, 16)? as usize;
        let sizeofcmds = u32le(b, 20)? as usize;
        if header_size + sizeofcmds > b.len() {
            return Err(format!(
                "load commands claim {sizeofcmds} bytes but only {} follow the header",
                b.len() - header_size
            ));
        }
        if ncmds > sizeofcmds / 8 {
            return Err(format!("{ncmds} load commands cannot fit in {sizeofcmds} bytes"));
        }
        let mut cmds = Vec::with_capacity(ncmds);
        let mut off = header_size;
        let end = header_size + sizeofcmds;
        for i in 0..ncmds {
            if off + 8 > end {
                return Err(format!(
                    "load command {i} starts past the {sizeofcmds} bytes of load commands"
                ));
            }
            let cmd = u32le(b, off)?;
            let size = u32le(b, off + 4)? as usize;
            if size < 8 || !size.is_multiple_of(4) || off + size > end {
                return Err(format!("load command {i} (0x{cmd:x}) has a bad size {size}"));
            }
            cmds.push(Lc { cmd, offset: off, size });
            off += size;
        }
        Ok(Thin {
            is64,
            cputype: u32le(b, 4)?,
            cpusubtype: u32le(b, 8)?,
            filetype: u32le(b, 12)?,

            header_size,
            sizeofcmds,
            cmds,
        })
    }

    /// Where the load commands end.
    pub(crate) fn cmds_end(&self) -> usize {
        self.header_size + self.sizeofcmds
    }

    /// The first byte after the header that holds content (a section, a segment's data, the
    /// link-edit data): the load commands may grow up to here.
    pub(crate) fn content_start(&self, b: &[u8]) -> R<usize> {
        let mut first = b.len();
        for lc in &self.cmds {
            match lc.cmd {
                LC_SEGMENT_64 | LC_SEGMENT => {
                    let (fileoff, filesize, nsects, sect0, sect_size) = if lc.cmd == LC_SEGMENT_64 {
                        (
                            u64le(b, lc.offset + 40)?,
                            u64le(b, lc.offset + 48)?,
                            u32le(b, lc.offset + 64)? as usize,
                            72,
                            80,
                        )
                    } else {
                        (
                            u32le(b, lc.offset + 32)? as u64,
                            u32le(b, lc.offset + 36)? as u64,
                            u32le(b, lc.offset + 48)? as usize,
                            56,
                            68,
                        )
                    };
                    if sect0 + nsects.saturating_mul(sect_size) > lc.size {
                        return Err(format!(
                            "a segment claims {nsects} sections that do not fit its load command"
                        ));
                    }
                    if fileoff > 0 && filesize > 0 {
                        first = first.min(fileoff.min(usize::MAX as u64) as usize);
                    }
                    for s in 0..nsects {
                        let so = lc.offset + sect0 + s * sect_size;
                        let (size, offset, flags) = if lc.cmd == LC_SEGMENT_64 {
                            (u64le(b, so + 40)?, u32le(b, so + 48)?, u32le(b, so + 64)?)
                        } else {
                            (u32le(b, so + 36)? as u64, u32le(b, so + 40)?, u32le(b, so + 56)?)
                        };
                        let zerofill = matches!(flags & 0xff, 0x1 | 0xc | 0x12);
                        if !zerofill && size > 0 && offset > 0 {
                            first = first.min(offset as usize);
                        }
                    }
                }
                LC_CODE_SIGNATURE => {
                    let dataoff = u32le(b, lc.offset + 8)? as usize;
                    if dataoff > 0 {
                        first = first.min(dataoff);
                    }
                }
                _ => {}
            }
        }
        if first < self.cmds_end() {
            return Err(format!(
                "content at offset {first} overlaps the load commands (which end at {})",
                self.cmds_end()
            ));
        }
        Ok(first)
    }

    /// The architecture's conventional name.
    pub(crate) fn arch(&self) -> String {
        arch_name(self.cputype, self.cpusubtype)
    }

    /// The linker's page size for this architecture (segment alignment).
    pub(crate) fn page_size(&self) -> u64 {
        if self.cputype == CPU_TYPE_ARM64 || self.cputype == 12 || self.cputype == 0x0200_000c {
            0x4000
        } else {
            0x1000
        }
    }

    /// Alignment of load command sizes (8 for 64-bit, 4 for 32-bit).
    pub(crate) fn cmd_align(&self) -> usize {
        if self.is64 { 8 } else { 4 }
    }

    pub(crate) fn find(&self, cmd: u32) -> Option<Lc> {
        self.cmds.iter().copied().find(|l| l.cmd == cmd)
    }
}

pub(crate) fn arch_name(cputype: u32, sub: u32) -> String {
    match (cputype, sub & 0x00ff_ffff) {
        (CPU_TYPE_ARM64, 2) => "arm64e".into(),
        (CPU_TYPE_ARM64, _) => "arm64".into(),
        (0x0200_000c, _) => "arm64_32".into(),
        (CPU_TYPE_X86_64, 8) => "x86_64h".into(),
        (CPU_TYPE_X86_64, _) => "x86_64".into(),
        (7, _) => "i386".into(),
        (12, 9) => "armv7".into(),
        (12, _) => "arm".into(),
        (18, _) => "ppc".into(),
        (0x0100_0012, _) => "ppc64".into(),
        _ => format!("cpu{cputype}:{sub}"),
    }
}

pub(crate) fn file_type_name(t: u32) -> &'static str {
    match t {
        0x1 => "object",
        0x2 => "execute",
        0x3 => "fvmlib",
        0x4 => "core",
        0x5 => "preload",
        0x6 => "dylib",
        0x7 => "dylinker",
        0x8 => "bundle",
        0x9 => "dylib_stub",
        0xa => "dsym",
        0xb => "kext_bundle",
        0xc => "fileset",
        _ => "unknown",
    }
}

/// The string a load command carries at the `lc_str` offset stored at `field` in the command.
pub(crate) fn lc_string(b: &[u8], lc: Lc, field: usize) -> R<String> {
    let rel = u32le(b, lc.offset + field)? as usize;
    if rel < field + 4 || rel >= lc.size {
        return Err(format!(
            "load command 0x{:x} puts its string at {rel}, outside its {} bytes",
            lc.cmd, lc.size
        ));
    }
    let bytes = &b[lc.offset + rel..lc.offset + lc.size];
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

/// The kind of a dependency load command, or `None` if `cmd` is not one.
pub(crate) fn dylib_kind(cmd: u32) -> Option<&'static str> {
    Some(match cmd {
        LC_LOAD_DYLIB => "load",
        LC_LOAD_WEAK_DYLIB => "weak",
        LC_REEXPORT_DYLIB => "reexport",
        LC_LAZY_LOAD_DYLIB => "lazy",
        LC_LOAD_UPWARD_DYLIB => "upward",
        _ => return None,
    })
}

/// `xxxx.yy.zz` as otool prints packed dylib versions.
pub(crate) fn version(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_without_panicking() {
        assert!(slices(b"").unwrap_err().contains("empty"));
        assert!(Thin::parse(b"#!/bin/sh\necho hi\n").unwrap_err().contains("not a Mach-O"));
        let mut h = vec![0u8; 40];
        h[..4].copy_from_slice(&MH_MAGIC_64.to_le_bytes());
        h[16..20].copy_from_slice(&1u32.to_le_bytes());
        h[20..24].copy_from_slice(&8u32.to_le_bytes());
        h[32..36].copy_from_slice(&0x19u32.to_le_bytes());
        h[36..40].copy_from_slice(&4000u32.to_le_bytes());
        assert!(Thin::parse(&h).unwrap_err().contains("bad size"));
        h[20..24].copy_from_slice(&800u32.to_le_bytes());
        assert!(Thin::parse(&h).unwrap_err().contains("claim 800 bytes"));
    }

    #[test]
    fn versions_print_like_otool() {
        assert_eq!(version(0x051f_0000), "1311.0.0");
        assert_eq!(version((42 << 16) | (2 << 8)), "42.2.0");
    }
}
