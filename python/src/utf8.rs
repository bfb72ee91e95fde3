//! A Python `str`'s UTF-8 without a copy: the module's `unsafe`.
//!
//! Under the stable ABI that the wheel targets (abi3, CPython 3.9+), PyO3
//! reads a `str` as UTF-8 only by making a `bytes` object and copying it
//! (`PyUnicode_AsUTF8String`): two allocations per id, most of what a batch
//! by id costs. `PyUnicode_AsUTF8AndSize` returns the UTF-8 that the `str`
//! caches inside itself, with no allocation after the first time; it is in
//! the stable ABI from CPython 3.10 on, so it is used only there (checked
//! once, when the module loads), and 3.9 keeps PyO3's safe copy.
//!
//! [`append_items`] reads a list's ids a chunk at a time, by borrowed
//! pointer (no reference count is touched, so the `str` objects' memory
//! is only read, never written back), asking the processor for every
//! object of the chunk before reading the first: in a shuffled list each
//! object is a cache miss, and so their misses overlap.

use std::borrow::Cow;
use std::ffi::c_char;

use pyo3::ffi::{PyList_GetItem, PyObject, PyUnicode_Check, Py_ssize_t};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

extern "C" {
    // Part of CPython's stable ABI since 3.10 (and of its full C API since
    // 3.3), with this signature; pyo3-ffi declares it only when the build
    // targets 3.10+.
    fn PyUnicode_AsUTF8AndSize(unicode: *mut PyObject, size: *mut Py_ssize_t) -> *const c_char;
}

/// Whether the running interpreter has `PyUnicode_AsUTF8AndSize` in its
/// stable ABI.
pub fn cached_utf8_available(py: Python<'_>) -> bool {
    py.version_info() >= (3, 10)
}

/// The text of `s`: borrowed from the `str` itself when `cached` (see
/// [`cached_utf8_available`]), else copied.
pub fn text<'a>(s: &'a Bound<'_, PyString>, cached: bool) -> PyResult<Cow<'a, str>> {
    if !cached {
        return s.to_cow();
    }
    let mut len: Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` (a `Bound` holds a reference to it, and
    // the GIL is held: `Bound` exists only while attached), so the call is
    // valid on CPython 3.10+, which `cached` says this is. It returns NULL
    // with an exception set (a lone surrogate), or a pointer to `len` bytes
    // of UTF-8 that the `str` owns and keeps, unchanged (a `str` is
    // immutable), until it is freed; the slice borrows `s` for `'a`, so it
    // cannot outlive the object.
    let bytes = unsafe {
        let p = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len);
        if p.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        std::slice::from_raw_parts(p.cast::<u8>(), len as usize)
    };
    // CPython's cached representation is UTF-8; checking it costs little
    // and keeps a wrong assumption from becoming undefined behaviour.
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|e| pyo3::exceptions::PyUnicodeError::new_err(e.to_string()))
}

/// Why an item could not be read.
pub enum Refused {
    /// Item `i` is not a `str`.
    NotText(usize),
    /// Item `i` is not UTF-8 (a lone surrogate).
    NotUtf8(usize),
}

/// How many objects [`append_items`] asks for at once.
const AHEAD: usize = 64;

/// Appends the UTF-8 of `list[start..end]` to `text`, pushing each one's
/// end (its offset in `text`) to `ends`; stops at the first item that is
/// not a `str` or not UTF-8. Needs `cached_utf8_available`; the GIL is
/// held (a `Bound` exists only while attached) and nothing here runs
/// Python code, so the list cannot change meanwhile.
pub fn append_items(
    list: &Bound<'_, PyList>,
    start: usize,
    end: usize,
    text: &mut String,
    ends: &mut Vec<usize>,
) -> Result<(), Refused> {
    let mut items = [std::ptr::null_mut::<PyObject>(); AHEAD];
    let mut at = start;
    while at < end {
        let n = (end - at).min(AHEAD);
        for (k, item) in items[..n].iter_mut().enumerate() {
            // SAFETY: the list is live (held by the `Bound`) and the GIL is
            // held; `at + k < end <= len(list)`, so the call answers the
            // item, a borrowed reference that the list keeps alive while
            // it is unchanged, which it is for the whole call (see above).
            *item = unsafe { PyList_GetItem(list.as_ptr(), (at + k) as Py_ssize_t) };
            // The header, and the UTF-8 after it, often on the next line.
            prefetch(item.cast::<u8>());
            prefetch(item.cast::<u8>().wrapping_add(63));
        }
        for (k, &item) in items[..n].iter().enumerate() {
            let i = at + k;
            // SAFETY: `item` is a live object (above), so its type may be
            // read; a NULL would mean an index out of range, which `end`
            // rules out, but is refused rather than read.
            if item.is_null() || unsafe { PyUnicode_Check(item) } == 0 {
                return Err(Refused::NotText(i));
            }
            let mut len: Py_ssize_t = 0;
            // SAFETY: `item` is a live `str` (checked just above) and this
            // is CPython 3.10+ (the caller's contract): the call answers
            // NULL with an exception set, or `len` bytes of UTF-8 that the
            // `str` owns, unchanged while it lives; they are copied into
            // `text` before anything else runs.
            let bytes = unsafe {
                let p = PyUnicode_AsUTF8AndSize(item, &mut len);
                if p.is_null() {
                    // The exception (a lone surrogate) becomes the caller's.
                    drop(PyErr::fetch(list.py()));
                    return Err(Refused::NotUtf8(i));
                }
                std::slice::from_raw_parts(p.cast::<u8>(), len as usize)
            };
            text.push_str(std::str::from_utf8(bytes).map_err(|_| Refused::NotUtf8(i))?);
            ends.push(text.len());
        }
        at += n;
    }
    Ok(())
}

/// Asks the processor to bring the cache line of `address` in, without
/// waiting for it.
#[inline(always)]
fn prefetch(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE, which the instruction needs, is in every x86_64
        // processor; a prefetch reads nothing into the program and never
        // faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}
