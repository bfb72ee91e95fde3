//! Commands on a stopped service's data directory (`dnd store`): what each
//! app's store keeps, and changing a store's time zone.
//!
//! A store keeps the engine settings it was made with (the time zone, the
//! app defaults, the mention policy) in its snapshot, and the service
//! refuses a configuration that says otherwise. [`set_zone`] is the way to
//! move a store to another zone: it recovers the store, writes a snapshot
//! of the same settings in the new zone, and so empties the log.

use std::path::{Path, PathBuf};

use dnd_engine::{parse_zone, Settings};

use crate::apps::{app_dir, check_key, APPS_DIR};
use crate::store::{ChangeLog, FileLog, StateRef, Stored};

/// The app directories under `data`, by key, sorted.
fn app_keys(data: &Path) -> Result<Vec<String>, String> {
    let dir = data.join(APPS_DIR);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut keys = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.path().is_dir() {
            if let Some(key) = entry.file_name().to_str() {
                keys.push(key.to_owned());
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// The store of `app` under `data`, or of its only app when `app` is not given.
fn store_dir(data: &Path, app: Option<&str>) -> Result<(String, PathBuf), String> {
    let key = match app {
        Some(key) => {
            check_key(key)?;
            key.to_owned()
        }
        None => match app_keys(data)?.as_slice() {
            [key] => key.clone(),
            [] => return Err(format!("{}: no app's store", data.join(APPS_DIR).display())),
            keys => {
                return Err(format!(
                    "{} holds the stores of several apps ({}): name one with --app",
                    data.display(),
                    keys.join(", ")
                ))
            }
        },
    };
    let dir = app_dir(data, &key);
    if !dir.is_dir() {
        return Err(format!("{}: no store of app {key}", dir.display()));
    }
    Ok((key, dir))
}

/// Recovers the store in `dir`.
fn open(dir: &Path) -> Result<(FileLog, Stored), String> {
    // The configuration given here is used only by a store without a
    // snapshot; every store the service has started has one.
    let (log, stored, recovery) = FileLog::open_stored(dir, dnd_engine::Config::new(chrono_tz::UTC))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    if recovery.snapshot_seq == 0 && recovery.replayed > 0 {
        return Err(format!(
            "{}: the store has no snapshot yet, so its engine settings are not recorded: start `dnd serve` on it once (with the zone it was made in), then run this again",
            dir.display()
        ));
    }
    Ok((log, stored))
}

/// One line per app's store under `data`: its key, the engine settings it
/// keeps and its number of users.
pub fn describe(data: &Path) -> Result<Vec<String>, String> {
    let keys = app_keys(data)?;
    let mut lines = Vec::with_capacity(keys.len());
    for key in keys {
        let (_, stored) = open(&app_dir(data, &key))?;
        let settings = &stored.settings;
        let c = settings.config();
        let defaults: Vec<String> = dnd_engine::ConversationType::ALL
            .iter()
            .filter_map(|&t| c.app_defaults.get(t).map(|l| format!("{}={}", t.code(), l.code())))
            .collect();
        lines.push(format!(
            "app {key}: time_zone {}, app_defaults {}, private_as_mention {}, mention_all_max_members {}, users {}",
            c.time_zone.name(),
            if defaults.is_empty() {
                "none".into()
            } else {
                defaults.join(",")
            },
            c.private_as_mention,
            c.mention_all_max_members
                .map_or_else(|| "none".to_owned(), |m| m.to_string()),
            settings.user_count()
        ));
    }
    Ok(lines)
}

/// Moves the store of `app` (or of the only app) under `data` to the time
/// zone `zone`: the same settings, read in `zone` from now on. The service
/// must be stopped. Returns what was done, in words.
pub fn set_zone(data: &Path, app: Option<&str>, zone: &str) -> Result<String, String> {
    let tz = parse_zone(zone).map_err(|e| format!("{zone:?}: {e}"))?;
    let (key, dir) = store_dir(data, app)?;
    let (mut log, stored) = open(&dir)?;
    let settings = &stored.settings;
    let old = settings.config().time_zone;
    if old == tz {
        return Ok(format!("app {key}: the store's time zone is already {}", tz.name()));
    }
    // The snapshot format carries the zone as `timeZone`: the same settings,
    // restored in the new zone, with every check a snapshot gets.
    let mut value = serde_json::to_value(settings).map_err(|e| e.to_string())?;
    let Some(object) = value.as_object_mut() else {
        return Err("the settings' snapshot is not a JSON object".into());
    };
    object.insert("timeZone".into(), serde_json::Value::String(tz.name().to_owned()));
    let moved: Settings = serde_json::from_value(value).map_err(|e| format!("restoring in {}: {e}", tz.name()))?;
    // The held items and released digests stay as they are.
    let state = StateRef {
        settings: &moved,
        held: &stored.held,
        released: &stored.released,
    };
    log.snapshot_state(&state)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(format!(
        "app {key}: the store's time zone is now {} (it was {}); start the service with --time-zone {} or without one",
        tz.name(),
        old.name(),
        tz.name()
    ))
}
