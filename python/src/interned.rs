//! A member list read and numbered once, decided for many messages.
//!
//! A service that pushes to the same members again and again (a group's
//! messages, a channel's) pays the id conversion once per list rather than
//! once per message: `Settings.ids(list)` reads the ids and numbers them
//! (as `Settings.intern`), and `Prepared.decide_ids(ids)` decides by handle,
//! with the GIL released, reading no Python object.

use std::sync::Arc;

use pyo3::prelude::*;

/// Ids read once and numbered by one `Settings`: pass them to
/// `Prepared.decide_ids` for every message to the same members.
#[pyclass(module = "dnd_engine", frozen)]
pub struct Ids {
    /// The handle of each id, in order.
    pub handles: Arc<[u64]>,
}

#[pymethods]
impl Ids {
    fn __len__(&self) -> usize {
        self.handles.len()
    }
}
