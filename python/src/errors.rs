//! The module's exceptions: one per kind of failure, each with the failure's
//! `field` (the argument or field it is about, or None) and `code` (the C
//! ABI's `DndStatus`).

use dnd_ffi::{DndStatus, Failure};
use pyo3::prelude::*;
use pyo3::{create_exception, PyErr};

create_exception!(dnd_engine, DndError, pyo3::exceptions::PyException, "Every error of dnd_engine: `field` names the argument or field it is about (or is None), `code` is the C ABI's status code.");
create_exception!(
    dnd_engine,
    InvalidInput,
    DndError,
    "An input was refused (JSON, a field's kind or value, an id, a snapshot); `field` names it. Nothing was changed."
);
create_exception!(dnd_engine, ForeignHandle, DndError, "A user handle these settings did not issue (other settings, a restore), or one numbered after the version deciding.");
create_exception!(
    dnd_engine,
    SettingsFull,
    DndError,
    "The settings number as many users as they can (2**32)."
);
create_exception!(
    dnd_engine,
    InternalError,
    DndError,
    "A bug in dnd_engine, caught: please report it."
);

/// The exception for `failure`, with its `field` and `code` set.
pub fn raise(failure: Failure) -> PyErr {
    let Failure { status, field, message } = failure;
    let err = match status {
        DndStatus::Null | DndStatus::Utf8 | DndStatus::Invalid => InvalidInput::new_err(message),
        DndStatus::ForeignHandle => ForeignHandle::new_err(message),
        DndStatus::Full => SettingsFull::new_err(message),
        DndStatus::Internal => InternalError::new_err(message),
        DndStatus::Ok | DndStatus::Busy => DndError::new_err(message),
    };
    Python::attach(|py| {
        let value = err.value(py);
        // Setting attributes on a fresh exception instance does not fail.
        let _ = value.setattr("field", field);
        let _ = value.setattr("code", status as i32);
    });
    err
}
