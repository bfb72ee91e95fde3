//! `DndPrepared`: a message prepared once, decided for many recipients.

use std::ffi::c_char;
use std::mem::MaybeUninit;

use super::{c_string, finish, object, out, run, slice, slots, text, Ids};
use crate::prepared::{Prepared, CHUNK};
use crate::result::DndDecision;
use crate::slot::fill;
use crate::status::{DndStatus, Failure};

/// A prepared message (opaque): it holds the settings version it was
/// prepared against, so changes made later do not reach it.
///
/// Deciding and explaining may run on many threads at once on the same
/// object; only `dnd_prepared_free` must run alone.
#[derive(Debug)]
pub struct DndPrepared(pub(crate) Prepared);

/// The optional deferral buffer: NULL for none.
///
/// # Safety
/// `p` is NULL or valid for `count` writes (the ABI's contract 1).
unsafe fn deferrals<'a>(p: *mut i64, count: usize) -> Result<Option<&'a mut [MaybeUninit<i64>]>, Failure> {
    match p.is_null() {
        true => Ok(None),
        // SAFETY: by this function's contract.
        false => Ok(Some(unsafe { slots(p, count, "defer_until") }?)),
    }
}

/// Frees a prepared message. NULL is allowed.
///
/// Not thread-safe: no other call may use `prepared` meanwhile or after.
///
/// # Safety
/// The ABI's contract 3: `prepared` is NULL or live, and freed once.
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_free(prepared: *mut DndPrepared) {
    if prepared.is_null() {
        return;
    }
    // SAFETY: `prepared` came from `Box::into_raw` in a prepare function and
    // is freed once (contract 3).
    let owned = unsafe { Box::from_raw(prepared) };
    let _ = run(|| {
        drop(owned);
        Ok(())
    });
}

/// The number of recipients the push named (0 for NULL).
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract 3.
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_recipient_count(prepared: *const DndPrepared) -> usize {
    // SAFETY: the ABI's contract 3.
    run(|| unsafe { object(prepared, "prepared") }.map(|p| p.0.recipients().len())).unwrap_or(0)
}

/// Decides the push's own recipients, in order, into `out` (`count`
/// decisions; `count` must be `dnd_prepared_recipient_count`). When
/// `defer_until` is not NULL it receives, per recipient, the epoch
/// milliseconds at which the same message would push (`deferUntil`), or 0
/// when it pushes now or would not push within the week (a deferral is
/// always after the message's time, so never 0).
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_decide_recipients(
    prepared: *const DndPrepared,
    out: *mut DndDecision,
    defer_until: *mut i64,
    count: usize,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3.
        let (prepared, out, defer) = unsafe {
            (
                object(prepared, "prepared")?,
                slots(out, count, "out")?,
                deferrals(defer_until, count)?,
            )
        };
        let recipients = prepared.0.recipients();
        if recipients.len() != count {
            let why = format_args!("is {count}, but the push has {} recipients", recipients.len());
            return Err(Failure::new(DndStatus::Invalid, "count", why));
        }
        prepared
            .0
            .decide_ids(recipients, out, defer, &mut Vec::with_capacity(CHUNK));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Decides `count` recipients given by id into `out` (`count` decisions),
/// with deferrals into `defer_until` when it is not NULL (as
/// `dnd_prepared_decide_recipients`). The ids are `count` C strings `ids`,
/// or, when `ids` is NULL, the packed form `bytes` and `ends` (id `i` is
/// `bytes[ends[i-1] .. ends[i]]`, the first from 0). A user the settings
/// do not know has set nothing. An id that is NULL or not UTF-8 is an error
/// naming `ids[i]`; `out` is then all zeros.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_decide_ids(
    prepared: *const DndPrepared,
    ids: *const *const c_char,
    bytes: *const u8,
    ends: *const usize,
    count: usize,
    out: *mut DndDecision,
    defer_until: *mut i64,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (prepared, list, out, mut defer) = unsafe {
            (
                object(prepared, "prepared")?,
                Ids::new(ids, bytes, ends, count)?,
                slots(out, count, "out")?,
                deferrals(defer_until, count)?,
            )
        };
        let mut scratch = Vec::with_capacity(CHUNK);
        let mut chunk = [""; CHUNK];
        for start in (0..count).step_by(CHUNK) {
            let end = (start + CHUNK).min(count);
            for (k, id) in chunk[..end - start].iter_mut().enumerate() {
                match list.get(start + k) {
                    Ok(s) => *id = s,
                    Err(e) => {
                        fill(out, DndDecision::default());
                        if let Some(defer) = defer {
                            fill(defer, 0);
                        }
                        return Err(e);
                    }
                }
            }
            let defer = defer.as_deref_mut().map(|d| &mut d[start..end]);
            prepared
                .0
                .decide_ids(&chunk[..end - start], &mut out[start..end], defer, &mut scratch);
        }
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Decides `count` recipients given by handle (from `dnd_settings_intern`
/// or `dnd_shared_intern`) into `out`, with deferrals into `defer_until`
/// when it is not NULL. The quickest way: no string is hashed. A handle
/// these settings did not issue is `DND_STATUS_FOREIGN_HANDLE` naming
/// `handles[i]`, never another user's decision; `out` is then all zeros.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_decide_handles(
    prepared: *const DndPrepared,
    handles: *const u64,
    count: usize,
    out: *mut DndDecision,
    defer_until: *mut i64,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3 for each argument.
        let (prepared, handles, out, defer) = unsafe {
            (
                object(prepared, "prepared")?,
                slice(handles, count, "handles")?,
                slots(out, count, "out")?,
                deferrals(defer_until, count)?,
            )
        };
        prepared.0.decide_handles(handles, out, defer)
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Explains the decision for user `id`: `*json` receives one JSON object,
/// the one `dnd explain --json` writes (`userId`, `push`, `by`, `level`,
/// `deferUntil` when deferred, and `explanation`, the walk down the layers
/// step by step), freed with `dnd_string_free`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_explain(
    prepared: *const DndPrepared,
    id: *const c_char,
    json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (prepared, id, slot) = unsafe { (object(prepared, "prepared")?, text(id, "id")?, out(json, "json")?) };
        slot.write(c_string(prepared.0.explain_id(id)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Explains the decision for the user with `handle`, as
/// `dnd_prepared_explain`; a foreign handle is `DND_STATUS_FOREIGN_HANDLE`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_explain_handle(
    prepared: *const DndPrepared,
    handle: u64,
    json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3.
        let (prepared, slot) = unsafe { (object(prepared, "prepared")?, out(json, "json")?) };
        slot.write(c_string(prepared.0.explain_handle(handle)?));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// The push's decisions as `dnd replay` writes them: `*json` receives
/// `{"decisions":[{"userId":..,"push":..,"by":..,"level":..}, ...]}` (with
/// `deferUntil` where deferred), freed with `dnd_string_free`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_prepared_decisions_json(
    prepared: *const DndPrepared,
    json: *mut *mut c_char,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3.
        let (prepared, slot) = unsafe { (object(prepared, "prepared")?, out(json, "json")?) };
        slot.write(c_string(prepared.0.decisions_json()));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}
