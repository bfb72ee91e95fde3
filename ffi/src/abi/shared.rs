//! `DndShared`: settings shared between threads, as immutable versions.

use std::ffi::c_char;

use dnd_engine::SharedSettings;

use super::settings::config;
use super::{c_string, finish, object, out, run, slice, slice_mut, text, Ids};
use crate::abi::DndPrepared;
use crate::prepared::Prepared;
use crate::store::{intern_shared, restore, save, user_ids};
use crate::DndStatus;

/// Settings shared between threads (opaque): the core's `SharedSettings`.
///
/// Every function may be called from any thread, concurrently. A change is
/// published as a new version; a prepared message holds the version it was
/// prepared against, so changes never wait for deciders, and deciders never
/// see half a change.
#[derive(Debug)]
pub struct DndShared(pub(crate) SharedSettings);

/// Makes empty shared settings under the configuration `config_json` (as
/// `dnd_settings_new`; NULL for UTC with no defaults). On success `*shared`
/// is the new object, freed with `dnd_shared_free`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_new(
    config_json: *const c_char,
    shared: *mut *mut DndShared,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contract 1.
        let slot = unsafe { out(shared, "shared") }?;
        let json = match config_json.is_null() {
            true => None,
            // SAFETY: the ABI's contracts 1 and 2.
            false => Some(unsafe { text(config_json, "config") }?),
        };
        let made = DndShared(SharedSettings::new(dnd_engine::Settings::new(config(json)?)));
        slot.write(Box::into_raw(Box::new(made)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Frees shared settings. NULL is allowed. Prepared messages made from them
/// stay valid.
///
/// Not thread-safe: no other call may use `shared` meanwhile or after.
///
/// # Safety
/// The ABI's contract 3: `shared` is NULL or live, and freed once.
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_free(shared: *mut DndShared) {
    if shared.is_null() {
        return;
    }
    // SAFETY: `shared` came from `Box::into_raw` in a constructor and is
    // freed once (contract 3).
    let owned = unsafe { Box::from_raw(shared) };
    let _ = run(|| {
        drop(owned);
        Ok(())
    });
}

/// Answers a settings request as `dnd_settings_handle` does; a change is
/// published before this returns.
///
/// Thread-safe: writers take turns, readers never wait.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_handle(
    shared: *const DndShared,
    path: *const c_char,
    body: *const u8,
    body_len: usize,
    response: *mut *mut c_char,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (shared, path, body, slot) = unsafe {
            (
                object(shared, "shared")?,
                text(path, "path")?,
                slice(body, body_len, "body")?,
                out(response, "response")?,
            )
        };
        slot.write(c_string(shared.0.handle(path, body).to_json()));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Writes the handle of each id, as `dnd_settings_intern`. A handle is
/// valid in every version read after this returns (a message prepared
/// before refuses it with `DND_STATUS_FOREIGN_HANDLE`).
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_intern(
    shared: *const DndShared,
    ids: *const *const c_char,
    bytes: *const u8,
    ends: *const usize,
    count: usize,
    handles: *mut u64,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (shared, list, handles) = unsafe {
            (
                object(shared, "shared")?,
                Ids::new(ids, bytes, ends, count)?,
                slice_mut(handles, count, "handles")?,
            )
        };
        let checked = user_ids((0..list.len()).map(|i| list.get(i)))?;
        intern_shared(&shared.0, &checked, handles)
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Saves the current version, as `dnd_settings_save`.
///
/// Thread-safe; changes go on meanwhile.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_save(
    shared: *const DndShared,
    snapshot: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3.
        let (shared, slot) = unsafe { (object(shared, "shared")?, out(snapshot, "snapshot")?) };
        let json = save(&shared.0.read())?;
        if !len.is_null() {
            // SAFETY: the ABI's contract 1: `len` is valid for a write.
            unsafe { out(len, "len") }?.write(json.len());
        }
        slot.write(c_string(json));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Restores shared settings from a snapshot, as `dnd_settings_restore`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_restore(
    snapshot: *const u8,
    len: usize,
    shared: *mut *mut DndShared,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contract 1 for both.
        let (bytes, slot) = unsafe { (slice(snapshot, len, "snapshot")?, out(shared, "shared")?) };
        let restored = DndShared(SharedSettings::new(restore(bytes)?));
        slot.write(Box::into_raw(Box::new(restored)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Prepares a push against the current version, as `dnd_settings_prepare`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_shared_prepare(
    shared: *const DndShared,
    push_json: *const c_char,
    prepared: *mut *mut DndPrepared,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (shared, json, slot) = unsafe {
            (
                object(shared, "shared")?,
                text(push_json, "push")?,
                out(prepared, "prepared")?,
            )
        };
        let made = DndPrepared(Prepared::from_json(shared.0.read(), json)?);
        slot.write(Box::into_raw(Box::new(made)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}
