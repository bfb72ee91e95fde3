//! Python's ids as Rust's `&str`: the conversion is most of what a batch
//! by id costs across the boundary (docs/performance.md).
//!
//! A batch reads its ids out of Python once, with the GIL held, into one
//! buffer ([`Packed`]: their UTF-8 back to back, and each one's end), and
//! then decides them with the GIL released, from memory it owns: other
//! Python threads run meanwhile, and nothing the engine reads can change
//! under it.

use std::borrow::Cow;
use std::sync::Arc;

use dnd_ffi::{DndDecision, DndStatus, Failure, Prepared, CHUNK};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::decisions::{Decisions, Names};
use crate::errors::raise;
use crate::utf8;

/// Item `i` of the ids as text; the error names `ids[i]`.
fn text<'a>(item: &'a Bound<'_, PyAny>, i: usize, cached: bool) -> PyResult<Cow<'a, str>> {
    let s = item.cast::<PyString>().map_err(|_| not_text(i))?;
    utf8::text(s, cached).map_err(|_| not_utf8(i))
}

fn not_text(i: usize) -> PyErr {
    raise(Failure::new(DndStatus::Invalid, format!("ids[{i}]"), "must be str"))
}

fn not_utf8(i: usize) -> PyErr {
    raise(Failure::utf8(&format!("ids[{i}]")))
}

/// Ids read out of Python: their UTF-8 back to back, and the end of each.
#[derive(Default)]
pub struct Packed {
    text: String,
    ends: Vec<usize>,
}

impl Packed {
    /// Reads `ids`, a list of str or any iterable of str; the error names
    /// the first item that is not a str or not UTF-8 (`ids[i]`).
    pub fn read(ids: &Bound<'_, PyAny>) -> PyResult<Packed> {
        let cached = utf8::cached_utf8_available(ids.py());
        let mut packed = Packed::default();
        if let (true, Ok(list)) = (cached, ids.cast::<PyList>()) {
            let n = list.len();
            packed.ends.reserve_exact(n);
            // Ids are short: a guess that usually saves the regrowths.
            packed.text.reserve(n * 8);
            return match utf8::append_items(list, 0, n, &mut packed.text, &mut packed.ends) {
                Ok(()) => Ok(packed),
                Err(utf8::Refused::NotText(i)) => Err(not_text(i)),
                Err(utf8::Refused::NotUtf8(i)) => Err(not_utf8(i)),
            };
        }
        for (i, item) in ids.try_iter()?.enumerate() {
            packed.text.push_str(&text(&item?, i, cached)?);
            packed.ends.push(packed.text.len());
        }
        Ok(packed)
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Id `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Decides every id into `out` (and `defer`), a chunk at a time.
    pub fn decide(&self, core: &Prepared, out: &mut [DndDecision], mut defer: Option<&mut [i64]>) {
        let mut scratch = Vec::with_capacity(CHUNK);
        let mut chunk = [""; CHUNK];
        for start in (0..self.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(self.len());
            for (k, id) in chunk[..end - start].iter_mut().enumerate() {
                *id = self.get(start + k);
            }
            let defer = defer.as_deref_mut().map(|d| &mut d[start..end]);
            core.decide_ids(&chunk[..end - start], &mut out[start..end], defer, &mut scratch);
        }
    }
}

/// Decides `ids` (a list of str, or any iterable of str): read with the GIL
/// held, decided with it released.
pub fn decide(core: &Arc<Prepared>, ids: &Bound<'_, PyAny>, defer: bool) -> PyResult<Decisions> {
    let packed = Packed::read(ids)?;
    let mut d = Decisions::sized(packed.len(), defer, Names::Recipients(Arc::clone(core)));
    let (records, deferrals) = (&mut d.records, d.defer.as_deref_mut());
    ids.py().detach(|| packed.decide(core, records, deferrals));
    // A list or a tuple names its ids itself; any other iterable was
    // consumed, so the copy read from it does.
    d.names = match ids.cast::<PyList>().is_ok() || ids.cast::<PyTuple>().is_ok() {
        true => Names::Ids(ids.clone().unbind()),
        false => Names::Packed(packed),
    };
    Ok(d)
}
