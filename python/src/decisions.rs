//! A batch's decisions as Python sees them: compact (a push bitmap, the
//! four-byte records of the C ABI, the layer codes) and, on request, as the
//! replay protocol's dicts.

use std::sync::Arc;

use dnd_engine::UserHandle;
use dnd_ffi::{layer_of, DndDecision, Prepared};
use pyo3::exceptions::PyIndexError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use crate::errors::raise;
use crate::ids::Packed;
use crate::interned::Ids;

/// Whom the decisions are for, to name them in dicts.
pub enum Names {
    /// The ids the caller passed (a sequence).
    Ids(Py<PyAny>),
    /// The push's own recipients.
    Recipients(Arc<Prepared>),
    /// Handles, named through the prepared message's settings.
    Handles(Vec<u64>, Arc<Prepared>),
    /// A member list read and numbered once.
    Interned(Py<Ids>, Arc<Prepared>),
    /// Ids read from an iterable that cannot be read again.
    Packed(Packed),
}

/// The decisions of one batch, in the order of its recipients.
#[pyclass(module = "dnd_engine", frozen)]
pub struct Decisions {
    pub records: Vec<DndDecision>,
    pub defer: Option<Vec<i64>>,
    pub names: Names,
}

impl Decisions {
    /// `n` empty decisions (and deferrals, when asked for).
    pub fn sized(n: usize, defer: bool, names: Names) -> Decisions {
        Decisions {
            records: vec![DndDecision::default(); n],
            defer: defer.then(|| vec![0; n]),
            names,
        }
    }

    fn user_id(&self, py: Python<'_>, i: usize) -> PyResult<Py<PyAny>> {
        Ok(match &self.names {
            Names::Ids(ids) => ids.bind(py).get_item(i)?.unbind(),
            Names::Recipients(p) => p.recipients()[i].clone().into_pyobject(py)?.into_any().unbind(),
            Names::Handles(h, p) => name_of(py, p, h[i])?,
            Names::Interned(ids, p) => name_of(py, p, ids.get().handles[i])?,
            Names::Packed(packed) => packed.get(i).into_pyobject(py)?.into_any().unbind(),
        })
    }

    /// Decisions for `n` recipients by handle, `handles`, named by `names`,
    /// decided with the GIL released.
    pub fn by_handle(
        py: Python<'_>,
        core: &Prepared,
        handles: &[u64],
        defer: bool,
        names: Names,
    ) -> PyResult<Decisions> {
        let mut d = Decisions::sized(handles.len(), defer, names);
        let (records, deferrals) = (&mut d.records, d.defer.as_deref_mut());
        py.detach(|| core.decide_handles(handles, records, deferrals))
            .map_err(raise)?;
        Ok(d)
    }

    fn dict<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyDict>> {
        let d = self.records[i];
        let dict = PyDict::new(py);
        dict.set_item("userId", self.user_id(py, i)?)?;
        dict.set_item("push", d.push == 1)?;
        dict.set_item("by", layer_of(d.layer).map_or("unknown", |l| l.as_str()))?;
        dict.set_item("level", (d.level != 0).then_some(d.level))?;
        if let Some(ms) = self.defer.as_ref().map(|v| v[i]).filter(|&ms| ms != 0) {
            dict.set_item("deferUntil", ms)?;
        }
        Ok(dict)
    }
}

/// The id of `handle` in the settings `p` was prepared against.
fn name_of(py: Python<'_>, p: &Prepared, handle: u64) -> PyResult<Py<PyAny>> {
    let id = p.settings().user_id(UserHandle::from_bits(handle)).unwrap_or_default();
    Ok(id.into_pyobject(py)?.into_any().unbind())
}

#[pymethods]
impl Decisions {
    fn __len__(&self) -> usize {
        self.records.len()
    }

    /// One bit per recipient, set when a push goes out: bit `i % 8` of
    /// byte `i // 8`.
    #[getter]
    fn push_bits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        // Written straight into the `bytes` object (which starts zeroed).
        PyBytes::new_with(py, self.records.len().div_ceil(8), |bits| {
            for (byte, records) in bits.iter_mut().zip(self.records.chunks(8)) {
                *byte = records.iter().enumerate().fold(0, |b, (k, d)| b | d.push << k);
            }
            Ok(())
        })
    }

    /// Four bytes per recipient, the C ABI's `DndDecision`: push (0 or 1),
    /// the layer's code (`LAYERS[code]`), the level as a signed byte (0 when
    /// none), 0. `struct.iter_unpack("BBbx", records)` reads them.
    #[getter]
    fn records<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        PyBytes::new_with(py, self.records.len() * 4, |bytes| {
            for (four, d) in bytes.chunks_exact_mut(4).zip(&self.records) {
                four.copy_from_slice(&[d.push, d.layer, d.level as u8, d.reserved]);
            }
            Ok(())
        })
    }

    /// One layer code per recipient (`LAYERS[code]` is its name).
    #[getter]
    fn layers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        PyBytes::new_with(py, self.records.len(), |codes| {
            for (code, d) in codes.iter_mut().zip(&self.records) {
                *code = d.layer;
            }
            Ok(())
        })
    }

    /// The number of recipients a push goes out to.
    #[getter]
    fn pushed(&self) -> usize {
        self.records.iter().filter(|d| d.push == 1).count()
    }

    /// Per recipient, the epoch milliseconds of its deferred push (0 for
    /// none), when the batch was decided with `defer=True`; else None.
    #[getter]
    fn defer_until(&self) -> Option<Vec<i64>> {
        self.defer.clone()
    }

    /// Recipient `i`'s decision as the replay protocol's dict: `userId`,
    /// `push`, `by`, `level` (None when no level decided), `deferUntil`
    /// (only when deferred).
    fn __getitem__<'py>(&self, py: Python<'py>, i: isize) -> PyResult<Bound<'py, PyDict>> {
        let n = self.records.len() as isize;
        let at = if i < 0 { i + n } else { i };
        if !(0..n).contains(&at) {
            return Err(PyIndexError::new_err("decision index out of range"));
        }
        self.dict(py, at as usize)
    }

    /// Every decision as a dict, in order.
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let dicts = (0..self.records.len())
            .map(|i| self.dict(py, i))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, dicts)
    }
}
