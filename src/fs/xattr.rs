//! Extended attributes, copied best-effort (quarantine flags, Finder info, …) when a file is
//! replaced, so the new file carries what the old one had.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn c(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

#[cfg(target_os = "linux")]
unsafe fn list(p: *const libc::c_char, buf: *mut libc::c_char, n: usize) -> isize {
    // SAFETY: the caller passes a valid C string and a buffer of `n` bytes (or null, 0).
    unsafe { libc::listxattr(p, buf, n) }
}
#[cfg(target_os = "macos")]
unsafe fn list(p: *const libc::c_char, buf: *mut libc::c_char, n: usize) -> isize {
    // SAFETY: as above.
    unsafe { libc::listxattr(p, buf, n, 0) }
}
#[cfg(target_os = "linux")]
unsafe fn get(
    p: *const libc::c_char,
    name: *const libc::c_char,
    buf: *mut libc::c_void,
    n: usize,
) -> isize {
    // SAFETY: as above.
    unsafe { libc::getxattr(p, name, buf, n) }
}
#[cfg(target_os = "macos")]
unsafe fn get(
    p: *const libc::c_char,
    name: *const libc::c_char,
    buf: *mut libc::c_void,
    n: usize,
) -> isize {
    // SAFETY: as above.
    unsafe { libc::getxattr(p, name, buf, n, 0, 0) }
}
#[cfg(target_os = "linux")]
unsafe fn set(
    p: *const libc::c_char,
    name: *const libc::c_char,
    buf: *const libc::c_void,
    n: usize,
) -> i32 {
    // SAFETY: as above.
    unsafe { libc::setxattr(p, name, buf, n, 0) }
}
#[cfg(target_os = "macos")]
unsafe fn set(
    p: *const libc::c_char,
    name: *const libc::c_char,
    buf: *const libc::c_void,
    n: usize,
) -> i32 {
    // SAFETY: as above.
    unsafe { libc::setxattr(p, name, buf, n, 0, 0) }
}

#[cfg(any(target_os = "linux", target_os = "macos"))]
pub(super) fn copy(from: &Path, to: &Path) {
    let (Some(f), Some(t)) = (c(from), c(to)) else { return };
    // SAFETY: valid C strings; buffers sized by the previous call and checked after.
    unsafe {
        let n = list(f.as_ptr(), std::ptr::null_mut(), 0);
        if n <= 0 {
            return;
        }
        let mut names = vec![0u8; n as usize];
        let n = list(f.as_ptr(), names.as_mut_ptr().cast(), names.len());
        if n <= 0 {
            return;
        }
        for name in names[..n as usize].split(|&b| b == 0).filter(|s| !s.is_empty()) {
            let Ok(cn) = CString::new(name) else { continue };
            let len = get(f.as_ptr(), cn.as_ptr(), std::ptr::null_mut(), 0);
            if len < 0 {
                continue;
            }
            let mut val = vec![0u8; len as usize];
            let len = get(f.as_ptr(), cn.as_ptr(), val.as_mut_ptr().cast(), val.len());
            if len < 0 {
                continue;
            }
            set(t.as_ptr(), cn.as_ptr(), val.as_ptr().cast(), len as usize);
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub fn copy(_: &Path, _: &Path) {}
