//! The two kinds of settings a caller holds: [`Owned`] (one version, changed
//! in place while no prepared message holds it) and the core's
//! [`SharedSettings`] (versions, changed while messages are decided); what
//! both answer: requests, interning, save and restore.

use std::sync::{Arc, Mutex, MutexGuard};

use dnd_engine::{Config, Settings, SharedSettings, UserId};

use crate::status::{DndStatus, Failure};

/// Settings changed in place: a change needs them unshared, so it is
/// refused ([`DndStatus::Busy`]) while a prepared message or a save holds
/// them. Every method may be called from any thread: a mutex guards the
/// pointer, held only to read or swap it and while a change is applied.
#[derive(Debug)]
pub struct Owned {
    settings: Mutex<Arc<Settings>>,
}

impl Owned {
    /// New, empty settings under `config`.
    pub fn new(config: Config) -> Owned {
        Owned::from_settings(Settings::new(config))
    }

    /// Takes `settings` (restored, say).
    pub fn from_settings(settings: Settings) -> Owned {
        Owned {
            settings: Mutex::new(Arc::new(settings)),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Arc<Settings>>, Failure> {
        // A poisoned lock means a change panicked half-way: refuse rather
        // than answer from settings that may be half changed.
        self.settings.lock().map_err(|_| Failure {
            status: DndStatus::Internal,
            field: None,
            message: "these settings are unusable: a change to them failed with an internal error".into(),
        })
    }

    /// The settings as they are now, for preparing a message or saving:
    /// while the `Arc` lives, changes are refused.
    pub fn read(&self) -> Result<Arc<Settings>, Failure> {
        Ok(Arc::clone(&*self.lock()?))
    }

    /// Runs `change` on the settings, if nothing else holds them.
    pub fn change<T>(&self, change: impl FnOnce(&mut Settings) -> T) -> Result<T, Failure> {
        let mut guard = self.lock()?;
        let held = Arc::strong_count(&guard) - 1;
        match Arc::get_mut(&mut guard) {
            Some(settings) => Ok(change(settings)),
            None => Err(Failure {
                status: DndStatus::Busy,
                field: None,
                message: format!(
                    "the settings are held by {held} prepared message(s) or saves: free them before changing the settings, or use shared settings"
                ),
            }),
        }
    }

    /// Answers a settings request with the platform's response JSON.
    pub fn handle(&self, path: &str, body: &[u8]) -> Result<String, Failure> {
        self.change(|s| s.handle(path, body).to_json())
    }

    /// The handle of each of `ids`, numbering new users; all ids are checked
    /// before any is numbered.
    pub fn intern(&self, ids: &[UserId], out: &mut [u64]) -> Result<(), Failure> {
        self.change(|s| {
            for (id, slot) in ids.iter().zip(out) {
                *slot = s.intern_user(id).map_err(|e| Failure::of("ids", e))?.to_bits();
            }
            Ok(())
        })?
    }
}

/// The handle of each of `ids` in shared settings, numbering new users.
pub fn intern_shared(shared: &SharedSettings, ids: &[UserId], out: &mut [u64]) -> Result<(), Failure> {
    for (id, slot) in ids.iter().zip(out) {
        *slot = shared.intern_user(id).map_err(|e| Failure::of("ids", e))?.to_bits();
    }
    Ok(())
}

/// Checks each id as a user id, naming `ids[i]` for the first that is not.
pub fn user_ids<'a>(ids: impl IntoIterator<Item = Result<&'a str, Failure>>) -> Result<Vec<UserId>, Failure> {
    ids.into_iter()
        .enumerate()
        .map(|(i, id)| UserId::new(id?).map_err(|e| Failure::of(&format!("ids[{i}]"), e)))
        .collect()
}

/// The settings saved: the snapshot's JSON text.
pub fn save(settings: &Settings) -> Result<String, Failure> {
    serde_json::to_string(settings).map_err(|e| Failure::new(DndStatus::Internal, "snapshot", e))
}

/// Settings restored from a snapshot's JSON text; the error names where the
/// text is wrong.
pub fn restore(text: &[u8]) -> Result<Settings, Failure> {
    serde_json::from_slice(text).map_err(|e| Failure::new(DndStatus::Invalid, "snapshot", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Config {
        Config::new(dnd_engine::chrono_tz::UTC)
    }

    #[test]
    fn a_change_waits_for_every_reader() {
        let owned = Owned::new(utc());
        let body = b"userId=a&startTime=00:00:00&period=60&level=5";
        assert_eq!(
            owned.handle("/user/blockPushPeriod/set.json", body).unwrap(),
            r#"{"code":200}"#
        );
        let held = owned.read().unwrap();
        let refused = owned
            .handle("/user/blockPushPeriod/delete.json", b"userId=a")
            .unwrap_err();
        assert_eq!(refused.status, DndStatus::Busy);
        assert!(held.period("a").is_some(), "a refused change changes nothing");
        drop(held);
        assert_eq!(
            owned.handle("/user/blockPushPeriod/delete.json", b"userId=a").unwrap(),
            r#"{"code":200}"#
        );
        assert!(owned.read().unwrap().period("a").is_none());
    }

    #[test]
    fn ids_are_all_checked_before_any_is_numbered() {
        let owned = Owned::new(utc());
        let e = user_ids(["a", "", "b"].map(Ok)).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("ids[1]"));
        let ids = user_ids(["a", "b", "a"].map(Ok)).unwrap();
        let mut out = [0; 3];
        owned.intern(&ids, &mut out).unwrap();
        assert_eq!(out[0], out[2]);
        assert_ne!(out[0], out[1]);
        let shared = SharedSettings::new(restore(save(&owned.read().unwrap()).unwrap().as_bytes()).unwrap());
        let mut again = [0; 3];
        intern_shared(&shared, &ids, &mut again).unwrap();
        let read = shared.read();
        let names: Vec<_> = again
            .iter()
            .map(|&h| read.user_id(dnd_engine::UserHandle::from_bits(h)).unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "a"]);
    }

    #[test]
    fn a_bad_snapshot_is_refused_by_name() {
        let e = restore(br#"{"format": 2, "users": 3}"#).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (DndStatus::Invalid, Some("snapshot")));
        assert!(e.message.contains("saved state"), "{e}");
    }
}
