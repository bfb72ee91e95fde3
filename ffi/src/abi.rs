//! The C ABI: every `extern "C"` function, and all of the crate's `unsafe`.
//!
//! The contract a C caller keeps, which every `unsafe` block below relies on
//! (each block says which part):
//!
//! 1. A pointer argument is NULL or points to what its type and length say,
//!    readable (and writable, for outputs) for the whole call, and not
//!    written by anyone else during the call.
//! 2. A `const char*` that is not NULL is NUL-terminated.
//! 3. An object pointer (`DndSettings*`, `DndShared*`, `DndPrepared*`) is
//!    NULL or came from this library's matching constructor and has not
//!    been freed; a `*_free` runs while no other call uses the object.
//! 4. A string this library returns is freed once, with `dnd_string_free`.
//!
//! Every function catches panics (`catch_unwind`): a bug answers
//! `DND_STATUS_INTERNAL`, never unwinds into C. Every fallible function
//! returns a [`DndStatus`] and takes, last, `char **error`: when it is not
//! NULL, it receives NULL on success, and on failure a message (naming the
//! argument or field) that the caller frees with `dnd_string_free`. Outputs
//! are written only on success.

mod prepared;
mod settings;
mod shared;

use std::ffi::{c_char, CStr, CString};
use std::mem::MaybeUninit;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use prepared::*;
pub use settings::*;
pub use shared::*;

use crate::status::{DndStatus, Failure};

/// Runs `body`, turning a panic into [`DndStatus::Internal`].
fn run<T>(body: impl FnOnce() -> Result<T, Failure>) -> Result<T, Failure> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(Failure::panic(&*payload)))
}

/// Reports `outcome` through `error`: NULL on success, the message on
/// failure; answers the status.
///
/// # Safety
/// `error` is NULL or valid for writing one pointer (contract 1).
unsafe fn finish(error: *mut *mut c_char, outcome: Result<(), Failure>) -> DndStatus {
    let (status, message) = match outcome {
        Ok(()) => (DndStatus::Ok, std::ptr::null_mut()),
        Err(f) => (f.status, c_string(f.message)),
    };
    if !error.is_null() {
        // SAFETY: `error` is not NULL, and valid for writing one pointer by
        // this function's contract.
        unsafe { error.write(message) };
    } else if !message.is_null() {
        // Nobody asked for the message: free it here.
        // SAFETY: `message` came from `CString::into_raw` just above.
        drop(unsafe { CString::from_raw(message) });
    }
    status
}

/// `text` as a C string the caller frees with `dnd_string_free`; a NUL
/// inside (which no JSON or message of this library holds) is written `\0`.
fn c_string(text: String) -> *mut c_char {
    CString::new(text)
        .unwrap_or_else(|e| {
            let escaped = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
            CString::new(escaped).unwrap_or_default()
        })
        .into_raw()
}

/// The object behind `p`, or an error naming `name` for NULL.
///
/// # Safety
/// `p` is NULL or valid for reads of a `T` for `'a`, which nobody frees or
/// writes meanwhile (contracts 1 and 3).
unsafe fn object<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: by this function's contract, a non-NULL `p` is a valid `T`
    // that lives for `'a` unchanged.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::null(name))
}

/// The UTF-8 text of C string `p`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string readable for `'a` (contracts 1, 2).
unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `p` is not NULL, and NUL-terminated and readable for `'a` by
    // this function's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| Failure::utf8(name))
}

/// The `len` values at `p` (NULL allowed when `len` is 0).
///
/// # Safety
/// `p` is NULL or valid for reads of `len` values of `T` for `'a` (contract 1).
unsafe fn slice<'a, T>(p: *const T, len: usize, name: &str) -> Result<&'a [T], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `p` is not NULL and points to `len` readable values of `T`
    // that nobody writes during the call, by this function's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// The `len` slots at `p` for writing (NULL allowed when `len` is 0).
///
/// # Safety
/// `p` is NULL or valid for writes of `len` values of `T` for `'a`, which
/// nobody else reads or writes meanwhile (contract 1). `T` has no invalid
/// bit patterns and no drop (the slots may be uninitialized).
unsafe fn slice_mut<'a, T: Copy>(p: *mut T, len: usize, name: &str) -> Result<&'a mut [T], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `p` is not NULL and valid for `len` writes, unaliased, by this
    // function's contract; `T` is plain data (integers, `DndDecision`), so
    // any bytes the caller left there are a valid `T` and nothing is dropped
    // when they are overwritten. The caller's buffer is zeroed first so that
    // no uninitialized byte is read as a `T`.
    unsafe {
        std::ptr::write_bytes(p, 0, len);
        Ok(std::slice::from_raw_parts_mut(p, len))
    }
}

/// The `len` slots at `p` for writing results into, as they are
/// (uninitialized for all Rust knows): each is written once and none read
/// ([`Slot`](crate::Slot)), so no pass zeroes them first.
///
/// # Safety
/// `p` is NULL or valid for writes of `len` values of `T` for `'a`, which
/// nobody else reads or writes meanwhile (contract 1).
unsafe fn slots<'a, T>(p: *mut T, len: usize, name: &str) -> Result<&'a mut [MaybeUninit<T>], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `p` is not NULL and valid for `len` writes, unaliased, by this
    // function's contract; as `MaybeUninit` nothing is read from the slots
    // or dropped when they are written.
    Ok(unsafe { std::slice::from_raw_parts_mut(p.cast::<MaybeUninit<T>>(), len) })
}

/// The slot at `p` for one output value.
///
/// # Safety
/// `p` is NULL or valid for writing a `T` for `'a` (contract 1).
unsafe fn out<'a, T>(p: *mut T, name: &str) -> Result<&'a mut MaybeUninit<T>, Failure> {
    // SAFETY: a non-NULL `p` is valid for writing a `T` by this function's
    // contract; as `MaybeUninit` nothing is read from it or dropped.
    unsafe { p.cast::<MaybeUninit<T>>().as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A list of user ids as a caller passes it: either `count` C strings, or
/// one buffer of bytes and the end of each id in it (id `i` is
/// `bytes[ends[i-1]..ends[i]]`, the first starting at 0), which is what Go
/// and Java pass most easily.
pub(crate) enum Ids<'a> {
    /// NUL-terminated strings.
    Strings(&'a [*const c_char]),
    /// One buffer and the ends.
    Packed { bytes: &'a [u8], ends: &'a [usize] },
}

impl<'a> Ids<'a> {
    /// The list the arguments describe: `strings` if it is not NULL, else
    /// `bytes` and `ends`.
    ///
    /// # Safety
    /// Each pointer is NULL or valid for `count` values (`ends`), `count`
    /// strings each NULL or NUL-terminated (`strings`), and `ends[count - 1]`
    /// bytes (`bytes`), readable and unchanged for `'a` (contracts 1, 2).
    unsafe fn new(
        strings: *const *const c_char,
        bytes: *const u8,
        ends: *const usize,
        count: usize,
    ) -> Result<Ids<'a>, Failure> {
        if !strings.is_null() || count == 0 {
            // SAFETY: `strings` holds `count` pointers, by this function's contract.
            return Ok(Ids::Strings(unsafe { slice(strings, count, "ids") }?));
        }
        // SAFETY: `ends` holds `count` values, by this function's contract.
        let ends = unsafe { slice(ends, count, "ends") }?;
        let len = ends.last().copied().unwrap_or(0);
        // SAFETY: `bytes` holds `ends[count - 1]` bytes, by this function's contract.
        let bytes = unsafe { slice(bytes, len, "bytes") }?;
        Ok(Ids::Packed { bytes, ends })
    }

    /// How many ids.
    pub(crate) fn len(&self) -> usize {
        match self {
            Ids::Strings(s) => s.len(),
            Ids::Packed { ends, .. } => ends.len(),
        }
    }

    /// Id `i` (`i < len()`), checked as UTF-8; errors name `ids[i]` (or
    /// `ends[i]` for ends that go backwards).
    pub(crate) fn get(&self, i: usize) -> Result<&'a str, Failure> {
        let name = || format!("ids[{i}]");
        match *self {
            Ids::Strings(strings) => {
                let p = strings[i];
                if p.is_null() {
                    return Err(Failure::null(&name()));
                }
                // SAFETY: `Ids::new`'s contract: each non-NULL string is
                // NUL-terminated and readable for `'a`.
                let s = unsafe { CStr::from_ptr(p) };
                s.to_str().map_err(|_| Failure::utf8(&name()))
            }
            Ids::Packed { bytes, ends } => {
                let start = if i == 0 { 0 } else { ends[i - 1] };
                let id = bytes.get(start..ends[i]).ok_or_else(|| {
                    Failure::new(
                        DndStatus::Invalid,
                        format!("ends[{i}]"),
                        format_args!("{} is before the previous end, {start}", ends[i]),
                    )
                })?;
                std::str::from_utf8(id).map_err(|_| Failure::utf8(&name()))
            }
        }
    }
}

/// The library's version, a static string (not to be freed).
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn dnd_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Frees a string this library returned (a message, a response, a
/// snapshot, an explanation). NULL is allowed and does nothing.
///
/// Thread-safe for distinct strings.
///
/// # Safety
/// `s` is NULL or a string this library returned, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn dnd_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: `s` came from `CString::into_raw` (every string this library
    // returns does) and is freed once (contract 4). Dropping a CString does
    // not panic.
    drop(unsafe { CString::from_raw(s) });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_ids_are_read_and_checked() {
        let bytes = b"alicebob\xffx";
        let ends = [5usize, 8, 9, 10];
        // SAFETY: the pointers are to live arrays of the stated lengths.
        let ids = unsafe { Ids::new(std::ptr::null(), bytes.as_ptr(), ends.as_ptr(), 4) }.unwrap();
        assert_eq!(
            (ids.get(0).unwrap(), ids.get(1).unwrap(), ids.get(3).unwrap()),
            ("alice", "bob", "x")
        );
        assert_eq!(ids.get(2).unwrap_err().field.as_deref(), Some("ids[2]"));
        let backwards = [5usize, 3];
        // SAFETY: as above.
        let ids = unsafe { Ids::new(std::ptr::null(), bytes.as_ptr(), backwards.as_ptr(), 2) }.unwrap();
        assert_eq!(ids.get(1).unwrap_err().field.as_deref(), Some("ends[1]"));
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let mut message: *mut c_char = std::ptr::null_mut();
        // SAFETY: `message` is a live local.
        let status = unsafe { finish(&mut message, run(|| -> Result<(), Failure> { panic!("inside") })) };
        assert_eq!(status, DndStatus::Internal);
        // SAFETY: `finish` wrote a string of this library.
        let text = unsafe { CStr::from_ptr(message) }.to_str().unwrap().to_owned();
        assert!(text.contains("inside"), "{text}");
        // SAFETY: freed once.
        unsafe { dnd_string_free(message) };
    }
}
