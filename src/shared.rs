//! Settings shared between threads, for the common deployment: many threads
//! deciding fanouts while requests arrive.
//!
//! Readers never lock anything for longer than it takes to copy a pointer:
//! [`SharedSettings::read`] hands out the current version of the settings, an
//! immutable `Arc<Settings>`, which later changes do not touch. A fanout
//! decides against the version it took, however long it takes, and a change
//! that arrives meanwhile neither waits for it nor disturbs it. A thread may
//! hold a version and make changes: there is no lock to hold, so no deadlock
//! to fall into.
//!
//! Writers take turns (one mutex) and publish a new version atomically, so a
//! reader sees every change whole or not at all, in the order they were made.
//! To publish without copying the whole settings on every change, the shared
//! settings keep two copies ("left-right"): the published one, and a spare,
//! the version published before it, which lacks only the last change (or
//! batch). A change is applied to the spare (after the change it lacks), the
//! spare is published, and the version it replaces becomes the spare. So a
//! change costs two applications of it, not a copy. Only when a reader still
//! holds the spare (it took it before the last change and is still deciding
//! with it) does a change copy the published version instead of waiting:
//! the price of never blocking, paid only while versions are held across
//! changes. Changes that arrive together are best applied together
//! ([`SharedSettings::apply_all`]): one publication for the batch.
//!
//! Memory: two copies of the settings, plus any older version a reader still
//! holds, until it lets go.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::error::Error;
use crate::model::UserId;
use crate::protocol::request::{Request, Response};
use crate::store::{Settings, UserHandle};

/// Settings shared between threads: readers take immutable versions, writers
/// publish new ones, and neither ever waits for the other (see the module
/// documentation in `shared.rs` for how, and what it costs).
///
/// ```
/// use dnd_engine::{chrono_tz, Config, SharedSettings, Settings};
/// let shared = SharedSettings::new(Settings::new(Config::new(chrono_tz::UTC)));
/// let before = shared.read(); // a version: later changes do not touch it
/// std::thread::scope(|s| {
///     s.spawn(|| shared.handle("/conversation/type/notification/set.json", b"conversationType=3&requestId=u1&unpushLevel=5"));
///     s.spawn(|| shared.read().user_count());
/// });
/// assert_eq!(before.user_count(), 0);
/// assert_eq!(shared.read().user_count(), 1);
/// ```
pub struct SharedSettings {
    /// The published version. The lock is held only to copy or swap the
    /// pointer, never while settings are read or changed.
    current: RwLock<Arc<Settings>>,
    /// The writers' side; one writer at a time.
    writer: Mutex<Writer>,
}

/// What the writers keep between changes.
struct Writer {
    /// The other copy: the version published before the current one, behind
    /// it by the changes in `behind`. `None` before the first change, and if
    /// a change ever panicked half way through it.
    spare: Option<Arc<Settings>>,
    /// The changes the current version has and the spare lacks, in order.
    behind: Vec<Change>,
}

/// A change, kept to be applied again to the spare copy.
#[derive(Clone)]
enum Change {
    Apply(Request),
    Intern(UserId),
}

impl Change {
    fn apply_to(&self, settings: &mut Settings) -> Result<Option<UserHandle>, Response> {
        match self {
            Change::Apply(request) => match settings.apply(request) {
                Response::Ok => Ok(None),
                refused => Err(refused),
            },
            Change::Intern(id) => settings.intern_user(id).map(Some).map_err(|e| Response::from_error(&e)),
        }
    }
}

impl SharedSettings {
    /// Shares `settings`; their handles stay valid.
    pub fn new(settings: Settings) -> SharedSettings {
        SharedSettings {
            current: RwLock::new(Arc::new(settings)),
            writer: Mutex::new(Writer {
                spare: None,
                behind: Vec::new(),
            }),
        }
    }

    /// The settings as they are now: a version that later changes do not
    /// touch, for preparing messages and deciding fanouts. Holding it blocks
    /// nothing.
    pub fn read(&self) -> Arc<Settings> {
        // The lock guards only a pointer, and no code panics while holding
        // it, so a poisoned lock still holds a valid one.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Answers a request as [`Settings::handle`] does.
    pub fn handle(&self, path: &str, body: &[u8]) -> Response {
        match Request::parse(path, body) {
            Ok(request) => self.apply(&request),
            Err(e) => Response::from_error(&e),
        }
    }

    /// Carries out a request as [`Settings::apply`] does: a get reads the
    /// current version; a change is published before this returns, so every
    /// version read after it has it.
    pub fn apply(&self, request: &Request) -> Response {
        if let Some(answer) = self.read().query(request) {
            return answer;
        }
        match self.change(std::slice::from_ref(request), Change::Apply).pop() {
            Some(Err(refused)) => refused,
            _ => Response::Ok,
        }
    }

    /// Carries out `requests` in order, as [`apply`](Self::apply) would one
    /// by one, and publishes the changes once, together: the answers, in
    /// order. A reader sees all of the batch's changes or none.
    pub fn apply_all(&self, requests: &[Request]) -> Vec<Response> {
        let current = self.read();
        let gets: Vec<Option<Response>> = requests.iter().map(|r| current.query(r)).collect();
        drop(current);
        let changes: Vec<Request> = requests
            .iter()
            .zip(&gets)
            .filter(|(_, get)| get.is_none())
            .map(|(r, _)| r.clone())
            .collect();
        let mut outcomes = self.change(&changes, Change::Apply).into_iter();
        gets.into_iter()
            .map(|get| match get {
                Some(answer) => answer,
                None => match outcomes.next() {
                    Some(Err(refused)) => refused,
                    _ => Response::Ok,
                },
            })
            .collect()
    }

    /// The handle of user `id`, numbering the user if it is new: valid in
    /// every version read from now on.
    pub fn intern_user(&self, id: &UserId) -> Result<UserHandle, Error> {
        if let Some(h) = self.read().user(id.as_str()) {
            return Ok(h);
        }
        match self.change(std::slice::from_ref(id), Change::Intern).pop() {
            Some(Ok(Some(h))) => Ok(h),
            // Numbering only fails when every handle is taken.
            _ => Err(Error::TooManyUsers),
        }
    }

    /// Applies `items` as changes to a copy that is not published, publishes
    /// it if any changed something, and keeps the version it replaces as the
    /// spare. Never waits for readers: if one holds the spare, the current
    /// version is copied instead.
    fn change<T: Clone>(&self, items: &[T], change: impl Fn(T) -> Change) -> Vec<Result<Option<UserHandle>, Response>> {
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let Writer { spare, behind } = &mut *writer;
        // The spare, if no reader holds it, caught up with the current version.
        let caught_up = spare
            .take()
            .and_then(|copy| Arc::try_unwrap(copy).ok())
            .map(|mut settings| {
                for c in behind.drain(..) {
                    // It succeeded on the current version, from the same state:
                    // it succeeds again.
                    let _ = c.apply_to(&mut settings);
                }
                settings
            });
        // Otherwise a reader still holds the spare (or there is none yet):
        // copy the current version rather than wait.
        let mut next = caught_up.unwrap_or_else(|| {
            behind.clear();
            self.read().clone_in_lineage()
        });
        let outcomes = items
            .iter()
            .map(|item| {
                let c = change(item.clone());
                let outcome = c.apply_to(&mut next);
                if outcome.is_ok() {
                    behind.push(c);
                }
                outcome
            })
            .collect();
        if behind.is_empty() {
            // Nothing changed: the copy is the current version, a spare that
            // lacks nothing.
            *spare = Some(Arc::new(next));
        } else {
            let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
            *spare = Some(std::mem::replace(&mut *current, Arc::new(next)));
        }
        outcomes
    }

    /// The settings, unshared (a copy, in the same line, if a reader still
    /// holds the current version).
    pub fn into_inner(self) -> Settings {
        let current = self.current.into_inner().unwrap_or_else(PoisonError::into_inner);
        Arc::try_unwrap(current).unwrap_or_else(|held| held.clone_in_lineage())
    }
}

impl std::fmt::Debug for SharedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSettings")
            .field("current", &self.read())
            .finish_non_exhaustive()
    }
}
