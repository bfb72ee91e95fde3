//! The layout record: which layout an app's API nodes route by, and which
//! one is being built (`docs/scaling.md`, "Resharding").
//!
//! One key per app (its space's token) in the key-value bucket [`LAYOUTS`],
//! a JSON object `{"epoch": E, "shards": N}` while one layout serves, and
//! `{"epoch": E, "shards": N, "next": M}` then `{..., "next": M, "base": B}`
//! while a reshard to `M` shards builds the new layout's snapshots (all at
//! stream sequence `B` once saved). Every change is a compare-and-set on
//! the key's revision, so two commands never both move an app. An app with
//! no record is served by the layout its processes were started with.
//!
//! - The API nodes route by `shards` and follow the record as it changes
//!   ([`follow`]).
//! - The trim counts the snapshots of every layout of the record (both
//!   while a reshard runs), trims nothing while the new layout's snapshots
//!   are being built, and nothing for a shard of a layout the record no
//!   longer names (`src/trim.rs`).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use dnd_engine::shard::Layout;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::log::CALL_TIMEOUT;
use crate::space::Space;
use crate::{nats, Error};

/// The key-value bucket of the layout records.
pub const LAYOUTS: &str = "dnd_layouts";

/// An app's layout record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Raised by each switch of the layout the API nodes route by.
    pub epoch: u64,
    /// The number of shards the API nodes route by.
    pub shards: u16,
    /// The number of shards being built, while a reshard runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u16>,
    /// The stream sequence the next layout's snapshots cover, once saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<u64>,
}

impl Record {
    /// The layout the API nodes route by.
    pub fn layout(&self) -> Result<Layout, Error> {
        Layout::new(self.shards).map_err(|e| Error::frame("layout record: shards", e))
    }

    /// The layouts whose snapshots bound the trim of a shard of `layout`,
    /// or `None` if such a shard must not trim now: while the next
    /// layout's snapshots are being built, or if the record names
    /// `layout` neither as the current nor as the next.
    pub fn trimmed_by(&self, layout: Layout) -> Option<Vec<Layout>> {
        let current = Layout::new(self.shards).ok()?;
        let mut layouts = vec![current];
        if let Some(next) = self.next {
            self.base?;
            layouts.push(Layout::new(next).ok()?);
        }
        layouts.contains(&layout).then_some(layouts)
    }

    fn parse(bytes: &[u8]) -> Result<Record, Error> {
        let record: Record = serde_json::from_slice(bytes).map_err(|e| Error::frame("layout record", e))?;
        record.layout()?;
        if let Some(next) = record.next {
            Layout::new(next).map_err(|e| Error::frame("layout record: next", e))?;
        }
        Ok(record)
    }
}

/// Opens the layout bucket, creating it (with `replicas` copies) if there
/// is none.
pub async fn bucket(js: &jetstream::Context, replicas: usize) -> Result<kv::Store, Error> {
    crate::log::retry("open the layout records", || async {
        match js.get_key_value(LAYOUTS).await {
            Ok(store) => Ok(store),
            Err(_) => js
                .create_key_value(kv::Config {
                    bucket: LAYOUTS.to_owned(),
                    num_replicas: replicas.max(1),
                    ..Default::default()
                })
                .await
                .map_err(|e| e.to_string()),
        }
    })
    .await
}

/// The record of `space` and its revision, if it has one.
pub async fn read(store: &kv::Store, space: &Space) -> Result<Option<(Record, u64)>, Error> {
    let entry = tokio::time::timeout(CALL_TIMEOUT, store.entry(space.token()))
        .await
        .map_err(|_| Error::Timeout("read the layout record"))?
        .map_err(nats("read the layout record"))?;
    match entry {
        Some(e) if e.operation == kv::Operation::Put => Ok(Some((Record::parse(&e.value)?, e.revision))),
        _ => Ok(None),
    }
}

/// The record of `space` as the trim reads it (the bucket created with
/// `replicas` copies if there is none): `None` if the app has no record.
/// Any failure is an error, so that a trim never goes on without knowing
/// whether a second layout needs the stream.
pub(crate) async fn read_if_any(
    js: &jetstream::Context,
    space: &Space,
    replicas: usize,
) -> Result<Option<Record>, Error> {
    let store = bucket(js, replicas).await?;
    Ok(read(&store, space).await?.map(|(r, _)| r))
}

/// Writes `record` for `space` if the key is still at `revision` (`None`:
/// if it has no record yet). Returns the new revision; another writer in
/// between is an error naming the record.
pub async fn write(store: &kv::Store, space: &Space, record: &Record, revision: Option<u64>) -> Result<u64, Error> {
    let bytes = serde_json::to_vec(record).map_err(|e| Error::frame("layout record", e))?;
    let call = async {
        match revision {
            None => store
                .create(space.token(), bytes.into())
                .await
                .map_err(|e| e.to_string()),
            Some(r) => store
                .update(space.token(), bytes.into(), r)
                .await
                .map_err(|e| e.to_string()),
        }
    };
    tokio::time::timeout(CALL_TIMEOUT, call)
        .await
        .map_err(|_| Error::Timeout("write the layout record"))?
        .map_err(|why| Error::Nats {
            what: "write the layout record (changed by another command?)",
            why,
        })
}

/// How long a broken watch of the record waits before it is opened again.
const REWATCH: Duration = Duration::from_secs(1);

/// The number of shards an API node of `space` routes by: the record's,
/// or `initial` while there is none; kept up to date by a task that
/// watches the record for as long as the client is open.
pub async fn follow(
    js: &jetstream::Context,
    space: &Space,
    initial: Layout,
    replicas: usize,
) -> Result<Arc<AtomicU16>, Error> {
    let store = bucket(js, replicas).await?;
    let shards = Arc::new(AtomicU16::new(initial.shards()));
    if let Some((record, _)) = read(&store, space).await? {
        shards.store(record.shards, Ordering::Release);
    }
    let (following, token) = (shards.clone(), space.token().to_owned());
    tokio::spawn(async move {
        loop {
            match store.watch_with_history(&token).await {
                Ok(mut entries) => {
                    while let Some(entry) = entries.next().await {
                        let Ok(entry) = entry else { break };
                        if entry.operation != kv::Operation::Put {
                            continue;
                        }
                        match Record::parse(&entry.value) {
                            Ok(record) => {
                                let was = following.swap(record.shards, Ordering::AcqRel);
                                if was != record.shards {
                                    tracing::info!(app = %token, from = was, to = record.shards, epoch = record.epoch, "routing by the new layout");
                                }
                            }
                            Err(e) => tracing::warn!("app {token}: {e}; routing stays as it was"),
                        }
                    }
                }
                Err(e) => tracing::warn!("app {token}: watching the layout record failed: {e}"),
            }
            if Arc::strong_count(&following) == 1 {
                return;
            }
            tokio::time::sleep(REWATCH).await;
        }
    });
    Ok(shards)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_names_the_layouts_that_bound_the_trim() {
        let (three, four, two) = (
            Layout::new(3).unwrap(),
            Layout::new(4).unwrap(),
            Layout::new(2).unwrap(),
        );
        let steady = Record {
            epoch: 1,
            shards: 3,
            next: None,
            base: None,
        };
        assert_eq!(steady.trimmed_by(three), Some(vec![three]));
        assert_eq!(steady.trimmed_by(four), None);
        let building = Record {
            next: Some(4),
            ..steady
        };
        assert_eq!(building.trimmed_by(three), None);
        assert_eq!(building.trimmed_by(four), None);
        let built = Record {
            base: Some(10),
            ..building
        };
        assert_eq!(built.trimmed_by(three), Some(vec![three, four]));
        assert_eq!(built.trimmed_by(four), Some(vec![three, four]));
        assert_eq!(built.trimmed_by(two), None);
    }

    #[test]
    fn a_record_that_is_not_one_is_refused_naming_the_field() {
        for (bytes, says) in [
            (&br#"{"epoch":1,"shards":0}"#[..], "shards"),
            (br#"{"epoch":1,"shards":3,"next":300}"#, "next"),
            (br#"{"epoch":1,"shards":3,"extra":1}"#, "extra"),
            (br#"{"epoch":1}"#, "shards"),
            (b"[]", "layout record"),
        ] {
            let e = Record::parse(bytes).unwrap_err().to_string();
            assert!(e.contains(says), "{e}");
        }
        let r = Record::parse(br#"{"epoch":2,"shards":4,"next":2,"base":9}"#).unwrap();
        assert_eq!(
            r,
            Record {
                epoch: 2,
                shards: 4,
                next: Some(2),
                base: Some(9)
            }
        );
        assert_eq!(
            serde_json::to_string(&Record {
                next: None,
                base: None,
                ..r
            })
            .unwrap(),
            r#"{"epoch":2,"shards":4}"#
        );
    }
}
