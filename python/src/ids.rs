//! Python's ids as Rust's `&str`, a chunk at a time: the conversion is most
//! of what a batch by id costs across the boundary (docs/performance.md).

use std::borrow::Cow;
use std::sync::Arc;

use dnd_ffi::{DndStatus, Failure, Prepared, CHUNK};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::decisions::{Decisions, Names};
use crate::errors::raise;
use crate::utf8;

/// Item `i` of the ids as text; the error names `ids[i]`.
fn text<'a>(item: &'a Bound<'_, PyAny>, i: usize, cached: bool) -> PyResult<Cow<'a, str>> {
    let field = || format!("ids[{i}]");
    let s = item
        .cast::<PyString>()
        .map_err(|_| raise(Failure::new(DndStatus::Invalid, field(), "must be str")))?;
    utf8::text(s, cached).map_err(|_| raise(Failure::utf8(&field())))
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
        .map(|(i, item)| Ok(text(item, i, false)?.into_owned()))
        .collect()
}

/// Decides `ids` (a list of str, or any iterable of str). A list is read
/// a chunk at a time; another iterable is collected first.
pub fn decide(core: &Arc<Prepared>, ids: &Bound<'_, PyAny>, defer: bool) -> PyResult<Decisions> {
    let cached = utf8::cached_utf8_available(ids.py());
    let list = ids.cast::<PyList>().ok();
    let collected = match list {
        Some(_) => Vec::new(),
        None => items(ids)?,
    };
    let n = list.map_or(collected.len(), |l| l.len());
    let mut d = Decisions::sized(n, defer, Names::Ids(ids.clone().unbind()));
    let mut scratch = Vec::with_capacity(CHUNK);
    let mut chunk = Vec::with_capacity(CHUNK);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        chunk.clear();
        match list {
            Some(list) => {
                for i in start..end {
                    chunk.push(list.get_item(i)?);
                }
            }
            None => chunk.extend(collected[start..end].iter().cloned()),
        }
        let texts = chunk
            .iter()
            .enumerate()
            .map(|(k, item)| text(item, start + k, cached))
            .collect::<PyResult<Vec<_>>>()?;
        let defer = d.defer.as_mut().map(|v| &mut v[start..end]);
        core.decide_ids(&texts, &mut d.records[start..end], defer, &mut scratch);
    }
    Ok(d)
}
