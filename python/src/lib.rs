//! `dnd_engine._native`, the extension module of the `dnd_engine` Python
//! package: settings, prepared messages and compact batch
//! decisions, over the same safe layer as the C ABI (`dnd-ffi`).
//!
//! The classes and their behaviour are documented for Python users in
//! `dnd_engine.pyi` (the type stubs) and `docs/embedding.md`.

// The `unsafe` is in `utf8.rs`, each block with its invariant written.
#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod decisions;
mod errors;
mod ids;
mod interned;
#[allow(unsafe_code)]
mod utf8;

use std::sync::Arc;

use dnd_engine::{parse_zone, Config, ConversationType, Level, SharedSettings};
use dnd_ffi::{restore, save, user_ids, Failure, Prepared as Core, CHUNK};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use decisions::{Decisions, Names};
use errors::{raise, DndError, ForeignHandle, InternalError, InvalidInput, SettingsFull};
use interned::Ids;

/// Reads JSON text into Python objects.
fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// Text or bytes as bytes (`what` names the argument in the error).
fn bytes_of<'a>(value: &'a Bound<'_, PyAny>, what: &str) -> PyResult<std::borrow::Cow<'a, [u8]>> {
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(std::borrow::Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(std::borrow::Cow::Owned(s.to_cow()?.into_owned().into_bytes()));
    }
    Err(raise(Failure::new(
        dnd_ffi::DndStatus::Invalid,
        what,
        "must be str or bytes",
    )))
}

/// The settings: every user's and admin's DND settings, shared between
/// threads as immutable versions (a prepared message keeps the version it
/// was prepared against; changes never wait for it).
#[pyclass(module = "dnd_engine", frozen)]
struct Settings {
    shared: SharedSettings,
}

#[pymethods]
impl Settings {
    #[new]
    #[pyo3(signature = (time_zone = "UTC", *, app_defaults = None, private_as_mention = false, mention_all_max_members = None))]
    fn new(
        time_zone: &str,
        app_defaults: Option<&Bound<'_, PyDict>>,
        private_as_mention: bool,
        mention_all_max_members: Option<u32>,
    ) -> PyResult<Settings> {
        let invalid = |field: &str, e| raise(Failure::of(field, e));
        let mut config = Config::new(parse_zone(time_zone).map_err(|e| invalid("time_zone", e))?);
        for (key, value) in app_defaults.into_iter().flat_map(|d| d.iter()) {
            let field = format!("app_defaults[{key}]");
            let code: i64 = key
                .extract()
                .map_err(|_| raise_type(&field, "a conversation type code"))?;
            let level: i64 = value.extract().map_err(|_| raise_type(&field, "an integer level"))?;
            let conversation_type = ConversationType::from_code(code).map_err(|e| invalid(&field, e))?;
            if let Some(level) = Level::from_code(level).map_err(|e| invalid(&field, e))? {
                config = config.with_app_default(conversation_type, level);
            }
        }
        if private_as_mention {
            config = config.with_private_as_mention();
        }
        if let Some(max) = mention_all_max_members {
            config = config.with_mention_all_max_members(max);
        }
        Ok(Settings {
            shared: SharedSettings::new(dnd_engine::Settings::new(config)),
        })
    }

    /// Answers one of the platform's settings requests (`path` and its form
    /// body) with the platform's response, as a dict: `{"code": 200}`, or a
    /// 1002 naming the parameter (a refused request changes nothing).
    fn handle<'py>(&self, py: Python<'py>, path: &str, body: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let body = bytes_of(body, "body")?;
        loads(py, &self.shared.handle(path, &body).to_json())
    }

    /// The handle of each id, numbering new users: ints for `decide_handles`.
    fn intern(&self, ids: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
        self.numbered(&ids::Packed::read(ids)?)
    }

    /// The ids read once and numbered (as `intern`), for deciding many
    /// messages to the same members with `Prepared.decide_ids`.
    fn ids(&self, ids: &Bound<'_, PyAny>) -> PyResult<Ids> {
        let handles = self.numbered(&ids::Packed::read(ids)?)?;
        Ok(Ids {
            handles: handles.into(),
        })
    }

    /// Prepares a push (the replay protocol's push object, as a dict or JSON
    /// text) against the settings as they are now.
    fn prepare(&self, py: Python<'_>, push: &Bound<'_, PyAny>) -> PyResult<Prepared> {
        let json: String = match push.cast::<PyString>() {
            Ok(s) => s.to_cow()?.into_owned(),
            Err(_) => py.import("json")?.call_method1("dumps", (push,))?.extract()?,
        };
        let core = Core::from_json(self.shared.read(), &json).map_err(raise)?;
        Ok(Prepared { core: Arc::new(core) })
    }

    /// The settings saved, as the snapshot's JSON text.
    fn save(&self) -> PyResult<String> {
        save(&self.shared.read()).map_err(raise)
    }

    /// Settings restored from a snapshot (str or bytes).
    #[staticmethod]
    fn restore(snapshot: &Bound<'_, PyAny>) -> PyResult<Settings> {
        let bytes = bytes_of(snapshot, "snapshot")?;
        Ok(Settings {
            shared: SharedSettings::new(restore(&bytes).map_err(raise)?),
        })
    }

    /// How many users the settings number.
    fn __len__(&self) -> usize {
        self.shared.read().user_count()
    }
}

impl Settings {
    /// The handle of each id, numbering new users; all are checked first.
    fn numbered(&self, ids: &ids::Packed) -> PyResult<Vec<u64>> {
        let checked = user_ids((0..ids.len()).map(|i| Ok(ids.get(i)))).map_err(raise)?;
        let mut out = vec![0; checked.len()];
        dnd_ffi::intern_shared(&self.shared, &checked, &mut out).map_err(raise)?;
        Ok(out)
    }
}

fn raise_type(field: &str, what: &str) -> PyErr {
    raise(Failure::new(
        dnd_ffi::DndStatus::Invalid,
        field,
        format_args!("must be {what}"),
    ))
}

/// A message prepared once, decided for many recipients.
#[pyclass(module = "dnd_engine", frozen)]
struct Prepared {
    core: Arc<Core>,
}

#[pymethods]
impl Prepared {
    /// The push's recipients.
    #[getter]
    fn recipients(&self) -> Vec<String> {
        self.core.recipients().to_vec()
    }

    /// Decides `ids` (a list of str, an `Ids`; the push's recipients when
    /// None).
    #[pyo3(signature = (ids = None, *, defer = false))]
    fn decide_ids(&self, py: Python<'_>, ids: Option<&Bound<'_, PyAny>>, defer: bool) -> PyResult<Decisions> {
        match ids {
            Some(ids) => match ids.cast::<Ids>() {
                Ok(interned) => {
                    let names = Names::Interned(interned.clone().unbind(), Arc::clone(&self.core));
                    let handles = Arc::clone(&interned.get().handles);
                    Decisions::by_handle(py, &self.core, &handles, defer, names)
                }
                Err(_) => ids::decide(&self.core, ids, defer),
            },
            None => {
                let recipients = self.core.recipients();
                let mut d = Decisions::sized(recipients.len(), defer, Names::Recipients(Arc::clone(&self.core)));
                let (records, deferrals) = (&mut d.records, d.defer.as_deref_mut());
                py.detach(|| {
                    let mut scratch = Vec::with_capacity(CHUNK);
                    self.core.decide_ids(recipients, records, deferrals, &mut scratch)
                });
                Ok(d)
            }
        }
    }

    /// Decides recipients by handle (ints from `Settings.intern`).
    #[pyo3(signature = (handles, *, defer = false))]
    fn decide_handles(&self, py: Python<'_>, handles: Vec<u64>, defer: bool) -> PyResult<Decisions> {
        let mut d = Decisions::by_handle(
            py,
            &self.core,
            &handles,
            defer,
            Names::Recipients(Arc::clone(&self.core)),
        )?;
        d.names = Names::Handles(handles, Arc::clone(&self.core));
        Ok(d)
    }

    /// The walk down the layers for user `id`, as `dnd explain --json`
    /// writes it: a dict with `userId`, `push`, `by`, `level`,
    /// `deferUntil` (when deferred) and `explanation`.
    fn explain<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        loads(py, &self.core.explain_id(id))
    }

    /// As `explain`, for a handle.
    fn explain_handle<'py>(&self, py: Python<'py>, handle: u64) -> PyResult<Bound<'py, PyAny>> {
        loads(py, &self.core.explain_handle(handle).map_err(raise)?)
    }
}

/// dnd-engine: decides, for every recipient of a chat message, whether a
/// push notification goes out under the recipients' and the admins'
/// Do-Not-Disturb settings.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Settings>()?;
    m.add_class::<Prepared>()?;
    m.add_class::<Decisions>()?;
    m.add_class::<Ids>()?;
    m.add("DndError", py.get_type::<DndError>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("ForeignHandle", py.get_type::<ForeignHandle>())?;
    m.add("SettingsFull", py.get_type::<SettingsFull>())?;
    m.add("InternalError", py.get_type::<InternalError>())?;
    // By code: LAYERS[code] is its layer's name ("" for a code no layer has).
    let last = dnd_ffi::LAYER_CODES.iter().map(|&(_, c)| c).max().unwrap_or(0);
    let names: Vec<&str> = (0..=last)
        .map(|code| dnd_ffi::layer_of(code).map_or("", |l| l.as_str()))
        .collect();
    m.add("LAYERS", pyo3::types::PyTuple::new(py, names)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
