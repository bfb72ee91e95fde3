//! The released digests of one app: each with its cursor (1, 2, 3, ... in
//! the order released, never reused) and its stable id, kept for the
//! configured time, read by cursor.
//!
//! Everything here follows from the log: a release record's evaluation
//! adds its digests with the next cursors, so recovery, replaying the same
//! records, gives every digest the cursor and id it had. What is kept is
//! pruned by the instant of each release (never by the wall clock), so the
//! snapshot and the log agree too.

use std::collections::{HashMap, VecDeque};

use dnd_engine::released::{digest_id, entry_json, page_json};
use dnd_engine::Digest;
use serde::{Deserialize, Serialize};

/// One released digest, kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kept {
    cursor: u64,
    /// The instant of the release (epoch ms).
    released_at: i64,
    /// Its JSON as an answer carries it.
    entry: String,
}

/// The released digests of one app.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleasedStore {
    /// The cursor of the next digest.
    next: u64,
    kept: VecDeque<Kept>,
    /// How many digests each recipient had at each instant not before the
    /// last release: a later release may release another at that instant,
    /// which gets the next id (`-2`, ...).
    recent: Vec<(i64, String, u32)>,
    /// Configuration, not state: a store read back keeps the defaults
    /// until [`ReleasedStore::set_keep`].
    #[serde(skip, default = "default_keep_ms")]
    keep_ms: i64,
    #[serde(skip, default = "default_keep_max")]
    keep_max: usize,
}

fn default_keep_ms() -> i64 {
    7 * 24 * 3_600_000
}

fn default_keep_max() -> usize {
    1_000_000
}

impl Default for ReleasedStore {
    fn default() -> Self {
        ReleasedStore::new(default_keep_ms(), default_keep_max())
    }
}

/// A page of released digests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The answer's JSON.
    pub json: String,
    /// How many digests it carries.
    pub count: usize,
}

impl ReleasedStore {
    /// An empty store keeping digests for `keep_ms`, at most `keep_max`.
    pub fn new(keep_ms: i64, keep_max: usize) -> ReleasedStore {
        ReleasedStore {
            next: 1,
            kept: VecDeque::new(),
            recent: Vec::new(),
            keep_ms,
            keep_max: keep_max.max(1),
        }
    }

    /// Keeps digests for `keep_ms`, at most `keep_max` (a restored store
    /// takes the configuration's).
    pub fn set_keep(&mut self, keep_ms: i64, keep_max: usize) {
        self.keep_ms = keep_ms;
        self.keep_max = keep_max.max(1);
    }

    /// The cursor of the last digest released (0 before the first).
    pub fn last_cursor(&self) -> u64 {
        self.next - 1
    }

    /// How many digests are kept.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Adds the digests of a release at `at`, in order, with the next
    /// cursors; then forgets those released more than the keeping time
    /// before `at`, and the oldest beyond the most kept.
    pub fn add(&mut self, at: i64, digests: &[Digest]) {
        let mut recent: HashMap<(i64, String), u32> = self
            .recent
            .drain(..)
            .filter(|(t, _, _)| *t >= at)
            .map(|(t, u, k)| ((t, u), k))
            .collect();
        for d in digests {
            let k = recent.entry((d.at, d.user_id.clone())).or_insert(0);
            *k += 1;
            let id = digest_id(d, *k);
            self.kept.push_back(Kept {
                cursor: self.next,
                released_at: at,
                entry: entry_json(self.next, &id, d),
            });
            self.next += 1;
        }
        // Only digests at instants not before this release can be repeated.
        let mut recent: Vec<_> = recent
            .into_iter()
            .filter(|((t, _), _)| *t >= at)
            .map(|((t, u), k)| (t, u, k))
            .collect();
        recent.sort();
        self.recent = recent;
        let oldest = at.saturating_sub(self.keep_ms);
        while self
            .kept
            .front()
            .is_some_and(|k| k.released_at < oldest || self.kept.len() > self.keep_max)
        {
            self.kept.pop_front();
        }
    }

    /// The digests kept after cursor `after`, at most `limit`: each one's
    /// cursor and JSON.
    pub fn entries_after(&self, after: u64, limit: usize) -> Vec<(u64, String)> {
        let start = self.kept.partition_point(|k| k.cursor <= after);
        self.kept
            .range(start..)
            .take(limit)
            .map(|k| (k.cursor, k.entry.clone()))
            .collect()
    }

    /// The digests after cursor `after`, at most `limit`: the answer's JSON
    /// and how many. An error when `after` is beyond the last cursor (a
    /// cursor this store never gave).
    pub fn page(&self, after: u64, limit: usize) -> Result<Page, String> {
        if after > self.last_cursor() {
            return Err(format!(
                "parameter after: {after} is beyond the last digest released ({}): a cursor this service never gave",
                self.last_cursor()
            ));
        }
        let start = self.kept.partition_point(|k| k.cursor <= after);
        let first_kept = self.kept.front().map_or(self.next, |k| k.cursor);
        let skipped = after + 1 < first_kept;
        let entries: Vec<&Kept> = self.kept.range(start..).take(limit).collect();
        // Past digests no longer kept, the next page starts after them.
        let cursor = entries.last().map_or(after.max(first_kept - 1), |k| k.cursor);
        Ok(Page {
            json: page_json(cursor, skipped, entries.iter().map(|k| k.entry.as_str())),
            count: entries.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnd_engine::{chrono_tz, Config, Conversation, Held, Message, Settings};

    /// Digests of `users` due at 07:00 on 2026-11-23 (UTC), released then.
    fn digests(users: &[&str]) -> Vec<Digest> {
        let mut settings = Settings::new(Config::new(chrono_tz::UTC));
        let mut held = Held::new();
        for u in users {
            let body = format!("userId={u}&startTime=22:00:00&period=540&level=5");
            assert_eq!(
                settings
                    .handle("/user/blockPushPeriod/set.json", body.as_bytes())
                    .code(),
                200
            );
        }
        let message = Message::new(
            Conversation::Group { group_id: "g" },
            "s",
            "2026-11-22T23:30:00Z".parse().unwrap(),
        )
        .with_hold();
        let prepared = settings.prepare(&message);
        held.hold(&prepared, users.iter().map(|&u| (u, prepared.decide_id(u))))
            .unwrap();
        held.release(&settings, "2026-11-23T07:00:00Z".parse().unwrap()).digests
    }

    fn page(store: &ReleasedStore, after: u64, limit: usize) -> serde_json::Value {
        serde_json::from_str(&store.page(after, limit).unwrap().json).unwrap()
    }

    #[test]
    fn cursors_grow_pages_resume_and_a_second_digest_at_one_instant_gets_the_next_id() {
        let mut store = ReleasedStore::new(1000, 100);
        let ds = digests(&["a", "b"]);
        let at = ds[0].at;
        store.add(at, &ds);
        store.add(at, &ds[..1]);
        let p = page(&store, 0, 2);
        assert_eq!(p["cursor"], 2);
        assert_eq!(p["digests"][0]["id"], format!("{at}-a"));
        assert_eq!(p["digests"][1]["id"], format!("{at}-b"));
        let p = page(&store, 2, 10);
        assert_eq!(
            (p["cursor"].as_u64(), p["digests"][0]["id"].as_str()),
            (Some(3), Some(&*format!("{at}-a-2")))
        );
        assert_eq!(page(&store, 3, 10)["digests"], serde_json::json!([]));
        assert!(store.page(4, 10).is_err(), "a cursor never given");
        // Later releases forget the instant: the same user at a later instant starts again.
        store.add(at + 1, &[]);
        assert!(store.recent.is_empty());
        // Kept for 1000 ms of releases: older ones are skipped, and the page says so.
        store.add(at + 2000, &[]);
        assert!(store.is_empty());
        let p = page(&store, 0, 10);
        assert_eq!((p["skipped"].as_bool(), p["cursor"].as_u64()), (Some(true), Some(3)));
        assert!(page(&store, 3, 10).get("skipped").is_none(), "nothing after 3 was lost");
        // A store read back from its JSON is the same.
        let back: ReleasedStore = serde_json::from_str(&serde_json::to_string(&store).unwrap()).unwrap();
        assert_eq!(back.last_cursor(), 3);
        assert_eq!((back.keep_ms, back.keep_max), (default_keep_ms(), default_keep_max()));
    }
}
