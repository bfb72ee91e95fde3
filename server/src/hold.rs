//! Held pushes in the service: a push that asks to hold keeps each
//! recipient whose push is deferred, durably, and the service's clock
//! releases them, one digest per recipient and instant, when they are due
//! (`docs/rules.md` §12; `docs/service.md`, "Holding").
//!
//! Everything that changes the held items goes through the one writer and
//! the log, as a settings change does:
//! - a hold is a log record ([`HoldRecord`]: the held message with its
//!   items, and the detail limit it was held under), appended and synced
//!   before the decide's answer, then applied ([`apply_hold`]);
//! - an evaluation is a log record ([`ReleaseRecord`]: its instant), appended
//!   and synced, then applied ([`apply_release`]): the core re-times every
//!   item against the settings as the log has them at that record, and
//!   the digests due are added to the [`ReleasedStore`] with the next cursors.
//!
//! Applying is deterministic, so recovery, replaying the same records in
//! the same order over the same settings, holds the same items and gives
//! every digest the cursor and id it had: a kill -9 at any point loses no
//! acknowledged hold and releases no digest twice.
//!
//! The clock ([`run_clock`]) sleeps until the earliest due instant, or until
//! a hold or a settings change wakes it (a change may re-time an item to
//! now: a snooze ended early), and asks the writer for an evaluation.

pub mod released;
pub mod webhook;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use dnd_engine::{Error, Held, Message, Repeaters, SavedMessage, Settings, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify};

use crate::writer::Writer;
use released::{Page, ReleasedStore};

/// A hold, as the log records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRecord {
    /// The most items per recipient kept in detail when it was held: a
    /// recipient with that many gets this item folded into a count.
    pub limit: u32,
    /// The message and its held items.
    pub message: SavedMessage,
}

/// An evaluation of the held items, as the log records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRecord {
    /// Its instant (epoch ms).
    pub at: i64,
}

/// Applies a hold: each item is held in detail unless its recipient has
/// the record's limit in detail already, when it is folded into a count.
/// A message with a `messageId` is held once per recipient: an item whose
/// recipient has the same sender's message with the same id held in
/// detail already (a retried decide) is skipped. An error (the record is
/// not a valid hold) changes nothing.
pub fn apply_hold(held: &mut Held, record: &HoldRecord) -> Result<(), Error> {
    let m = &record.message;
    let again: std::collections::HashSet<&str> = match &m.message_id {
        Some(id) => held
            .holding_message(&m.from_user_id, id, m.items.iter().map(|i| i.user_id.as_str()))
            .into_iter()
            .collect(),
        None => std::collections::HashSet::new(),
    };
    let mut kept = record.message.clone();
    kept.items.clear();
    let mut folded = Vec::new();
    for item in &record.message.items {
        if again.contains(item.user_id.as_str()) {
            continue;
        }
        if held.held_for(&item.user_id).0 >= record.limit.max(1) {
            folded.push(item.user_id.as_str());
        } else {
            kept.items.push(item.clone());
        }
    }
    if !kept.items.is_empty() {
        held.restore_message(kept)?;
    }
    for id in folded {
        held.restore_folded(id, 1)?;
    }
    Ok(())
}

/// Applies an evaluation at `at`: the digests due are added to `released`;
/// how many.
pub fn apply_release(
    held: &mut Held,
    settings: &Settings,
    released: &mut ReleasedStore,
    at: i64,
) -> Result<usize, Error> {
    let now = Timestamp::from_millis(at)?;
    let release = held.release(settings, now);
    released.add(at, &release.digests);
    Ok(release.digests.len())
}

/// One app's held items and released digests, shared by the writer (the
/// only one that changes them), the decide endpoint (repeated senders),
/// the released endpoint and the clock.
#[derive(Debug)]
pub struct Holding {
    held: RwLock<Held>,
    released: RwLock<ReleasedStore>,
    /// Whether anything is held: a decide reads nothing else when not.
    nonempty: AtomicBool,
    /// The earliest instant an item is due at as last found (`i64::MAX`:
    /// none), kept by the writer so that the clock does not scan the items.
    next_due: AtomicI64,
    /// The last cursor released, for long polls.
    cursor: watch::Sender<u64>,
    /// Wakes the clock: something was held, or the settings changed.
    wake: Notify,
    /// The settings changed since the last evaluation.
    dirty: AtomicBool,
    stopped: AtomicBool,
    /// What the release webhook did.
    pub webhook: webhook::WebhookStats,
}

impl Default for Holding {
    fn default() -> Self {
        Holding::new(Held::new(), ReleasedStore::default())
    }
}

impl Holding {
    /// `held` and `released`, as recovery found them.
    pub fn new(held: Held, released: ReleasedStore) -> Holding {
        let (cursor, _) = watch::channel(released.last_cursor());
        Holding {
            nonempty: AtomicBool::new(!held.is_empty()),
            next_due: AtomicI64::new(held.next_due().unwrap_or(i64::MAX)),
            held: RwLock::new(held),
            released: RwLock::new(released),
            cursor,
            wake: Notify::new(),
            dirty: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            webhook: webhook::WebhookStats::default(),
        }
    }

    /// The held items, to read.
    pub fn held(&self) -> RwLockReadGuard<'_, Held> {
        self.held.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The held items, for the writer.
    pub(crate) fn held_mut(&self) -> RwLockWriteGuard<'_, Held> {
        self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The released digests, to read.
    pub fn released(&self) -> RwLockReadGuard<'_, ReleasedStore> {
        self.released.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The released digests, for the writer.
    pub(crate) fn released_mut(&self) -> RwLockWriteGuard<'_, ReleasedStore> {
        self.released.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether anything is held (one atomic load).
    pub fn is_holding(&self) -> bool {
        self.nonempty.load(Ordering::Acquire)
    }

    /// The recipients for whom `message`'s sender is a repeated sender
    /// (none, without reading the held items, when nothing is held).
    pub fn repeaters(&self, settings: &Settings, message: &Message<'_>) -> Repeaters {
        if !self.is_holding() {
            return Repeaters::default();
        }
        self.held().repeaters(settings, message)
    }

    /// The digests after `after`, at most `limit`.
    pub fn page(&self, after: u64, limit: usize) -> Result<Page, String> {
        self.released().page(after, limit)
    }

    /// The last cursor released, as it changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.cursor.subscribe()
    }

    /// The earliest instant an item is due at, as last found.
    pub fn next_due(&self) -> Option<i64> {
        Some(self.next_due.load(Ordering::Acquire)).filter(|&d| d != i64::MAX)
    }

    /// The writer held `record`: it may be due before the others.
    pub(crate) fn held_record(&self, record: &HoldRecord) {
        let at = record.message.at;
        if let Some(d) = record.message.items.iter().map(|i| i.due.unwrap_or(at)).min() {
            self.next_due.fetch_min(d, Ordering::AcqRel);
        }
    }

    /// The writer evaluated the held items: the earliest due instant anew.
    pub(crate) fn evaluated(&self) {
        let next = self.held().next_due().unwrap_or(i64::MAX);
        self.next_due.store(next, Ordering::Release);
    }

    /// The writer applied holds or evaluations: publishes the new state.
    pub(crate) fn published(&self, held_something: bool) {
        self.nonempty.store(!self.held().is_empty(), Ordering::Release);
        self.cursor.send_replace(self.released().last_cursor());
        if held_something {
            self.wake.notify_one();
        }
    }

    /// The writer applied settings changes: the clock re-evaluates the held
    /// items, which the changes may re-time.
    pub(crate) fn settings_changed(&self) {
        if self.is_holding() {
            self.dirty.store(true, Ordering::Release);
            self.wake.notify_one();
        }
    }

    /// Stops the clock, and ends the long polls.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.wake.notify_one();
        self.cursor.send_modify(|_| {});
    }

    /// Whether [`Holding::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

/// The wall clock, in epoch ms.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The longest the clock sleeps without looking again.
const MAX_SLEEP_MS: i64 = 60_000;

/// The service's clock for one app: evaluates the held items when the
/// earliest is due, and after settings changes, at most once per `settle`
/// (each evaluation reads every held item; a digest released up to
/// `settle` late still carries its own instant), until [`Holding::stop`].
pub async fn run_clock(holding: Arc<Holding>, writer: Writer, settle: Duration) {
    let mut last_evaluation = tokio::time::Instant::now() - settle;
    while !holding.stopped.load(Ordering::Acquire) {
        let next = if holding.is_holding() { holding.next_due() } else { None };
        let now = now_ms();
        let dirty = holding.dirty.load(Ordering::Acquire);
        let due = next.is_some_and(|d| d <= now);
        if next.is_some() && (due || dirty) {
            // A burst of settings changes, or of due instants, is one evaluation.
            let ready = last_evaluation + settle;
            if tokio::time::Instant::now() < ready {
                tokio::select! {
                    _ = tokio::time::sleep_until(ready) => {}
                    _ = holding.wake.notified() => {}
                }
                continue;
            }
            holding.dirty.store(false, Ordering::Release);
            last_evaluation = tokio::time::Instant::now();
            if let Err(e) = writer.release(now_ms()).await {
                // The log cannot take it now: nothing was evaluated; again shortly.
                tracing::warn!(error = ?e, "evaluating the held items failed; trying again in a second");
                holding.dirty.store(true, Ordering::Release);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            continue;
        }
        let wait = next.map_or(MAX_SLEEP_MS, |d| (d - now).clamp(1, MAX_SLEEP_MS));
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            _ = holding.wake.notified() => {}
        }
    }
}
