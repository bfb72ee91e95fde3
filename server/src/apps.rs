//! Apps kept apart: each app key has its own settings, log and snapshot, in
//! its own subdirectory of the data directory (`DATA/apps/KEY/`), and every
//! request is answered from the store of the app that signed it.
//!
//! An app key names a directory, so it must be a safe name: 1 to 64 ASCII
//! letters, digits, `-`, `_` or `.`, not starting with `.`; two keys may not
//! differ in case only (a case-insensitive file system would give them one
//! directory). A store keeps the engine settings it was made with (its
//! time zone, app defaults and mention policy, in its snapshot): a
//! configuration that gives a different one is refused, naming both.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dnd_engine::{Settings, SharedSettings};

use crate::backend::{Backend, Local};
use crate::config::Config;
use crate::hold::webhook::Webhook;
use crate::hold::Holding;

/// The release webhook's cursor file in an app's directory.
pub const WEBHOOK_CURSOR: &str = "webhook.cursor";
use crate::store::{ChangeLog, FileLog, Recovery, StateRef, Stored};
use crate::writer::Writer;

/// The subdirectory of the data directory that holds one directory per app.
pub const APPS_DIR: &str = "apps";

/// The files of a store made before apps were kept apart, at the top of the
/// data directory; adopted by the one app of a configuration.
const LEGACY_FILES: [&str; 2] = [crate::store::SNAPSHOT_FILE, crate::store::LOG_FILE];

/// Checks that `key` is a safe directory name (see the module's doc).
pub fn check_key(key: &str) -> Result<(), String> {
    let safe = !key.is_empty()
        && key.len() <= 64
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if safe {
        Ok(())
    } else {
        Err(format!(
            "app key {:?}: an app key names its store's directory, so it must be 1 to 64 ASCII letters, digits, '-', '_' or '.', not starting with '.'",
            key.chars().take(80).collect::<String>()
        ))
    }
}

/// The directory of app `key`'s store in the data directory `data`.
pub fn app_dir(data: &Path, key: &str) -> PathBuf {
    data.join(APPS_DIR).join(key)
}

/// One backend per app key: a request is answered by its app's only.
#[derive(Debug)]
pub struct Apps<B> {
    by_key: HashMap<String, B>,
}

impl<B> Default for Apps<B> {
    fn default() -> Apps<B> {
        Apps { by_key: HashMap::new() }
    }
}

impl<B> Apps<B> {
    /// No apps.
    #[must_use]
    pub fn new() -> Apps<B> {
        Apps::default()
    }

    /// Adds (or replaces) app `key`'s backend.
    pub fn insert(&mut self, key: impl Into<String>, backend: B) {
        self.by_key.insert(key.into(), backend);
    }

    /// App `key`'s backend.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&B> {
        self.by_key.get(key)
    }

    /// The app keys and their backends, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &B)> {
        self.by_key.iter().map(|(k, b)| (k.as_str(), b))
    }

    /// How many apps.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

impl<B: Backend> Apps<B> {
    /// Whether every app's store can take changes.
    pub fn ready(&self) -> bool {
        self.by_key.values().all(Backend::ready)
    }

    /// Stops every app's backend after the changes it accepted.
    pub async fn stop(&self) {
        for backend in self.by_key.values() {
            backend.stop().await;
        }
    }
}

/// One app's store, recovered and checked, its writer not yet started.
struct Opened {
    key: String,
    log: FileLog,
    stored: Stored,
    /// No snapshot yet (or one of no changes): cheap to write now.
    unrecorded: bool,
}

/// Opens (creating if needed) every app's store under `data`, refuses a
/// configuration whose engine settings differ from a store's, and starts a
/// writer for each. Nothing is left behind when it fails: a data directory
/// it created is removed again.
pub fn open_local(config: &Config, data: &Path) -> io::Result<Apps<Local>> {
    let created = !data.exists();
    let outcome = open_all(config, data);
    if outcome.is_err() && created {
        let _ = std::fs::remove_dir_all(data);
    }
    let opened = outcome?;
    let mut hooks = std::collections::HashMap::new();
    if let Some(url) = &config.release_webhook {
        for app in &config.apps {
            let mut hook = Webhook::new(url, &app.key, &app.secret, app_dir(data, &app.key).join(WEBHOOK_CURSOR))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
            hook.attempts = config.release_webhook_attempts.max(1);
            hook.backoff = std::time::Duration::from_millis(config.release_webhook_backoff_ms.max(1));
            hooks.insert(app.key.clone(), hook);
        }
    }
    let mut apps = Apps::new();
    for Opened { key, log, stored, .. } in opened {
        let Stored {
            settings,
            mut held,
            mut released,
            ..
        } = stored;
        held.set_detail_limit(config.hold_detail_limit);
        released.set_keep(config.release_keep_ms(), config.release_keep_max);
        let settings = Arc::new(SharedSettings::new(settings));
        let holding = Arc::new(Holding::new(held, released));
        let (writer, thread) = Writer::start_holding(log, settings.clone(), holding, config.compact_every.max(1))?;
        let dir = app_dir(data, &key);
        let local = Local::new(settings, writer, thread).in_dir(dir);
        if let Some(hook) = hooks.remove(&key) {
            local.start_webhook(hook);
        }
        apps.insert(key, local);
    }
    Ok(apps)
}

fn open_all(config: &Config, data: &Path) -> io::Result<Vec<Opened>> {
    let fresh = config.engine_config().map_err(io::Error::other)?;
    adopt_legacy(config, data)?;
    let mut opened = Vec::with_capacity(config.apps.len());
    for app in &config.apps {
        let dir = app_dir(data, &app.key);
        let (log, stored, recovery) = FileLog::open_stored(&dir, fresh.clone())?;
        let settings = &stored.settings;
        let differences = config.differences(settings.config()).map_err(io::Error::other)?;
        if !differences.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "app {}: the store in {} keeps other engine settings than the configuration gives: {}. \
                     A store's time zone is changed with `dnd store set-zone --data {} --app {} ZONE` (the service stopped); \
                     leave a key out of the configuration to use the store's",
                    app.key,
                    dir.display(),
                    differences.join("; "),
                    data.display(),
                    app.key
                ),
            ));
        }
        log_recovery(&app.key, &stored, &recovery, config.zone_given());
        opened.push(Opened {
            key: app.key.clone(),
            log,
            stored,
            unrecorded: recovery.snapshot_seq == 0,
        });
    }
    // Every store records its engine settings in a snapshot before it takes
    // a change, so that a later start compares against them.
    for o in &mut opened {
        if o.unrecorded {
            o.log.snapshot_state(&StateRef {
                settings: &o.stored.settings,
                held: &o.stored.held,
                released: &o.stored.released,
            })?;
        }
    }
    Ok(opened)
}

fn log_recovery(key: &str, stored: &Stored, recovery: &Recovery, zone_given: bool) {
    let settings: &Settings = &stored.settings;
    let config = settings.config();
    let zone = config.time_zone.name();
    let defaults: Vec<String> = dnd_engine::ConversationType::ALL
        .iter()
        .filter_map(|&t| config.app_defaults.get(t).map(|l| format!("{}={}", t.code(), l.code())))
        .collect();
    // The engine settings the store keeps, each said, given or not.
    tracing::info!(
        app_key = key,
        time_zone = zone,
        app_defaults = defaults.join(","),
        private_as_mention = config.private_as_mention,
        mention_all_max_members = config.mention_all_max_members.map_or(-1, i64::from),
        snapshot_seq = recovery.snapshot_seq,
        replayed = recovery.replayed,
        skipped = recovery.skipped,
        torn_bytes = recovery.torn_bytes,
        users = settings.user_count(),
        held = stored.held.len(),
        released_cursor = stored.released.last_cursor(),
        "store recovered"
    );
    if recovery.torn_bytes > 0 {
        tracing::warn!(
            app_key = key,
            torn_bytes = recovery.torn_bytes,
            "the log ended in a torn record (a crash during an unacknowledged write); it was cut off"
        );
    }
    if !zone_given {
        tracing::warn!(
            app_key = key,
            time_zone = zone,
            "no time zone configured: this app's periods are read in {zone}, the store's zone (UTC for a new store); \
             give --time-zone, DND_TIME_ZONE or time_zone to say it"
        );
    }
}

/// Moves a store of the single-app layout (files at the top of `data`) into
/// the directory of the configuration's one app; with several apps, refuses
/// to guess whose it is.
fn adopt_legacy(config: &Config, data: &Path) -> io::Result<()> {
    let found: Vec<&str> = LEGACY_FILES.iter().copied().filter(|f| data.join(f).exists()).collect();
    if found.is_empty() {
        return Ok(());
    }
    let [app] = config.apps.as_slice() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} holds a store of one app ({}) and the configuration has {} apps: move the files into {}/KEY/ for the app that owns them",
                data.display(),
                found.join(", "),
                config.apps.len(),
                data.join(APPS_DIR).display()
            ),
        ));
    };
    let dir = app_dir(data, &app.key);
    if found.iter().any(|f| dir.join(f).exists()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} and {} both hold a store: keep one", data.display(), dir.display()),
        ));
    }
    std::fs::create_dir_all(&dir)?;
    // The log first: a crash between the two renames leaves the snapshot
    // above, found and moved by the next start.
    for f in LEGACY_FILES.iter().rev().filter(|f| found.contains(f)) {
        std::fs::rename(data.join(f), dir.join(f))?;
    }
    std::fs::File::open(&dir)?.sync_all()?;
    std::fs::File::open(data)?.sync_all()?;
    tracing::info!(app_key = %app.key, dir = %dir.display(), "moved the store of the single-app layout into the app's directory");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_directory_names() {
        for good in ["key", "k-1", "A_b.c", &"x".repeat(64)] {
            assert!(check_key(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", ".hidden", "a/b", "a\\b", "ключ", "a b", &"x".repeat(65)] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
