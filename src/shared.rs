//! A thread-safe handle on the settings, for the common deployment: many
//! threads deciding fanouts while requests arrive.
//!
//! Requests are decoded and validated outside the lock; a change then takes
//! the write lock only for the few stores it makes, and a get only reads.
//! Readers hold a read guard for the length of a fanout and never see a
//! half-applied request: a change is applied whole under the write lock.

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::api::{Request, Response};
use crate::model::UserId;
use crate::settings::{Settings, UserHandle};
use crate::Error;

/// Settings shared between threads.
///
/// ```
/// use dnd_engine::{Config, SharedSettings, Settings};
/// let shared = SharedSettings::new(Settings::new(Config::new(chrono_tz::UTC)));
/// std::thread::scope(|s| {
///     s.spawn(|| shared.handle("/conversation/type/notification/set.json", b"conversationType=3&requestId=u1&unpushLevel=5"));
///     s.spawn(|| shared.read().user_count());
/// });
/// assert_eq!(shared.read().user_count(), 1);
/// ```
#[derive(Debug)]
pub struct SharedSettings {
    inner: RwLock<Settings>,
}

impl SharedSettings {
    /// Shares `settings`.
    pub fn new(settings: Settings) -> SharedSettings {
        SharedSettings {
            inner: RwLock::new(settings),
        }
    }

    /// Read access, for preparing messages and deciding fanouts. Changes wait
    /// until the guard is dropped.
    pub fn read(&self) -> RwLockReadGuard<'_, Settings> {
        // No code path panics while holding the lock half way through a
        // change (every change is validated before it starts), so a poisoned
        // lock still guards consistent settings.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Settings> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers a request as [`Settings::handle`] does.
    pub fn handle(&self, path: &str, body: &[u8]) -> Response {
        match Request::parse(path, body) {
            Ok(request) => self.apply(&request),
            Err(e) => Response::from_error(&e),
        }
    }

    /// Carries out a request as [`Settings::apply`] does.
    pub fn apply(&self, request: &Request) -> Response {
        if let Some(answer) = self.read().query(request) {
            return answer;
        }
        self.write().apply(request)
    }

    /// The handle of user `id`, numbering the user if it is new.
    pub fn intern_user(&self, id: &UserId) -> Result<UserHandle, Error> {
        if let Some(h) = self.read().user(id.as_str()) {
            return Ok(h);
        }
        self.write().intern_user(id)
    }

    /// The settings, unshared.
    pub fn into_inner(self) -> Settings {
        self.inner.into_inner().unwrap_or_else(PoisonError::into_inner)
    }
}
