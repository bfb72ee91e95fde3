//! `DndSettings`: one version of the settings, changed in place.

use std::ffi::c_char;
use std::sync::Arc;

use dnd_engine::chrono_tz::UTC;
use dnd_engine::Config;

use super::{c_string, finish, object, out, run, slice, slice_mut, text, Ids};
use crate::abi::DndPrepared;
use crate::config::parse_config;
use crate::prepared::Prepared;
use crate::status::Failure;
use crate::store::{restore, save, user_ids, Owned};
use crate::DndStatus;

/// Settings changed in place (opaque).
///
/// Every function may be called from any thread, concurrently. A change
/// (`dnd_settings_handle` with a set or delete, `dnd_settings_intern`) needs
/// the settings unshared: while a `DndPrepared` made from them (or a save)
/// is alive it answers `DND_STATUS_BUSY` and changes nothing. To change
/// settings while messages are being decided, use `DndShared`.
#[derive(Debug)]
pub struct DndSettings(pub(crate) Owned);

/// The configuration for `config_json` (NULL: UTC, no defaults).
pub(crate) fn config(config_json: Option<&str>) -> Result<Config, Failure> {
    config_json.map_or(Ok(Config::new(UTC)), parse_config)
}

/// Makes empty settings under the configuration `config_json`, a JSON
/// object (`{"timeZone": "Asia/Shanghai", "appDefaults": {"3": 1},
/// "privateAsMention": true, "mentionAllMaxMembers": 200}`; see
/// `docs/embedding.md`), or UTC with no defaults when it is NULL. On
/// success `*settings` is the new object, freed with `dnd_settings_free`.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`). valid pointers, NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_new(
    config_json: *const c_char,
    settings: *mut *mut DndSettings,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contract 1 (a valid output pointer or NULL).
        let slot = unsafe { out(settings, "settings") }?;
        let json = match config_json.is_null() {
            true => None,
            // SAFETY: the ABI's contracts 1 and 2 (a NUL-terminated string).
            false => Some(unsafe { text(config_json, "config") }?),
        };
        slot.write(Box::into_raw(Box::new(DndSettings(Owned::new(config(json)?)))));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Frees settings made by `dnd_settings_new` or `dnd_settings_restore`.
/// NULL is allowed. Prepared messages made from them stay valid (they hold
/// the version they were prepared against).
///
/// Not thread-safe: no other call may use `settings` meanwhile or after.
///
/// # Safety
/// The ABI's contract 3: `settings` is NULL or live, and freed once.
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_free(settings: *mut DndSettings) {
    if settings.is_null() {
        return;
    }
    // SAFETY: `settings` came from `Box::into_raw` in a constructor and is
    // freed once (contract 3). A panic in a drop is caught, not unwound into C.
    let owned = unsafe { Box::from_raw(settings) };
    let _ = run(|| {
        drop(owned);
        Ok(())
    });
}

/// Answers one of the platform's settings requests: `path`
/// (`/user/blockPushPeriod/set.json`) with the form body `body` of
/// `body_len` bytes. `*response` receives the platform's response JSON
/// (`{"code":200}`, or a 1002 naming the parameter; a refused request
/// changes nothing), freed with `dnd_string_free`.
///
/// Thread-safe; `DND_STATUS_BUSY` while prepared messages hold the settings.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_handle(
    settings: *const DndSettings,
    path: *const c_char,
    body: *const u8,
    body_len: usize,
    response: *mut *mut c_char,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (settings, path, body, slot) = unsafe {
            (
                object(settings, "settings")?,
                text(path, "path")?,
                slice(body, body_len, "body")?,
                out(response, "response")?,
            )
        };
        slot.write(c_string(settings.0.handle(path, body)?));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Writes the handle of each of `count` user ids to `handles` (`count`
/// words), numbering users who are new. The ids are `count` C strings
/// `ids`, or (when `ids` is NULL) the packed form: id `i` is
/// `bytes[ends[i-1] .. ends[i]]`, the first from 0. Every id is checked
/// before any user is numbered; the error names `ids[i]`.
///
/// A handle stays valid for the life of these settings; other settings
/// (another object, a restore) refuse it with `DND_STATUS_FOREIGN_HANDLE`.
///
/// Thread-safe; `DND_STATUS_BUSY` while prepared messages hold the settings.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_intern(
    settings: *const DndSettings,
    ids: *const *const c_char,
    bytes: *const u8,
    ends: *const usize,
    count: usize,
    handles: *mut u64,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (settings, list) = unsafe { (object(settings, "settings")?, Ids::new(ids, bytes, ends, count)?) };
        // SAFETY: the ABI's contract 1: `handles` holds `count` words.
        let handles = unsafe { slice_mut(handles, count, "handles") }?;
        let checked = user_ids((0..list.len()).map(|i| list.get(i)))?;
        settings.0.intern(&checked, handles)
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Saves the settings: `*snapshot` receives the snapshot's JSON text (freed
/// with `dnd_string_free`) and, when `len` is not NULL, `*len` its length
/// in bytes. The text restores with `dnd_settings_restore` or
/// `dnd_shared_restore`, and is the same format as `dnd serve`'s snapshot.
///
/// Thread-safe (a change made meanwhile answers `DND_STATUS_BUSY`).
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_save(
    settings: *const DndSettings,
    snapshot: *mut *mut c_char,
    len: *mut usize,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 and 3.
        let (settings, slot) = unsafe { (object(settings, "settings")?, out(snapshot, "snapshot")?) };
        let json = save(&*settings.0.read()?)?;
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

/// Restores settings from a snapshot's `len` bytes of JSON; on success
/// `*settings` is the new object. The restored settings answer every
/// request and decision as the saved ones did, with handles of their own
/// (ask them by id: the saved settings' handles are refused). A snapshot
/// that does not describe valid settings is refused, naming where.
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_restore(
    snapshot: *const u8,
    len: usize,
    settings: *mut *mut DndSettings,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contract 1 for both.
        let (bytes, slot) = unsafe { (slice(snapshot, len, "snapshot")?, out(settings, "settings")?) };
        let restored = DndSettings(Owned::from_settings(restore(bytes)?));
        slot.write(Box::into_raw(Box::new(restored)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}

/// Prepares the message of `push_json`, a push object of the replay
/// protocol (`{"at": 0, "conversationType": 3, "targetId": "g",
/// "fromUserId": "s", "recipients": ["r"]}`; `dnd --help`), against the
/// settings as they are now. On success `*prepared` holds the message (and
/// keeps this version of the settings alive), freed with
/// `dnd_prepared_free`; an error names the field (`push.recipients[3]`).
///
/// Thread-safe.
///
/// # Safety
/// The ABI's contract (the header's opening comment; `abi.rs`).
#[no_mangle]
pub unsafe extern "C" fn dnd_settings_prepare(
    settings: *const DndSettings,
    push_json: *const c_char,
    prepared: *mut *mut DndPrepared,
    error: *mut *mut c_char,
) -> DndStatus {
    let outcome = run(|| {
        // SAFETY: the ABI's contracts 1 to 3 for each argument.
        let (settings, json, slot) = unsafe {
            (
                object(settings, "settings")?,
                text(push_json, "push")?,
                out(prepared, "prepared")?,
            )
        };
        let version: Arc<_> = settings.0.read()?;
        let made = DndPrepared(Prepared::from_json(version, json)?);
        slot.write(Box::into_raw(Box::new(made)));
        Ok(())
    });
    // SAFETY: the ABI's contract 1 for `error`.
    unsafe { finish(error, outcome) }
}
