//! A Python `str`'s UTF-8 without a copy: the module's one `unsafe`.
//!
//! Under the stable ABI that the wheel targets (abi3, CPython 3.9+), PyO3
//! reads a `str` as UTF-8 only by making a `bytes` object and copying it
//! (`PyUnicode_AsUTF8String`): two allocations per id, most of what a batch
//! by id costs. `PyUnicode_AsUTF8AndSize` returns the UTF-8 that the `str`
//! caches inside itself, with no allocation after the first time; it is in
//! the stable ABI from CPython 3.10 on, so it is used only there (checked
//! once, when the module loads), and 3.9 keeps PyO3's safe copy.

use std::borrow::Cow;
use std::ffi::c_char;

use pyo3::ffi::{PyObject, Py_ssize_t};
use pyo3::prelude::*;
use pyo3::types::PyString;

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
    #[allow(unsafe_code)]
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
