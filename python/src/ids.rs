//! Python's ids as Rust's `&str`, a chunk at a time: the conversion is most
//! of what a batch by id costs across the boundary (docs/performance.md).

use std::borrow::Cow;
use std::sync::Arc;

use dnd_ffi::{DndStatus, Failure, Prepared, CHUNK};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::decisions::{Decisions, Names};
use crate::errors::raise;

/// Item `i` of the ids as text; the error names `ids[i]`.
fn text<'a>(item: &'a Bound<'_, PyAny>, i: usize) -> PyResult<Cow<'a, str>> {
    let field = || format!("ids[{i}]");
    let s = item
        .cast::<PyString>()
        .map_err(|_| raise(Failure::new(DndStatus::Invalid, field(), "must be str")))?;
    s.to_cow().map_err(|_| raise(Failure::utf8(&field())))
}

/// The items of a list, a tuple or any iterable.
fn items<'py>(ids: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    match ids.cast::<PyList>() {
        Ok(list) => Ok(list.iter().collect()),
        Err(_) => ids.try_iter()?.collect(),
    }
}

/// The ids as owned strings (for interning).
pub fn owned(ids: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let items = items(ids)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| Ok(text(item, i)?.into_owned()))
        .collect()
}

/// Decides `ids` (a list of str, or any iterable of str).
pub fn decide(core: &Arc<Prepared>, ids: &Bound<'_, PyAny>, defer: bool) -> PyResult<Decisions> {
    let items = items(ids)?;
    let mut d = Decisions::sized(items.len(), defer, Names::Ids(ids.clone().unbind()));
    let mut scratch = Vec::with_capacity(CHUNK);
    let mut texts = Vec::with_capacity(CHUNK);
    for (c, chunk) in items.chunks(CHUNK).enumerate() {
        let start = c * CHUNK;
        texts.clear();
        for (k, item) in chunk.iter().enumerate() {
            texts.push(text(item, start + k)?);
        }
        let range = start..start + chunk.len();
        let defer = d.defer.as_mut().map(|v| &mut v[range.clone()]);
        core.decide_ids(&texts, &mut d.records[range], defer, &mut scratch);
    }
    Ok(d)
}
