//! Embedded code signatures: reading the SuperBlob, recomputing an ad-hoc CodeDirectory's page
//! hashes and special slots in place, writing a fresh ad-hoc signature in the linker's layout,
//! and verifying that every hash matches the bytes. All structures are big-endian.

use sha1::Digest as _;

use super::read::{self, Lc, R, Thin, u32be, u32le, u64le};

pub(crate) const CSMAGIC_EMBEDDED_SIGNATURE: u32 = 0xfade_0cc0;
pub(crate) const CSMAGIC_CODEDIRECTORY: u32 = 0xfade_0c02;
pub(crate) const CSSLOT_CODEDIRECTORY: u32 = 0;
pub(crate) const CSSLOT_ALTERNATE_CODEDIRECTORIES: u32 = 0x1000;
pub(crate) const CSSLOT_SIGNATURESLOT: u32 = 0x10000;
pub(crate) const CS_ADHOC: u32 = 0x2;
pub(crate) const CS_LINKER_SIGNED: u32 = 0x2_0000;
pub(crate) const CS_SUPPORTSEXECSEG: u32 = 0x20400;
pub(crate) const CS_EXECSEG_MAIN_BINARY: u64 = 0x1;
const CD_HEADER: usize = 88; // CodeDirectory up to and including execSegFlags (version 0x20400)
const BLOB_HEADERS: usize = 24; // SuperBlob (12) + one BlobIndex (8), aligned to 8
const PAGE_SHIFT: u8 = 12;

/// What a slice's signature is.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signature {
    /// `adhoc` or `identity` (signed with a certificate; helix cannot recompute that).
    pub kind: String,
    pub linker_signed: bool,
    pub identifier: String,
    pub team: Option<String>,
    pub flags: u32,
    pub dataoff: usize,
    pub datasize: usize,
    pub code_limit: usize,
    pub page_size: usize,
    pub hash_type: u8,
}

struct Cd {
    off: usize, // in the slice
    len: usize,
    version: u32,
    flags: u32,
    hash_off: usize,
    ident_off: usize,
    n_special: usize,
    n_code: usize,
    code_limit: usize,
    hash_size: usize,
    hash_type: u8,
    page_shift: u8,
    team_off: usize,
}

struct Blobs {
    sig_off: usize,
    sig_size: usize,
    entries: Vec<(u32, usize, usize)>, // (slot type, offset in slice, length)
}

fn code_signature_lc(t: &Thin) -> Option<Lc> {
    t.find(read::LC_CODE_SIGNATURE)
}

fn blobs(b: &[u8], t: &Thin) -> R<Option<Blobs>> {
    let Some(lc) = code_signature_lc(t) else { return Ok(None) };
    let dataoff = u32le(b, lc.offset + 8)? as usize;
    let datasize = u32le(b, lc.offset + 12)? as usize;
    if dataoff.checked_add(datasize).is_none_or(|e| e > b.len()) || datasize < 12 {
        return Err(format!(
            "the code signature claims bytes {dataoff}..+{datasize}, outside the {} bytes",
            b.len()
        ));
    }
    let sb = &b[dataoff..dataoff + datasize];
    if u32be(sb, 0)? != CSMAGIC_EMBEDDED_SIGNATURE {
        return Err("the code signature does not start with an embedded-signature SuperBlob".into());
    }
    let count = u32be(sb, 8)? as usize;
    if count > 64 || 12 + count * 8 > datasize {
        return Err(format!("the code signature claims {count} blobs"));
    }
    let mut entries = Vec::new();
    for i in 0..count {
        let ty = u32be(sb, 12 + i * 8)?;
        let off = u32be(sb, 16 + i * 8)? as usize;
        let len = u32be(sb, off.saturating_add(4))? as usize;
        if len < 8 || off.checked_add(len).is_none_or(|e| e > datasize) {
            return Err(format!(
                "signature blob {i} claims bytes {off}..+{len}, outside the signature"
            ));
        }
        entries.push((ty, dataoff + off, len));
    }
    Ok(Some(Blobs { sig_off: dataoff, sig_size: datasize, entries }))
}

fn parse_cd(b: &[u8], off: usize, len: usize) -> R<Cd> {
    let cd = &b[off..off + len];
    if u32be(cd, 0)? != CSMAGIC_CODEDIRECTORY {
        return Err("a CodeDirectory slot does not hold a CodeDirectory".into());
    }
    let version = u32be(cd, 8)?;
    let hash_off = u32be(cd, 16)? as usize;
    let n_special = u32be(cd, 24)? as usize;
    let n_code = u32be(cd, 28)? as usize;
    let mut code_limit = u32be(cd, 32)? as u64;
    let hash_size = *cd.get(36).ok_or("truncated CodeDirectory")? as usize;
    let hash_type = *cd.get(37).ok_or("truncated CodeDirectory")?;
    let page_shift = *cd.get(39).ok_or("truncated CodeDirectory")?;
    if version >= 0x20300 && code_limit == 0 {
        code_limit = read::u64be(cd, 56)?;
    }
    let team_off = if version >= 0x20200 { u32be(cd, 48)? as usize } else { 0 };
    let expect = match hash_type {
        1 | 3 => 20,
        2 => 32,
        4 => 48,
        _ => return Err(format!("unsupported code-signature hash type {hash_type}")),
    };
    if hash_size != expect {
        return Err(format!("hash type {hash_type} with a hash size of {hash_size}"));
    }
    let specials = n_special.checked_mul(hash_size).ok_or("too many special slots")?;
    let codes = n_code.checked_mul(hash_size).ok_or("too many code slots")?;
    if hash_off < specials || hash_off.checked_add(codes).is_none_or(|e| e > len) || page_shift > 30
    {
        return Err("the CodeDirectory's hash slots do not fit in it".into());
    }
    Ok(Cd {
        off,
        len,
        version,
        flags: u32be(cd, 12)?,
        hash_off,
        ident_off: u32be(cd, 20)? as usize,
        n_special,
        n_code,
        code_limit: code_limit as usize,
        hash_size,
        hash_type,
        page_shift,
        team_off,
    })
}

fn cstr(b: &[u8], off: usize) -> String {
    let s = b.get(off..).unwrap_or_default();
    let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
    String::from_utf8_lossy(&s[..end]).into_owned()
}

fn code_directories(b: &[u8], bl: &Blobs) -> R<Vec<Cd>> {
    let mut out = vec![];
    for &(ty, off, len) in &bl.entries {
        if ty == CSSLOT_CODEDIRECTORY
            || (CSSLOT_ALTERNATE_CODEDIRECTORIES..CSSLOT_ALTERNATE_CODEDIRECTORIES + 5)
                .contains(&ty)
        {
            out.push(parse_cd(b, off, len)?);
        }
    }
    if out.is_empty() {
        return Err("the code signature has no CodeDirectory".into());
    }
    Ok(out)
}

/// The slice's signature, if it carries one.
pub(crate) fn signature(b: &[u8], t: &Thin) -> R<Option<Signature>> {
    let Some(bl) = blobs(b, t)? else { return Ok(None) };
    let cds = code_directories(b, &bl)?;
    let cd = &cds[0];
    let cms = bl.entries.iter().find(|e| e.0 == CSSLOT_SIGNATURESLOT).map(|e| e.2).unwrap_or(0);
    let identity = cms > 8 || cd.flags & CS_ADHOC == 0;
    Ok(Some(Signature {
        kind: if identity { "identity".into() } else { "adhoc".into() },
        linker_signed: cd.flags & CS_LINKER_SIGNED != 0,
        identifier: cstr(&b[cd.off..cd.off + cd.len], cd.ident_off),
        team: (cd.team_off > 0).then(|| cstr(&b[cd.off..cd.off + cd.len], cd.team_off)),
        flags: cd.flags,
        dataoff: bl.sig_off,
        datasize: bl.sig_size,
        code_limit: cd.code_limit,
        page_size: 1usize << cd.page_shift,
        hash_type: cd.hash_type,
    }))
}

fn hash(ty: u8, data: &[u8], out: &mut [u8]) {
    match ty {
        1 => out.copy_from_slice(&sha1::Sha1::digest(data)),
        2 => out.copy_from_slice(&sha2::Sha256::digest(data)),
        3 => out.copy_from_slice(&sha2::Sha256::digest(data)[..20]),
        _ => out.copy_from_slice(&sha2::Sha384::digest(data)),
    }
}

/// Hash every page of `code` into `out` (one `hash_size` slot per page), on two threads when
/// the code is large.
fn hash_pages(ty: u8, code: &[u8], page: usize, hash_size: usize, out: &mut [u8]) {
    let pages = out.len() / hash_size;
    let one = |first: usize, out: &mut [u8]| {
        for (i, slot) in out.chunks_mut(hash_size).enumerate() {
            let start = (first + i) * page;
            let end = (start + page).min(code.len());
            hash(ty, &code[start.min(end)..end], slot);
        }
    };
    if code.len() < (4 << 20) || pages < 2 {
        one(0, out);
        return;
    }
    let half = pages / 2;
    let (a, b) = out.split_at_mut(half * hash_size);
    std::thread::scope(|s| {
        s.spawn(|| one(0, a));
        one(half, b);
    });
}

/// The special slots helix can recompute: requirements (2), entitlements (5), DER
/// entitlements (7). Info.plist (1) and resources (3) hash files outside the binary: kept.
const RECOMPUTED_SPECIAL: [u32; 3] = [2, 5, 7];

/// Recompute every ad-hoc CodeDirectory's hashes in place after the slice's bytes changed.
/// The signature's size and place do not change (nor do the file's pages), so nothing moves.
pub(crate) fn resign_in_place(b: &mut [u8], t: &Thin) -> R<usize> {
    let Some(bl) = blobs(b, t)? else { return Ok(0) };
    let cds = code_directories(b, &bl)?;
    let mut pages = 0;
    for cd in cds {
        if cd.code_limit > bl.sig_off {
            return Err(format!(
                "the CodeDirectory covers {} bytes, past the signature at {}",
                cd.code_limit, bl.sig_off
            ));
        }
        let page = if cd.page_shift == 0 { cd.code_limit.max(1) } else { 1usize << cd.page_shift };
        if cd.n_code != cd.code_limit.div_ceil(page) {
            return Err(format!(
                "the CodeDirectory has {} page hashes for {} bytes",
                cd.n_code, cd.code_limit
            ));
        }
        let (code, rest) = b.split_at_mut(bl.sig_off);
        let slots_start = cd.off - bl.sig_off + cd.hash_off;
        let slots = &mut rest[slots_start..slots_start + cd.n_code * cd.hash_size];
        hash_pages(cd.hash_type, &code[..cd.code_limit], page, cd.hash_size, slots);
        pages += cd.n_code;
        for &(ty, off, len) in &bl.entries {
            if RECOMPUTED_SPECIAL.contains(&ty) && (ty as usize) <= cd.n_special {
                let mut h = vec![0u8; cd.hash_size];
                hash(cd.hash_type, &b[off..off + len], &mut h);
                let at = cd.off + cd.hash_off - ty as usize * cd.hash_size;
                b[at..at + cd.hash_size].copy_from_slice(&h);
            }
        }
    }
    Ok(pages)
}

/// What `verify` found in one slice.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SliceCheck {
    pub arch: String,
    pub signed: bool,
    pub valid: bool,
    pub pages: usize,
    pub bad_pages: Vec<usize>,
    pub bad_special_slots: Vec<u32>,
    pub problem: Option<String>,
    pub signature: Option<Signature>,
}

/// Check every hash of every CodeDirectory against the bytes. (A certificate's CMS signature
/// is not checked: that needs Apple's trust store; the hashes it covers are.)
pub(crate) fn verify_slice(b: &[u8], t: &Thin) -> R<SliceCheck> {
    let sig = signature(b, t)?;
    let mut check = SliceCheck {
        arch: t.arch(),
        signed: sig.is_some(),
        valid: false,
        pages: 0,
        bad_pages: vec![],
        bad_special_slots: vec![],
        problem: None,
        signature: sig.clone(),
    };
    let Some(bl) = blobs(b, t)? else {
        check.problem = Some("not signed".into());
        return Ok(check);
    };
    for cd in code_directories(b, &bl)? {
        if cd.code_limit != bl.sig_off {
            check.problem = Some(format!(
                "the signature covers {} bytes but the code ends at {}",
                cd.code_limit, bl.sig_off
            ));
            return Ok(check);
        }
        let page = if cd.page_shift == 0 { cd.code_limit.max(1) } else { 1usize << cd.page_shift };
        if cd.n_code != cd.code_limit.div_ceil(page) {
            check.problem = Some(format!(
                "{} page hashes for {} pages",
                cd.n_code,
                cd.code_limit.div_ceil(page)
            ));
            return Ok(check);
        }
        let mut fresh = vec![0u8; cd.n_code * cd.hash_size];
        hash_pages(cd.hash_type, &b[..cd.code_limit], page, cd.hash_size, &mut fresh);
        let stored = &b[cd.off + cd.hash_off..cd.off + cd.hash_off + fresh.len()];
        for (i, (x, y)) in fresh.chunks(cd.hash_size).zip(stored.chunks(cd.hash_size)).enumerate() {
            if x != y && !check.bad_pages.contains(&i) {
                check.bad_pages.push(i);
            }
        }
        check.pages = check.pages.max(cd.n_code);
        for &(ty, off, len) in &bl.entries {
            if RECOMPUTED_SPECIAL.contains(&ty) && (ty as usize) <= cd.n_special {
                let mut h = vec![0u8; cd.hash_size];
                hash(cd.hash_type, &b[off..off + len], &mut h);
                let at = cd.off + cd.hash_off - ty as usize * cd.hash_size;
                if b[at..at + cd.hash_size] != h[..] {
                    check.bad_special_slots.push(ty);
                }
            }
        }
        let _ = (cd.version, cd.len);
    }
    check.valid = check.bad_pages.is_empty() && check.bad_special_slots.is_empty();
    if !check.valid {
        check.problem = Some(format!(
            "{} and {} do not match the file",
            crate::count::count(check.bad_pages.len() as u64, "page hash"),
            crate::count::count(check.bad_special_slots.len() as u64, "special slot")
        ));
    }
    Ok(check)
}

/// The bytes of a fresh ad-hoc signature in the layout ld64 and lld write: one CodeDirectory
/// (version 0x20400, SHA-256, 4 KiB pages), no special slots.
pub(crate) fn build_adhoc(
    code: &[u8],
    identifier: &str,
    flags: u32,
    exec_seg: (u64, u64, u64),
) -> Vec<u8> {
    let fixed = BLOB_HEADERS + CD_HEADER;
    let all_headers = (fixed + identifier.len() + 1).next_multiple_of(16);
    let pages = code.len().div_ceil(1 << PAGE_SHIFT);
    let size = (all_headers + pages * 32).next_multiple_of(16);
    let mut s = vec![0u8; size];
    read::put32be(&mut s, 0, CSMAGIC_EMBEDDED_SIGNATURE);
    read::put32be(&mut s, 4, size as u32);
    read::put32be(&mut s, 8, 1);
    read::put32be(&mut s, 12, CSSLOT_CODEDIRECTORY);
    read::put32be(&mut s, 16, BLOB_HEADERS as u32);
    let cd = BLOB_HEADERS;
    read::put32be(&mut s, cd, CSMAGIC_CODEDIRECTORY);
    read::put32be(&mut s, cd + 4, (size - BLOB_HEADERS) as u32);
    read::put32be(&mut s, cd + 8, CS_SUPPORTSEXECSEG);
    read::put32be(&mut s, cd + 12, flags);
    read::put32be(&mut s, cd + 16, (all_headers - BLOB_HEADERS) as u32); // hashOffset
    read::put32be(&mut s, cd + 20, CD_HEADER as u32); // identOffset
    read::put32be(&mut s, cd + 24, 0); // nSpecialSlots
    read::put32be(&mut s, cd + 28, pages as u32);
    read::put32be(&mut s, cd + 32, code.len() as u32);
    s[cd + 36] = 32;
    s[cd + 37] = 2; // SHA-256
    s[cd + 39] = PAGE_SHIFT;
    read::put64be(&mut s, cd + 64, exec_seg.0);
    read::put64be(&mut s, cd + 72, exec_seg.1);
    read::put64be(&mut s, cd + 80, exec_seg.2);
    s[cd + CD_HEADER..cd + CD_HEADER + identifier.len()].copy_from_slice(identifier.as_bytes());
    let h = all_headers;
    hash_pages(2, code, 1 << PAGE_SHIFT, 32, &mut s[h..h + pages * 32]);
    s
}

/// `(fileoff, filesize)` of the `__TEXT` segment, for the CodeDirectory's exec-segment fields.
pub(crate) fn text_segment(b: &[u8], t: &Thin) -> R<(u64, u64)> {
    for lc in &t.cmds {
        if lc.cmd == read::LC_SEGMENT_64
            && &b[lc.offset + 8..lc.offset + 14] == b"__TEXT"
            && b[lc.offset + 14] == 0
        {
            return Ok((u64le(b, lc.offset + 40)?, u64le(b, lc.offset + 48)?));
        }
        if lc.cmd == read::LC_SEGMENT
            && &b[lc.offset + 8..lc.offset + 14] == b"__TEXT"
            && b[lc.offset + 14] == 0
        {
            return Ok((u32le(b, lc.offset + 32)? as u64, u32le(b, lc.offset + 36)? as u64));
        }
    }
    Ok((0, 0))
}

/// Sign one slice ad-hoc from scratch: replace any signature (or add one, which needs 16 bytes of
/// header room) at the end of `__LINKEDIT`. Returns the new slice bytes. The identifier and the
/// linker-signed flag of an existing ad-hoc signature are kept; `name` is the identifier otherwise.
pub(crate) fn sign_slice(b: &[u8], name: &str) -> R<Vec<u8>> {
    let t = Thin::parse(b)?;
    let old = signature(b, &t)?;
    let linkedit = t
        .cmds
        .iter()
        .copied()
        .find(|lc| {
            (lc.cmd == read::LC_SEGMENT_64 || lc.cmd == read::LC_SEGMENT)
                && b.get(lc.offset + 8..lc.offset + 19) == Some(b"__LINKEDIT\0")
        })
        .ok_or("it has no __LINKEDIT segment to hold a signature")?;
    let is64 = linkedit.cmd == read::LC_SEGMENT_64;
    let (fileoff, filesize, vmsize) = if is64 {
        (
            u64le(b, linkedit.offset + 40)? as usize,
            u64le(b, linkedit.offset + 48)? as usize,
            u64le(b, linkedit.offset + 32)?,
        )
    } else {
        (
            u32le(b, linkedit.offset + 32)? as usize,
            u32le(b, linkedit.offset + 36)? as usize,
            u32le(b, linkedit.offset + 28)? as u64,
        )
    };
    if fileoff.checked_add(filesize).is_none_or(|e| e > b.len()) {
        return Err("__LINKEDIT claims bytes past the end of the file".into());
    }
    let mut out = b.to_vec();
    let (sig_at, cs_lc) = match code_signature_lc(&t) {
        Some(lc) => (old.as_ref().map(|s| s.dataoff).unwrap_or(0), lc.offset),
        None => {
            // Append LC_CODE_SIGNATURE to the load commands.
            let room = t.content_start(b)? - t.cmds_end();
            if room < 16 {
                return Err(format!(
                    "no room for LC_CODE_SIGNATURE: the header padding has {room} bytes, 16 are needed ({} missing); relink with -headerpad_max_install_names",
                    16 - room
                ));
            }
            let at = t.cmds_end();
            read::put32le(&mut out, at, read::LC_CODE_SIGNATURE);
            read::put32le(&mut out, at + 4, 16);
            read::put32le(&mut out, 16, t.cmds.len() as u32 + 1);
            read::put32le(&mut out, 20, (t.sizeofcmds + 16) as u32);
            ((fileoff + filesize).next_multiple_of(16), at)
        }
    };
    if fileoff < t.cmds_end() + 16 || sig_at < fileoff {
        return Err(format!(
            "__LINKEDIT (at {fileoff}) or the signature (at {sig_at}) overlaps the header, which ends at {}",
            t.cmds_end()
        ));
    }
    if let Some(s) = &old
        && s.dataoff + s.datasize < fileoff + filesize
    {
        return Err("data follows the code signature in __LINKEDIT; helix only replaces a signature that ends the file".into());
    }
    let (identifier, flags) = match &old {
        Some(s) if s.kind == "adhoc" => {
            (s.identifier.clone(), CS_ADHOC | (s.flags & CS_LINKER_SIGNED))
        }
        Some(s) => (s.identifier.clone(), CS_ADHOC),
        None => (name.to_string(), CS_ADHOC),
    };
    let text = text_segment(b, &t)?;
    let exec_flags = if t.filetype == read::MH_EXECUTE { CS_EXECSEG_MAIN_BINARY } else { 0 };
    // Size first (it does not depend on the hashes), so the header can be final before hashing.
    let pages = sig_at.div_ceil(1 << PAGE_SHIFT);
    let size = ((BLOB_HEADERS + CD_HEADER + identifier.len() + 1).next_multiple_of(16)
        + pages * 32)
        .next_multiple_of(16);
    out.resize(sig_at, 0);
    read::put32le(&mut out, cs_lc + 8, sig_at as u32);
    read::put32le(&mut out, cs_lc + 12, size as u32);
    let new_filesize = (sig_at + size - fileoff) as u64;
    let page = t.page_size();
    let new_vmsize = if vmsize == filesize as u64 {
        new_filesize
    } else {
        vmsize.max(new_filesize.next_multiple_of(page))
    };
    if is64 {
        read::put64le(&mut out, linkedit.offset + 48, new_filesize);
        read::put64le(&mut out, linkedit.offset + 32, new_vmsize);
    } else {
        read::put32le(&mut out, linkedit.offset + 36, new_filesize as u32);
        read::put32le(&mut out, linkedit.offset + 28, new_vmsize as u32);
    }
    let sig = build_adhoc(&out, &identifier, flags, (text.0, text.1, exec_flags));
    debug_assert_eq!(sig.len(), size);
    out.extend_from_slice(&sig);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_signature_matches_lld_layout_sizes() {
        // lld: identifier "libq.dylib", code limit 49424 → 544 bytes.
        let code = vec![0u8; 49424];
        let s = build_adhoc(&code, "libq.dylib", CS_ADHOC | CS_LINKER_SIGNED, (0, 16384, 0));
        assert_eq!(s.len(), 544);
        assert_eq!(u32be(&s, 0).unwrap(), CSMAGIC_EMBEDDED_SIGNATURE);
    }
}
